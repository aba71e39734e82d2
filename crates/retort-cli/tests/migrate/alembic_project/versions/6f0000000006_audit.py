"""audit log, needing billing

Revision ID: 6f0000000006
Revises: 5e0000000005
Create Date: 2021-03-06 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = "6f0000000006"
down_revision = "5e0000000005"
branch_labels = None
depends_on = ("3c0000000003",)


def upgrade():
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoices.id", ondelete="CASCADE")),
        sa.Column("what", sa.String(200), nullable=False),
    )
    op.execute("CREATE VIEW open_invoices AS SELECT id, total FROM invoices WHERE status <> 'paid'")
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute("CREATE INDEX CONCURRENTLY ix_audit_what ON audit (what)")
    else:
        op.create_index("ix_audit_what", "audit", ["what"])


def downgrade():
    op.drop_index("ix_audit_what", table_name="audit")
    op.execute("DROP VIEW open_invoices")
    op.drop_table("audit")
