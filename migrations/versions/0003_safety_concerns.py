"""safety concerns: their projection, and urgent emails

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "safety_concern",
        sa.Column("concern_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("audit_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("raised_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("team_manager_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("escalation", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("raised_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("view", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("concern_id"),
    )
    for column in ("audit_id", "team_manager_id", "open", "escalation", "overdue"):
        op.create_index(f"ix_safety_concern_{column}", "safety_concern", [column])
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("urgent")
    op.drop_table("safety_concern")
