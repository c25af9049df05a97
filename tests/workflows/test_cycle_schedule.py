"""The Schedule that starts each month's cycle (R-CAL-3), on the real Temporal dev server: the
time-skipping test server has no Schedules. The server itself says when the spec fires."""

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.workflowservice.v1 import ListScheduleMatchingTimesRequest

from tests.helpers.dates import YEAR
from models.search_attributes import SCHEDULED_START
from tests.helpers import LONDON, eventually
from worker import CYCLE_SCHEDULE_ID, ensure_cycle_schedule

A_YEAR = (datetime(YEAR, 1, 1, tzinfo=UTC), datetime(YEAR + 1, 1, 1, tzinfo=UTC))  # the suite's year, January to December


async def firing_times(client, start: datetime, end: datetime) -> list[datetime]:
    request = ListScheduleMatchingTimesRequest(
        namespace=client.namespace,
        schedule_id=CYCLE_SCHEDULE_ID,
        start_time=Timestamp(seconds=int(start.timestamp())),
        end_time=Timestamp(seconds=int(end.timestamp())),
    )
    answer = await client.workflow_service.list_schedule_matching_times(request)
    return [t.ToDatetime(tzinfo=UTC).astimezone(LONDON) for t in answer.start_time]


async def test_the_schedule_fires_on_the_first_of_each_cycle_month_and_never_in_august_or_december(dev_client, settings):
    await ensure_cycle_schedule(dev_client, settings)
    fired = await firing_times(dev_client, *A_YEAR)
    # 06:00 London time, summer or winter: the cycle then waits for its first working day.
    assert [(t.month, t.day, t.hour, t.minute) for t in fired] == [(m, 1, 6, 0) for m in (1, 2, 3, 4, 5, 6, 7, 9, 10, 11)]

    # A worker starting again brings the Schedule in line, and keeps an operator's pause.
    handle = dev_client.get_schedule_handle(CYCLE_SCHEDULE_ID)
    await handle.pause(note="paused by an operator")
    await ensure_cycle_schedule(dev_client, settings)
    described = await handle.describe()
    assert described.schedule.state.paused and described.schedule.state.note == "paused by an operator"
    assert described.schedule.action.workflow == "CycleStarterWorkflow"
    assert len(await firing_times(dev_client, *A_YEAR)) == 10


async def test_a_run_the_schedule_starts_carries_its_scheduled_time(dev_client, settings):
    """What the starter reads to start the month it was meant for, even when it runs late."""
    await ensure_cycle_schedule(dev_client, settings)
    handle = dev_client.get_schedule_handle(CYCLE_SCHEDULE_ID)
    await handle.trigger()  # no worker polls here: the run is started, and waits

    async def started() -> list:
        return [w async for w in dev_client.list_workflows("WorkflowType = 'CycleStarterWorkflow'")]

    [run] = await eventually(started)
    described = await dev_client.get_workflow_handle(run.id, run_id=run.run_id).describe()
    assert described.typed_search_attributes.get(SCHEDULED_START) is not None
