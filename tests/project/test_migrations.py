"""The Alembic migrations build exactly the schema that models/tables.py describes, on SQLite
(dev) and on PostgreSQL (production)."""

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from database import SchemaBehind, engine_for, make_engine
from models.settings import ROOT


@pytest.mark.both_databases
def test_migrations_build_the_schema_the_models_describe(database_url):
    engine = make_engine(database_url)
    make_engine(database_url)  # a restart: already at head, nothing to do
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
        assert MigrationContext.configure(connection).get_current_revision() is not None
    assert {"audit", "dispute", "notification", "mosaic_outbox"} <= set(inspect(engine).get_table_names())


@pytest.mark.both_databases
def test_alembic_upgrade_head_then_check_as_an_operator_runs_them(database_url):
    """The migration step as `make migrate` and the compose job run it: Alembic's own commands."""
    for command in (["upgrade", "head"], ["check"]):
        done = subprocess.run(
            [sys.executable, "-m", "alembic", *command],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url},
            timeout=120,
        )
        assert done.returncode == 0, f"alembic {' '.join(command)}: {done.stderr[-2000:]}"


@pytest.mark.both_databases
def test_without_migrating_at_start_a_process_refuses_a_schema_behind_the_code(database_url, settings):
    """Production migrates as a step of its own; a process started before it says so and stops."""
    production = settings.model_copy(update={"migrate_at_start": False})
    with pytest.raises(SchemaBehind, match="run the migrations first"):
        engine_for(production)
    engine_for(settings)  # the step (here, a process that migrates)
    engine = engine_for(production)
    if database_url.startswith("postgresql"):  # the pool as configured
        assert (engine.pool.size(), engine.pool._pre_ping, engine.pool._recycle) == (
            settings.database_pool_size,
            True,
            settings.database_pool_recycle_seconds,
        )
