"""email preferences: who takes non-urgent emails only in the weekly digest

Revision ID: 0021
Revises: 0020
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_preferences",
        sa.Column("staff_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("digest_only", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("staff_id"),
    )


def downgrade() -> None:
    op.drop_table("email_preferences")
