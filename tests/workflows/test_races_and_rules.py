"""Defects seen when the process was tried as a council runs it for months,
each reproduced here first. Races are made exact by pausing the worker: two events that reach the
workflow while no worker runs arrive in one workflow task, in the order they happened."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from datetime import timedelta

import httpx
import pytest_asyncio

from api.deps import Services
from api.main import create_app
from tests.helpers.api import Api
from tests.helpers.dates import (
    YEAR,
    a_working_week,
    at,
    cycle,
    cycle_closes,
    day,
    deadline_after,
    first_working_day,
    nth_working_day,
    working_days_after,
)
from tests.helpers import (
    allocate,
    audit_to_report,
    complete,
    conversation,
    days,
    deadline,
    eventually,
    grades,
    grading,
    qa,
    skip_to,
    submit,
    today,
    view,
)
from tests.helpers.disputes import meeting, raise_dispute, record, summary
from temporalio import activity
from temporalio.worker import Worker

from worker import WORKFLOWS, activities_for, build_worker, run_worker


# Without a cache every task and query replays the whole history; on a loaded 2-core machine one
# such replay passed the SDK's 2 s deadlock detector (a query failed with _DeadlockError in CI).
# These tests are about races, not deadlocks: the detector is off for their worker.
NO_CACHE = dict(max_cached_workflows=0, debug_mode=True)

# Audits of the January cycle: allocated (or reported) at 09:00 on its first working day, or a
# working week later, on its sixth.
START = at(first_working_day(YEAR, 1))
SECOND_WEEK = at(nth_working_day(YEAR, 1, 6))


class PausableWorker:
    """A worker the test stops and starts, or whose one activity it holds. No workflow cache, so no
    sticky queue: the time-skipping server does not hand a stopped worker's sticky tasks back."""

    def __init__(self, client, settings):
        self.client, self.settings, self._stack = client, settings, None
        self.held, self.release = asyncio.Event(), asyncio.Event()

    async def start(self, hold: str | None = None) -> None:
        """With `hold`, that activity waits (`held` set) until `release`: the step that runs it
        stays half-done, as it would while a slow database or directory answers."""
        self._stack = AsyncExitStack()
        if not hold:
            await self._stack.enter_async_context(run_worker(self.client, self.settings, **NO_CACHE))
            return
        activities = [
            self._holding(a) if activity._Definition.must_from_callable(a).name == hold else a
            for a in activities_for(self.client, self.settings)
        ]
        await self._stack.enter_async_context(
            Worker(
                self.client,
                task_queue=self.settings.temporal_task_queue,
                workflows=WORKFLOWS,
                activities=activities,
                activity_executor=self._stack.enter_context(ThreadPoolExecutor(8)),
                **NO_CACHE,
            )
        )

    def _holding(self, real):
        name = activity._Definition.must_from_callable(real).name

        @activity.defn(name=name)
        async def held(*args):
            self.held.set()
            await self.release.wait()
            result = real(*args)
            return await result if asyncio.iscoroutine(result) else result

        return held

    async def stop(self) -> None:
        await self._stack.aclose()
        self._stack = None


@pytest_asyncio.fixture
async def paused(env, settings, directory, engine):
    # No workflow cache: a workflow task whose local activity's result misses it waits out its
    # timeout, 2 s here rather than 10 (the API's own limit).
    settings = settings.model_copy(update={"workflow_task_timeout_seconds": 2})
    worker = PausableWorker(env.client, settings)
    app = create_app(
        Services(settings=settings, client=env.client, engine=engine, directory=directory, clock=env.get_current_time)
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        await worker.start()
        yield Api(http), worker
        if worker._stack is not None:
            await worker.stop()


async def while_paused(worker, *calls):
    """Send each call while no worker runs (each reaches the server before the next), then start
    the worker: it finds them, and whatever fell due meanwhile, in one workflow task."""
    await worker.stop()
    pending = []
    for call in calls:
        pending.append(asyncio.create_task(call))
        await asyncio.sleep(0.5)
    await worker.start()
    return await asyncio.gather(*pending)


async def test_an_improvement_plan_can_be_added_when_the_final_grading_needs_one(api, env):
    """Defect 3: initial grading Good without a plan, conversation Requires Improvement: submit
    said a plan is needed (422) while re-grading said 409 — a dead end."""
    await skip_to(env, SECOND_WEEK)
    audit_id = (await allocate(api))["audit_id"]
    r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=grading(grade="good", plan=False))
    assert r.status_code == 200, r.text
    body = conversation(await today(env), grade="requires_improvement")
    assert (await api.as_("tm2").post(f"/audits/{audit_id}/practitioner-conversation", json=body)).status_code == 200
    r = await api.as_("tm2").post(f"/audits/{audit_id}/submit")
    assert r.status_code == 422 and f"PUT /audits/{audit_id}/improvement-plan" in r.json()["detail"]
    plan = {"actions": [{"action": "Update the chronology", "owner_id": "sw1", "due_on": day(3, 1).isoformat()}]}
    assert (await api.as_("sw1").put(f"/audits/{audit_id}/improvement-plan", json=plan)).status_code == 403
    r = await api.as_("tm2").put(f"/audits/{audit_id}/improvement-plan", json=plan)
    assert r.status_code == 200 and r.json()["improvement_plan"][0]["action"] == "Update the chronology"
    assert (await submit(api, audit_id))["stage"] == "awaiting_qa"
    r = await api.as_("tm2").put(f"/audits/{audit_id}/improvement-plan", json=plan)
    assert r.status_code == 409  # with QA now; while amending it may change again


