"""email deferrals: the recipients the mail server refused, and how often it deferred an email

Revision ID: 0016
Revises: 0015
"""

from alembic import op
import sqlalchemy as sa


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("refused", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("deferrals", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("deferrals")
        batch.drop_column("refused")
