"""backfill the audit log from the invoices: reads rows

Revision ID: 9c0000000009
Revises: 8b0000000008
Create Date: 2021-03-09 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = "9c0000000009"
down_revision = "8b0000000008"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    for (invoice_id,) in bind.execute(sa.text("SELECT id FROM invoices")).fetchall():
        bind.execute(
            sa.text("INSERT INTO audit (invoice_id, what) VALUES (:id, 'backfilled')"),
            {"id": invoice_id},
        )


def downgrade():
    op.execute("DELETE FROM audit WHERE what = 'backfilled'")
