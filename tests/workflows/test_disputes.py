"""The dispute ladder (R-DISP-1..10, R-DIST-4): informal, formal, corporate, independent review.
Each test reads who was told what from the notifications, in time-skipped working days."""

import pytest
from datetime import timedelta

import httpx

from api.deps import Services
from api.main import create_app
from tests.helpers.api import Api
from tests.helpers.dates import YEAR, at, cycle_opens, deadline_after, first_working_day, working_days_after
from tests.helpers import (
    audit_to_report,
    discuss_and_accept,
    emails,
    eventually,
    grades,
    outcome,
    reaudit_to_report,
    search_attributes,
    skip_to,
    told,
    view,
)
from tests.helpers.disputes import RAISE, formal_discussion, meeting, raise_dispute, record, summary, to_formal
from worker import run_worker

# The reports go out at 09:00 on January's first working day; each
# deadline is the end of the Nth working day after the event's London day.
START = at(first_working_day(YEAR, 1))


def case_note(sent, audit_id) -> str:
    return [n.body for n in sent(audit_id) if n.channel == "mosaic_case_note" and n.subject.endswith("Audit")][0]


async def test_resolved_informally_with_an_amended_grading(api, env, client, sent):
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "requires_improvement")
    dispute = await raise_dispute(api, audit_id)
    assert (dispute["level"], dispute["step"], dispute["waiting_for"]["from_staff_ids"]) == (
        "informal",
        "meeting",
        ["tm1", "tm2"],
    )
    meeting_due = deadline_after(START, 5)  # 5 working days (R-DISP-2)
    assert dispute["deadlines"]["meeting"].startswith(f"{meeting_due:%Y-%m-%dT%H:%M}")
    v = await view(api, audit_id)
    assert v["stage"] == "in_dispute" and v["dispute_id"] == f"dispute-{audit_id}"
    assert v["findings_discussion"] is None  # discussed on the final report, once the dispute ends
    assert [r for r, _ in emails(sent, audit_id, "Audit dispute raised")] == [["tm2", "sw1", "tm1", "piat1"]]

    held = at(working_days_after(START.date(), 2), 10)  # two working days on, before the meeting's deadline
    await skip_to(env, held)
    summary_due = deadline_after(held, 2)  # R-DISP-3: 2 working days after the meeting
    assert (await meeting(api, env, audit_id))["deadlines"]["summary"].startswith(f"{summary_due:%Y-%m-%dT%H:%M}")
    await summary(api, audit_id, "resolved")
    amended = grades(grade="good") | {"notes": "The reviews were on file"}
    r = await api.as_("tm1").post(f"/disputes/{audit_id}/amended-grading", json=amended)
    assert r.status_code == 403 and r.json()["detail"] == "only its auditor may do this"  # R-DISP-4
    ended = await record(api, audit_id, "amended-grading", "tm2", amended)
    assert ended["outcome"]["status"] == "resolved" and ended["outcome"]["level"] == "informal"

    result = await outcome(client, audit_id)
    assert result.final_grading.overall.grade == "good" and result.reaudit is None and result.findings_discussion is None
    assert "overall grading: good" in case_note(sent, audit_id)
    assert [r for r, _ in emails(sent, audit_id, "Final (amended) audit report")] == [["sw1", "tm1", "piat1"]]
    assert [r for r, _ in emails(sent, audit_id, "Dispute meeting summary")] == [["tm2", "piat1", "sw1"]]


async def test_formal_regrade_changes_the_mosaic_note_and_the_reaudit_decision(api, env, client, sent):
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "inadequate")
    await to_formal(api, env, audit_id)
    # R-DISP-5, R-DISP-6: the PI&A Manager, and the PSW with whom they discuss it
    assert [r for r, _ in emails(sent, audit_id, "Audit dispute (formal stage)")] == [["piatmgr1", "psw1"]]
    r = await api.as_("tm1").post(
        f"/disputes/{audit_id}/formal-discussion", json={"held_on": START.date().isoformat(), "course_of_action": "x"}
    )
    assert r.status_code == 403
    await formal_discussion(api, env, audit_id)
    response = {"response": "Recordings show the plan was reviewed", "outcome": "resolved", "regrade": grades(grade="good")}
    await record(api, audit_id, "written-response", "psw1", response)
    assert [r for r, _ in emails(sent, audit_id, "Audit dispute: written response")] == [["tm1", "tm2", "hos1"]]  # R-DISP-7

    result = await outcome(client, audit_id)
    assert result.dispute_outcome.level == "formal" and result.final_overall_grade == "good"
    assert result.reaudit is None  # Inadequate would have been re-audited
    assert "overall grading: good" in case_note(sent, audit_id)
    assert [r for c, r, _ in told(sent, audit_id) if c == "mosaic_alert"] == [["sw1", "tm1", "iro1"]]  # no HoS now


