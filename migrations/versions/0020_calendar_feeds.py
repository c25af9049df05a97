"""calendar feeds: each person's secret link to their deadlines as an iCalendar feed, kept as
the token's hash, revocable, one live link a person

Revision ID: 0020
Revises: 0019
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

LIVE = sa.text("revoked_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_calendar_feeds_staff_id", "calendar_feeds", ["staff_id"])
    # One live link a person, even when two requests for a new one cross.
    op.create_index(
        "ix_calendar_feeds_one_live", "calendar_feeds", ["staff_id"], unique=True, sqlite_where=LIVE, postgresql_where=LIVE
    )


def downgrade() -> None:
    op.drop_index("ix_calendar_feeds_one_live", table_name="calendar_feeds")
    op.drop_index("ix_calendar_feeds_staff_id", table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
