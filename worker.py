"""The worker: the only process that runs workflows and activities (`python worker.py`); with
`--relay`, the email relay alone (activities/email_relay.py), beside a worker run with WORKER_EMAIL_RELAY=false."""

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.converter import DataConverter, StorageDriverStoreContext, WorkflowSerializationContext
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import Worker, WorkerDeploymentConfig, WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.calendar import CalendarActivities
from models.calendar import calendar_for
from activities.cycles import CycleActivities, CycleStarts
from activities.digest import DigestActivities
from activities.directory import DirectoryActivities
from activities.email_relay import EmailRelay
from activities.email_text import EmailText
from activities.moderation import ModerationActivities
from activities.notify import NotifyActivities, OutboxMosaic
from activities.persistence import PersistenceActivities
from activities.retention import RetentionActivities, RetentionPolicy
from api.logs import configure_logging
from models import search_attributes
from models.cycle_views import CycleStarterInput
from models.enums import CYCLE_MONTHS
from models.moderation import ModerationPolicy
from models.settings import Settings, get_settings
from models.staff import StaffDirectory, directory_for
from database import engine_for
from temporal_client import connect
from workflows.audit import AuditWorkflow
from workflows.cycle import CycleStarterWorkflow, CycleWorkflow
from workflows.digest import DigestWorkflow
from workflows.dispute import DisputeWorkflow
from workflows.moderation import ModerationPanelWorkflow
from workflows.retention import RetentionWorkflow
from workflows.safety import SafetyConcernWorkflow
from workflows.self_selection import SelfSelectionWorkflow

log = logging.getLogger("qsaf.worker")
CYCLE_SCHEDULE_ID = "audit-cycles"
RETENTION_SCHEDULE_ID = "retention-purge"
DIGEST_SCHEDULE_ID = "weekly-digest"
WORKFLOWS = [
    AuditWorkflow,
    DisputeWorkflow,
    SafetyConcernWorkflow,
    SelfSelectionWorkflow,
    CycleStarterWorkflow,
    CycleWorkflow,
    ModerationPanelWorkflow,
    RetentionWorkflow,
    DigestWorkflow,
]


async def register_search_attributes(client: Client, namespace: str) -> None:
    """Add any of our search attributes the server does not know yet (idempotent)."""
    try:
        existing = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        known = set(existing.custom_attributes)
    except RPCError as error:
        if error.status is not RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server cannot list
            raise
        known = set()
    missing = {
        key.name: IndexedValueType.ValueType(int(key.indexed_value_type))
        for key in search_attributes.ALL
        if key.name not in known
    }
    if not missing:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    except RPCError as error:
        # Another worker got there first, or (time-skipping server, which cannot list) a restarted
        # worker adds what its predecessor added: either way they are registered.
        if error.status is not RPCStatusCode.ALREADY_EXISTS:
            raise
        return
    log.info("registered search attributes %s", sorted(missing))


async def verify_search_attributes(client: Client, namespace: str) -> None:
    """Check that the namespace has every one of our search attributes, of its type, without
    adding any: listing is a read, allowed where adding (an operator's right) is not."""
    existing = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    wrong = sorted(
        key.name for key in search_attributes.ALL if existing.custom_attributes.get(key.name) != int(key.indexed_value_type)
    )
    if wrong:
        raise RuntimeError(
            f"search attributes missing or of another type in namespace {namespace!r}: {', '.join(wrong)}; "
            "register them with the bootstrap job (deploy/temporal-bootstrap.sh)"
        )


def cycle_schedule(settings: Settings) -> Schedule:
    """R-CAL-3: 06:00 London time on the 1st of each cycle month (none in August or December).
    The cycle itself waits for the start of the month's first working day, which a calendar
    spec cannot know (bank holidays, closure days)."""
    spec = ScheduleSpec(
        calendars=[
            ScheduleCalendarSpec(
                month=[ScheduleRange(m) for m in CYCLE_MONTHS],
                day_of_month=[ScheduleRange(1)],
                hour=[ScheduleRange(6)],
                comment="each audit cycle's month (R-CAL-3)",
            )
        ],
        time_zone_name=settings.timezone,
    )
    action = ScheduleActionStartWorkflow(
        CycleStarterWorkflow.run,
        CycleStarterInput(moderation_per_service=settings.moderation_per_service),
        id="cycle-starter",
        task_queue=settings.temporal_task_queue,
        static_summary="start this month's audit cycle",
    )
    # A worker down on the 1st still starts the month's cycle when it is back within the month.
    return Schedule(action=action, spec=spec, policy=SchedulePolicy(catchup_window=timedelta(days=28)))


