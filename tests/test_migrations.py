"""The Alembic migrations build exactly the schema that models/tables.py describes."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from database import make_engine


def test_migrations_build_the_schema_the_models_describe(tmp_path):
    url = f"sqlite:///{tmp_path / 'qsaf.db'}"
    engine = make_engine(url)
    make_engine(url)  # a restart: already at head, nothing to do
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
        assert MigrationContext.configure(connection).get_current_revision() is not None
    assert {"audit", "dispute", "notification", "mosaic_outbox"} <= set(inspect(engine).get_table_names())
