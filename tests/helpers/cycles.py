"""A cycle's workflow (R-CAL-3) started as the Schedule's starter starts it."""

from models.cycle_views import CycleInput
from workflows.cycle import CycleWorkflow


async def start_cycle(client, settings, cycle: str):
    """As the Schedule's starter does on the 1st (for tests that need only the cycle)."""
    return await client.start_workflow(
        CycleWorkflow.run, CycleInput(cycle=cycle), id=f"cycle-{cycle}", task_queue=settings.temporal_task_queue
    )
