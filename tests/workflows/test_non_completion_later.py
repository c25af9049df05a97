"""R-QA-4 past an audit's own cycle: an audit is due a month after allocation, so one allocated
late in its cycle is "not yet due" at that cycle's close. Each later close lists it, with its own
cycle and days late, for as long as it stays incomplete past its deadline."""

from datetime import timedelta

from models.cycle_audits import CycleAudits, non_completion
from models.tables import AuditRecord
from tests.helpers.dates import YEAR, at, completion_due, cycle, cycle_closes, cycle_opens, day, working_day_on_or_after
from tests.helpers import allocate, at_london, complete, mail_to, skip_to, submit
from tests.helpers.cycles import start_cycle
from tests.helpers.web import pages

JANUARY, FEBRUARY = cycle(1), cycle(2)


async def report(api, the_cycle: str) -> dict:
    r = await api.as_("hos1").get(f"/cycles/{the_cycle}/non-completion")
    assert r.status_code == 200, r.text
    [section] = r.json()["services"]
    return section


async def test_an_audit_overdue_after_its_cycle_closed_is_in_the_next_cycle_s_report(api, env, client, settings, smtp):
    await start_cycle(client, settings, JANUARY)
    await start_cycle(client, settings, FEBRUARY)
    allocated_on = working_day_on_or_after(day(1, 15))  # mid-January: due in mid-February
    await skip_to(env, at(allocated_on, 10))
    late_audit = await allocate(api, case_ref="C-2", auditor_id="piat1", cycle=JANUARY)
    late = late_audit["audit_id"]
    due = at_london(late_audit["deadlines"]["completion_due"])
    assert due == completion_due(allocated_on) and cycle_closes(1) < due < cycle_closes(2)
    days_late = (cycle_closes(2) - due).days
    assert days_late > 0
    done = (await allocate(api, case_ref="C-1", cycle=JANUARY))["audit_id"]
    await complete(api, env, done)
    await submit(api, done)  # with PIAT for QA: the auditor's part is done, past its deadline too

    # At January's close it is not yet due: in January's own list, as before.
    await skip_to(env, cycle_closes(1) + timedelta(minutes=1))
    january = await report(api, JANUARY)
    assert [(a["audit_id"], a["days_late"], a["cycle"]) for a in january["not_complete"]] == [(late, 0, JANUARY)]
    assert january["overdue_from_other_cycles"] == []

    await skip_to(env, cycle_opens(2) + timedelta(minutes=1))
    fresh = (await allocate(api, case_ref="C-3", cycle=FEBRUARY))["audit_id"]  # February's own, not yet due
    await skip_to(env, cycle_closes(2) + timedelta(minutes=1))
    february = await report(api, FEBRUARY)
    assert (february["service_area"], february["sent_to"], february["allocated"]) == ("safeguarding", ["hos1"], 1)
    assert [(a["audit_id"], a["days_late"]) for a in february["not_complete"]] == [(fresh, 0)]
    [overdue] = february["overdue_from_other_cycles"]
    assert (overdue["audit_id"], overdue["cycle"], overdue["auditor_id"], overdue["stage"], overdue["days_late"]) == (
        late,
        JANUARY,
        "piat1",
        "allocated",
        days_late,
    )

    mails = await mail_to(smtp, "hos1@council.example", 2)
    [mail] = [m for m in mails if m["Subject"] == f"Audits not complete: February {YEAR} cycle, safeguarding"]
    body = mail.get_content()
    assert "case C-2" in body and f"{days_late} days late" in body and f"January {YEAR} cycle" in body
    assert "case C-1" not in body
    page = (await pages(api, "hos1").get(f"/app/cycles/{FEBRUARY}")).text
    assert "Overdue from other cycles, safeguarding" in page and f'href="/app/audits/{late}"' in page


def _row(audit_id: str, the_cycle: str, service: str, due) -> AuditRecord:
    return AuditRecord(
        audit_id=audit_id,
        case_ref=f"C-{audit_id}",
        cycle=the_cycle,
        service_area=service,
        kind="standard",
        stage="allocated",
        auditor_id="sm1",
        practitioner_id="sw9",
        team_manager_id="tm9",
        overdue=True,
        completion_due=due,
        reaudit_round=0,
        chain_id=audit_id,
        updated_at=due,
        view={},
    )


def test_an_overdue_audit_is_listed_once_and_a_service_with_only_those_gets_its_section():
    closes = cycle_closes(2)
    own = _row("a1", FEBRUARY, "safeguarding", closes - timedelta(days=2))  # February's, and overdue: its own list only
    earlier = _row("a2", JANUARY, "mash", closes - timedelta(days=9))
    held = CycleAudits(allocated=[own], reaudits_due=[], carried_over=[])
    mash, safeguarding = non_completion(held, closes, {"safeguarding": ["hos1"]}, ["piatmgr1"], [own, earlier])
    assert [(a.audit_id, a.cycle, a.days_late) for a in safeguarding.not_complete] == [("a1", FEBRUARY, 2)]
    assert safeguarding.overdue_from_other_cycles == []
    assert (mash.allocated, mash.not_complete, mash.sent_to) == (0, [], ["piatmgr1"])
    assert [(a.audit_id, a.cycle, a.days_late) for a in mash.overdue_from_other_cycles] == [("a2", JANUARY, 9)]
