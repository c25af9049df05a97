"""After the report: findings discussions (R-DISC) and re-audits up to the Director (R-RE),
through months of time-skipped working days. Each test reads who was told what, and when."""

from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from temporalio.api.sdk.v1 import WorkflowMetadata

from tests.helpers.dates import (
    YEAR,
    at,
    cycle,
    cycle_opens,
    day,
    deadline_after,
    end_of,
    first_working_day,
    working_day_on_or_before,
    working_days_after,
    working_days_before,
)
from tests.helpers import (
    allocate,
    audit_to_report,
    complete,
    conversation,
    deadline,
    discuss_and_accept,
    emails,
    findings_discussion,
    grading,
    outcome,
    qa,
    reaudit_to_report,
    search_attributes,
    skip_to,
    submit,
    today,
    told,
    view,
)

# The first working days of the months the scenarios start in: their cycles open at 09:00 on
# them (R-CAL-3). In 2027: 4 January, 1 February, 1 March, 4 May (3 May is a bank holiday) and
# 1 July.
JANUARY, FEBRUARY, MARCH, MAY = (first_working_day(YEAR, month) for month in (1, 2, 3, 5))


def after_the_window(reported_on: date) -> datetime:
    """09:00 on the working day after a report's 5-working-day dispute window closed (R-DIST-4):
    the audit is on Mosaic and final."""
    return at(working_days_after(reported_on, 6))


async def test_requires_improvement_discussed_in_10_days_then_reaudit_good_closes_the_chain(api, env, client, sent):
    await skip_to(env, at(JANUARY))
    audit_id = await audit_to_report(api, env, "requires_improvement")
    v = await view(api, audit_id)
    discussion = v["findings_discussion"]
    assert (discussion["working_days"], discussion["smart_actions_required"]) == (10, False)  # R-DISC-2
    assert deadline({"deadlines": discussion}, "due") == deadline_after(JANUARY, 10)
    assert emails(sent, audit_id, "Findings discussion due") == [(["tm1", "sw1"], "Findings discussion due: case C-100001")]

    await skip_to(
        env, after_the_window(JANUARY) + timedelta(hours=1)
    )  # the dispute window has closed: on Mosaic, re-audit planned
    v = await view(api, audit_id)
    assert v["stage"] == "reaudit_planned"
    assert v["reaudit"]["cycle"] == cycle(3) and v["reaudit"]["round"] == 1  # February moderates (R-RE-1)
    assert deadline({"deadlines": v["reaudit"]}, "allocate_at") == cycle_opens(3)
    accepted = await discuss_and_accept(api, env, audit_id, smart=False)
    assert accepted["findings_discussion"]["status"] == "accepted"
    note = [n for n in sent(audit_id) if n.channel == "mosaic_case_note"][-1]
    assert note.subject.startswith("Audit findings discussion") and "Discussed the audit findings" in note.body
    assert emails(sent, audit_id, "Findings discussion recorded") == [
        (["piatmgr1", "piat1"], emails(sent, audit_id, "Findings discussion recorded")[0][1])
    ]

    await skip_to(env, cycle_opens(3) + timedelta(minutes=5))
    reaudit_id = f"{audit_id}-r1"
    r1 = await view(api, reaudit_id)
    assert (r1["kind"], r1["reaudit_round"], r1["follows_audit_id"], r1["cycle"]) == ("reaudit", 1, audit_id, cycle(3))
    assert r1["auditor_id"] == "hos1"  # a senior manager of the service (R-KIND-6)
    r = await api.as_("piat1").post(f"/audits/{reaudit_id}/reassign", json={"auditor_id": "tm2", "reason": "x"})
    assert r.status_code == 422 and "senior managers" in r.json()["detail"]
    r = await api.as_("piat1").post(f"/audits/{reaudit_id}/reassign", json={"auditor_id": "sm1", "reason": "PIAT's choice"})
    assert r.status_code == 200 and r.json()["auditor_id"] == "sm1"  # PIAT may choose the person
    r = await api.as_("piat1").post(f"/audits/{reaudit_id}/reassign", json={"auditor_id": "hos1", "reason": "back"})
    assert r.status_code == 200
    assert (await view(api, audit_id))["stage"] == "reaudit_in_progress"
    listed = (await api.as_("piat1").get("/audits", params={"reaudit_round": 1})).json()
    assert [a["audit_id"] for a in listed] == [reaudit_id]

    await reaudit_to_report(api, env, reaudit_id, "good")
    await skip_to(env, after_the_window(MARCH))
    assert [(c, r) for c, r, _ in told(sent, reaudit_id)] == [
        ("email", ["hos1", "tm1", "sw1"]),  # allocation
        ("email", ["sm1", "hos1", "tm1"]),  # PIAT's choice of re-auditor, and back
        ("email", ["hos1", "sm1", "tm1"]),
        ("email", ["sw1", "tm1"]),  # R-RE-2: the re-audit report
        ("mosaic_case_note", ["sw1", "tm1", "iro1"]),
        ("mosaic_alert", ["sw1", "tm1", "iro1"]),  # R-RE-2: alert to practitioner and TM
    ]
    assert [n.subject for n in sent(reaudit_id) if n.channel == "mosaic_case_note"] == ["March Re-audit"]
    result = await outcome(client, audit_id)
    assert (result.stage, result.chain_outcome, result.reaudit.final_overall_grade) == ("completed", "closed", "good")
    chain = (await view(api, audit_id))["chain"]
    assert [(c["reaudit_round"], c["cycle"], c["overall_grade"]) for c in chain] == [
        (0, cycle(1), "requires_improvement"),
        (1, cycle(3), "good"),
    ]


