"""The SMTP server down for a day of server time mid-audit, then back on the same port: the audit
never fails, and every email arrives exactly once when it is back."""

import asyncio
from datetime import timedelta

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

from tests.faults.harness import delivery_faults, notification_rows
from tests.helpers import allocate, complete, london, qa, skip_to, submit
from worker import build_worker

pytestmark = pytest.mark.faults

ALIVE = {WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED}


async def described(client, workflow_id: str):
    """Raw describe: the SDK's typed one cannot decode the test server's empty search attributes."""
    request = DescribeWorkflowExecutionRequest(namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id))
    return await client.workflow_service.describe_workflow_execution(request)


async def assert_alive(client, workflow_id: str):
    d = await described(client, workflow_id)
    assert d.workflow_execution_info.status in ALIVE, WorkflowExecutionStatus.Name(d.workflow_execution_info.status)
    return d


def failing_sends(d) -> list:
    """Pending email activities that have already failed at least once."""
    return [a for a in d.pending_activities if a.activity_type.name == "send_email" and a.attempt > 1]


@pytest.mark.timeout(90)
async def test_email_waits_out_a_day_without_smtp_and_arrives_once(api, env, settings, smtp, engine):
    await skip_to(env, london(2027, 1, 4, 9))
    async with build_worker(env.client, settings):
        audit_id = (await allocate(api))["audit_id"]
        workflow_id = f"audit-{audit_id}"
        await complete(api, env, audit_id, grade="requires_improvement")
        before = len(smtp.messages)
        assert before == 1  # the allocation email got through

        smtp.stop()
        await submit(api, audit_id)
        # QA acceptance answers only once the report is emailed (today's code), so it waits out
        # the outage beside a day of server time: every retry of the send, each refused.
        accepting = asyncio.create_task(qa(api, audit_id))
        await _report_attempted(engine, f"{workflow_id}/report")  # before the day, not after it
        await env.sleep(timedelta(days=1))
        during = await assert_alive(env.client, workflow_id)
        assert failing_sends(during), "the outage must have been felt: an email send retrying"
        assert len(smtp.messages) == before and not all(r.delivered for r in notification_rows(engine))

        smtp.start()  # same port: the worker's settings are unchanged
        await _until_delivered(env, engine, accepting)
        assert accepting.result()["stage"] == "dispute_window"
        after = await assert_alive(env.client, workflow_id)
        assert not failing_sends(after)
    assert delivery_faults(engine, smtp) == []
    assert len(smtp.messages) > before + 1  # the report and what followed it arrived after all


async def _report_attempted(engine, key: str, polls: int = 100) -> None:
    """The send records its notification before it tries SMTP: poll for it, boundedly."""
    for _ in range(polls):
        if any(r.key == key for r in notification_rows(engine)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no attempt to send {key}")


async def _until_delivered(env, engine, accepting, rounds: int = 12) -> None:
    """Retries back off to 5 minutes: let server time pass one interval at a time until the
    acceptance has answered and every email it set off was sent."""
    for _ in range(rounds):
        if accepting.done() and all(r.delivered for r in notification_rows(engine)):
            return
        await env.sleep(timedelta(minutes=5))
    undelivered = [r.key for r in notification_rows(engine) if not r.delivered]
    raise AssertionError(f"after {rounds} retry intervals: accepted {accepting.done()}, undelivered {undelivered}")
