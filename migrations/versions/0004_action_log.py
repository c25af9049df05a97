"""the action log, append-only in the database itself

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SQLITE_GUARDS = [
    "CREATE TRIGGER action_log_no_update BEFORE UPDATE ON action_log "
    "BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END",
    "CREATE TRIGGER action_log_no_delete BEFORE DELETE ON action_log "
    "BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END",
]
POSTGRES_GUARDS = [
    "CREATE FUNCTION action_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'the action log is append-only'; END $$",
    "CREATE TRIGGER action_log_append_only BEFORE UPDATE OR DELETE ON action_log "
    "FOR EACH ROW EXECUTE FUNCTION action_log_append_only()",
    "CREATE TRIGGER action_log_no_truncate BEFORE TRUNCATE ON action_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION action_log_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "action_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("actor_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("route", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("audit_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("at", "actor_id", "audit_id"):
        op.create_index(f"ix_action_log_{column}", "action_log", [column])
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_GUARDS, "postgresql": POSTGRES_GUARDS}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION action_log_append_only() CASCADE")
    op.drop_table("action_log")