def retention_schedule(settings: Settings) -> Schedule:
    """Every Sunday at 03:00 London time, when nobody works: the purge's one transaction holds
    the rows it blanks or deletes."""
    spec = ScheduleSpec(
        calendars=[
            ScheduleCalendarSpec(
                day_of_week=[ScheduleRange(0)],
                hour=[ScheduleRange(3)],
                comment="weekly, what is past its retention (RETENTION_*)",
            )
        ],
        time_zone_name=settings.timezone,
    )
    action = ScheduleActionStartWorkflow(
        RetentionWorkflow.run,
        id=RETENTION_SCHEDULE_ID,
        task_queue=settings.temporal_task_queue,
        static_summary="purge what is past its retention",
    )
    # A week missed is caught up when the worker is back; the next run would purge it anyway.
    return Schedule(action=action, spec=spec, policy=SchedulePolicy(catchup_window=timedelta(days=7)))


def digest_schedule(settings: Settings) -> Schedule:
    """Weekly, on DIGEST_DAY at DIGEST_HOUR London time (Monday 07:00): each person's digest of
    what waits on them, before the working week starts."""
    spec = ScheduleSpec(
        calendars=[
            ScheduleCalendarSpec(
                day_of_week=[ScheduleRange(DAYS_OF_WEEK.index(settings.digest_day))],
                hour=[ScheduleRange(settings.digest_hour)],
                comment="weekly, each person's digest (DIGEST_DAY, DIGEST_HOUR)",
            )
        ],
        time_zone_name=settings.timezone,
    )
    action = ScheduleActionStartWorkflow(
        DigestWorkflow.run,
        id=DIGEST_SCHEDULE_ID,
        task_queue=settings.temporal_task_queue,
        static_summary="queue this week's digests",
    )
    # A worker down at the hour still sends the week's digests when it is back within the day;
    # later, next week's would be the sooner news. Each person's key holds a second run to nothing.
    return Schedule(action=action, spec=spec, policy=SchedulePolicy(catchup_window=timedelta(days=1)))


DAYS_OF_WEEK = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")  # a Schedule's 0 is Sunday


async def ensure_digest_schedule(client: Client, settings: Settings) -> None:
    await ensure_schedule(client, DIGEST_SCHEDULE_ID, digest_schedule(settings), "weekly digests")


async def ensure_cycle_schedule(client: Client, settings: Settings) -> None:
    await ensure_schedule(client, CYCLE_SCHEDULE_ID, cycle_schedule(settings), "cycles")


async def ensure_retention_schedule(client: Client, settings: Settings) -> None:
    await ensure_schedule(client, RETENTION_SCHEDULE_ID, retention_schedule(settings), "retention purges")


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule, what: str) -> None:
    """Create the Schedule, or bring an existing one's spec and action in line with this code
    (an operator's pause stays as it is)."""
    try:
        await client.create_schedule(schedule_id, schedule)
        log.info("created schedule %r", schedule_id)
    except RPCError as error:
        if error.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
        # The time-skipping test server has no Schedules: its tests start runs as the Schedule would.
        log.warning("this Temporal server has no Schedules: %s will not start by themselves", what)
    except ScheduleAlreadyRunningError:

        def updated(current: ScheduleUpdateInput) -> ScheduleUpdate:
            schedule.state = current.description.schedule.state
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(updated)


def email_relay(settings: Settings) -> EmailRelay:
    directory = directory_for(settings)  # the worker's too
    return EmailRelay(
        engine_for(settings),
        directory,
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_sender,
        retry_max=timedelta(seconds=settings.email_retry_max_seconds),
        poll=timedelta(seconds=settings.email_relay_poll_seconds),
        max_deferrals=settings.email_max_deferrals,
        text=email_text(settings, directory),
    )


def email_text(settings: Settings, directory: StaffDirectory) -> EmailText:
    """How emails are worded: names from the directory, London times, links to the pages."""
    return EmailText(directory, settings.public_base_url, settings.timezone)


