"""The Temporal dev server restarted mid-audit on the same SQLite file: the audit carries on from
where it was, with its deadlines, and nothing is emailed twice. Real time here: the dev server
cannot skip time, so the audit only goes as far as its dispute window."""

import asyncio
import uuid
from datetime import UTC, date, datetime, time

import httpx
import pytest
import pytest_asyncio
from dateutil.relativedelta import relativedelta

from models.cycles import cycle_holds, is_cycle, next_cycle
from tests.faults.harness import RetryingApi, WorkerProcesses, delivery_faults, notification_rows, worker_environment
from tests.helpers import LONDON, allocation, conversation, grading

pytestmark = pytest.mark.faults


async def server_clock(client):
    """The dev server's time as a clock like `services.clock.system_clock`. An audit's dates are the
    server's, and it keeps the machine's real time even when the tests run under faketime (`temporal`
    is a static Go binary, out of LD_PRELOAD's reach): read its time once, as the start of a
    workflow that no worker runs, and keep its difference from this process's clock."""
    handle = await client.start_workflow("ServerClock", id=f"clock-{uuid.uuid4().hex}", task_queue=f"clock-{uuid.uuid4().hex}")
    try:
        offset = (await handle.describe()).start_time - datetime.now(UTC)
    finally:
        await handle.terminate()

    async def now() -> datetime:
        return datetime.now(UTC) + offset

    return now


@pytest_asyncio.fixture
async def clock(temporal, settings):
    return await server_clock(await temporal.connect(settings))


@pytest_asyncio.fixture
async def dev_api(temporal, clock, settings, directory, engine):
    """The API in-process, over a client of the dev server that it keeps through the restart, on
    the server's clock (as tests/conftest.py's `api` is on the test server's)."""
    from api.deps import Services
    from api.main import create_app

    client = await temporal.connect(settings)
    app = create_app(Services(settings=settings, client=client, engine=engine, directory=directory, clock=clock))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        # A restarted server refuses updates (FAILED_PRECONDITION) until its shards are loaded: on
        # a loaded machine that took longer than six quick retries; a client retries for ~20 s.
        yield RetryingApi(http, attempts=25, attempt_timeout=30)


@pytest.fixture
def dev_workers(temporal, settings, tmp_path):
    # A real server hands a lost worker's sticky tasks back itself: the usual cache here.
    processes = WorkerProcesses(worker_environment(settings, temporal.address, cached_workflows=1000), tmp_path)
    try:
        yield processes
    finally:
        processes.close()


def current_cycle(today: date) -> str:
    """The dev server runs on today's clock: a standard safeguarding cycle from this month on."""
    cycle = f"{today:%Y-%m}"
    while not (is_cycle(cycle) and cycle_holds(cycle, "standard", "safeguarding")):
        cycle = next_cycle(cycle)
    return cycle


@pytest.mark.timeout(150)
async def test_an_audit_carries_on_after_the_temporal_server_restarts(
    temporal, clock, dev_api, dev_workers, smtp, engine, settings
):
    api = dev_api
    await dev_workers.start_ready()
    today = (await clock()).astimezone(LONDON).date()
    # Today's cycle, on a case the service has been involved with for a year: an involvement
    # that starts after the allocation is refused, whatever year the suite's dates are in.
    body = allocation(cycle=current_cycle(today), involvement_start=(today - relativedelta(years=1)).isoformat())
    r = await api.as_("piat1").post("/audits", json=body)
    assert r.status_code == 201, r.text
    audit_id = r.json()["audit_id"]
    await _ok(api.as_("tm2").put(f"/audits/{audit_id}/grading", json=grading()))
    held_on = (await clock()).astimezone(LONDON).date()
    await _ok(api.as_("tm2").post(f"/audits/{audit_id}/practitioner-conversation", json=conversation(held_on)))
    submitted = await _ok(api.as_("tm2").post(f"/audits/{audit_id}/submit"))
    assert submitted["stage"] == "awaiting_qa"
    await _all_delivered(engine)  # so what follows the restart is told apart
    before = {k: v for k, v in submitted["deadlines"].items() if v}

    temporal.stop()
    assert temporal.proc.returncode is not None
    temporal.start()  # the same file and port
    await temporal.connect(settings)  # up again; the API's and the worker's clients reconnect by themselves

    accepted = await _ok(
        api.as_("piat1").post(f"/audits/{audit_id}/qa", json={"decision": "accept", "details": "", "discussion_offered": False})
    )
    assert accepted["stage"] == "dispute_window"
    assert {k: accepted["deadlines"][k] for k in before} == before  # what was set before the restart holds
    closes = datetime.fromisoformat(accepted["deadlines"]["dispute_window_closes"]).astimezone(LONDON)
    assert closes > await clock() and closes.time() == time(17)  # 5 working days on (R-DIST-4)
    view = await _ok(api.as_("piat1").get(f"/audits/{audit_id}"))
    assert view["stage"] == "dispute_window" and view["deadlines"] == accepted["deadlines"]

    await _all_delivered(engine)
    keys = [r.key.removeprefix(f"audit-{audit_id}/") for r in notification_rows(engine)]
    assert keys[:2] == ["allocation", "report"], keys  # the report went out after the restart
    assert delivery_faults(engine, smtp) == []
    assert len(dev_workers.started) == 1 and dev_workers.current is not None  # the worker rode it out


async def _ok(call) -> dict:
    r = await call
    assert r.status_code == 200, r.text
    return r.json()


async def _all_delivered(engine, polls: int = 100) -> None:
    """Real time: the worker sends in its own time; poll, boundedly."""
    for _ in range(polls):
        rows = notification_rows(engine)
        if rows and all(r.delivery == "sent" for r in rows):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"undelivered: {[r.key for r in notification_rows(engine) if r.delivery != 'sent']}")
