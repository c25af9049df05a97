"""retention: the action log purged of rows past its retention only, the purges counted, and on
PostgreSQL the app's role kept to adding and reading the log

Revision ID: 0019
Revises: 0018

The retention the action log may be purged to is the database's own (`retention_floor`), not the
app's setting: on PostgreSQL the app's role can read it but not change it, so a process with the
app's credentials cannot shorten it and delete what it did. The log's triggers now let a row be
deleted once it is older than that, and nothing else; on PostgreSQL the app's role has no DELETE
at all and purges through `purge_action_log`, which runs as the owner and deletes only such rows.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# Seven years: a conservative default, to be set from the council's records-retention policy
# (docs/production.md, "Retention"), by the owner role only.
ACTION_LOG_FLOOR_DAYS = 2557
APPEND_ONLY = "the action log is append-only: only rows past its retention (retention_floor) may be purged"

# The row's age against the database's clock: an unknown retention (no row) refuses, as before.
SQLITE_FLOOR = (
    "COALESCE(datetime('now', '-' || (SELECT days FROM retention_floor WHERE table_name = 'action_log') || ' days'), '0000')"
)
SQLITE_UP = [
    "DROP TRIGGER action_log_no_delete",
    f"CREATE TRIGGER action_log_no_delete BEFORE DELETE ON action_log WHEN OLD.at >= {SQLITE_FLOOR} "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    # The counts of purges are a record too; the retention is changed by an operator, not deleted.
    "CREATE TRIGGER purged_no_update BEFORE UPDATE ON purged BEGIN SELECT RAISE(ABORT, 'purges are append-only'); END",
    "CREATE TRIGGER purged_no_delete BEFORE DELETE ON purged BEGIN SELECT RAISE(ABORT, 'purges are append-only'); END",
    "CREATE TRIGGER retention_floor_kept BEFORE DELETE ON retention_floor "
    "BEGIN SELECT RAISE(ABORT, 'a retention is changed, never removed'); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER action_log_no_delete",
    "CREATE TRIGGER action_log_no_delete BEFORE DELETE ON action_log "
    "BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END",
]

POSTGRES_FLOOR = "now() - make_interval(days => (SELECT days FROM retention_floor WHERE table_name = 'action_log'))"
POSTGRES_UP = [
    # Still raised for UPDATE and TRUNCATE; a DELETE passes for a row past the retention only
    # (NULL, no retention known, refuses).
    "CREATE OR REPLACE FUNCTION action_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP = 'DELETE' AND OLD.at < {POSTGRES_FLOOR} THEN RETURN OLD; END IF; "
    f"RAISE EXCEPTION '{APPEND_ONLY}'; END $$",
    # The app's one way to delete from the log: as the owner, rows before `before` and past the
    # retention. A fixed search_path, so no object of the caller's stands in for the tables.
    "CREATE FUNCTION purge_action_log(before timestamptz) RETURNS bigint LANGUAGE sql SECURITY DEFINER "
    "SET search_path = public, pg_temp AS $$ "
    f"WITH gone AS (DELETE FROM action_log WHERE at < LEAST(before, {POSTGRES_FLOOR}) RETURNING 1) "
    "SELECT count(*) FROM gone $$",
    "CREATE FUNCTION purged_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'purges are append-only'; END $$",
    "CREATE TRIGGER purged_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON purged "
    "FOR EACH STATEMENT EXECUTE FUNCTION purged_append_only()",
]
# Every role but the owner, whatever the roles script or a later GRANT gave it: the app's role
# (deploy/postgres/10-roles.sql) adds to the log and the purges and reads the retention, no more.
POSTGRES_GRANTS = """
DO $$ DECLARE grant_ record; BEGIN
  FOR grant_ IN
    SELECT DISTINCT c.relname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS who
    FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
    WHERE c.relname IN ('action_log', 'purged', 'retention_floor') AND c.relnamespace = 'public'::regnamespace
      AND a.grantee <> c.relowner
  LOOP
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON %I FROM %s', grant_.relname, grant_.who);
    IF grant_.relname = 'retention_floor' THEN
      EXECUTE format('REVOKE INSERT ON retention_floor FROM %s', grant_.who);
    END IF;
  END LOOP;
END $$
"""
POSTGRES_DOWN = [
    "DROP FUNCTION purge_action_log(timestamptz)",
    "CREATE OR REPLACE FUNCTION action_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'the action log is append-only'; END $$",
    "DROP FUNCTION purged_append_only() CASCADE",
]


def upgrade() -> None:
    op.create_table(
        "purged",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("table_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("before", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_purged_at", "purged", ["at"])
    floor = op.create_table(
        "retention_floor",
        sa.Column("table_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("days", sa.Integer(), sa.CheckConstraint("days >= 1"), nullable=False),
        sa.PrimaryKeyConstraint("table_name"),
    )
    op.bulk_insert(floor, [{"table_name": "action_log", "days": ACTION_LOG_FLOOR_DAYS}])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in [*POSTGRES_UP, POSTGRES_GRANTS]:
            op.execute(statement)
    elif dialect == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}.get(dialect, []):
        op.execute(statement)
    op.drop_table("retention_floor")
    op.drop_index("ix_purged_at", table_name="purged")
    op.drop_table("purged")