async def test_all_the_way_to_an_independent_review(api, env, client, sent):
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "requires_improvement")
    await to_formal(api, env, audit_id)
    await formal_discussion(api, env, audit_id)
    await record(api, audit_id, "written-response", "piatmgr1", {"response": "Grading stands", "outcome": "unresolved"})
    assert [r for r, _ in emails(sent, audit_id, "Audit dispute escalated to the Corporate Directors")] == [["cdqs1", "cdcsc1"]]
    await record(api, audit_id, "corporate-decision", "cdcsc1", {"outcome": "unresolved", "notes": "No agreement"})
    r = await api.as_("cdcsc1").post(f"/disputes/{audit_id}/independent-review", json={"commissioned": True, "notes": "x"})
    assert r.status_code == 403  # the Corporate Director for Quality Standards decides (R-DISP-9)
    decided = await record(api, audit_id, "independent-review", "cdqs1", {"commissioned": True, "notes": "External auditor"})
    assert (decided["level"], decided["step"], decided["deadlines"].get("independent_review_result")) == (
        "independent_review",
        "independent_review_result",
        None,
    )
    listed = (await api.as_("piat1").get("/disputes", params={"level": "independent_review"})).json()
    assert [d["dispute_id"] for d in listed] == [audit_id]
    await record(
        api,
        audit_id,
        "independent-review/result",
        "cdqs1",
        {"findings": "Outstanding practice", "regrade": grades(grade="outstanding")},
    )

    result = await outcome(client, audit_id)
    assert (result.dispute_outcome.level, result.dispute_outcome.status) == ("independent_review", "resolved")
    assert result.final_overall_grade == "outstanding" and result.reaudit is None
    assert "overall grading: outstanding" in case_note(sent, audit_id)
    history = [h["action"] for h in (await api.as_("piat1").get(f"/disputes/{audit_id}")).json()["history"]]
    assert "dispute escalated to the corporate level" in history and "dispute resolved" in history


async def test_every_missed_step_reminds_its_owner_and_tells_the_next_level(api, env, client, sent):
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "requires_improvement")
    await raise_dispute(api, audit_id)
    dispute_wf = f"dispute-{audit_id}"
    expected = []

    async def missed(step, at, reminded, told_next):
        await skip_to(env, at)
        expected.append((step, reminded, told_next))
        reminders = [
            (s.removeprefix("Reminder: dispute ").split(" overdue")[0], r)
            for c, r, s in told(sent, audit_id)
            if s.startswith("Reminder: dispute")
        ]
        notices = [r for c, r, s in told(sent, audit_id) if s.startswith("Dispute step overdue")]
        assert reminders == [(s.replace("_", " "), r) for s, r, _ in expected]
        assert notices == [n for _, _, n in expected]
        d = (await api.as_("piat1").get(f"/disputes/{audit_id}")).json()
        assert d["overdue"] and d["overdue_steps"] == [step]

    # Each step is missed 5 minutes after its deadline and then recorded at once, so the next step
    # counts from that instant's day.
    late = timedelta(minutes=5)
    step_missed = deadline_after(START, 5) + late
    await missed("meeting", step_missed, ["tm1", "tm2"], ["piatmgr1"])  # R-DISP-2
    assert (await search_attributes(client, dispute_wf))["Overdue"] is True
    overdue = await eventually(lambda: _listed(api, overdue=True))
    assert overdue == [audit_id]
    await meeting(api, env, audit_id)
    step_missed = deadline_after(step_missed, 2) + late
    await missed("summary", step_missed, ["tm1"], ["piatmgr1"])  # R-DISP-3
    await summary(api, audit_id, "unresolved")
    step_missed = deadline_after(step_missed, 5) + late
    await missed("formal_discussion", step_missed, ["piatmgr1"], ["cdqs1", "cdcsc1"])  # R-DISP-6
    await formal_discussion(api, env, audit_id)
    step_missed = deadline_after(step_missed, 5) + late
    await missed("written_response", step_missed, ["piatmgr1", "psw1"], ["cdqs1", "cdcsc1"])  # R-DISP-7
    await record(api, audit_id, "written-response", "psw1", {"response": "Stands", "outcome": "unresolved"})
    step_missed = deadline_after(step_missed, 5) + late
    await missed("corporate_decision", step_missed, ["cdqs1", "cdcsc1"], ["cdqs1"])  # R-DISP-8
    v = await view(api, audit_id)
    assert v["stage"] == "in_dispute" and not [c for c, _, _ in told(sent, audit_id) if c.startswith("mosaic")]

    # Unresolved by the Corporate Directors, and no independent review (R-DISP-9): the grading stands.
    await record(api, audit_id, "corporate-decision", "cdqs1", {"outcome": "unresolved", "notes": "No agreement"})
    ended = await record(api, audit_id, "independent-review", "cdqs1", {"commissioned": False, "notes": "Not exceptional"})
    assert (ended["outcome"]["status"], ended["outcome"]["level"]) == ("unresolved", "independent_review")
    assert [r for r, _ in emails(sent, audit_id, "Audit dispute ended")] == [["sw1", "tm1", "tm2", "piat1"]]
    v = await eventually(lambda: _stage_after_dispute(api, audit_id))
    assert v["final_overall_grade"] == "requires_improvement"
    assert "overall grading: requires improvement" in case_note(sent, audit_id)


