"""The service on any date: the API's one clock, the cycles it lets staff plan, and workflows
whose dates lie beyond what they recorded."""

import asyncio
import uuid

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError

from services.allocation import audit_id_for
from temporal_client import workflow_id_key
from models.cycle_views import CycleInput, CycleView
from models.enums import AuditKind
from models.tables import Selection
from tests.helpers.dates import YEAR, at, cycle, cycle_closes, cycle_opens, deadline_after, first_working_day
from tests.helpers import allocate, allocation, complete, deadline, skip_to, submit
from workflows.cycle import CycleWorkflow

CSV = "case_ref,service_area,practitioner_id,involvement_start,cp_chair_or_iro_id\nC-1,safeguarding,sw1,{start},\n"


async def started(client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
        return True
    except RPCError:
        return False


async def test_the_api_reads_the_test_servers_clock_not_the_machines(api, env):
    """Two years on, on the server's clock alone: the suite's January has passed and the month two
    years on is the current one, whatever the machine's clock says."""
    later = YEAR + 2
    await skip_to(env, at(first_working_day(later, 1)))
    r = await api.as_("piat1").post("/audits", json=_allocation(cycle(1)))
    assert r.status_code == 422 and f"the {cycle(1)} cycle has passed" in r.json()["detail"], r.text
    allocated = await allocate(api, cycle=cycle(1, later), involvement_start=f"{later - 1}-06-01")
    assert deadline(allocated, "completion_due").year == later  # the calendar the API sent covers it


@pytest.mark.parametrize("ahead, accepted", [(12, True), (13, False)])
async def test_allocation_accepts_the_current_cycle_up_to_twelve_months_ahead(api, env, client, settings, ahead, accepted):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    month = 1 + ahead % 12  # February when 13 months on: a month holding standard audits
    body = _allocation(cycle(month, YEAR + ahead // 12))
    r = await api.as_("piat1").post("/audits", json=body)
    if accepted:
        assert r.status_code == 201, r.text
        return
    assert r.status_code == 422, r.text
    assert f"January {YEAR} ({YEAR}-01) to January {YEAR + 1} ({YEAR + 1}-01)" in r.json()["detail"]
    assert not await started(
        client, f"audit-{audit_id_for(body['cycle'], AuditKind.STANDARD, body['case_ref'], workflow_id_key(settings))}"
    )


async def test_selections_themes_and_panels_too_far_ahead_are_refused_and_start_nothing(api, env, client, engine):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    piat = api.as_("piat1")
    r = await api.http.post(
        "/cases/import",
        content=CSV.format(start=f"{YEAR - 1}-01-05").encode(),
        headers={"Authorization": "Bearer dev-piat1", "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    r = await piat.post(f"/cycles/{cycle(3, YEAR + 1)}/selections", json={"per_team": 1, "seed": 1})
    assert r.status_code == 422 and "too far ahead" in r.json()["detail"], r.text
    with Session(engine) as session:
        assert session.exec(select(Selection)).all() == []
    r = await piat.put(f"/cycles/{cycle(5, YEAR + 1)}/theme", json={"theme": "Neglect"})
    assert r.status_code == 422 and "too far ahead" in r.json()["detail"], r.text
    assert not await started(client, f"cycle-{cycle(5, YEAR + 1)}")
    r = await piat.post(f"/moderation-panels/{cycle(2, YEAR + 1)}", json={})
    assert r.status_code == 422 and "too far ahead" in r.json()["detail"], r.text
    assert not await started(client, f"moderation-{cycle(2, YEAR + 1)}")
    # Within the window each is taken.
    assert (await piat.put(f"/cycles/{cycle(5)}/theme", json={"theme": "Neglect"})).status_code == 200


async def test_how_far_ahead_is_a_setting(api, env, settings):
    settings.cycles_ahead_months = 1
    await skip_to(env, at(first_working_day(YEAR, 1)))
    r = await api.as_("piat1").post("/audits", json=_allocation(cycle(3)))
    assert r.status_code == 422 and f"to February {YEAR}" in r.json()["detail"], r.text
    await allocate(api, cycle=cycle(2))


async def test_a_cycle_beyond_the_recorded_days_records_its_own(client, env, settings):
    """Started three years ahead (an operator may; the API would not), a cycle's dates lie outside
    the two years it records from now: it records its own month's instead of failing its task."""
    far = cycle(5, YEAR + 3)
    handle = await client.start_workflow(
        CycleWorkflow.run, CycleInput(cycle=far), id=f"cycle-{far}", task_queue=settings.temporal_task_queue
    )
    view = await asyncio.wait_for(_planned(handle), timeout=30)
    assert (view.opens_at, view.closes_at) == (cycle_opens(5, YEAR + 3), cycle_closes(5, YEAR + 3))


async def test_a_cycle_started_after_its_month_records_that_month_and_closes(client, env, settings):
    await skip_to(env, at(first_working_day(YEAR, 3)))
    past = cycle(1)
    handle = await client.start_workflow(
        CycleWorkflow.run, CycleInput(cycle=past), id=f"cycle-{past}", task_queue=settings.temporal_task_queue
    )
    view = await asyncio.wait_for(handle.result(), timeout=30)
    assert (view.status, view.opens_at, view.closes_at) == ("closed", cycle_opens(1), cycle_closes(1))


async def test_a_value_a_workflow_cannot_work_with_fails_it_at_once_not_its_task_for_ever(client, settings):
    """No cycle has a 13th month: the run fails with the reason (ValueError is a failure type of
    the worker's), where by default its first task would be retried for ever."""
    bad = CycleInput.model_construct(cycle=f"{YEAR}-13", moderation_per_service=2)
    handle = await client.start_workflow(
        CycleWorkflow.run, bad, id=f"cycle-bad-{uuid.uuid4().hex[:6]}", task_queue=settings.temporal_task_queue
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), timeout=30)
    assert "month must be in 1..12" in str(failed.value.cause)


async def test_an_audit_acted_on_beyond_the_days_it_recorded_records_more(api, env):
    """An audit records two years of days as it starts; submitted 26 months on (left waiting all
    that time), its QA deadline is worked out on days it records then."""
    await skip_to(env, at(first_working_day(YEAR, 1)))
    audit_id = (await allocate(api))["audit_id"]
    await complete(api, env, audit_id)
    await skip_to(env, at(first_working_day(YEAR + 2, 3), 10))
    submitted = await submit(api, audit_id)
    assert deadline(submitted, "qa_due") == deadline_after(first_working_day(YEAR + 2, 3), 1)  # R-QA-1


async def _planned(handle) -> CycleView:
    while True:
        try:
            view = await handle.query(CycleWorkflow.view)
            if view.opens_at:
                return view
        except Exception:  # noqa: BLE001 - not yet answerable: its first task has not completed
            pass
        await asyncio.sleep(0.2)


def _allocation(cycle_: str) -> dict:
    return allocation(cycle=cycle_)
