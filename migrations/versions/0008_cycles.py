"""cycles as workflows: their projection, and the audit columns a cycle lists by

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cycle",
        sa.Column("cycle", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("theme", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("opens_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("closes_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("view", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("cycle"),
    )
    op.create_index("ix_cycle_status", "cycle", ["status"])
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("carried_into_cycle", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("reaudit_cycle", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.create_index("ix_audit_carried_into_cycle", ["carried_into_cycle"])
        batch.create_index("ix_audit_reaudit_cycle", ["reaudit_cycle"])


def downgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.drop_index("ix_audit_reaudit_cycle")
        batch.drop_index("ix_audit_carried_into_cycle")
        batch.drop_column("reaudit_cycle")
        batch.drop_column("carried_into_cycle")
    op.drop_table("cycle")
