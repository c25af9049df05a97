"""The app database: an engine migrated to the current schema (Alembic, `migrations/`) at every
start, so every process starts on an empty or an older database. The tables are models/tables.py."""

import fcntl
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

ROOT = Path(__file__).resolve().parent


def make_engine(database_url: str, sqlite_synchronous: str | None = None) -> Engine:
    """Create the engine and migrate the database to the current schema (Alembic, `migrations/`),
    so every process starts on an empty or an older database. `sqlite_synchronous` is the
    setting of that name (None: SQLite's own, full)."""
    sqlite = database_url.startswith("sqlite")
    if sqlite and database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url, connect_args={"check_same_thread": False} if sqlite else {})
    if sqlite:
        # The worker writes while the API reads, from two processes: WAL lets readers go on.
        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record) -> None:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA busy_timeout=5000")
            if sqlite_synchronous:
                connection.execute(f"PRAGMA synchronous={sqlite_synchronous.upper()}")

    migrate(engine)
    return engine


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
