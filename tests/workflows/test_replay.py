"""Replay: today's workflow code must reproduce the commands of histories recorded earlier.

`tests/histories/*.json` were recorded from real runs of the scenarios below, one at least for
every workflow type (regenerate with `RECORD_HISTORIES=1`; until 1.0 a change to a workflow's
commands records them again, docs/decisions/0001-versioning.md). A change that breaks
determinism fails here.
"""

import json
import os
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

from datetime import timedelta

from models.cycle_views import CycleStarterInput
from tests.helpers.dates import YEAR, a_working_week, at, cycle, cycle_closes, cycle_opens, first_working_day
from tests.faults.harness import skip_until
from tests.helpers import (
    allocate,
    audit_to_report,
    complete,
    days,
    discuss_and_accept,
    eventually,
    grades,
    qa,
    skip_to,
    submit,
)
from tests.helpers.disputes import RAISE, formal_discussion, meeting, summary
from tests.helpers.moderation import findings, record
from tests.helpers.replay import replayer
from tests.helpers.safety import raise_concern
from tests.helpers.self_selection import ask
from workflows.cycle import CycleStarterWorkflow
from workflows.digest import DigestWorkflow
from workflows.retention import RetentionWorkflow
from worker import WORKFLOWS

HISTORIES = Path(__file__).parents[1] / "histories"
NAMES = [
    "audit_disputed",
    "audit_into_reaudit",
    "audit_not_accepted",
    "cycle_february",
    "cycle_starter_february",
    "digest_weekly",
    "dispute_resolved_formally",
    "moderation_panel_february",
    "reaudit_allocated",
    "retention_purge",
    "safety_concern_escalated",
    "self_selection_approved",
]
JANUARY = at(a_working_week(YEAR, 1))  # a Monday with a full working week after it


@pytest.fixture
def settings(settings):
    """Recording: plain payloads, so the files replay without the test's key."""
    return settings.model_copy(update={"payload_keys_file": None}) if os.environ.get("RECORD_HISTORIES") else settings


async def keep(client, audit_id: str, name: str, kind: str = "audit") -> WorkflowHistory:
    history = await client.get_workflow_handle(f"{kind}-{audit_id}" if kind else audit_id).fetch_history()
    if os.environ.get("RECORD_HISTORIES"):
        (HISTORIES / f"{name}.json").write_text(history.to_json())
    return history


async def test_an_audit_into_its_reaudit_replays(api, env, client, settings):
    """Returned once, QA late, accepted Inadequate, discussed, re-audit started as a child."""
    await skip_to(env, JANUARY)
    audit_id = (await allocate(api))["audit_id"]
    await api.as_("tm2").post(f"/audits/{audit_id}/previous-practitioner-feedback", json={"staff_id": "sw3", "findings": "good"})
    await complete(api, env, audit_id, grade="inadequate")
    await submit(api, audit_id)
    await qa(api, audit_id, "return", details="more evidence", discussion_offered=True)
    await complete(api, env, audit_id, grade="inadequate")
    await submit(api, audit_id)
    await env.sleep(days(2))  # QA SLA missed
    await qa(api, audit_id)
    await env.sleep(days(10))  # discussion overdue: reminder, then the Head of Service
    await discuss_and_accept(api, env, audit_id)
    await skip_to(env, cycle_opens(3) + timedelta(hours=1))  # the 1st re-audit is allocated
    await replayer(settings).replay_workflow(await keep(client, audit_id, "audit_into_reaudit"))
    await replayer(settings).replay_workflow(await keep(client, f"{audit_id}-r1", "reaudit_allocated"))


async def test_a_not_accepted_audit_replays(api, env, client, settings):
    await skip_to(env, JANUARY)
    audit_id = (await allocate(api))["audit_id"]
    await api.as_("hos1").post(f"/audits/{audit_id}/reassign", json={"auditor_id": "hos1", "reason": "leave"})
    await complete(api, env, audit_id, auditor="hos1")
    await submit(api, audit_id, "hos1")
    await qa(api, audit_id, "return", details="rationale")
    await env.sleep(days(5))
    history = await keep(client, audit_id, "audit_not_accepted")
    await replayer(settings).replay_workflow(history)


