"""A Schedule's run that starts late (the worker or the server down on the 1st, caught up a
month later) starts the cycle it was scheduled for, not the month it happens to run in."""

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from models.cycle_views import CycleStarterInput
from models.search_attributes import SCHEDULED_START
from tests.helpers.dates import YEAR, cycle
from tests.faults.harness import skip_until
from tests.helpers import london
from workflows.cycle import CycleStarterWorkflow


async def test_a_late_run_starts_the_month_it_was_scheduled_for(env, client, settings):
    # The server sets this on every run a Schedule starts; the time-skipping server has no
    # Schedules, so it is declared here and set as a Schedule would.
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace, search_attributes={SCHEDULED_START.name: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME}
        )
    )
    await skip_until(env, london(YEAR, 3, 1, 9))  # February's run, caught up on the 1st of March
    scheduled = TypedSearchAttributes([SearchAttributePair(SCHEDULED_START, london(YEAR, 2, 1, 6))])
    result = await client.execute_workflow(
        CycleStarterWorkflow.run,
        CycleStarterInput(),
        id="cycle-starter-late",
        task_queue=settings.temporal_task_queue,
        search_attributes=scheduled,
    )
    assert result == f"started cycle-{cycle(2)}"


async def test_a_run_started_by_hand_starts_this_month(env, client, settings):
    await skip_until(env, london(YEAR, 3, 1, 9))
    result = await client.execute_workflow(
        CycleStarterWorkflow.run, CycleStarterInput(), id="cycle-starter-now", task_queue=settings.temporal_task_queue
    )
    assert result == f"started cycle-{cycle(3)}"