async def test_not_accepted_carries_into_the_cycle_after_the_miss_never_a_past_one(api, env):
    """Defect 4: "the next cycle" was counted from the allocation cycle, so an audit finished late
    and then not amended in March was carried into February, already past."""
    await skip_to(env, SECOND_WEEK)
    audit_id = (await allocate(api))["audit_id"]
    await skip_to(env, at(first_working_day(YEAR, 3)))  # long overdue; returned, and the amendment missed, in March
    await complete(api, env, audit_id)
    await submit(api, audit_id)
    returned = await qa(api, audit_id, "return", details="Rationale too thin")
    await skip_to(env, deadline(returned, "revision_due").replace(hour=17, minute=1))
    v = await view(api, audit_id)
    assert (v["stage"], v["carried_into_cycle"]) == ("not_accepted", cycle(4))
    assert deadline(v, "completion_due") == cycle_closes(4)  # the end of April's last working day


async def test_a_resubmission_racing_the_revision_deadline_is_refused_whole(paused, env):
    """Defect 5: an amended report submitted while the missed revision deadline was being handled
    (its next-cycle deadline still being computed) was accepted, then overwritten by `not_accepted`
    while its submission stayed recorded; QA was then refused for good."""
    api, worker = paused
    await skip_to(env, SECOND_WEEK)
    audit_id = (await allocate(api))["audit_id"]
    await complete(api, env, audit_id)
    await submit(api, audit_id)
    returned = await qa(api, audit_id, "return", details="Rationale too thin")
    await complete(api, env, audit_id)  # amended
    await settled(env.client, audit_id)
    await worker.stop()
    await worker.start(hold="service_contacts")  # the deadline's handling stops at its directory lookup
    # Exactly to the deadline: the timer fires and its handling holds, half-done.
    await skip_to(env, deadline(returned, "revision_due"))
    await asyncio.wait_for(worker.held.wait(), timeout=20)
    submitting = asyncio.create_task(api.as_("tm2").post(f"/audits/{audit_id}/submit"))
    await asyncio.sleep(0.5)  # the submission reaches the server while the handling holds
    worker.release.set()
    r = await asyncio.wait_for(submitting, timeout=20)
    assert r.status_code == 409 and "not accepted" in r.json()["detail"]
    v = await eventually(lambda: _carried(api, audit_id))
    assert v["stage"] == "not_accepted" and "submitted for quality assurance" not in [
        h["action"] for h in v["history"] if h["at"] >= v["qa_decisions"][-1]["at"]
    ]
    await complete(api, env, audit_id)  # amended for the next cycle: submitted whole, and QA'd
    assert (await submit(api, audit_id))["stage"] == "awaiting_qa"
    assert (await qa(api, audit_id))["stage"] == "dispute_window"


async def settled(client, audit_id):
    """Until the audit has no activity in flight (its projection saved): time may then skip."""
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

    request = DescribeWorkflowExecutionRequest(
        namespace=client.namespace, execution=WorkflowExecution(workflow_id=f"audit-{audit_id}")
    )

    async def idle():
        return not (await client.workflow_service.describe_workflow_execution(request)).pending_activities

    assert await eventually(idle)


