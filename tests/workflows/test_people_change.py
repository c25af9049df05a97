"""People leave and change over the months an audit runs: sending never fails the process, every
contact is looked up when a step needs it, and PIAT can name who takes over."""

from datetime import timedelta

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

from tests.helpers.dates import YEAR, at, cycle_opens, deadline_after, first_working_day, working_days_after
from tests.helpers import (
    audit_to_report,
    days,
    discuss_and_accept,
    emails,
    eventually,
    findings_discussion,
    join,
    leave,
    skip_to,
    today,
    view,
)
from tests.helpers.disputes import formal_discussion, raise_dispute, record, to_formal


async def status(client, workflow_id: str) -> int:
    """Read raw: the time-skipping server keeps unset search attributes in a form describe() can't decode."""
    request = DescribeWorkflowExecutionRequest(namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id))
    return (await client.workflow_service.describe_workflow_execution(request)).workflow_execution_info.status


# Each audit reports at 09:00 on the January cycle's first working day (4 January in 2027); an
# Inadequate grade's findings discussion is due 5 working days on (R-DISC-1), the Team Manager is
# reminded then and the Head of Service told 2 working days later (R-DISC-3).
START = at(first_working_day(YEAR, 1))
DISCUSSION_DUE = deadline_after(START, 5)
HEAD_OF_SERVICE_TOLD = deadline_after(DISCUSSION_DUE, 2)
FIVE_MINUTES = timedelta(minutes=5)


def notification(sent, audit_id: str, subject_prefix: str):
    return [n for n in sent(audit_id) if n.subject.startswith(subject_prefix)]


async def test_a_missed_step_whose_next_level_is_nobody_tells_piat_and_the_audit_lives_on(api, env, client, sent):
    """Defect 1: the independent-review decision (R-DISP-9) missed had no next level to tell; the
    send to nobody failed the dispute and, with it, the audit."""
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "requires_improvement")
    await to_formal(api, env, audit_id)
    await formal_discussion(api, env, audit_id)
    await record(api, audit_id, "written-response", "psw1", {"response": "Stands", "outcome": "unresolved"})
    await record(api, audit_id, "corporate-decision", "cdcsc1", {"outcome": "unresolved", "notes": "No agreement"})
    # The Corporate Director for Quality Standards now owns a step, and is told so (defect 10).
    assert [r for r, _ in emails(sent, audit_id, "Audit dispute: consider an independent review")] == [["cdqs1"]]

    await env.sleep(days(8))  # the decision is 5 working days late
    assert [r for r, _ in emails(sent, audit_id, "Dispute step overdue")] == [["piat1", "piatmgr1"]]
    assert await status(client, f"dispute-{audit_id}") == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
    assert await status(client, f"audit-{audit_id}") == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING

    await record(api, audit_id, "independent-review", "cdqs1", {"commissioned": True, "notes": "Exceptional"})
    # Commissioning tells the people involved (defect 10: it told no one).
    [(told_of_review, _)] = emails(sent, audit_id, "Independent review commissioned")
    assert told_of_review == ["sw1", "tm1", "tm2", "piat1", "hos1"]