async def test_a_disputed_audit_replays(api, env, client, settings):
    """Disputed, unresolved informally, regraded at the formal stage, then uploaded."""
    await skip_to(env, JANUARY)
    audit_id = await audit_to_report(api, env, "inadequate")
    r = await api.as_("sw1").post(f"/audits/{audit_id}/disputes", json=RAISE)
    assert r.status_code == 201, r.text
    await meeting(api, env, audit_id)
    await summary(api, audit_id, "unresolved")
    await env.sleep(days(8))  # the formal discussion is late: reminder and notice (R-DISP-10)
    await formal_discussion(api, env, audit_id)
    response = {"response": "Regraded", "outcome": "resolved", "regrade": grades(grade="good")}
    await api.as_("psw1").post(f"/disputes/{audit_id}/written-response", json=response)
    await env.sleep(days(1))
    await replayer(settings).replay_workflow(await keep(client, audit_id, "audit_disputed"))
    await replayer(settings).replay_workflow(await keep(client, audit_id, "dispute_resolved_formally", "dispute"))


async def test_a_safety_concern_escalated_to_the_assistant_director_replays(api, env, client, settings):
    await skip_to(env, JANUARY)
    audit_id = (await allocate(api))["audit_id"]
    concern = await raise_concern(api, audit_id)
    await env.sleep(timedelta(hours=5))  # the Head of Service at 2 hours, the Assistant Director at 4
    r = await api.as_("tm1").post(
        f"/safety-concerns/{concern['concern_id']}/acknowledge", json={"action_taken": "Strategy discussion held"}
    )
    assert r.status_code == 200, r.text
    await replayer(settings).replay_workflow(await keep(client, concern["concern_id"], "safety_concern_escalated", "safety"))


async def test_an_approved_self_selection_replays(api, env, client, settings):
    await skip_to(env, JANUARY)
    request = await ask(api)
    r = await api.as_("hos1").post(f"/self-selection-requests/{request['request_id']}/decision", json={"approve": True})
    assert r.status_code == 200, r.text
    await replayer(settings).replay_workflow(
        await keep(client, request["request_id"], "self_selection_approved", "self-selection")
    )


@pytest.mark.timeout(300)
async def test_a_february_from_its_starter_to_its_moderation_and_close_replays(api, env, client, settings):
    """The starter at 06:00 on 1 February starts the cycle; it opens and convenes the panel, which
    draws January's final audit; the moderator records; the cycle closes and reports."""
    await skip_to(env, at(first_working_day(YEAR, 1)))
    await audit_to_report(api, env, "good")
    await skip_until(env, at(first_working_day(YEAR, 2).replace(day=1), 6))
    starter = await client.start_workflow(
        CycleStarterWorkflow.run,
        CycleStarterInput(moderation_per_service=1),
        id="cycle-starter",
        task_queue=settings.temporal_task_queue,
    )
    with env.auto_time_skipping_disabled():  # the clock stays at 06:00 on the 1st
        assert await starter.result() == f"started cycle-{cycle(2)}"
    await skip_until(env, cycle_opens(2) + timedelta(minutes=5))

    async def drawn():
        panel = await api.as_("piat1").get(f"/moderation-panels/{cycle(2)}")
        return panel.status_code == 200 and panel.json()["moderations"]

    [moderation] = await eventually(drawn)
    await record(api, moderation, findings(moderation, met_on=cycle_opens(2).date().isoformat()))
    await skip_until(env, cycle_closes(2) + timedelta(hours=1))
    await replayer(settings).replay_workflow(await keep(client, "cycle-starter", "cycle_starter_february", None))
    await replayer(settings).replay_workflow(await keep(client, cycle(2), "cycle_february", "cycle"))
    await replayer(settings).replay_workflow(await keep(client, cycle(2), "moderation_panel_february", "moderation"))


async def test_a_retention_purge_replays(api, env, client, settings):
    with env.auto_time_skipping_disabled():
        await client.execute_workflow(RetentionWorkflow.run, id="retention-purge", task_queue=settings.temporal_task_queue)
    await replayer(settings).replay_workflow(await keep(client, "retention-purge", "retention_purge", None))


async def test_a_weekly_digest_replays(api, env, client, settings):
    await skip_to(env, JANUARY)
    await allocate(api)  # something waiting on the auditor, the practitioner and their manager
    with env.auto_time_skipping_disabled():
        await client.execute_workflow(DigestWorkflow.run, id="weekly-digest", task_queue=settings.temporal_task_queue)
    await replayer(settings).replay_workflow(await keep(client, "weekly-digest", "digest_weekly", None))


def test_every_workflow_type_has_a_recorded_history():
    assert sorted(p.stem for p in HISTORIES.glob("*.json")) == NAMES
    recorded = {
        json.loads(p.read_text())["events"][0]["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]
        for p in HISTORIES.glob("*.json")
    }
    assert recorded == {w.__temporal_workflow_definition.name for w in WORKFLOWS}


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_recorded_history_replays_on_current_code(path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await replayer().replay_workflow(history)
