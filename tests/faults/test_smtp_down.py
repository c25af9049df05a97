"""The SMTP server down for a day of server time mid-audit, then back on the same port: the audit
never fails, and every email arrives exactly once when it is back."""

from datetime import timedelta

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

from tests.helpers.dates import YEAR, at, first_working_day
from tests.faults.harness import delivery_faults, notification_rows, until
from tests.helpers import allocate, complete, qa, skip_to, submit
from worker import run_worker

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


@pytest.mark.timeout(90)
async def test_email_waits_out_a_day_without_smtp_and_arrives_once(api, env, settings, smtp, engine):
    await skip_to(env, at(first_working_day(YEAR, 1)))  # January's cycle open, a working day
    async with run_worker(env.client, settings):
        audit_id = (await allocate(api))["audit_id"]
        workflow_id = f"audit-{audit_id}"
        await complete(api, env, audit_id, grade="requires_improvement")
        await until(lambda: _undelivered(engine) == [], "the allocation email got through")
        before = len(smtp.messages)

        smtp.stop()
        await submit(api, audit_id)
        accepted = await qa(api, audit_id)  # nothing waits for the mail server
        assert accepted["stage"] == "dispute_window"
        await env.sleep(timedelta(days=1))
        await assert_alive(env.client, workflow_id)
        await until(lambda: _retrying(engine), "the outage felt: a send retrying with its reason")
        assert len(smtp.messages) == before
        r = await api.as_("piat1").get(f"/audits/{audit_id}/notifications")
        waiting = [n for n in r.json() if n["delivery"] == "pending"]
        assert waiting and all("mail server unavailable" in n["reason"] for n in waiting)

        smtp.start()  # same port: the relay's settings are unchanged
        await until(lambda: _undelivered(engine) == [], "every email sent once the server is back")
        await assert_alive(env.client, workflow_id)
    assert delivery_faults(engine, smtp) == []
    assert len(smtp.messages) > before + 1  # the report and what followed it arrived after all


def _undelivered(engine) -> list[str]:
    return [r.key for r in notification_rows(engine) if r.delivery != "sent"]


def _retrying(engine) -> bool:
    return any(r.delivery == "pending" and r.attempts >= 1 and r.last_error for r in notification_rows(engine))
