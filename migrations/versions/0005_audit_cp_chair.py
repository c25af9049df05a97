"""the audit list knows its CP Chair / IRO, who sees the audits that name them

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("cp_chair_or_iro_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.create_index("ix_audit_cp_chair_or_iro_id", ["cp_chair_or_iro_id"])
    # Rows saved before: their view names the CP Chair / IRO.
    op.execute(
        "UPDATE audit SET cp_chair_or_iro_id = json_extract(view, '$.cp_chair_or_iro_id')"
        if op.get_bind().dialect.name == "sqlite"
        else "UPDATE audit SET cp_chair_or_iro_id = view::json->>'cp_chair_or_iro_id'"
    )


def downgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.drop_index("ix_audit_cp_chair_or_iro_id")
        batch.drop_column("cp_chair_or_iro_id")