async def _carried(api, audit_id):
    v = await view(api, audit_id)
    return v if any(h["action"] == "not accepted" for h in v["history"]) else None


async def test_a_withdrawal_after_the_settling_step_is_refused(paused, env):
    """Defect 9: a withdrawal reaching the dispute after its final step was recorded was accepted."""
    api, worker = paused
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "requires_improvement")
    await raise_dispute(api, audit_id)
    await meeting(api, env, audit_id)
    await summary(api, audit_id, "resolved")
    amended = grades(grade="good") | {"notes": "Agreed at the meeting"}
    regraded, withdrawn = await while_paused(
        worker,
        api.as_("tm2").post(f"/disputes/{audit_id}/amended-grading", json=amended),
        api.as_("sw1").post(f"/disputes/{audit_id}/withdrawal", json={"reason": "changed my mind"}),
    )
    assert regraded.status_code == 200, regraded.text
    assert withdrawn.status_code == 409 and "has just been recorded" in withdrawn.json()["detail"]
    assert regraded.json()["outcome"]["status"] == "resolved"


async def test_the_summary_and_the_written_response_count_from_the_meeting_and_the_discussion(api, env):
    """Defect 9: R-DISP-3 and R-DISP-7 ran from when the step was recorded, not from the meeting
    or the discussion the rules name."""
    monday = a_working_week(YEAR, 1)  # a week of five working days: the weekdays below are real
    tuesday, thursday, friday = (monday + timedelta(days=n) for n in (1, 3, 4))
    await skip_to(env, at(monday))
    audit_id = await audit_to_report(api, env, "requires_improvement")
    await raise_dispute(api, audit_id)
    await skip_to(env, at(thursday, 10))  # Thursday: the meeting held on Tuesday is recorded
    body = {"held_on": tuesday.isoformat(), "attendees": ["tm2", "sw1", "tm1"], "notes": "Went through the evidence"}
    d = await record(api, audit_id, "meeting", "tm1", body)
    assert deadline({"deadlines": d["deadlines"]}, "summary") == deadline_after(tuesday, 2)  # 2 working days after Tuesday
    await summary(api, audit_id, "unresolved")
    await skip_to(env, at(friday, 10))  # Friday: the discussion held that morning... recorded Monday
    await skip_to(env, at(working_days_after(friday, 1), 10))
    body = {"held_on": friday.isoformat(), "course_of_action": "Review the recordings independently"}
    d = await record(api, audit_id, "formal-discussion", "piatmgr1", body)
    assert deadline({"deadlines": d["deadlines"]}, "written_response") == deadline_after(friday, 5)  # 5 after Friday
    body |= {"held_on": day(12, 1, YEAR - 1).isoformat()}


async def test_a_draft_grading_is_not_reported_before_it_is_final(api, env):
    """Defect 9 (R-REP-2): the list's overall_grade showed the draft before QA and the dispute."""
    await skip_to(env, START)
    audit_id = (await allocate(api))["audit_id"]
    await complete(api, env, audit_id, grade="inadequate")

    async def listed():
        return (await api.as_("piat1").get("/audits", params={"stage": "finally_graded"})).json()

    [row] = await eventually(listed)
    assert row["overall_grade"] is None
    assert (await view(api, audit_id))["final_overall_grade"] is None
    await submit(api, audit_id)
    await qa(api, audit_id)
    await env.sleep(days(8))  # past the dispute window: on Mosaic, final

    async def final():
        rows = (await api.as_("piat1").get("/audits")).json()
        return rows if rows[0]["overall_grade"] else None

    assert (await eventually(final))[0]["overall_grade"] == "inadequate"


async def test_the_dispute_is_found_by_the_id_the_audit_shows(api, env):
    """Defect 10: `GET /disputes/dispute-<id>` (the ID in the audit's view) was 404."""
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "requires_improvement")
    await raise_dispute(api, audit_id)
    shown = (await view(api, audit_id))["dispute_id"]
    assert shown == f"dispute-{audit_id}"
    r = await api.as_("piat1").get(f"/disputes/{shown}")
    assert r.status_code == 200 and r.json()["audit_id"] == audit_id


async def test_every_activity_slot_has_a_thread(env, settings):
    """Defect 9: 100 activity slots shared 8 threads, so a slot could wait out its timeout for one."""
    worker = build_worker(env.client, settings)
    assert worker.config()["activity_executor"]._max_workers == worker.config()["max_concurrent_activities"] == 50
