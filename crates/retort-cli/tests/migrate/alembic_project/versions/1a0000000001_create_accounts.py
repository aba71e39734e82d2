"""create accounts

Revision ID: 1a0000000001
Revises:
Create Date: 2021-03-01 09:00:00.000000

"""
import datetime

import sqlalchemy as sa
from alembic import op

revision = "1a0000000001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    accounts = op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("joined", sa.DateTime),
    )
    # Quotes, a percent sign, a question mark, NULL, booleans and a date:
    # every one must reach the file as the literal the driver sent.
    op.bulk_insert(
        accounts,
        [
            {"id": 1, "name": "O'Brien", "note": "50% off? -- no", "active": True,
             "joined": datetime.datetime(2021, 3, 1, 9, 30)},
            {"id": 2, "name": "Ng", "note": None, "active": False, "joined": None},
        ],
    )


def downgrade():
    op.drop_table("accounts")
