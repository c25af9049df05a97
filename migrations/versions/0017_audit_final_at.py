"""when each audit's grading became final (on Mosaic): the moderation draw goes by it, not by the cycle

Revision ID: 0017
Revises: 0016
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows saved before stay NULL: the draw takes those by their cycle, as it did.
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("final_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.create_index("ix_audit_final_at", ["final_at"])


def downgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.drop_index("ix_audit_final_at")
        batch.drop_column("final_at")