async def _listed(api, **params):
    return [d["dispute_id"] for d in (await api.as_("piat1").get("/disputes", params=params)).json()]


async def test_disputes_out_of_time_twice_or_by_the_wrong_person_are_refused(api, env, client):
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "requires_improvement")
    for by, status, message in [
        ("sw3", 403, "only its practitioner or the practitioner's Team Manager may do this"),  # someone else's
        ("tm2", 403, "only its practitioner or the practitioner's Team Manager may do this"),  # the auditor
    ]:
        r = await api.as_(by).post(f"/audits/{audit_id}/disputes", json=RAISE)
        assert r.status_code == status and message in r.json()["detail"], r.text
    r = await api.as_("sw1").post(f"/audits/{audit_id}/disputes", json=RAISE | {"domains_disputed": ["Astrology"]})
    assert r.status_code == 422
    r = await api.as_("sw1").post(f"/audits/{audit_id}/disputes", json=RAISE | {"evidence": ""})
    assert r.status_code == 422
    assert (await api.as_("sw3").get("/disputes")).status_code == 403

    late = await audit_to_report(api, env, "requires_improvement", case_ref="C-2")
    window_closes = deadline_after(START, 5)  # R-DIST-4: 5 working days after the report
    await skip_to(env, window_closes + timedelta(minutes=1))  # the window closed at 17:00
    r = await api.as_("sw1").post(f"/audits/{late}/disputes", json=RAISE)
    assert r.status_code == 409 and "dispute window" in r.json()["detail"]

    await skip_to(env, at(working_days_after(window_closes.date(), 1)))  # the next working day's morning
    fresh = await audit_to_report(api, env, "requires_improvement", case_ref="C-3")
    await raise_dispute(api, fresh, by="tm1")
    r = await api.as_("sw1").post(f"/audits/{fresh}/disputes", json=RAISE)
    assert r.status_code == 409 and "already" in r.json()["detail"]
    assert (await api.as_("sw3").get(f"/disputes/{fresh}")).status_code == 403  # not involved
    assert (await api.as_("sw1").get(f"/disputes/{fresh}")).status_code == 200
    assert (await api.as_("cdqs1").get(f"/disputes/{fresh}")).status_code == 200
    r = await api.as_("tm1").post(f"/disputes/{fresh}/summary", json={"outcome": "resolved", "summary": "x"})
    assert r.status_code == 409 and "waiting for the meeting" in r.json()["detail"]  # a step out of order


async def test_withdrawal_by_whoever_raised_it_lets_the_grading_stand(api, env, client, sent):
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "requires_improvement")
    await to_formal(api, env, audit_id)
    r = await api.as_("tm1").post(f"/disputes/{audit_id}/withdrawal", json={"reason": "x"})
    assert r.status_code == 403 and "sw1" in r.json()["detail"]
    withdrawn = await record(api, audit_id, "withdrawal", "sw1", {"reason": "Accept the findings"})
    assert withdrawn["history"][-1]["action"] == "dispute withdrawn"
    await record(api, audit_id, "withdrawal", "sw1", {"reason": "again"}, status=409)
    v = await eventually(lambda: _stage_after_dispute(api, audit_id))
    assert v["dispute_outcome"]["status"] == "withdrawn" and v["final_overall_grade"] == "requires_improvement"
    assert v["reaudit"]["status"] == "planned"  # the grading stands: RI is re-audited
    assert v["findings_discussion"]["working_days"] == 10  # discussed on the final report, from now
    assert "overall grading: requires improvement" in case_note(sent, audit_id)
    assert [r for r, _ in emails(sent, audit_id, "Dispute withdrawn")] == [["sw1", "tm1", "tm2", "piat1"]]


