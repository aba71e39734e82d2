"""accounts in batch: type, nullability, unique, drop a column

Revision ID: 4d0000000004
Revises: 2b0000000002
Create Date: 2021-03-04 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = "4d0000000004"
down_revision = "2b0000000002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("accounts") as batch:
        batch.alter_column("name", type_=sa.String(100), existing_nullable=False)
        batch.alter_column("note", existing_type=sa.Text, nullable=True)
        batch.create_unique_constraint("uq_accounts_name", ["name"])
        batch.drop_column("joined")


def downgrade():
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("joined", sa.DateTime))
        batch.drop_constraint("uq_accounts_name", type_="unique")
        batch.alter_column("name", type_=sa.String(50), existing_nullable=False)
