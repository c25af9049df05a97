"""The weekly retention purge (activities/retention.py) as a workflow, `retention-purge`, run by
the worker's Schedule of that name (worker.py). One activity: the purge is a single transaction,
safe to retry, so there is nothing to wait for or to undo."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.retention import RetentionActivities

from workflows.process import ACTIVITY_OPTIONS


@workflow.defn
class RetentionWorkflow:
    @workflow.run
    async def run(self) -> str:
        # The cut-offs are worked out from the workflow's clock, so a replay asks for the same.
        counts = await workflow.execute_activity_method(
            RetentionActivities.purge_past_retention, workflow.now(), summary="purge past retention", **ACTIVITY_OPTIONS
        )
        return "; ".join(f"{count.table_name}: {count.rows} purged" for count in counts)