async def _stage_after_dispute(api, audit_id):
    v = await view(api, audit_id)
    return v if v["stage"] == "reaudit_planned" else None


async def test_a_worker_restarted_mid_dispute_resumes_where_it_was(env, settings, directory, engine, sent):
    # With no workflow cache a local activity's result can miss its workflow task, which then
    # waits out its timeout before another worker takes it: 2 s here, not 10 (the API's limit).
    settings = settings.model_copy(update={"workflow_task_timeout_seconds": 2})
    app = create_app(
        Services(settings=settings, client=env.client, engine=engine, directory=directory, clock=env.get_current_time)
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        api = Api(http)
        await skip_to(env, START)
        # No workflow cache, so no sticky queue: the time-skipping server never moves a dead
        # worker's sticky tasks back to the shared queue, as a real server does after 5 s.
        async with run_worker(env.client, settings, max_cached_workflows=0):
            audit_id = await audit_to_report(api, env, "requires_improvement")
            await to_formal(api, env, audit_id)
        # The first worker is gone; a new one (empty cache) replays each history to carry on.
        async with run_worker(env.client, settings):
            before = (await api.as_("piat1").get(f"/disputes/{audit_id}")).json()
            assert (before["level"], before["step"]) == ("formal", "formal_discussion")
            await formal_discussion(api, env, audit_id)
            await record(
                api,
                audit_id,
                "written-response",
                "piatmgr1",
                {"response": "Regraded", "outcome": "resolved", "regrade": grades(grade="good")},
            )
            result = await outcome(env.client, audit_id)
    assert result.final_overall_grade == "good" and result.dispute_outcome.level == "formal"
    assert [r for r, _ in emails(sent, audit_id, "Audit dispute (formal stage)")] == [["piatmgr1", "psw1"]]  # sent once


@pytest.mark.both_databases  # a whole chain through the API on each engine: audit, re-audit, dispute
async def test_a_first_reaudit_regraded_good_needs_no_follow_up_and_closes_the_chain(api, env, client, sent):
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "inadequate")
    await discuss_and_accept(api, env, audit_id)
    await skip_to(env, cycle_opens(3) + timedelta(minutes=5))  # the re-audit is allocated as March's cycle opens
    r1 = f"{audit_id}-r1"
    await reaudit_to_report(api, env, r1, "requires_improvement")
    assert (await view(api, r1))["head_of_service_follow_up_required"]  # R-RE-3, on the grade as reported
    await raise_dispute(api, r1)
    await meeting(api, env, r1)
    await summary(api, r1, "resolved")
    await record(api, r1, "amended-grading", "hos1", grades(grade="good") | {"notes": "Progress evidenced"})
    # Good after the dispute: no follow-up awaited, no 2nd re-audit, the chain closes.
    result = await outcome(client, audit_id)
    assert (result.chain_outcome, result.reaudit.final_overall_grade) == ("closed", "good")
    assert not (await view(api, r1))["head_of_service_follow_up_required"]


async def test_a_regrade_is_checked_as_a_grading_is(api, env):
    """A regrade replaces the report's grading (R-DISP-4), so it holds what a grading must (R-AUD-3):
    each graded domain its rationale, at least one domain graded."""
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "requires_improvement")
    await raise_dispute(api, audit_id)
    await skip_to(env, at(working_days_after(START.date(), 2), 10))
    await meeting(api, env, audit_id)
    await summary(api, audit_id, "resolved")
    blank = grades(grade="good") | {"notes": "The reviews were on file"}
    blank["domains"][1]["rationale"] = " "
    r = await api.as_("tm2").post(f"/disputes/{audit_id}/amended-grading", json=blank)
    assert r.status_code == 422 and "a graded domain needs a rationale" in r.json()["detail"], r.text
    ungraded = grades(grade=None, overall="good") | {"notes": "The reviews were on file"}
    r = await api.as_("tm2").post(f"/disputes/{audit_id}/amended-grading", json=ungraded)
    assert r.status_code == 422 and r.json()["detail"] == "at least one domain must be graded", r.text
    ended = await record(api, audit_id, "amended-grading", "tm2", grades(grade="good") | {"notes": "The reviews were on file"})
    assert ended["outcome"]["status"] == "resolved"  # refused whole: the right one still lands
