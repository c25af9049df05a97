"""The weekly digest (activities/digest.py) as a workflow, run by the worker's `weekly-digest`
Schedule (worker.py). One activity: each person's digest has its own key in the outbox, so a
retry, or the week's run started again, sends nobody a second one."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.digest import DigestActivities

from workflows.process import ACTIVITY_OPTIONS


@workflow.defn
class DigestWorkflow:
    @workflow.run
    async def run(self) -> str:
        # The week (and what is overdue) is worked out from the workflow's clock, so a replay asks the same.
        queued = await workflow.execute_activity_method(
            DigestActivities.send_digests, workflow.now(), summary="queue this week's digests", **ACTIVITY_OPTIONS
        )
        return f"{queued} digest{'' if queued == 1 else 's'} queued"
