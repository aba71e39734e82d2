"""merge billing into the main line

Revision ID: 5e0000000005
Revises: 4d0000000004, 3c0000000003
Create Date: 2021-03-05 09:00:00.000000

"""
revision = "5e0000000005"
down_revision = ("4d0000000004", "3c0000000003")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
