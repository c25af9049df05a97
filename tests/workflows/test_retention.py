"""Retention: email bodies blanked and action-log rows deleted once past their retention, by the
weekly `retention-purge` workflow or an operator's `python -m scripts.purge`, each run counted in
`purged`; the log's triggers let nothing younger go."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from models.settings import ROOT
from models.tables import ActionLogEntry, NotificationRecord, Purged
from tests.helpers import LONDON
from worker import RETENTION_SCHEDULE_ID, ensure_retention_schedule
from workflows.retention import RetentionWorkflow

DAY = timedelta(days=1)
# Old enough for either database's clock, even one libfaketime moved and another it did not.
LONG_AGO = 3700 * DAY
# The script runs on the test's clock: under `faketime` (libfaketime's preload), moved as it is.
CLOCK = {name: value for name, value in os.environ.items() if name == "LD_PRELOAD" or name.startswith("FAKETIME")}


def email(key: str, at: datetime, delivery: str = "sent", **values) -> NotificationRecord:
    sent = {"sent_at": at} if delivery == "sent" else {}
    return NotificationRecord(
        key=key,
        audit_id="A-1",
        channel="email",
        recipient_ids=["sw1"],
        subject=f"About {key}",
        body="The child's case ...",
        at=at,
        delivery=delivery,
        **sent | values,
    )


def held(engine) -> None:
    """Two years and a bit of emails and ten of action log, and this week's."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        session.add_all(
            [
                email("old", now - 800 * DAY),
                email("recent", now - 10 * DAY),
                email("given-up", now - 800 * DAY, delivery="not_delivered"),
                # Still to be sent (its retry far off): blanked, the relay would send an empty email.
                email("queued", now - 800 * DAY, delivery="pending", next_attempt_at=now + 1000 * DAY),
                ActionLogEntry(at=now - LONG_AGO, request_id="old", method="POST", route="/audits", status=201),
                ActionLogEntry(at=now - DAY, request_id="recent", method="POST", route="/audits", status=201),
            ]
        )
        session.commit()


def state(engine) -> tuple[dict, list, list]:
    with Session(engine) as session:
        bodies = {n.key: (n.subject, n.body) != ("", "") for n in session.exec(select(NotificationRecord))}
        log = [e.request_id for e in session.exec(select(ActionLogEntry).order_by(ActionLogEntry.id))]
        purges = [(p.table_name, p.rows) for p in session.exec(select(Purged).order_by(Purged.id))]
    return bodies, log, purges


@pytest.mark.both_databases
async def test_the_weekly_workflow_blanks_old_emails_deletes_old_log_rows_and_counts_them(env, client, engine, settings):
    held(engine)

    async def purge(run: str) -> str:
        # At the machine's time: the test server would otherwise skip ahead once nothing waits.
        with env.auto_time_skipping_disabled():
            return await client.execute_workflow(RetentionWorkflow.run, id=run, task_queue=settings.temporal_task_queue)

    assert await purge("retention-purge") == "notification: 2 purged; action_log: 1 purged"
    bodies, log, purges = state(engine)
    assert bodies == {"old": False, "given-up": False, "recent": True, "queued": True}
    assert log == ["recent"] and purges == [("notification", 2), ("action_log", 1)]
    # Run again (a retry, next week): nothing more, and the run still counted.
    await purge("retention-purge-again")
    assert state(engine)[2][2:] == [("notification", 0), ("action_log", 0)]
    # Whoever asks, the log's triggers refuse a row inside its retention, and the purges' counts.
    for statement in ("DELETE FROM action_log", "UPDATE action_log SET status = 500", "DELETE FROM purged"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))


def test_the_retention_the_app_asks_for_is_never_shorter_than_the_databases(engine, settings):
    """A setting of a year is asked for; the database's seven-year floor holds the log."""
    from activities.retention import RetentionPolicy, purge

    held(engine)
    counts = purge(engine, RetentionPolicy(notification_days=3000, action_log_days=365), datetime.now(UTC))
    assert [(c.table_name, c.rows) for c in counts] == [("notification", 0), ("action_log", 1)]
    assert counts[1].before < datetime.now(UTC) - 2500 * DAY
    assert state(engine)[1] == ["recent"]


def test_an_operator_counts_with_a_dry_run_then_purges(engine, settings):
    held(engine)

    def purge_script(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "scripts.purge", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=CLOCK | {"PATH": "/usr/bin:/bin", "DATABASE_URL": settings.database_url},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    counted = purge_script("--dry-run")
    assert "notification: 2 rows from before" in counted and "action_log: 1 rows from before" in counted
    assert "would be purged" in counted and state(engine)[1] == ["old", "recent"] and state(engine)[2] == []
    assert "notification: 2 rows" in purge_script() and state(engine)[1] == ["recent"]
    assert state(engine)[2] == [("notification", 2), ("action_log", 1)]


def test_on_production_roles_the_app_role_purges_as_the_schedule_does(production_roles):
    """As `qsaf`, which may not DELETE from the log: through the owner's `purge_action_log`."""
    from activities.retention import RetentionPolicy, purge
    from database import make_engine

    _, app = production_roles.new_database()
    engine = make_engine(app, migrate_schema=False)
    held(engine)
    purge(engine, RetentionPolicy(notification_days=730, action_log_days=2557), datetime.now(UTC))
    bodies, log, purges = state(engine)
    assert log == ["recent"] and purges == [("notification", 2), ("action_log", 1)]
    assert bodies == {"old": False, "given-up": False, "recent": True, "queued": True}


async def test_the_worker_keeps_a_weekly_schedule_and_an_operators_pause(dev_client, settings):
    from google.protobuf.timestamp_pb2 import Timestamp
    from temporalio.api.workflowservice.v1 import ListScheduleMatchingTimesRequest

    await ensure_retention_schedule(dev_client, settings)
    start = datetime.now(UTC)
    request = ListScheduleMatchingTimesRequest(
        namespace=dev_client.namespace,
        schedule_id=RETENTION_SCHEDULE_ID,
        start_time=Timestamp(seconds=int(start.timestamp())),
        end_time=Timestamp(seconds=int((start + 28 * DAY).timestamp())),
    )
    answer = await dev_client.workflow_service.list_schedule_matching_times(request)
    fired = [t.ToDatetime(tzinfo=UTC).astimezone(LONDON) for t in answer.start_time]
    assert len(fired) == 4 and {(t.weekday(), t.hour, t.minute) for t in fired} == {(6, 3, 0)}  # Sundays, 03:00

    handle = dev_client.get_schedule_handle(RETENTION_SCHEDULE_ID)
    await handle.pause(note="paused by an operator")
    await ensure_retention_schedule(dev_client, settings)
    described = await handle.describe()
    assert described.schedule.state.paused and described.schedule.action.workflow == "RetentionWorkflow"
