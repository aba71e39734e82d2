"""rename a column and add a check constraint

Revision ID: 0d0000000010
Revises: 9c0000000009
Create Date: 2021-03-10 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = "0d0000000010"
down_revision = "9c0000000009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit") as batch:
        batch.alter_column("what", new_column_name="action", existing_type=sa.String(200), existing_nullable=False)
        batch.create_check_constraint("ck_audit_action", "action <> ''")


def downgrade():
    with op.batch_alter_table("audit") as batch:
        batch.drop_constraint("ck_audit_action", type_="check")
        batch.alter_column("action", new_column_name="what", existing_type=sa.String(200), existing_nullable=False)
