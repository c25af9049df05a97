"""One audit from allocation to Mosaic through the API, over time-skipped working days.

Every test runs the real activities: a SQLite file, a local SMTP server, the working calendar.
"""

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta

from tests.helpers.dates import (
    YEAR,
    a_working_week,
    at,
    bank_holiday,
    completion_due,
    cycle_closes,
    deadline_after,
    end_of,
    first_working_day,
)
from tests.helpers.dates import cycle as cycle_of
from tests.helpers import (
    allocate,
    eventually,
    at_london,
    mail_to,
    complete,
    days,
    deadline,
    grading,
    qa,
    skip_to,
    submit,
    today,
    told,
    view,
)

# A Monday that starts five working days in January (4 January in 2027).
MONDAY = a_working_week(YEAR, 1)
# The first working day of the January cycle, when it opens (4 January in 2027).
OPENS = at(first_working_day(YEAR, 1))


@pytest.mark.parametrize(
    "kind, cycle, auditor, grade, extra, case_note",
    [
        ("standard", cycle_of(1), "tm2", "good", {}, "overall grading: good"),
        ("peer", cycle_of(3), "sw3", None, {}, "peer audit: not graded"),
        (
            "themed",
            cycle_of(5),
            "tm2",
            "outstanding",
            {"theme": "Neglect and its cumulative harm"},
            "overall grading: outstanding",
        ),
    ],
)
async def test_each_kind_runs_from_allocation_to_mosaic(api, env, sent, smtp, kind, cycle, auditor, grade, extra, case_note):
    # A Monday starting five working days in the cycle's month: the 10 days below cover the
    # 5-working-day dispute window whatever bank holidays the next week holds.
    await skip_to(env, at(a_working_week(int(cycle[:4]), int(cycle[5:]))))
    allocated = await allocate(api, kind=kind, cycle=cycle, auditor_id=auditor, **extra)
    audit_id = allocated["audit_id"]
    assert allocated["stage"] == "allocated"
    assert allocated["waiting_for"]["from_staff_ids"] == [auditor]
    assert allocated["audit_period_end"] == (await today(env)).isoformat()
    await complete(api, env, audit_id, grade=grade, auditor=auditor)
    submitted = await submit(api, audit_id, auditor)
    assert submitted["stage"] == "awaiting_qa" and submitted["waiting_for"]["from_role"] == "piat"
    accepted = await qa(api, audit_id)
    assert accepted["stage"] == "dispute_window"

    await env.sleep(days(10))
    done = await view(api, audit_id)
    assert done["stage"] == "completed"
    assert done["final_overall_grade"] == grade
    # A peer audit's improvement plan is still discussed (R-DISC-2 Decision); a Good audit's is not.
    discussion = [("email", ["tm1", "sw1"])] if kind == "peer" else []
    assert (done["waiting_for"] or {}).get("action") == (
        "findings discussion recorded by the Team Manager" if discussion else None
    )
    assert [(c, r) for c, r, _ in told(sent, audit_id)] == [
        ("email", [auditor, "tm1", "sw1"]),  # R-ALLOC-1: auditor, Team Manager, practitioner
        ("email", ["sw1", "tm1"]),  # R-DIST-1: the report
        *discussion,
        ("mosaic_case_note", ["sw1", "tm1", "iro1"]),  # R-DIST-2
        ("mosaic_alert", ["sw1", "tm1", "iro1"]),  # R-DIST-3
    ]
    note = [n for n in sent(audit_id) if n.channel == "mosaic_case_note"][0]
    assert case_note in note.body and note.subject.startswith(("January", "March", "May"))
    assert "Mosaic alert sent to sw1, tm1, iro1" in note.body
    if extra:
        assert extra["theme"] in sent(audit_id)[1].body
    # Real SMTP: the allocation and the report reached the practitioner's mailbox.
    subjects = [m["Subject"].split(":")[0] for m in await mail_to(smtp, "sw1@council.example", 2)]
    assert subjects[:2] == [
        "Audit allocated",
        f"{'Peer Audit' if kind == 'peer' else 'Themed Audit' if extra else 'Audit'} report",
    ]


