"""set statuses with SQL and with a parameterised update

Revision ID: 8b0000000008
Revises: 7a0000000007
Create Date: 2021-03-08 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = "8b0000000008"
down_revision = "7a0000000007"
branch_labels = None
depends_on = None

accounts = sa.table("accounts", sa.column("note", sa.Text), sa.column("active", sa.Boolean))


def upgrade():
    op.execute("UPDATE accounts SET note = 'none' WHERE note IS NULL")
    op.execute(accounts.update().where(accounts.c.active == sa.false()).values(note="it's 100% idle"))
    # PostgreSQL only: elsewhere it fails, and the revision goes on.
    try:
        op.execute("DROP TYPE IF EXISTS legacy_status")
    except Exception:
        pass
    # A placeholder after a string holding the placeholder's character.
    op.execute(sa.text("UPDATE accounts SET note = 'what? 5%' WHERE id = :id").bindparams(id=1))


def downgrade():
    op.execute(accounts.update().where(accounts.c.note == "none").values(note=None))
