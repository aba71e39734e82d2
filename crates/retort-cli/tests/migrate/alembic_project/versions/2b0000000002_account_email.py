"""account email

Revision ID: 2b0000000002
Revises: 1a0000000001
Create Date: 2021-03-02 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = "2b0000000002"
down_revision = "1a0000000001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "accounts",
        sa.Column("email", sa.String(120), nullable=False, server_default="unknown"),
    )
    op.create_index("ix_accounts_email", "accounts", ["email"])


def downgrade():
    op.drop_index("ix_accounts_email", table_name="accounts")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("email")
