"""Watchable in production: the API's requests and the council's work in progress, and the
worker's Temporal SDK metrics, each scraped from a port of its own as Prometheus would."""

import asyncio
import urllib.request
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from models.settings import Settings
from tests.helpers.api import Api
from tests.helpers.dates import YEAR, at, first_working_day
from tests.helpers import free_port
from tests.faults.harness import WorkerProcesses, worker_environment
from tests.helpers import allocate, skip_to


def scrape(port: int) -> list:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return list(text_string_to_metric_families(response.read().decode()))


def value(families: list, sample_name: str, **labels) -> float | None:
    """The one sample named `sample_name` whose labels include `labels`; None when there is none."""
    found = [s.value for f in families for s in f.samples if s.name == sample_name and labels.items() <= s.labels.items()]
    assert len(found) <= 1, f"{len(found)} samples of {sample_name} with {labels}"
    return found[0] if found else None


@pytest_asyncio.fixture
async def served(env, client, settings, directory, engine) -> AsyncIterator[tuple[Api, int]]:
    """The app with its lifespan run (which starts the metrics server) on a port of the test's own."""
    from api.deps import Services
    from api.main import create_app

    port = free_port()
    chosen = settings.model_copy(update={"api_metrics_port": port, "metrics_host": "127.0.0.1"})
    app = create_app(Services(settings=chosen, client=client, engine=engine, directory=directory, clock=env.get_current_time))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield Api(http), port
    with pytest.raises(OSError):  # the metrics server stops with the app
        scrape(port)


async def test_requests_are_counted_by_route_template_and_status(served, env):
    api, port = served
    await skip_to(env, at(first_working_day(YEAR, 1)))
    audit_id = (await allocate(api))["audit_id"]
    assert (await api.as_("piat1").get(f"/audits/{audit_id}")).status_code == 200
    assert (await api.as_("sw2").get(f"/audits/{audit_id}")).status_code == 403

    families = await asyncio.to_thread(scrape, port)
    assert value(families, "qsaf_http_requests_total", method="POST", route="/audits", status="201") == 1
    assert value(families, "qsaf_http_requests_total", method="GET", route="/audits/{audit_id}", status="200") == 1
    assert value(families, "qsaf_http_requests_total", method="GET", route="/audits/{audit_id}", status="403") == 1
    assert value(families, "qsaf_http_request_duration_seconds_count", method="POST", route="/audits", status="201") == 1
    # Never the raw path: an ID in a label would be a new series per audit, and could be personal.
    labels = {v for f in families for s in f.samples for v in s.labels.values()}
    assert not [v for v in labels if audit_id in v or "C-100001" in v]


async def test_the_councils_work_in_progress_is_read_from_the_database_when_scraped(served, env):
    api, port = served
    await skip_to(env, at(first_working_day(YEAR, 1)))
    before = await asyncio.to_thread(scrape, port)
    assert value(before, "qsaf_audits_open", stage="allocated") == 0
    await allocate(api)

    families = await asyncio.to_thread(scrape, port)
    assert value(families, "qsaf_database_up") == 1
    assert value(families, "qsaf_audits_open", stage="allocated") == 1
    assert value(families, "qsaf_audits_open", stage="awaiting_qa") == 0
    assert value(families, "qsaf_audits_open", stage="completed") is None  # open ones only
    assert value(families, "qsaf_audits_overdue") == 0
    assert value(families, "qsaf_disputes_open") == 0
    assert value(families, "qsaf_safety_concerns_open") == 0
    assert value(families, "qsaf_waiting_actions", process="audit") == 1  # the auditor's initial grading
    assert value(families, "qsaf_waiting_most_overdue_seconds") == 0  # due weeks from now
    for delivery in ("pending", "not_delivered"):
        assert value(families, "qsaf_email_outbox", delivery=delivery) is not None
    assert value(families, "qsaf_email_oldest_pending_seconds") is not None
    assert value(families, "qsaf_mosaic_outbox_undrained") == 0


def test_a_scrape_with_the_database_gone_still_answers_saying_so(tmp_path):
    from prometheus_client import generate_latest

    from api.metrics import ApiMetrics

    gone = create_engine(f"sqlite:///{tmp_path / 'no such folder' / 'qsaf.db'}")
    metrics = ApiMetrics(lambda: gone)
    families = list(text_string_to_metric_families(generate_latest(metrics.registry).decode()))
    assert value(families, "qsaf_database_up") == 0
    assert value(families, "qsaf_audits_open", stage="allocated") is None  # no figure rather than a wrong one


def test_an_empty_or_zero_metrics_port_turns_the_server_off(monkeypatch):
    monkeypatch.setenv("API_METRICS_PORT", "")
    monkeypatch.setenv("WORKER_METRICS_PORT", "0")
    settings = Settings()
    assert (settings.api_metrics_port, settings.worker_metrics_port) == (0, 0)
    monkeypatch.delenv("API_METRICS_PORT")
    monkeypatch.delenv("WORKER_METRICS_PORT")
    assert (Settings().api_metrics_port, Settings().worker_metrics_port) == (9465, 9464)


@pytest.mark.timeout(90)
async def test_the_worker_process_serves_the_temporal_sdk_metrics_on_its_port(env, settings, tmp_path):
    port = free_port()
    address = env.client.service_client.config.target_host
    environment = worker_environment(settings, address) | {"WORKER_METRICS_PORT": str(port), "METRICS_HOST": "127.0.0.1"}
    workers = WorkerProcesses(environment, tmp_path)
    try:
        await workers.start_ready()
        names: set[str] = set()
        for _ in range(100):  # the SDK reports its first polls within moments
            names = {s.name for f in await asyncio.to_thread(scrape, port) for s in f.samples}
            if any(n.startswith("temporal_") for n in names):
                break
            await asyncio.sleep(0.1)
    finally:
        workers.close()
    assert any(n.startswith("temporal_") for n in names), sorted(names)
