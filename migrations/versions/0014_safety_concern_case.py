"""a safety concern's row names its case, as its waits on My work do

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("safety_concern") as batch:
        batch.add_column(sa.Column("case_ref", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("safety_concern") as batch:
        batch.drop_column("case_ref")