async def test_inadequate_to_second_reaudit_escalates_to_the_director(api, env, client, sent):
    await skip_to(env, at(JANUARY))
    audit_id = await audit_to_report(api, env, "inadequate")
    discussion = (await view(api, audit_id))["findings_discussion"]
    assert (discussion["working_days"], discussion["smart_actions_required"]) == (5, True)  # R-DISC-1
    assert deadline({"deadlines": discussion}, "due") == deadline_after(JANUARY, 5)
    r = await api.as_("tm1").post(
        f"/audits/{audit_id}/findings-discussion", json=findings_discussion(await today(env), smart=False)
    )
    assert r.status_code == 422 and "SMART" in r.json()["detail"]
    await discuss_and_accept(api, env, audit_id)

    # 1st re-audit in March (after February's moderation), still Requires Improvement.
    await skip_to(env, cycle_opens(3) + timedelta(minutes=5))
    r1 = f"{audit_id}-r1"
    await reaudit_to_report(api, env, r1, "requires_improvement")
    # R-RE-3: also the Head of Service; hos1 re-audited it, so the Assistant Director (Decision).
    assert emails(sent, r1, "Re-audit report")[0][0] == ["sw1", "tm1", "ad1"]
    assert emails(sent, r1, "1st re-audit still")[0][0] == ["psw1"]  # R-RE-3: the PSW's attention
    v = await view(api, r1)
    assert v["escalation"] == "head_of_service" and v["head_of_service_follow_up_required"]
    assert v["findings_discussion"]["working_days"] == 5  # R-DISC-1: a re-audit requiring a 2nd
    for not_them in ("tm1", "hos1"):  # hos1 does not follow up their own re-audit
        r = await api.as_(not_them).post(f"/audits/{r1}/head-of-service-follow-up", json={"notes": "x"})
        assert r.status_code == 403
    r = await api.as_("ad1").post(f"/audits/{r1}/head-of-service-follow-up", json={"notes": "Reviewed actions with tm1 and sw1"})
    assert r.status_code == 200 and r.json()["head_of_service_follow_up"]["by"] == "ad1"
    await discuss_and_accept(api, env, r1)

    await skip_to(env, after_the_window(MARCH))
    mosaic = [(c, r) for c, r, _ in told(sent, r1) if c == "mosaic_alert"]
    assert mosaic == [("mosaic_alert", ["sw1", "tm1", "iro1", "hos1"])]  # R-DIST-3
    v = await view(api, r1)
    # April's cycle starts less than a month after the 1st re-audit became final (8 March in 2027);
    # May's is the next to hold re-audits (R-RE-1).
    a_month_after_final = deadline_after(MARCH, 5).date() + relativedelta(months=1)
    assert first_working_day(YEAR, 4) < a_month_after_final <= MAY
    assert v["reaudit"]["cycle"] == cycle(5)
    # At the start of May's first working day: a weekend or the early May bank holiday on the 1st
    # moves it on (3 May in 2027 is a bank holiday, so 4 May).
    assert deadline({"deadlines": v["reaudit"]}, "allocate_at") == cycle_opens(5) == at(MAY)

    # 2nd re-audit: the re-auditor meets practitioner and Team Manager (R-RE-4).
    await skip_to(env, cycle_opens(5) + timedelta(minutes=5))
    r2 = f"{audit_id}-r2"
    assert (await view(api, r2))["reaudit_round"] == 2
    r = await api.as_("hos1").put(f"/audits/{r2}/grading", json=grading(grade="requires_improvement"))
    body = conversation(await today(env), grade="requires_improvement") | {"attendees": ["sw1"]}
    r = await api.as_("hos1").post(f"/audits/{r2}/practitioner-conversation", json=body)
    assert r.status_code == 422 and "R-RE-4" in r.json()["detail"]
    await reaudit_to_report(api, env, r2, "requires_improvement", attendees=["sw1", "tm1"])
    await discuss_and_accept(api, env, r2)
    await skip_to(env, after_the_window(MAY))

    escalated = emails(sent, r2, "2nd re-audit still")
    assert [r for r, _ in escalated] == [["hos1", "ad1", "dir1"]]  # R-RE-5
    result = await outcome(client, audit_id)
    assert (result.chain_outcome, result.escalation) == ("escalated", "director")
    chain = (await view(api, audit_id))["chain"]
    assert [(c["reaudit_round"], c["cycle"], c["overall_grade"]) for c in chain] == [
        (0, cycle(1), "inadequate"),
        (1, cycle(3), "requires_improvement"),
        (2, cycle(5), "requires_improvement"),
    ]
    attributes = await search_attributes(client, f"audit-{r2}")
    assert (attributes["AuditReauditRound"], attributes["Escalation"], attributes["AuditChain"]) == (2, "director", audit_id)


