"""What an orchestrator and a log collector see: /livez and /readyz without signing in, and one
JSON log line per request, carrying the request ID the server gave it and no personal data."""

import io
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import create_engine
from sqlmodel import Session, select
from temporalio.client import Client

from api.deps import Services
from api.logs import log_handler
from models.tables import ActionLogEntry
from tests.helpers.dates import YEAR, at, first_working_day
from tests.helpers import free_port
from tests.helpers import allocate, skip_to


def app_with(settings, directory, **services):
    from api.main import create_app

    return create_app(Services(settings=settings, directory=directory, **services))


async def get(app, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        return await http.get(path)


async def test_livez_answers_while_the_process_does(api):
    r = await api.http.get("/livez")  # no sign-in
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


async def test_readyz_is_ok_when_the_database_and_temporal_answer(api):
    r = await api.http.get("/readyz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


async def test_readyz_names_the_database_when_it_does_not_answer(env, settings, directory, tmp_path):
    gone = create_engine(f"sqlite:///{tmp_path / 'no such folder' / 'qsaf.db'}")
    r = await get(app_with(settings, directory, client=env.client, engine=gone), "/readyz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "failing": ["database"], "detail": "not ready: the database does not answer"}


async def test_readyz_names_temporal_when_it_does_not_answer(settings, directory, engine):
    nobody = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)  # nothing listens there
    r = await get(app_with(settings, directory, client=nobody, engine=engine), "/readyz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "failing": ["temporal"], "detail": "not ready: Temporal does not answer"}


@pytest_asyncio.fixture
async def json_lines(api) -> AsyncIterator[io.StringIO]:
    """What the root logger writes with LOG_FORMAT=json, while the test runs."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)  # setLevel, not `.level =`: loggers cache what is enabled
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


TEST_TOOLS = {"httpx", "mail.log"}  # the test's HTTP client (each URL it asks for) and its SMTP server


def lines(stream: io.StringIO) -> list[dict]:
    """The app's lines, not the test's own tools'."""
    return [line for text in stream.getvalue().splitlines() if (line := json.loads(text))["logger"] not in TEST_TOOLS]


async def test_each_request_gets_an_id_of_the_servers_on_its_json_log_lines(api, env, engine, json_lines):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    audit_id = (await allocate(api))["audit_id"]
    sent = {"Authorization": "Bearer dev-piat1", "X-Request-ID": "chosen-by-the-client"}
    r = await api.http.get("/audits?case_ref=C-100001&auditor_id=tm2", headers=sent)
    assert r.status_code == 200
    request_id = r.headers["X-Request-ID"]
    assert request_id != "chosen-by-the-client" and len(request_id) == 32  # never the client's

    logged = [line for line in lines(json_lines) if line.get("request_id") == request_id]
    assert [(line["method"], line["route"], line["status"], line["staff_id"]) for line in logged] == [
        ("GET", "/audits", 200, "piat1")
    ]
    assert {"time", "level", "logger", "message", "duration_ms"} <= logged[0].keys()
    # No query string, path ID or body: the route template and the staff ID at most.
    written = json.dumps(lines(json_lines))
    assert "C-100001" not in written and audit_id not in written and "tm2" not in written

    # An acting request's action-log entry carries the same ID as its answer and its log line.
    r = await api.http.post(f"/audits/{audit_id}/qa", json={}, headers=sent)
    with Session(engine) as session:
        entry = session.exec(select(ActionLogEntry).order_by(ActionLogEntry.id.desc())).first()
    assert entry.request_id == r.headers["X-Request-ID"] != "chosen-by-the-client"
    assert [line["route"] for line in lines(json_lines) if line.get("request_id") == entry.request_id] == [
        "/audits/{audit_id}/qa"
    ]


async def test_every_line_logged_while_handling_a_request_carries_its_id(
    settings, directory, client, engine, json_lines, monkeypatch
):
    """A line the app logs on its way (here the unexpected-error handler's) as well as the request's own."""
    from api.routes import audit_tools

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(audit_tools, "tool_for", broken)
    app = app_with(settings, directory, client=client, engine=engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # as uvicorn: a 500, not a raise
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        r = await http.get("/audit-tools/mash", headers={"Authorization": "Bearer dev-sw1"})
    assert r.status_code == 500
    request_id = r.headers["X-Request-ID"]
    logged = [(line["logger"], line["level"]) for line in lines(json_lines) if line.get("request_id") == request_id]
    assert logged == [("qsaf.api", "ERROR"), ("qsaf.http", "INFO")]


def test_text_lines_stay_readable_for_development():
    stream = io.StringIO()
    handler = log_handler("text", stream)
    record = logging.LogRecord("qsaf.api", logging.WARNING, __file__, 1, "the relay is behind by %d", (3,), None)
    handler.handle(record)
    line = stream.getvalue()
    assert "qsaf.api WARNING" in line and line.rstrip().endswith("the relay is behind by 3")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
