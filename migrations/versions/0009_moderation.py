"""moderation panels (R-MOD): the panel projection and one row per moderated audit

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "moderation_panel",
        sa.Column("cycle", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("per_service", sa.Integer(), nullable=False),
        sa.Column("opened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("due", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("view", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("cycle"),
    )
    op.create_index("ix_moderation_panel_status", "moderation_panel", ["status"])
    op.create_index("ix_moderation_panel_overdue", "moderation_panel", ["overdue"])
    op.create_table(
        "moderation",
        sa.Column("moderation_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("panel_cycle", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("audit_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("case_ref", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("audit_cycle", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("service_area", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("auditor_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("moderator_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("due", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("original_overall", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("moderated_overall", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("overall_agreed", sa.Boolean(), nullable=True),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("moderation_id"),
    )
    op.create_index("ix_moderation_panel_cycle", "moderation", ["panel_cycle"])
    op.create_index("ix_moderation_audit_id", "moderation", ["audit_id"])
    op.create_index("ix_moderation_service_area", "moderation", ["service_area"])
    op.create_index("ix_moderation_moderator_id", "moderation", ["moderator_id"])


def downgrade() -> None:
    op.drop_table("moderation")
    op.drop_table("moderation_panel")