async def test_missed_discussion_reminds_the_team_manager_then_escalates_to_the_head_of_service(api, env, client, sent):
    await skip_to(env, at(JANUARY))
    audit_id = await audit_to_report(api, env, "requires_improvement")
    due = deadline_after(JANUARY, 10)  # R-DISC-2: 17:00 on the 10th working day (18 January in 2027)
    await skip_to(env, due + timedelta(minutes=5))
    v = await view(api, audit_id)
    assert "discussion" in v["overdue_steps"] and v["escalation"] == "team_manager"
    assert [r for r, _ in emails(sent, audit_id, "Reminder: findings discussion overdue")] == [["tm1"]]
    assert not emails(sent, audit_id, "Findings discussion not recorded")

    escalates = deadline_after(due, 2)  # two working days on (R-DISC-3 Decision)
    await skip_to(env, escalates + timedelta(minutes=5))
    v = await view(api, audit_id)
    assert v["findings_discussion"]["escalated_to_head_of_service"] and v["escalation"] == "head_of_service"
    assert [r for r, _ in emails(sent, audit_id, "Findings discussion not recorded")] == [["hos1"]]
    handle = client.get_workflow_handle(f"audit-{audit_id}")
    attributes = await search_attributes(client, handle.id)
    assert attributes["Overdue"] is True and attributes["Escalation"] == "head_of_service"
    details = (await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)).current_details
    assert "discussion" in details

    r = await api.as_("piat1").post(f"/audits/{audit_id}/findings-discussion/review", json={"decision": "accept"})
    assert r.status_code == 409  # nothing recorded to review
    r = await api.as_("tm1").post(f"/audits/{audit_id}/findings-discussion", json=findings_discussion(await today(env)))
    assert r.status_code == 200 and not r.json()["overdue"]
    r = await api.as_("piat1").post(
        f"/audits/{audit_id}/findings-discussion/review", json={"decision": "more", "comments": "Name the measures"}
    )
    assert r.json()["findings_discussion"]["status"] == "more_requested"
    await skip_to(env, at(working_days_after(escalates.date(), 1)))
    assert [r for r, _ in emails(sent, audit_id, "Findings discussion: more needed")] == [["tm1"]]
    # 5 working days from PIAT's request (27 January in 2027, asked on the 20th).
    assert deadline({"deadlines": (await view(api, audit_id))["findings_discussion"]}, "due") == deadline_after(escalates, 5)


async def test_mash_inadequate_needs_the_team_managers_action_and_no_reaudit(api, env, client, sent):
    await skip_to(env, at(FEBRUARY))  # MASH audits run in every cycle, moderation months too
    audit_id = await audit_to_report(api, env, "inadequate", service_area="mash", cycle=cycle(2))
    assert (await view(api, audit_id))["findings_discussion"]["smart_actions_required"]
    await discuss_and_accept(api, env, audit_id)
    await skip_to(env, after_the_window(FEBRUARY))
    result = await outcome(client, audit_id)
    assert result.stage == "completed" and result.reaudit is None and result.chain_outcome is None
    assert [r for c, r, _ in told(sent, audit_id) if c == "mosaic_alert"] == [["sw1", "tm1", "iro1", "hos1"]]


async def test_peer_audit_plan_is_discussed_and_never_reaudited(api, env, client, sent):
    await skip_to(env, at(MARCH))
    audit_id = (await allocate(api, kind="peer", cycle=cycle(3), auditor_id="sw3"))["audit_id"]
    await complete(api, env, audit_id, grade=None, auditor="sw3")
    await submit(api, audit_id, "sw3")
    accepted = await qa(api, audit_id)
    assert accepted["findings_discussion"] is None or accepted["findings_discussion"]["working_days"] == 10
    await skip_to(env, at(working_days_after(MARCH, 1)))
    discussion = (await view(api, audit_id))["findings_discussion"]
    assert (discussion["working_days"], deadline({"deadlines": discussion}, "due")) == (10, deadline_after(MARCH, 10))
    await discuss_and_accept(api, env, audit_id, smart=False)
    await skip_to(env, after_the_window(MARCH))
    result = await outcome(client, audit_id)
    assert result.stage == "completed" and result.reaudit is None


async def test_reaudit_cycle_skips_august(api, env):
    """Final by 1 July, so August's first working day is a month on: only August's holding no
    re-audits (R-CAL-4) moves the re-audit to September."""
    final_on = working_day_on_or_before(day(7, 1))
    reported_on = working_days_before(final_on, 5)  # July's audit, done early, in late June
    assert working_days_after(reported_on, 5) == final_on
    assert first_working_day(YEAR, 8) >= final_on + relativedelta(months=1)  # August would do, by date
    await skip_to(env, at(reported_on))
    audit_id = await audit_to_report(api, env, "requires_improvement", cycle=cycle(7))
    await skip_to(env, end_of(final_on) + timedelta(minutes=5))  # the dispute window closed: final
    plan = (await view(api, audit_id))["reaudit"]
    assert plan["cycle"] == cycle(9) and plan["status"] == "planned"
    assert deadline({"deadlines": plan}, "allocate_at") == cycle_opens(9)


async def test_good_needs_no_discussion_and_no_reaudit(api, env, client):
    await skip_to(env, at(JANUARY))
    audit_id = await audit_to_report(api, env, "good")
    r = await api.as_("tm1").post(f"/audits/{audit_id}/findings-discussion", json=findings_discussion(await today(env)))
    assert r.status_code == 409 and "no findings discussion is due" in r.json()["detail"]
    await skip_to(env, after_the_window(JANUARY))
    result = await outcome(client, audit_id)
    assert result.findings_discussion is None and result.reaudit is None
