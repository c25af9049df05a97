"""Alembic environment: the app's tables (models/tables.py) on DATABASE_URL.

`database.make_engine` runs `upgrade head` at every start, so the worker and the API each
bring any database, empty or older, up to the current schema.
"""

from alembic import context
from sqlmodel import SQLModel

import models.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # handed in by make_engine
        _run(connection)
        return
    from sqlalchemy import create_engine

    from models.settings import get_settings

    with create_engine(config.get_main_option("sqlalchemy.url") or get_settings().database_url).connect() as connection:
        _run(connection)


def _run(connection) -> None:
    # render_as_batch: SQLite alters tables by copying them; Alembic's batch mode does that for us.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
