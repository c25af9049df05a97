"""Replay: today's workflow code must reproduce the commands of histories recorded earlier.

`tests/histories/*.json` were recorded from real runs of the scenarios below (regenerate with
`RECORD_HISTORIES=1 make test` only when a change is meant to be incompatible, and guard
running workflows with `workflow.patched`). A change that breaks determinism fails here.
"""

import os
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.helpers import allocate, audit_to_report, complete, days, discuss_and_accept, grades, london, qa, skip_to, submit
from tests.test_disputes import RAISE, formal_discussion, meeting, summary
from temporal_client import codec_for, data_converter
from worker import WORKFLOWS

HISTORIES = Path(__file__).parent / "histories"
# Recorded before the LEAN_STEPS patch (scheduled activities for every step) at the top; then in
# lean-steps/ (local activities, deadlines worked out in the workflow); in settled-saves/ (one
# projection save and upsert per settled step); since ALL_EARLIER (one patch asked at a run's
# start for all of those), in the folder named after it.
EARLIER = [HISTORIES, HISTORIES / "lean-steps", HISTORIES / "settled-saves"]
RECORDING = HISTORIES / "all-earlier-patches"
NAMES = ["audit_disputed", "audit_into_reaudit", "audit_not_accepted", "dispute_resolved_formally", "reaudit_allocated"]


@pytest.fixture
def settings(settings):
    """Recording: plain payloads, so the files replay without the test's key."""
    return settings.model_copy(update={"payload_keys_file": None}) if os.environ.get("RECORD_HISTORIES") else settings


def replayer(settings=None) -> Replayer:
    """The recorded histories' payloads are plain; the live ones are encrypted with the test's key."""
    return Replayer(workflows=WORKFLOWS, data_converter=data_converter(codec_for(settings)) if settings else pydantic_data_converter)


async def keep(client, audit_id: str, name: str, kind: str = "audit") -> WorkflowHistory:
    history = await client.get_workflow_handle(f"{kind}-{audit_id}").fetch_history()
    if os.environ.get("RECORD_HISTORIES"):
        RECORDING.mkdir(exist_ok=True)
        (RECORDING / f"{name}.json").write_text(history.to_json())
    return history


async def test_an_audit_into_its_reaudit_replays(api, env, client, settings):
    """Returned once, QA late, accepted Inadequate, discussed, re-audit started as a child."""
    await skip_to(env, london(2027, 1, 11, 9))
    audit_id = (await allocate(api))["audit_id"]
    await api.as_("tm2").post(
        f"/audits/{audit_id}/previous-practitioner-feedback", json={"staff_id": "sw3", "findings": "good"}
    )
    await complete(api, env, audit_id, grade="inadequate")
    await submit(api, audit_id)
    await qa(api, audit_id, "return", details="more evidence", discussion_offered=True)
    await complete(api, env, audit_id, grade="inadequate")
    await submit(api, audit_id)
    await env.sleep(days(2))  # QA SLA missed
    await qa(api, audit_id)
    await env.sleep(days(10))  # discussion overdue: reminder, then the Head of Service
    await discuss_and_accept(api, env, audit_id)
    await skip_to(env, london(2027, 3, 1, 10))  # the 1st re-audit is allocated
    await replayer(settings).replay_workflow(await keep(client, audit_id, "audit_into_reaudit"))
    await replayer(settings).replay_workflow(await keep(client, f"{audit_id}-r1", "reaudit_allocated"))


async def test_a_not_accepted_audit_replays(api, env, client, settings):
    await skip_to(env, london(2027, 1, 11, 9))
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
    await skip_to(env, london(2027, 1, 11, 9))
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


@pytest.mark.parametrize("folder", [*EARLIER, RECORDING], ids=lambda f: f.name)
def test_recorded_histories_are_present(folder):
    assert sorted(p.stem for p in folder.glob("*.json")) == NAMES


@pytest.mark.parametrize("path", sorted(HISTORIES.rglob("*.json")), ids=lambda p: p.relative_to(HISTORIES).as_posix())
async def test_recorded_history_replays_on_current_code(path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await replayer().replay_workflow(history)
