"""The API's Prometheus metrics, served on API_METRICS_PORT (never the public port): its requests
by route template and status, and the council's work in progress read from the app database at
each scrape. Also the middleware that gives each request its ID (api/logs.py), times it and
logs its one line."""

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import REQUEST_ID
from models.enums import Stage
from models.settings import Settings
from models.tables import AuditRecord, DisputeRecord, MosaicOutbox, NotificationRecord, SafetyConcernRecord, WaitingRecord

log = logging.getLogger("qsaf.http")
UNMATCHED = "(unmatched)"  # a path no route serves: one series for all of them, whatever was asked


class ApiMetrics:
    """One registry per app (the tests build many apps in one process)."""

    def __init__(self, engine_of: Callable[[], Engine | None]) -> None:
        self.registry = CollectorRegistry()
        labels = ["method", "route", "status"]
        self.requests = Counter("qsaf_http_requests", "API requests answered", labels, registry=self.registry)
        self.duration = Histogram(
            "qsaf_http_request_duration_seconds", "time to answer an API request", labels, registry=self.registry
        )
        self.registry.register(WorkInProgress(engine_of))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route, str(status)).observe(seconds)


@contextlib.contextmanager
def serving(metrics: ApiMetrics, settings: Settings) -> Iterator[None]:
    """The metrics server for as long as the app runs; none when API_METRICS_PORT is 0."""
    if not settings.api_metrics_port:
        yield
        return
    server, thread = start_http_server(settings.api_metrics_port, settings.metrics_host, registry=metrics.registry)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


_AUDITS, _DISPUTES, _CONCERNS = AuditRecord.__table__, DisputeRecord.__table__, SafetyConcernRecord.__table__
_WAITING, _EMAILS, _MOSAIC = WaitingRecord.__table__, NotificationRecord.__table__, MosaicOutbox.__table__
OPEN_STAGES = [s.value for s in Stage if s is not Stage.COMPLETED]
OUTBOX_STATES = ("pending", "not_delivered")


class WorkInProgress(Collector):
    """Gauges read when scraped, so they are never stale and cost nothing between scrapes. A
    database that does not answer gives `qsaf_database_up 0` and no other figure, rather than zeros
    that would look like an empty council."""

    def __init__(self, engine_of: Callable[[], Engine | None]) -> None:
        self.engine_of = engine_of

    def describe(self) -> list:
        return []  # read at scrape time only: registering must not query the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        engine = self.engine_of()
        if engine is None:  # before the lifespan has the app's services
            return
        try:
            with engine.connect() as connection:
                figures = list(self._figures(connection, datetime.now(UTC)))
        except Exception as error:  # noqa: BLE001 - a scrape reports, it does not fail
            log.warning("metrics: the app database did not answer: %s", type(error).__name__)
            yield GaugeMetricFamily("qsaf_database_up", "the app database answered this scrape", value=0)
            return
        yield GaugeMetricFamily("qsaf_database_up", "the app database answered this scrape", value=1)
        yield from figures

    def _figures(self, connection, now: datetime) -> Iterator[GaugeMetricFamily]:
        by_stage = dict.fromkeys(OPEN_STAGES, 0) | dict(
            connection.execute(
                select(_AUDITS.c.stage, func.count()).where(_AUDITS.c.stage != Stage.COMPLETED.value).group_by(_AUDITS.c.stage)
            ).all()
        )
        yield _labelled("qsaf_audits_open", "audits not yet completed, by stage", "stage", by_stage)
        yield _gauge(
            "qsaf_audits_overdue",
            "open audits past a deadline",
            connection.execute(
                select(func.count()).where(_AUDITS.c.overdue, _AUDITS.c.stage != Stage.COMPLETED.value)
            ).scalar_one(),
        )
        yield _gauge(
            "qsaf_disputes_open",
            "disputes not yet resolved or withdrawn",
            connection.execute(select(func.count()).where(_DISPUTES.c.status == "open")).scalar_one(),
        )
        yield _gauge(
            "qsaf_safety_concerns_open",
            "safety concerns not yet closed",
            connection.execute(select(func.count()).where(_CONCERNS.c.open)).scalar_one(),
        )
        yield from self._waiting(connection, now)
        yield from self._outboxes(connection, now)

    def _waiting(self, connection, now: datetime) -> Iterator[GaugeMetricFamily]:
        yield _labelled(
            "qsaf_waiting_actions",
            "actions that running processes wait for, by process",
            "process",
            dict(connection.execute(select(_WAITING.c.process, func.count()).group_by(_WAITING.c.process)).all()),
        )
        # A wait's rows are replaced at each save of its process, so when it began is not kept; how
        # far past its deadline the most overdue one is says as much about something stuck.
        earliest = connection.execute(select(func.min(_WAITING.c.until))).scalar()
        yield _gauge(
            "qsaf_waiting_most_overdue_seconds",
            "how far the most overdue waiting action is past its deadline",
            _seconds_since(earliest, now),
        )

    def _outboxes(self, connection, now: datetime) -> Iterator[GaugeMetricFamily]:
        emails = _EMAILS.c.channel == "email"
        counts = dict.fromkeys(OUTBOX_STATES, 0) | dict(
            connection.execute(
                select(_EMAILS.c.delivery, func.count())
                .where(emails, _EMAILS.c.delivery.in_(OUTBOX_STATES))
                .group_by(_EMAILS.c.delivery)
            ).all()
        )
        yield _labelled(
            "qsaf_email_outbox", "emails not sent: pending (being tried) or not_delivered (given up)", "delivery", counts
        )
        oldest = connection.execute(select(func.min(_EMAILS.c.at)).where(emails, _EMAILS.c.delivery == "pending")).scalar()
        yield _gauge("qsaf_email_oldest_pending_seconds", "age of the oldest email still pending", _seconds_since(oldest, now))
        yield _gauge(
            "qsaf_mosaic_outbox_undrained",
            "Mosaic case notes and alerts not yet taken by the integration",
            connection.execute(select(func.count()).where(_MOSAIC.c.drained_at.is_(None))).scalar_one(),
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _labelled(name: str, documentation: str, label: str, values: dict[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def _seconds_since(moment: datetime | None, now: datetime) -> float:
    """0 for none or one still to come; SQLite gives naive UTC."""
    if moment is None:
        return 0.0
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return max(0.0, (now - moment).total_seconds())


class Observed:
    """Outside every other layer of the app (api/main.py), so the unexpected-error handler's line
    and 500 answer are inside the request as well: a request ID of the server's own (a client's
    `X-Request-ID` is ignored: it would let anyone plant IDs in the action log) on the answer and
    on every line logged while handling it; the request counted and timed by route template; and
    one log line, with the method, route template, status, duration and staff ID alone."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id  # the action log's (api/action_log.py)
        token = REQUEST_ID.set(request_id)
        started, status = time.perf_counter(), 500  # 500 unless the app answers

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            REQUEST_ID.reset(token)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        method, route = scope["method"], getattr(scope.get("route"), "path", UNMATCHED)
        self.metrics.observe(method, route, status, seconds)
        staff_id = scope.get("state", {}).get("actor_id")
        log.info(
            "%s %s %s in %.0f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "staff_id": staff_id,
            },
        )
