"""What a failure carries stays out of every log: a database's refusal quoting the row, the
parameters of a failed insert, an activity's exception, a route's. The type and where it was
raised are kept, so the bug can still be found. Checked in the worker's and the API server's own
processes (their output, as a log collector reads it) and in this one."""

import asyncio
import io
import logging
import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.deps import Services
from api.logs import log_handler
from api.main import create_app
from database import make_engine
from models.settings import ROOT
from models.tables import SafetyConcernRecord
from tests.helpers.api import Api
from tests.helpers.dates import YEAR, at, first_working_day
from tests.helpers import free_port
from tests.faults.harness import PYTHON, WorkerProcesses, worker_environment
from tests.helpers import allocate, skip_to

NAME = "Zebedee Quixote-Marchbanks"  # a child's name, say: in no log line, whatever fails
EVERYTHING = logging.Formatter("%(name)s %(levelname)s %(message)s")  # with the traceback, as a handler prints it


def logged(caplog) -> str:
    return "\n".join(EVERYTHING.format(record) for record in caplog.records)


def concern_row(description: str) -> SafetyConcernRecord:
    now = datetime.now(UTC)
    return SafetyConcernRecord(
        concern_id="a-1-1",
        audit_id="a-1",
        raised_by="tm2",
        team_manager_id="tm1",
        open=True,
        escalation="none",
        raised_at=now,
        updated_at=now,
        view={"description": description},
    )


@pytest.mark.both_databases
def test_a_failed_insert_names_none_of_the_values_it_was_saving(database_url, caplog):
    engine = make_engine(database_url)
    with Session(engine) as session:
        session.add(concern_row(NAME))
        session.commit()
    with pytest.raises(IntegrityError) as failed, Session(engine) as session:
        session.add(concern_row(NAME))  # the same concern again: its key refuses it
        session.commit()
    assert "INSERT INTO safety_concern" in str(failed.value)  # what failed, and why, still said
    assert NAME not in str(failed.value)
    assert NAME not in logged(caplog)


def test_the_sdks_and_sqlalchemys_failures_are_logged_without_their_text(caplog):
    """The records of the Temporal SDK's and SQLAlchemy's loggers, through the project's handler
    (api/logs.py, the API's and the worker's): the exception's type and where, not its message."""
    for log_format in ("text", "json"):
        out = io.StringIO()
        handler = log_handler(log_format, out)
        for name in ("temporalio.activity", "temporalio.worker._workflow_instance", "sqlalchemy.pool.impl.QueuePool"):
            try:
                raise ValueError(f"refused: {NAME}")
            except ValueError:
                # SQLAlchemy passes a statement's parameters as an argument, as here.
                handler.handle(
                    logging.getLogger(name).makeRecord(
                        name, logging.WARNING, __file__, 1, "saving %r failed", ((NAME, "tm1"),), sys.exc_info()
                    )
                )
        written = out.getvalue()
        assert NAME not in written, written
        assert written.count("saving '[hidden]' failed: ValueError at tests.api.test_log_privacy:") == 3, written


# ---- an activity failing in the worker's own process ------------------------------------------


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """PostgreSQL unless a test asks for SQLite: its refusals can quote the row (a unique key's
    "Key (...)=(...)", a trigger's message), the worst case."""
    if getattr(request, "param", "postgresql") == "sqlite":
        return f"sqlite:///{tmp_path / 'qsaf.db'}"
    return request.getfixturevalue("postgres_cluster").new_database()


@pytest.fixture
def refusing(engine):
    """The outbox refuses any email about the concern, quoting the email in its refusal."""
    with engine.begin() as connection:
        connection.execute(
            text(f"""
            CREATE FUNCTION refuse_concern() RETURNS trigger AS $$
            BEGIN
                IF NEW.body LIKE '%{NAME}%' THEN RAISE EXCEPTION 'refused: %', NEW.body; END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql""")
        )
        connection.execute(
            text("CREATE TRIGGER refuse_concern BEFORE INSERT ON notification FOR EACH ROW EXECUTE FUNCTION refuse_concern()")
        )


@pytest.fixture
def worker(env, settings, tmp_path):
    processes = WorkerProcesses(worker_environment(settings, env.client.service_client.config.target_host), tmp_path)
    try:
        yield processes
    finally:
        processes.close()


async def test_an_activity_failing_with_personal_data_logs_none_of_it(env, settings, engine, directory, refusing, worker, caplog):
    proc = await worker.start_ready()
    quick = settings.model_copy(update={"api_update_timeout_seconds": 3})
    app = create_app(Services(settings=quick, client=env.client, engine=engine, directory=directory, clock=env.get_current_time))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        api = Api(http)
        await skip_to(env, at(first_working_day(YEAR, 1)))
        audit_id = (await allocate(api))["audit_id"]
        r = await api.as_("tm2").post(
            f"/audits/{audit_id}/safety-concerns", json={"description": f"{NAME} was left alone", "immediate_action_needed": True}
        )
        assert r.status_code in (201, 504), r.text  # the email is the step that fails
    deadline = time.monotonic() + 30
    while "Completing activity as failed" not in worker.log_of(proc):
        assert time.monotonic() < deadline, worker.log_of(proc)
        await asyncio.sleep(0.2)
    log = worker.log_of(proc)
    assert "Error (from RaiseException) at activities.notify:" in log, log  # the failure's type and where are kept
    assert NAME not in log, log
    assert NAME not in logged(caplog)


# ---- a route failing in the API server's own process ------------------------------------------


FAILING_APP = f"""
from api.main import app


@app.get("/explode")
async def explode():
    raise RuntimeError("could not save the concern about {NAME}")
"""


async def test_a_route_failing_with_personal_data_logs_none_of_it_under_uvicorn(env, settings, tmp_path):
    (tmp_path / "failing_app.py").write_text(FAILING_APP)
    port = free_port()
    environment = worker_environment(settings, env.client.service_client.config.target_host) | {
        "AUTH_MODE": "dev",
        "ALLOW_DEV_AUTH": "true",
        "API_METRICS_PORT": "0",
    }
    out = tmp_path / "uvicorn.log"
    with open(out, "wb") as sink:
        server = subprocess.Popen(
            [PYTHON, "-m", "uvicorn", "failing_app:app", "--app-dir", str(tmp_path), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    r = await http.get("/explode")
                    break
                except httpx.TransportError:
                    assert server.poll() is None and time.monotonic() < deadline, out.read_text()
                    await asyncio.sleep(0.2)
        assert r.status_code == 500 and r.json()["detail"].startswith("something went wrong on our side")
    finally:
        server.terminate()
        server.wait(10)
    log = out.read_text()
    assert "unexpected RuntimeError on GET /explode" in log, log
    assert NAME not in log, log


async def test_a_route_failing_is_answered_and_not_raised_on_to_the_server(settings, engine, directory, caplog):
    app = create_app(Services(settings=settings, client=None, engine=engine, directory=directory))

    @app.post("/explode")
    async def explode(body: dict) -> None:
        raise RuntimeError(f"boom with {body['name']}")

    # raise_app_exceptions (httpx's default): what the app raises on to the server, the test sees.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        r = await http.post("/explode", json={"name": NAME})
    assert r.status_code == 500
    assert NAME not in logged(caplog)
