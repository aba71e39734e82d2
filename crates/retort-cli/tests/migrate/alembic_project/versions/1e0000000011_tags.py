"""tags

Revision ID: 1e0000000011
Revises: 0d0000000010
Create Date: 2021-03-11 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = "1e0000000011"
down_revision = "0d0000000010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tags",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("tag", sa.String(40), primary_key=True),
    )
    op.bulk_insert(
        sa.table("tags", sa.column("account_id"), sa.column("tag")),
        [{"account_id": 1, "tag": "vip"}, {"account_id": 2, "tag": "new; trial"}],
    )


def downgrade():
    op.drop_table("tags")