def activities_for(client: Client, settings: Settings, relay: EmailRelay | None = None) -> list:
    # One database engine (and one migration at start-up) and one directory per process: the relay's.
    engine = relay.engine if relay else engine_for(settings)
    directory = relay.directory if relay else directory_for(settings)
    calendar = CalendarActivities(calendar_for(settings))
    notify = NotifyActivities(
        engine,
        directory,
        OutboxMosaic(settings.timezone),
        enqueued=relay.wake if relay else lambda: None,
        text=email_text(settings, directory),
        calendar=calendar.calendar,
    )
    digest = DigestActivities(engine, directory, email_text(settings, directory), enqueued=relay.wake if relay else lambda: None)
    persistence = PersistenceActivities(engine)
    cycles, starts = CycleActivities(engine, directory), CycleStarts(client, settings.temporal_task_queue)
    # The draw asks running audits for their final grading (a query): it needs the worker's client.
    moderation = ModerationActivities(engine, directory, client, ModerationPolicy(moderation_days=settings.moderation_days))
    return [
        calendar.calendar_days,
        cycles.cycle_opening,
        cycles.non_completion_report,
        starts.start_cycle,
        starts.start_moderation_panel,
        DirectoryActivities(directory).service_contacts,
        notify.send_email,
        notify.post_to_mosaic,
        persistence.save_audit_row,
        persistence.save_dispute_row,
        persistence.save_safety_concern_row,
        persistence.save_cycle_row,
        persistence.save_self_selection_row,
        moderation.draw_moderation,
        moderation.save_moderation_panel,
        RetentionActivities(engine, RetentionPolicy.of(settings)).purge_past_retention,
        digest.send_digests,
    ]


def build_worker(client: Client, settings: Settings, relay: EmailRelay | None = None, **options) -> Worker:
    slots = settings.worker_max_concurrent_activities
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(client, settings, relay),
        # The database activities are blocking I/O: one thread for every activity slot, so a
        # slot never waits for a thread while its start-to-close timeout runs.
        max_concurrent_activities=slots,
        activity_executor=ThreadPoolExecutor(max_workers=slots),
        workflow_runner=workflow_runner(client.data_converter),
        # A value a workflow cannot work with fails what asked for it (the update, or the run)
        # with its message, where by default it would fail the workflow task, retried forever.
        workflow_failure_exception_types=[ValueError],
        **versioning(settings),
        **options,
    )


def versioning(settings: Settings) -> dict:
    """Worker Versioning, when the image names its build (`WORKER_BUILD_ID`; docs/deploying-changes.md):
    the worker polls as that version of the deployment, and a running workflow moves to the
    current version at its next task (auto-upgrade), so every change to a running workflow's
    commands stays behind `workflow.patched`. Unset (`make dev`, the tests): unversioned."""
    if not settings.worker_build_id:
        return {}
    version = WorkerDeploymentVersion(deployment_name=settings.worker_deployment_name, build_id=settings.worker_build_id)
    return {
        "deployment_config": WorkerDeploymentConfig(
            version=version, use_worker_versioning=True, default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE
        )
    }


def workflow_runner(data_converter: DataConverter) -> WorkflowRunner:
    """The SDK's sandbox (the workflow modules pass through: they hold no mutable state, and a
    run need not re-import them), asked for no serialization context when none is needed."""
    sandbox = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows"))
    return ContextFreeSandbox(sandbox) if takes_no_context(data_converter) else sandbox


def takes_no_context(data_converter: DataConverter) -> bool:
    """The converter encodes a payload the same whatever workflow or command it belongs to: the
    SDK then uses this very converter for every serialization context."""
    context = WorkflowSerializationContext(namespace="", workflow_id="")
    return data_converter.with_context(context) is data_converter and data_converter.external_storage is None


NO_STORE_CONTEXT = StorageDriverStoreContext(target=None)


class ContextFreeSandbox(WorkflowRunner):
    """The sandbox, less one cost. Before encoding each payload of an activation's commands the
    SDK asks the workflow instance for the payload's serialization context, and the sandbox
    answers by compiling and running a snippet inside itself: a sixth of the worker's
    processor time in `make bench`; likewise for its external-storage context. For a
    converter that takes no context (`takes_no_context`) the answers change nothing, so the
    instance gives the SDK's "no context" without entering the sandbox. Everything else runs in the sandbox as before."""

    def __init__(self, sandbox: SandboxedWorkflowRunner) -> None:
        self.sandbox = sandbox

    def prepare_workflow(self, defn) -> None:
        self.sandbox.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _ContextFree(self.sandbox.create_instance(det))

    def set_worker_level_failure_exception_types(self, types) -> None:
        self.sandbox.set_worker_level_failure_exception_types(types)


