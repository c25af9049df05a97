"""the open-case list imported from Mosaic

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open_case",
        sa.Column("case_ref", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("service_area", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("practitioner_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("involvement_start", sa.Date(), nullable=False),
        sa.Column("cp_chair_or_iro_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("imported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("case_ref"),
    )
    for column in ("service_area", "practitioner_id", "team"):
        op.create_index(f"ix_open_case_{column}", "open_case", [column])


def downgrade() -> None:
    op.drop_table("open_case")