async def test_people_who_left_are_skipped_and_piat_names_who_takes_over(api, env, client, sent, settings):
    """Defects 1 and 2: a Team Manager and a Head of Service leave while the findings discussion
    waits; sends skip them (the PI&A Manager is told once per step), the audit never fails, and
    the people PIAT names take the waits over."""
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "inadequate")
    leave(settings, "tm1", "hos1")
    join(settings, "hos2", ["head_of_service", "senior_manager"])
    join(settings, "tm9", ["team_manager"], manager_id="hos2")

    # Two working days after the Head of Service was told (15 January in 2027: due 11th, told 13th).
    await skip_to(env, at(working_days_after(HEAD_OF_SERVICE_TOLD.date(), 2), 17, 5))
    [reminder] = notification(sent, audit_id, "Reminder: findings discussion overdue")
    assert reminder.delivery == "not_delivered" and reminder.reason == "not in the staff directory, skipped: tm1"
    [escalated] = notification(sent, audit_id, "Findings discussion not recorded")
    assert escalated.reason == "not in the staff directory, skipped: hos1"
    undeliverable = [n for n in sent(audit_id) if n.key.endswith("/undeliverable")]
    assert len(undeliverable) >= 2 and all(n.recipient_ids == ["piatmgr1"] for n in undeliverable)
    r = await api.as_("piat1").get(f"/audits/{audit_id}/notifications")
    listed = {n["subject"]: n for n in r.json()}
    assert listed[reminder.subject]["delivery"] == "not_delivered" and "tm1" in listed[reminder.subject]["reason"]
    assert await status(client, f"audit-{audit_id}") == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING

    # PIAT names who takes over; the wait moves to them and they are told what and by when.
    r = await api.as_("piat1").put(
        f"/audits/{audit_id}/people/team_manager", json={"staff_id": "tm9", "reason": "the Team Manager left"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["team_manager_id"] == "tm9"
    assert r.json()["findings_discussion"]["status"] == "awaited"
    [(to, _)] = emails(sent, audit_id, "You are now the Team Manager")
    assert to == ["tm9", "tm1"]
    handover = notification(sent, audit_id, "You are now the Team Manager")[0]
    assert (
        "findings discussion recorded by the Team Manager" in handover.body
        and f"By: {DISCUSSION_DUE:%A %-d %B %Y}, 17:00" in handover.body
    )
    r = await api.as_("piat1").put(
        f"/audits/{audit_id}/people/head_of_service", json={"staff_id": "hos2", "reason": "the Head of Service left"}
    )
    assert r.status_code == 200 and r.json()["head_of_service_id"] == "hos2"
    history = [h["action"] for h in r.json()["history"]]
    assert "Team Manager replaced" in history and "Head of Service replaced" in history

    r = await api.as_("tm9").post(
        f"/audits/{audit_id}/findings-discussion", json=findings_discussion(await today(env), attendees=("tm9", "sw1"))
    )
    assert r.status_code == 200, r.text
    r = await api.as_("piat1").post(f"/audits/{audit_id}/findings-discussion/review", json={"decision": "accept"})
    assert r.status_code == 200, r.text
    # The upload (as the dispute window closed, 5 working days after the report) came before PIAT
    # named anyone: the alert reached who was left.
    [alert] = [n for n in sent(audit_id) if n.channel == "mosaic_alert"]
    assert alert.delivery == "sent" and alert.reason == "not in the staff directory, skipped: tm1, hos1"


async def test_a_practitioner_moving_team_moves_the_wait_to_their_new_team_manager(api, env, client, sent, settings):
    """Every contact is looked up when a step needs it: the directory, not the allocation, says
    who the Team Manager is now (unless PIAT named someone)."""
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "inadequate")
    leave(settings, "sw1")
    join(settings, "tm9", ["team_manager"], manager_id="hos1")
    with open(settings.staff_directory, "a") as f:  # sw1 now in tm9's team
        f.write(
            '\n[[staff]]\nid = "sw1"\nname = "Sam Worker"\nemail = "sw1@council.example"\nroles = ["practitioner"]\n'
            'team = "Safeguarding Team 9"\nservice_area = "safeguarding"\nmanager_id = "tm9"\n'
        )
    await skip_to(env, DISCUSSION_DUE + FIVE_MINUTES)  # the discussion reminder looks people up
    v = await view(api, audit_id)
    assert v["team_manager_id"] == "tm9"
    assert any(h["action"] == "Team Manager is now tm9" for h in v["history"])
    assert [r for r, _ in emails(sent, audit_id, "Reminder: findings discussion overdue")] == [["tm9"]]
    r = await api.as_("tm1").post(f"/audits/{audit_id}/findings-discussion", json=findings_discussion(await today(env)))
    assert r.status_code == 403
    r = await api.as_("tm9").post(f"/audits/{audit_id}/findings-discussion", json=findings_discussion(await today(env)))
    assert r.status_code == 200, r.text


async def test_a_dispute_follows_its_audits_people(api, env, client, sent, settings):
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "requires_improvement")
    await raise_dispute(api, audit_id)
    join(settings, "tm9", ["team_manager"], manager_id="hos1")
    r = await api.as_("piat1").put(
        f"/audits/{audit_id}/people/team_manager", json={"staff_id": "tm9", "reason": "the Team Manager is on long-term leave"}
    )
    assert r.status_code == 200, r.text

    # The dispute hears of the change by signal, and saves and emails as it takes it: just after
    # the answer (a moment later on a busy worker).
    async def waiting_on() -> list[str]:
        return sorted((await api.as_("piat1").get(f"/disputes/{audit_id}")).json()["waiting_for"]["from_staff_ids"])

    assert await eventually(lambda: _is(waiting_on, ["tm2", "tm9"]))  # the meeting: Team Manager or auditor
    [(to, subject)] = await eventually(lambda: emails(sent, audit_id, "Audit dispute: the meeting is yours"))
    assert to == ["tm9"]
    body = {"held_on": (await today(env)).isoformat(), "attendees": ["tm2", "sw1", "tm9"], "notes": "Evidence reviewed"}
    await record(api, audit_id, "meeting", "tm1", body, status=403)
    await record(api, audit_id, "meeting", "tm9", body)


async def test_replacing_a_person_is_for_piat_with_someone_who_holds_the_role(api, env, client):
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "good")
    put = lambda who, role, staff_id: api.as_(who).put(  # noqa: E731
        f"/audits/{audit_id}/people/{role}", json={"staff_id": staff_id, "reason": "left"}
    )
    assert (await put("tm1", "team_manager", "tm2")).status_code == 403
    assert (await put("piat1", "team_manager", "sw2")).status_code == 422  # not a Team Manager
    assert (await put("piat1", "team_manager", "nobody")).status_code == 422
    assert (await put("piat1", "team_manager", "tm1")).status_code == 422  # already
    assert (await put("piat1", "boss", "tm2")).status_code == 422
    r = await put("piat1", "cp_chair_or_iro", "iro1")
    assert r.status_code == 422 and "already" in r.json()["detail"]
    r = await put("piat1", "auditor", "sm1")
    assert r.status_code == 200 and r.json()["auditor_id"] == "sm1"


async def test_a_reaudit_with_nobody_senior_left_goes_to_piat_to_hand_on(api, env, client, settings):
    """R-KIND-6: re-audits are done by senior managers of the service. With none left in the
    directory (nor a Head of Service), the re-audit was allocated to the Head of Service the
    audit named — who had left. It goes to PIAT, who reassign it."""
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "inadequate")
    await discuss_and_accept(api, env, audit_id)
    leave(settings, "hos1", "sm1")
    # Final in January (the window's close), so the first re-audit cycle whose first working day is
    # a month on is March's (no re-audits in February, R-RE-1): allocated as it opens.
    await skip_to(env, cycle_opens(3) + FIVE_MINUTES)  # the 1st re-audit is allocated
    reaudit = f"{audit_id}-r1"
    assert (await view(api, reaudit))["auditor_id"] == "piat1"
    join(settings, "sm9", ["senior_manager", "auditor"])
    r = await api.as_("piat1").post(f"/audits/{reaudit}/reassign", json={"auditor_id": "sm9", "reason": "new senior manager"})
    assert r.status_code == 200 and r.json()["auditor_id"] == "sm9"


async def _is(read, expected) -> bool:
    return await read() == expected
