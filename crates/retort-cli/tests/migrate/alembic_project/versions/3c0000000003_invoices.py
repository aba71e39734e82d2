"""invoices, on their own branch

Revision ID: 3c0000000003
Revises: 1a0000000001
Create Date: 2021-03-03 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = "3c0000000003"
down_revision = "1a0000000001"
branch_labels = ("billing",)
depends_on = None

status = sa.Enum("draft", "sent", "paid", name="invoice_status")


def upgrade():
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("status", status, nullable=False, server_default="draft"),
        sa.Column("total", sa.Numeric(10, 2), nullable=False),
        # Named by env.py's naming convention: uq_invoices_number,
        # ck_invoices_positive_total, fk_invoices_account_id_accounts.
        sa.Column("number", sa.String(20), unique=True),
        sa.CheckConstraint("total >= 0", name="positive_total"),
    )


def downgrade():
    op.drop_table("invoices")
    status.drop(op.get_bind(), checkfirst=True)