async def test_listing_filters_by_stage_cycle_kind_and_auditor(api, env):
    await skip_to(env, OPENS)
    first = (await allocate(api, case_ref="C-1"))["audit_id"]
    await allocate(api, case_ref="C-2", auditor_id="piat1")
    await complete(api, env, first)
    await submit(api, first)

    async def ids(**params):
        r = await api.as_("piat1").get("/audits", params=params)
        assert r.status_code == 200, r.text
        return sorted(a["case_ref"] for a in r.json())

    assert await ids(stage="awaiting_qa") == ["C-1"]
    assert await ids(cycle=cycle_of(1), kind="standard") == ["C-1", "C-2"]
    assert await ids(auditor_id="piat1") == ["C-2"]
    assert await ids(cycle=cycle_of(2)) == []
    # A practitioner sees only the audits of their own work.
    r = await api.as_("sw3").get("/audits")
    assert r.json() == []


async def test_qa_returned_and_amended_in_time(api, env, sent):
    await skip_to(env, at(MONDAY))  # Monday of a week of five working days
    audit_id = (await allocate(api))["audit_id"]
    await complete(api, env, audit_id)
    await submit(api, audit_id)
    returned = await qa(api, audit_id, "return", details="Evidence the child's voice in domain 1")
    assert returned["stage"] == "revisions_requested"
    thursday = end_of(MONDAY + timedelta(days=3))
    assert deadline(returned, "revision_due") == deadline_after(MONDAY, 3) == thursday  # 3 working days (R-QA-2)

    await env.sleep(days(2))  # Wednesday
    r = await api.as_("tm2").post(f"/audits/{audit_id}/submit")
    assert r.status_code == 409 and "amend" in r.json()["detail"]  # nothing amended yet
    await complete(api, env, audit_id)
    resubmitted = await submit(api, audit_id)
    assert resubmitted["stage"] == "awaiting_qa"
    assert deadline(resubmitted, "qa_due") == deadline_after(MONDAY + timedelta(days=2), 1) == thursday
    assert (await qa(api, audit_id))["stage"] == "dispute_window"
    returned_mail = [s for c, r, s in told(sent, audit_id) if s.startswith("Audit returned")]
    assert len(returned_mail) == 1


# Returned on a Monday of five working days: 3 working days is its Thursday, 4 its Friday.
@pytest.mark.parametrize("discussion_offered, due", [(False, deadline_after(MONDAY, 3)), (True, deadline_after(MONDAY, 4))])
async def test_amendment_missed_is_not_accepted_and_carried_into_next_cycle(api, env, sent, discussion_offered, due):
    await skip_to(env, at(MONDAY))
    audit_id = (await allocate(api))["audit_id"]
    await complete(api, env, audit_id)
    await submit(api, audit_id)
    returned = await qa(api, audit_id, "return", details="Rationale too thin", discussion_offered=discussion_offered)
    assert deadline(returned, "revision_due") == due

    await skip_to(env, due.replace(hour=16, minute=59))
    assert (await view(api, audit_id))["stage"] == "revisions_requested"
    await skip_to(env, due.replace(hour=17, minute=1))
    v = await view(api, audit_id)
    assert v["stage"] == "not_accepted"  # R-QA-3
    assert v["carried_into_cycle"] == cycle_of(2)
    assert deadline(v, "completion_due") == cycle_closes(2)  # end of the February cycle
    not_accepted = [(r, s) for c, r, s in told(sent, audit_id) if s.startswith("Audit not accepted")]
    assert not_accepted == [(["tm2", "tm1", "piatmgr1"], not_accepted[0][1])]

    # The auditor still completes it for the next cycle, and it goes back to QA.
    await complete(api, env, audit_id)
    assert (await submit(api, audit_id))["stage"] == "awaiting_qa"


