"""notification delivery: the email outbox's state, and recipients skipped

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("delivery", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="pending"))
        batch.add_column(sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("addresses", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.create_index("ix_notification_delivery", ["delivery"])
        batch.create_index("ix_notification_next_attempt_at", ["next_attempt_at"])
    # Rows written before the outbox were sent by the activity itself (or are Mosaic posts).
    op.execute("UPDATE notification SET delivery = CASE WHEN delivered THEN 'sent' ELSE 'pending' END")
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("delivered")


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("delivered", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE notification SET delivered = (delivery = 'sent')")
    with op.batch_alter_table("notification") as batch:
        batch.drop_index("ix_notification_next_attempt_at")
        batch.drop_index("ix_notification_delivery")
        for column in ("sent_at", "next_attempt_at", "last_error", "attempts", "addresses", "reason", "delivery"):
            batch.drop_column(column)
