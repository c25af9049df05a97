"""The app database: an engine on SQLite (dev, the tests) or PostgreSQL (production), migrated to
the current schema (Alembic, `migrations/`) as it starts, or, in production, where migrating is
a step of its own, checked to be there. The tables are models/tables.py."""

import fcntl
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

if TYPE_CHECKING:
    from models.settings import Settings

ROOT = Path(__file__).resolve().parent


def engine_for(settings: "Settings") -> Engine:
    """The process's engine as configured: pool, timeouts, and migrating or checking at start."""
    pool = (
        {}
        if settings.database_url.startswith("sqlite")
        else {
            "pool_size": settings.database_pool_size,
            "max_overflow": settings.database_max_overflow,
            "pool_timeout": settings.database_pool_timeout_seconds,
            "pool_recycle": settings.database_pool_recycle_seconds,
            # A connection the database dropped (a failover, a restart) is found before it is used.
            "pool_pre_ping": True,
            "connect_args": {"connect_timeout": settings.database_connect_timeout_seconds},
        }
    )
    engine = make_engine(settings.database_url, settings.sqlite_synchronous, migrate_schema=settings.migrate_at_start, **pool)
    if not settings.migrate_at_start:
        require_current_schema(engine)
    return engine


def make_engine(database_url: str, sqlite_synchronous: str | None = None, migrate_schema: bool = True, **options) -> Engine:
    """Create the engine and (unless told not to) migrate the database to the current schema
    (Alembic, `migrations/`), so a process starts on an empty or an older database.
    `sqlite_synchronous` is the setting of that name (None: SQLite's own, full)."""
    sqlite = database_url.startswith("sqlite")
    if sqlite and database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: a failed statement's error (and so every log and activity failure that
    # carries it) names the statement, never the values: an email's body, a concern's words.
    engine = create_engine(
        database_url, hide_parameters=True, **({"connect_args": {"check_same_thread": False}} if sqlite else {}) | options
    )
    if sqlite:
        # The worker writes while the API reads, from two processes: WAL lets readers go on.
        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record) -> None:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA busy_timeout=5000")
            if sqlite_synchronous:
                connection.execute(f"PRAGMA synchronous={sqlite_synchronous.upper()}")

    if migrate_schema:
        migrate(engine)
    return engine


class SchemaBehind(RuntimeError):
    """The database's schema is not the one this code was written for."""


def require_current_schema(engine: Engine) -> None:
    """Refuse to run on a schema older (or newer) than the code's: migrate first."""
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        raise SchemaBehind(
            f"the database schema is at {current or 'nothing'}, this code needs {head}: "
            "run the migrations first (`make migrate`, or compose's `migrate` job)"
        )


def migrate(engine: Engine) -> None:
    """Upgrade to the current schema. The worker and the API start together and may both find
    an empty database: for a SQLite file a lock beside it lets one migrate while the other waits;
    elsewhere the loser's transaction fails and, a moment later, finds the schema there."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy.exc import DBAPIError

    config = Config(str(ROOT / "alembic.ini"))
    for attempt in range(5):
        try:
            with _migration_lock(engine), engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            return
        except DBAPIError:
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


@contextmanager
def _migration_lock(engine: Engine):
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield
