"""a cycle's selections of cases and auditors

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "selection",
        sa.Column("selection_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("cycle", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("per_team", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("theme", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("proposal", sa.JSON(), nullable=False),
        sa.Column("confirmed", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("selection_id"),
    )
    op.create_index("ix_selection_cycle", "selection", ["cycle"])


def downgrade() -> None:
    op.drop_table("selection")
