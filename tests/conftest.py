"""Fixtures: a time-skipping Temporal server, a real local SMTP server, a SQLite file (or, for a
test marked `both_databases`, a PostgreSQL database too), a worker."""

import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from models.settings import ROOT, Settings
from models.staff import StaffDirectory, directory_for
from database import make_engine
from models.tables import NotificationRecord
from tests.helpers.dates import YEAR, at, cycle_opens, first_working_day
from tests.helpers.email_checks import assert_plain
from tests.helpers import allocate, free_port, skip_to
from tests.helpers.api import Api
from tests.helpers.smtp import Inbox
from temporal_client import codec_for, data_converter, new_id_key_file, new_key_file
from worker import register_search_attributes, run_worker


@pytest.fixture
def smtp() -> Inbox:
    inbox = Inbox()
    inbox.port = free_port()  # aiosmtpd cannot start on port 0
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()
    assert_plain(inbox.messages)  # every email any test sent: names, no rule codes


def pytest_generate_tests(metafunc) -> None:
    """A test marked `both_databases` runs twice: on SQLite (dev) and on PostgreSQL (production)."""
    chosen = any("database_url" in m.args[0] for m in metafunc.definition.iter_markers("parametrize"))
    if metafunc.definition.get_closest_marker("both_databases") and "database_url" in metafunc.fixturenames and not chosen:
        metafunc.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def postgres_cluster():
    """One throwaway cluster per test process, started only when a test asks for PostgreSQL."""
    from tests.helpers.postgres import Cluster

    cluster = Cluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def production_roles():
    """A cluster set up by production's roles script, for a test module on the app's own role."""
    from tests.helpers.postgres import ProductionRoles

    roles = ProductionRoles()
    yield roles
    roles.cluster.stop()


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """The test's own database: a SQLite file, or an empty database on the PostgreSQL cluster."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return request.getfixturevalue("postgres_cluster").new_database()
    return f"sqlite:///{tmp_path / 'qsaf.db'}"


@pytest.fixture
def settings(tmp_path, smtp, database_url) -> Settings:
    staff = tmp_path / "staff.toml"  # a copy each test may change: people leave and join
    staff.write_text((ROOT / "data" / "staff.dev.toml").read_text())
    new_key_file(keys := tmp_path / "payload-keys.json", "test-key")  # every payload encrypted
    new_id_key_file(id_key := tmp_path / "workflow-id-key")  # audit IDs keyed, as in production
    return Settings(
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        staff_directory=staff,
        payload_keys_file=keys,
        workflow_id_key_file=id_key,
        temporal_task_queue=f"audits-{uuid.uuid4().hex[:6]}",
        auth_mode="dev",  # `dev-<staff id>` tokens; tests/api/test_auth.py covers oidc
        allow_dev_auth=True,
        email_retry_max_seconds=0.5,  # a mail server back up is retried within the test's patience
        email_relay_poll_seconds=0.1,
        worker_metrics_port=0,
        api_metrics_port=0,  # tests side by side would share the default ports
    )


@pytest.fixture
def temporal(tmp_path):
    """The real Temporal dev server (the `temporal` CLI's), for what the time-skipping one lacks:
    Schedules, restarts."""
    from tests.faults.harness import DevServer

    with DevServer.running(tmp_path) as server:
        yield server


@pytest_asyncio.fixture
async def dev_client(temporal, settings) -> Client:
    return await temporal.connect(settings)


@pytest.fixture
def directory(settings) -> StaffDirectory:
    return directory_for(settings)


@pytest_asyncio.fixture
async def env(settings) -> AsyncIterator[WorkflowEnvironment]:
    # Installed beside this Python by `pip install -e .[test]`; never downloaded at run time.
    server = shutil.which("temporal-test-server", path=str(Path(sys.executable).parent)) or shutil.which("temporal-test-server")
    assert server, "temporal-test-server is installed by `pip install -e .[test]`"
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(codec_for(settings)), test_server_existing_path=server
    )
    await register_search_attributes(environment.client, environment.client.namespace)
    started = await environment.get_current_time()
    assert started < cycle_opens(1), f"the suite's January cycle ({YEAR}) has opened on the test server ({started})"
    yield environment
    await environment.shutdown()


@pytest_asyncio.fixture
async def client(env, settings) -> AsyncIterator[Client]:
    """The test server's client with a worker (and its email relay) on the fixture's task queue."""
    async with run_worker(env.client, settings):
        yield env.client


@pytest.fixture
def engine(settings):
    """The test's SQLite file, migrated; the worker's activities open their own on the same file."""
    return make_engine(settings.database_url, settings.sqlite_synchronous)


@pytest.fixture
def sent(engine):
    """Every notification recorded for an audit, oldest first."""

    def _sent(audit_id: str) -> list[NotificationRecord]:
        with Session(engine) as session:
            query = select(NotificationRecord).where(NotificationRecord.audit_id == audit_id)
            return list(session.exec(query.order_by(NotificationRecord.id)))

    return _sent


@pytest_asyncio.fixture
async def audit_id(api, env) -> str:
    """One audit allocated at 09:00 on the first working day of January (tests.helpers.allocation's
    defaults: the January cycle of the suite's year)."""
    await skip_to(env, at(first_working_day(YEAR, 1)))
    return (await allocate(api))["audit_id"]


@pytest_asyncio.fixture
async def api(env, client, settings, directory, engine) -> AsyncIterator[Api]:
    """The FastAPI app over the test server, called in-process."""
    import httpx

    from api.deps import Services
    from api.main import create_app

    # The API's clock is the test server's: an allocation's current cycle and a skipped clock agree.
    app = create_app(Services(settings=settings, client=client, engine=engine, directory=directory, clock=env.get_current_time))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield Api(http)