class _ContextFree(WorkflowInstance):
    def __init__(self, instance: WorkflowInstance) -> None:
        self.instance = instance

    def activate(self, act):
        return self.instance.activate(act)

    def get_serialization_context(self, command_info) -> None:
        return None

    def get_external_store_context(self, command_info) -> StorageDriverStoreContext:
        # Asked for every payload too, the same way; with no external storage (`takes_no_context`)
        # the SDK drops the answer unread, so give the sandbox's own default without entering it.
        return NO_STORE_CONTEXT

    def get_info(self):
        return self.instance.get_info()

    def get_thread_id(self) -> int | None:
        return self.instance.get_thread_id()


@contextlib.asynccontextmanager
async def run_worker(client: Client, settings: Settings, grace: timedelta = timedelta(), **options) -> AsyncIterator[Worker]:
    """The worker and, unless it runs as its own process (`WORKER_EMAIL_RELAY=false`), the email
    relay beside it, woken by each email its activities queue. Leaving, the worker stops polling
    and gives its activities in flight `grace` to finish before cancelling them; the relay takes
    no new email from the same moment and finishes the one it is sending within the same `grace`."""
    options["graceful_shutdown_timeout"] = grace
    if not settings.worker_email_relay:
        async with build_worker(client, settings, **options) as worker:
            yield worker
        return
    relay = email_relay(settings)
    async with delivering(relay, grace) as stop_relay, build_worker(client, settings, relay, **options) as worker:
        try:
            yield worker
        finally:
            # Side by side, so stopping takes `grace` at most, not the worker's and then the relay's.
            await asyncio.gather(worker.shutdown(), stop_relay())


@contextlib.asynccontextmanager
async def delivering(relay: EmailRelay, grace: timedelta = timedelta()) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """The relay running; leaving (or awaiting what this yields) stops it gracefully."""
    task = asyncio.create_task(relay.run(), name="email relay")

    async def stop() -> None:
        relay.stop()
        finished, _ = await asyncio.wait({task}, timeout=grace.total_seconds())
        if grace and not finished:
            # Its thread runs on to the end of the SMTP conversation (or its 30 s timeout) before
            # the process can exit; killed before then, the email is marked uncertain, never resent.
            log.warning("email relay still sending after %s: leaving it", grace)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        yield stop
    finally:
        await stop()  # at once if it has stopped already


def metrics_runtime(settings: Settings) -> Runtime | None:
    """The SDK's own metrics (polls, task latencies, slots in use, failures) for Prometheus on
    WORKER_METRICS_PORT, or none when it is 0. A client's runtime is fixed when it connects, so
    this comes first."""
    if not settings.worker_metrics_port:
        return None
    address = f"{settings.metrics_host}:{settings.worker_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


async def main(relay_only: bool) -> None:
    settings = get_settings()
    configure_logging(settings.log_format)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # finish in-flight tasks, then leave
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    # Within compose's stop_grace_period (docker-compose.yml), before which nothing is killed.
    grace = timedelta(seconds=settings.worker_shutdown_seconds)
    if relay_only:  # the outbox's own process: no Temporal, only the app database and SMTP
        async with delivering(email_relay(settings), grace):
            log.info("email relay delivering the outbox to %s:%s", settings.smtp_host, settings.smtp_port)
            await stop.wait()
        log.info("email relay stopped")
        return
    client = await connect(settings, metrics_runtime(settings))
    if settings.worker_search_attributes == "register":
        await register_search_attributes(client, settings.temporal_namespace)
    else:
        await verify_search_attributes(client, settings.temporal_namespace)
    await ensure_cycle_schedule(client, settings)
    await ensure_retention_schedule(client, settings)
    await ensure_digest_schedule(client, settings)
    async with run_worker(client, settings, grace, max_cached_workflows=settings.worker_max_cached_workflows):
        log.info("worker polling task queue %r on %s", settings.temporal_task_queue, settings.temporal_address)
        await stop.wait()
    log.info("worker stopped")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The worker: workflows and activities; with --relay, the email relay alone.")
    parser.add_argument(
        "--relay", action="store_true", help="deliver the outbox only (the worker then runs with WORKER_EMAIL_RELAY=false)"
    )
    asyncio.run(main(relay_only=parser.parse_args().relay))