async def test_qa_sla_breach_tells_the_piat_manager_and_stops_nothing(api, env, sent):
    await skip_to(env, at(MONDAY))
    audit_id = (await allocate(api))["audit_id"]
    await complete(api, env, audit_id)
    submitted = await submit(api, audit_id)
    qa_due = deadline_after(MONDAY, 1)
    assert deadline(submitted, "qa_due") == qa_due == end_of(MONDAY + timedelta(days=1))  # R-QA-1: the Tuesday

    await skip_to(env, qa_due + timedelta(minutes=5))
    v = await view(api, audit_id)
    assert v["stage"] == "awaiting_qa" and v["overdue"] and v["overdue_steps"] == ["qa"]
    breach = [(r, s) for c, r, s in told(sent, audit_id) if s.startswith("QA overdue")]
    assert [r for r, _ in breach] == [["piatmgr1"]]

    async def overdue():
        return [a["audit_id"] for a in (await api.as_("piat1").get("/audits", params={"overdue": True})).json()]

    assert await eventually(overdue) == [audit_id]

    accepted = await qa(api, audit_id)
    assert accepted["stage"] == "dispute_window" and not accepted["overdue"]


async def test_easter_moves_the_completion_and_qa_deadlines(api, env):
    good_friday = bank_holiday("Good Friday")
    maundy_thursday = good_friday - timedelta(days=1)
    # Allocated one calendar month before a day of the Easter weekend (Good Friday to Easter Monday;
    # the first that is exactly a month after some day: 26 February -> Good Friday 26 March in 2027).
    allocated_on = next(
        d - relativedelta(months=1)
        for d in (good_friday + timedelta(days=n) for n in range(4))
        if d - relativedelta(months=1) + relativedelta(months=1) == d
    )
    # A February day is in a standard cycle; March holds peer audits, and MASH audits (R-KIND-4).
    area = "safeguarding" if allocated_on.month == 2 else "mash"
    await skip_to(env, at(allocated_on, 10))
    allocated = await allocate(api, cycle=cycle_of(allocated_on.month), service_area=area)
    # R-AUD-1 Decision: the month ends on an Easter holiday or weekend, so back to Maundy Thursday.
    assert deadline(allocated, "completion_due") == completion_due(allocated_on) == end_of(maundy_thursday)
    await skip_to(env, at(maundy_thursday, 11))
    await complete(api, env, allocated["audit_id"], area=area)
    submitted = await submit(api, allocated["audit_id"])
    # One working day after Thursday: Friday and Monday are bank holidays, so Tuesday.
    assert deadline(submitted, "qa_due") == end_of(good_friday + timedelta(days=4))


async def test_completion_deadline_passing_unsubmitted_tells_auditor_and_team_manager(api, env, sent):
    await skip_to(env, OPENS)
    allocated = await allocate(api)
    audit_id = allocated["audit_id"]
    due = completion_due(OPENS.date())  # R-AUD-1: a month on
    assert deadline(allocated, "completion_due") == due
    await skip_to(env, due + timedelta(minutes=1))
    v = await view(api, audit_id)
    assert v["overdue_steps"] == ["completion"] and v["stage"] == "allocated"
    assert [(r, s.split(":")[0]) for c, r, s in told(sent, audit_id)][-1] == (["tm2", "tm1"], "Audit overdue")
    await complete(api, env, audit_id)
    assert not (await submit(api, audit_id))["overdue"]


async def test_reassignment_keeps_every_deadline(api, env, sent):
    await skip_to(env, OPENS)
    allocated = await allocate(api)
    audit_id = allocated["audit_id"]
    await env.sleep(days(3))
    # The auditor's Head of Service names another senior member of the same service (R-ALLOC-3).
    r = await api.as_("hos1").post(
        f"/audits/{audit_id}/reassign", json={"auditor_id": "hos1", "reason": "the auditor is on sick leave"}
    )
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["auditor_id"] == "hos1"
    assert moved["deadlines"]["completion_due"] == allocated["deadlines"]["completion_due"]
    assert told(sent, audit_id)[-1][:2] == ("email", ["hos1", "tm2", "tm1"])
    # The previous auditor can no longer act; the new one can.
    r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=grading())
    assert r.status_code == 403 and r.json()["detail"] == "only its auditor may do this"
    await complete(api, env, audit_id, auditor="hos1")
    assert (await submit(api, audit_id, "hos1"))["stage"] == "awaiting_qa"

    r = await api.as_("piat1").post(f"/audits/{audit_id}/reassign", json={"auditor_id": "iro1", "reason": "cover"})
    assert r.status_code == 422 and "must work in the safeguarding service (R-ALLOC-3)" in r.json()["detail"]
    r = await api.as_("sw2").post(f"/audits/{audit_id}/reassign", json={"auditor_id": "tm2", "reason": "x"})
    assert r.status_code == 403


