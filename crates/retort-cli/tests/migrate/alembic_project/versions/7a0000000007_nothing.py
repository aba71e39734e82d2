"""an empty revision

Revision ID: 7a0000000007
Revises: 6f0000000006
Create Date: 2021-03-07 09:00:00.000000

"""
revision = "7a0000000007"
down_revision = "6f0000000006"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
