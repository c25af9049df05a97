"""The weekly digest: the `weekly-digest` Schedule's workflow queues one email a person of
everything waiting on them, soonest first and the overdue marked, under a key of the week, so a
second run that week sends nothing more."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from models.tables import NotificationRecord, WaitingRecord
from tests.helpers import eventually, skip_to
from tests.helpers.dates import LONDON, YEAR, a_working_week, at, end_of
from worker import DIGEST_SCHEDULE_ID, ensure_digest_schedule
from workflows.digest import DigestWorkflow

MONDAY = a_working_week(YEAR, 2)  # a February Monday with a working week after it
DAY = timedelta(days=1)


def waiting(engine) -> None:
    """sw1: one step overdue, two due this week, one undated; sw2: one; PIAT (any of them): one."""
    rows = [
        WaitingRecord(
            process="audit",
            process_id="A-wed",
            case_ref="C-3",
            staff_id="sw1",
            action="the report",
            until=end_of(MONDAY + 2 * DAY),
        ),
        WaitingRecord(
            process="audit",
            process_id="A-late",
            case_ref="C-1",
            staff_id="sw1",
            action="amended grading (R-QA-2)",
            until=end_of(MONDAY - 3 * DAY),
            overdue=True,
        ),
        WaitingRecord(
            process="dispute",
            process_id="D-tue",
            case_ref="C-2",
            staff_id="sw1",
            action="the dispute meeting",
            until=end_of(MONDAY + DAY),
        ),
        WaitingRecord(
            process="audit", process_id="A-undated", case_ref="C-4", staff_id="sw1", action="Head of Service follow-up"
        ),
        WaitingRecord(
            process="audit",
            process_id="A-sw2",
            case_ref="C-5",
            staff_id="sw2",
            action="the report",
            until=end_of(MONDAY + 4 * DAY),
        ),
        WaitingRecord(process="safety_concern", process_id="S-1", case_ref="C-6", role="piat", action="review of the concern"),
    ]
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()


def digests(engine) -> list[NotificationRecord]:
    with Session(engine) as session:
        return list(session.exec(select(NotificationRecord).where(NotificationRecord.key.startswith("digest/"))))


async def test_the_weekly_digest_sends_each_person_one_email_soonest_first_and_once_a_week(env, client, settings, engine, smtp):
    waiting(engine)
    await skip_to(env, at(MONDAY, 7))  # when the Schedule starts it: Monday 07:00, London time

    async def run(run_id: str) -> str:
        # At the server's pace: with nothing to wait for, it would otherwise skip years ahead.
        with env.auto_time_skipping_disabled():
            return await client.execute_workflow(DigestWorkflow.run, id=run_id, task_queue=settings.temporal_task_queue)

    assert await run("weekly-digest") == "4 digests queued"  # sw1, sw2, and both of PIAT
    week = f"{MONDAY.isocalendar().year}-W{MONDAY.isocalendar().week:02d}"
    assert sorted(d.key for d in digests(engine)) == [f"digest/{week}/{i}" for i in ("piat1", "piatmgr1", "sw1", "sw2")]

    mine = (await eventually(lambda: smtp.to("sw1@council.example")))[0]
    assert mine["Subject"] == "Your weekly digest: 4 things waiting on you, 1 overdue"
    body = mine.get_content()
    order = [
        body.index(what)
        for what in (
            "OVERDUE: Amended grading, case C-1",
            "The dispute meeting",
            "The report, case C-3",
            "Head of Service follow-up",
        )
    ]
    assert order == sorted(order), body  # soonest first, the undated last
    assert body.count("OVERDUE") == 1 and "(overdue)" in body
    assert f"By: {MONDAY + DAY:%A} {(MONDAY + DAY).day} {MONDAY + DAY:%B %Y}, 17:00" in body  # in words, London time
    assert "No deadline set" in body and "http://localhost:8000/app/disputes/D-tue" in body
    assert "/app/audits/A-late" in body and "R-QA-2" not in body
    piat = (await eventually(lambda: smtp.to("piat1@council.example")))[0]
    assert "for anyone who is PIAT" in piat.get_content() and "/app/safety-concerns/S-1" in piat.get_content()

    # The week's run again (a retry, an operator's "trigger now"): nobody receives a second one.
    assert await run("weekly-digest-again") == "0 digests queued"
    assert len(digests(engine)) == 4
    await eventually(lambda: len(smtp.messages) >= 4)
    assert len(smtp.to("sw1@council.example")) == 1


async def test_the_worker_keeps_a_schedule_each_monday_at_seven(dev_client, settings):
    from google.protobuf.timestamp_pb2 import Timestamp
    from temporalio.api.workflowservice.v1 import ListScheduleMatchingTimesRequest

    await ensure_digest_schedule(dev_client, settings)
    start = datetime.now(UTC)
    request = ListScheduleMatchingTimesRequest(
        namespace=dev_client.namespace,
        schedule_id=DIGEST_SCHEDULE_ID,
        start_time=Timestamp(seconds=int(start.timestamp())),
        end_time=Timestamp(seconds=int((start + 28 * DAY).timestamp())),
    )
    answer = await dev_client.workflow_service.list_schedule_matching_times(request)
    fired = [t.ToDatetime(tzinfo=UTC).astimezone(LONDON) for t in answer.start_time]
    assert len(fired) == 4 and {(t.weekday(), t.hour, t.minute) for t in fired} == {(0, 7, 0)}  # Mondays, 07:00
    described = await dev_client.get_schedule_handle(DIGEST_SCHEDULE_ID).describe()
    assert described.schedule.action.workflow == "DigestWorkflow"