async def test_inadequate_alerts_the_head_of_service(api, env, sent):
    await skip_to(env, OPENS)
    audit_id = (await allocate(api, cp_chair_or_iro_id=None))["audit_id"]
    await complete(api, env, audit_id, grade="requires_improvement", overall="inadequate")
    await submit(api, audit_id)
    await qa(api, audit_id)
    await env.sleep(days(10))
    mosaic = [(c, r) for c, r, _ in told(sent, audit_id) if c.startswith("mosaic")]
    assert mosaic == [("mosaic_case_note", ["sw1", "tm1", "hos1"]), ("mosaic_alert", ["sw1", "tm1", "hos1"])]
    [case_note] = [n for n in sent(audit_id) if n.channel == "mosaic_case_note"]
    assert "overall grading: inadequate" in case_note.body


async def test_dispute_window_holds_the_mosaic_upload(api, env, sent):
    await skip_to(env, at(MONDAY))
    audit_id = (await allocate(api))["audit_id"]
    await complete(api, env, audit_id)
    await submit(api, audit_id)
    accepted = await qa(api, audit_id)
    closes = deadline_after(MONDAY, 5)  # 5 working days (R-DIST-4): the next Monday, or later for a holiday
    assert deadline(accepted, "dispute_window_closes") == closes
    assert accepted["waiting_for"]["from_staff_ids"] == ["sw1", "tm1"]

    await skip_to(env, closes - timedelta(minutes=5))
    assert (await view(api, audit_id))["stage"] == "dispute_window"
    assert not [c for c, _, _ in told(sent, audit_id) if c.startswith("mosaic")]
    await skip_to(env, closes + timedelta(minutes=5))
    assert (await view(api, audit_id))["stage"] == "completed"
    assert [c for c, _, _ in told(sent, audit_id) if c.startswith("mosaic")] == ["mosaic_case_note", "mosaic_alert"]


async def test_previous_practitioner_feedback_goes_to_them_and_their_team_manager(api, env, sent, smtp):
    await skip_to(env, OPENS)
    audit_id = (await allocate(api))["audit_id"]
    r = await api.as_("tm2").post(
        f"/audits/{audit_id}/previous-practitioner-feedback", json={"staff_id": "sw3", "findings": "Strong direct work"}
    )
    assert r.status_code == 200, r.text
    assert told(sent, audit_id)[-1][:2] == ("email", ["sw3", "tm2"])
    assert "Strong direct work" in (await mail_to(smtp, "sw3@council.example"))[0].get_content()
    r = await api.as_("tm2").post(f"/audits/{audit_id}/previous-practitioner-feedback", json={"staff_id": "sw1", "findings": "x"})
    assert r.status_code == 422


async def test_notifications_endpoint_lists_what_was_sent(api, env):
    await skip_to(env, OPENS)
    audit_id = (await allocate(api))["audit_id"]
    r = await api.as_("sw1").get(f"/audits/{audit_id}/notifications")
    assert r.status_code == 200
    [allocation_mail] = r.json()
    assert allocation_mail["channel"] == "email" and allocation_mail["recipient_ids"] == ["tm2", "tm1", "sw1"]
    assert at_london(allocation_mail["at"]) - OPENS < timedelta(minutes=1)  # simulated time
    assert (await api.as_("sw3").get(f"/audits/{audit_id}/notifications")).status_code == 403
