"""what each running process waits for, from whom (GET /me/work)

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waiting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("process_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("case_ref", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("staff_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("process", "process_id", "staff_id", "role"):
        op.create_index(f"ix_waiting_{column}", "waiting", [column])


def downgrade() -> None:
    op.drop_table("waiting")
