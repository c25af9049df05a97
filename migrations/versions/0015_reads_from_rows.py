"""reads answer from the rows the workflows save: whether a moderation panel's saved view is its
view as of its last save, and a row for each self-selection request

Revision ID: 0015
Revises: 0014
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("moderation_panel") as batch:
        batch.add_column(sa.Column("view_current", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "self_selection",
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("case_ref", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("cycle", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("head_of_service_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("due", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("view", sa.JSON(), nullable=False),
        sa.Column("view_current", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("request_id"),
    )


def downgrade() -> None:
    op.drop_table("self_selection")
    with op.batch_alter_table("moderation_panel") as batch:
        batch.drop_column("view_current")
