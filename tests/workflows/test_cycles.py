"""The audit year (R-CAL-3, R-CAL-4): each cycle a workflow, `cycle-YYYY-MM`, opened on its first
working day, listing what it holds, carrying its theme, and reporting non-completion to each Head
of Service at its close (R-QA-4). The Schedule that starts them is checked against the real dev
server in tests/workflows/test_cycle_schedule.py; here the starter runs when the Schedule would run it."""

from datetime import datetime, timedelta

from models.cycle_audits import CycleAudits, non_completion
from models.cycle_views import CycleStarterInput
from models.tables import AuditRecord
from tests.helpers.dates import (
    YEAR,
    at,
    completion_due,
    cycle,
    cycle_closes,
    cycle_opens,
    deadline_after,
    first_working_day,
    last_working_day,
    working_days_after,
)
from tests.helpers import (
    allocate,
    at_london,
    audit_to_report,
    complete,
    deadline,
    london,
    mail_to,
    qa,
    skip_to,
    submit,
    today,
    view,
)
from tests.faults.harness import skip_until  # a day at a time: a cycle's close holds the clock
from tests.helpers.cases import upload
from tests.helpers.cycles import start_cycle
from workflows.cycle import CycleStarterWorkflow

# The ten cycle months (none in August or December) and, for each, its first and last working
# day in the suite's year: a weekend or an England bank holiday (New Year's Day, the early May or
# spring bank holiday) moves the opening on and the close back.
CYCLE_MONTHS = (1, 2, 3, 4, 5, 6, 7, 9, 10, 11)
OPENS_AND_CLOSES = {cycle(m): (first_working_day(YEAR, m), last_working_day(YEAR, m)) for m in CYCLE_MONTHS}
JANUARY, FEBRUARY, MAY = cycle(1), cycle(2), cycle(5)


async def get_cycle(api, cycle: str, as_="piat1") -> dict:
    r = await api.as_(as_).get(f"/cycles/{cycle}")
    assert r.status_code == 200, r.text
    return r.json()


def entry(cycle: dict, action: str) -> datetime:
    """When the cycle recorded `action`, to the minute (its activities take a few milliseconds)."""
    [when] = [at_london(h["at"]) for h in cycle["history"] if h["action"] == action]
    return when.replace(second=0, microsecond=0)


async def test_each_cycle_opens_on_its_first_working_day_and_closes_on_its_last(api, env, client, settings):
    """A year in seconds: the starter runs at 06:00 on the 1st of every month, as the Schedule
    would (the Schedule itself fires in none but the ten cycle months)."""
    for month in range(1, 13):
        await skip_until(env, london(YEAR, month, 1, 6))
        handle = await client.start_workflow(
            CycleStarterWorkflow.run, CycleStarterInput(), id=f"cycle-starter-{month}", task_queue=settings.temporal_task_queue
        )
        this = cycle(month)
        with env.auto_time_skipping_disabled():  # the clock stays at 06:00 on the 1st
            result = await handle.result()
        assert result == {
            MAY: f"cycle-{MAY} was already running",
            cycle(8): f"{cycle(8)} holds no audit cycle",
            cycle(12): f"{cycle(12)} holds no audit cycle",
        }.get(this, f"started cycle-{this}")
        if month == 4:  # PIAT sets May's theme in April, which starts May's cycle early
            assert (await api.as_("piat1").put(f"/cycles/{MAY}/theme", json={"theme": "Neglect"})).status_code == 200

    await skip_until(env, london(YEAR, 12, 1, 9))
    for month, (opens, closes) in zip(CYCLE_MONTHS, OPENS_AND_CLOSES.values(), strict=True):
        c = await get_cycle(api, cycle(month))
        assert c["status"] == "closed"
        assert entry(c, "cycle opened") == cycle_opens(month)  # 09:00 on its first working day
        assert entry(c, "cycle closed") == cycle_closes(month)  # 17:00 on its last
        assert (c["first_working_day"], c["last_working_day"]) == (opens.isoformat(), closes.isoformat())
        # February, June and October convene SLT's moderation panel as they open (R-MOD-1).
        moderates = month in (2, 6, 10)
        assert c["moderation_panel_id"] == (f"moderation-{cycle(month)}" if moderates else None)
        panel = await api.as_("piat1").get(f"/moderation-panels/{cycle(month)}")
        assert panel.status_code == (200 if moderates else 422), panel.text
    r = await api.as_("piat1").get(f"/cycles/{cycle(8)}")
    assert r.status_code == 422 and "August or December" in r.json()["detail"]


async def test_the_year_lists_each_month_s_kind_theme_and_second_activity(api, env):
    r = await api.as_("tm1").get("/cycles", params={"year": YEAR})
    assert r.status_code == 200, r.text
    year = {c["cycle"]: c for c in r.json()}
    assert list(year) == list(OPENS_AND_CLOSES)
    assert {c: (v["kind"], v["second_activity"]) for c, v in year.items()} == {
        cycle(1): ("standard", "re-audits"), cycle(2): ("standard", "moderation"), cycle(3): ("peer", "re-audits"),
        cycle(4): ("standard", "re-audits"), cycle(5): ("themed", "re-audits"), cycle(6): ("peer", "moderation"),
        cycle(7): ("standard", "re-audits"), cycle(9): ("standard", "re-audits"), cycle(10): ("themed", "moderation"),
        cycle(11): ("standard", "re-audits"),
    }  # fmt: skip
    assert {c: (v["first_working_day"], v["last_working_day"]) for c, v in year.items()} == {
        c: (opens.isoformat(), closes.isoformat()) for c, (opens, closes) in OPENS_AND_CLOSES.items()
    }
    assert year[MAY]["first_working_day"] == first_working_day(YEAR, 5).isoformat() and year[MAY]["status"] == "not started"


async def test_a_themed_cycle_carries_its_topic(api, env, client):
    await skip_to(env, cycle_opens(1))  # a theme is set ahead of its month, within the year planned ahead
    r = await api.as_("tm1").put(f"/cycles/{MAY}/theme", json={"theme": "Neglect"})
    assert r.status_code == 403
    r = await api.as_("piat1").put(f"/cycles/{cycle(4)}/theme", json={"theme": "Neglect"})
    assert r.status_code == 422 and "not a themed cycle" in r.json()["detail"]
    r = await api.as_("piat1").put(f"/cycles/{MAY}/theme", json={"theme": "  "})
    assert r.status_code == 422 and "theme" in r.json()["detail"]

    r = await api.as_("piat1").put(f"/cycles/{MAY}/theme", json={"theme": "Neglect"})
    assert r.status_code == 200, r.text
    assert (r.json()["theme"], r.json()["status"]) == ("Neglect", "planned")  # started early, waiting for May
    r = await api.as_("piat1").put(f"/cycles/{MAY}/theme", json={"theme": "Neglect and its impact"})
    assert r.json()["theme"] == "Neglect and its impact"
    year = {c["cycle"]: c for c in (await api.as_("piat1").get("/cycles", params={"year": YEAR})).json()}
    assert (year[MAY]["theme"], year[cycle(10)]["theme"]) == ("Neglect and its impact", None)

    # A selection for the themed cycle takes its topic; one for a cycle with none is refused.
    await upload(
        api,
        f"case_ref,service_area,practitioner_id,involvement_start,cp_chair_or_iro_id\nC-1,safeguarding,sw1,{YEAR - 1}-01-05,\n",
    )
    r = await api.as_("piat1").post(f"/cycles/{MAY}/selections", json={"per_team": 1, "seed": 7})
    assert r.status_code == 201, r.text
    assert r.json()["theme"] == "Neglect and its impact"
    r = await api.as_("piat1").post(f"/cycles/{cycle(10)}/selections", json={"per_team": 1})
    assert r.status_code == 422 and "PUT /cycles/{cycle}/theme" in r.json()["detail"]

    await skip_to(env, cycle_opens(6))  # May's cycle has closed
    r = await api.as_("piat1").put(f"/cycles/{MAY}/theme", json={"theme": "Too late"})
    assert r.status_code == 409 and "ended" in r.json()["detail"], r.text
    assert (await get_cycle(api, MAY))["theme"] == "Neglect and its impact"


async def test_a_carried_over_audit_appears_in_the_next_cycle_beside_a_new_allocation(api, env, client, settings):
    await skip_to(env, at(working_days_after(first_working_day(YEAR, 1), 5)))  # a week into January's cycle
    carried = (await allocate(api, case_ref="C-1"))["audit_id"]
    await complete(api, env, carried)
    await submit(api, carried)
    returned = await qa(api, carried, "return", details="Rationale too thin")
    await skip_to(env, deadline(returned, "revision_due").replace(hour=17, minute=1))
    assert (await view(api, carried))["carried_into_cycle"] == FEBRUARY  # R-QA-3
    await start_cycle(client, settings, FEBRUARY)
    fresh = (await allocate(api, case_ref="C-2", cycle=FEBRUARY))["audit_id"]  # the auditor still gets one

    await skip_to(env, cycle_opens(2) + timedelta(minutes=1))
    c = await get_cycle(api, FEBRUARY)
    assert c["status"] == "open"
    assert c["opened_with"] == {"allocated": 1, "reaudits_due": 0, "carried_over": 1}
    [over] = c["carried_over_audits"]
    assert (over["audit_id"], over["auditor_id"], over["stage"]) == (carried, "tm2", "not_accepted")
    assert at_london(over["completion_due"]) == cycle_closes(2)  # its new due date: February's close
    assert [(a["audit_id"], a["auditor_id"]) for a in c["allocated_audits"]] == [(fresh, "tm2")]
    assert (c["carried_over"], c["audits_by_stage"]) == (1, {"allocated": 1})
    # It keeps its history: allocated in January, returned, not accepted.
    assert [h["action"] for h in (await view(api, carried))["history"]][-2:] == ["quality assurance: return", "not accepted"]


async def test_the_cycle_lists_the_reaudits_due_in_it(api, env):
    await skip_to(env, cycle_opens(7))
    audit_id = await audit_to_report(api, env, "requires_improvement", cycle=cycle(7))
    # Final once its 5-working-day dispute window closes: a re-audit is planned for September (R-RE-1).
    await skip_to(env, deadline_after(cycle_opens(7), 5) + timedelta(minutes=5))
    c = await get_cycle(api, cycle(9))
    assert [(a["audit_id"], a["stage"]) for a in c["reaudits"]] == [(audit_id, "reaudit_planned")]
    assert c["reaudits_due"] == 1

    await skip_to(env, cycle_opens(9) + timedelta(minutes=5))  # the re-audit starts with the cycle
    c = await get_cycle(api, cycle(9))
    assert [(a["kind"], a["stage"]) for a in c["reaudits"]] == [("reaudit", "allocated")]
    assert c["audits_by_stage"] == {"allocated": 1}


async def test_non_completion_is_reported_to_each_head_of_service_at_the_close(api, env, client, settings, smtp, sent):
    # Allocated now (the test server starts at the machine's time, before the suite's January):
    # due a month on, so past due when the cycle closes on its last working day. January's, unless
    # the suite runs in the last days of December: then February's, the next standard cycle.
    month = 1 if completion_due(await today(env)) < cycle_closes(1) else 2
    closes, the_cycle = cycle_closes(month), cycle(month)
    await start_cycle(client, settings, the_cycle)
    late_audit = await allocate(api, case_ref="C-2", auditor_id="piat1", cycle=the_cycle)
    late = late_audit["audit_id"]
    days_late = (closes - at_london(late_audit["deadlines"]["completion_due"])).days
    assert days_late > 0
    await skip_to(env, at(first_working_day(YEAR, month), 10))
    done = (await allocate(api, case_ref="C-1", cycle=the_cycle))["audit_id"]
    await complete(api, env, done)
    await submit(api, done)  # the auditor's part is done: with PIAT for QA

    r = await api.as_("piat1").get(f"/cycles/{the_cycle}/non-completion")
    assert r.status_code == 404 and f"{closes:%A %d %B %Y} 17:00" in r.json()["detail"]
    await skip_to(env, closes + timedelta(minutes=1))
    r = await api.as_("hos1").get(f"/cycles/{the_cycle}/non-completion")
    assert r.status_code == 200, r.text
    report = r.json()
    # Sent at the close, once the close's activities have run: they take real time (the test
    # server skips only idle time), so a busy machine adds a second or two.
    assert closes <= at_london(report["reported_at"]) < closes + timedelta(minutes=1)
    [section] = report["services"]
    assert (section["service_area"], section["head_of_service_ids"], section["sent_to"], section["allocated"]) == (
        "safeguarding",
        ["hos1"],
        ["hos1"],
        2,
    )
    [missing] = section["not_complete"]
    assert (missing["audit_id"], missing["auditor_id"], missing["stage"], missing["days_late"]) == (
        late,
        "piat1",
        "allocated",
        days_late,
    )

    [mail] = await mail_to(smtp, "hos1@council.example")
    assert mail["Subject"] == f"Audits not complete: {closes:%B %Y} cycle, safeguarding"
    body = mail.get_content()
    assert "case C-2" in body and "auditor Priya Audit" in body and f"{days_late} days late" in body and "C-1" not in body
    assert [n.recipient_ids for n in sent(f"cycle-{the_cycle}")] == [["hos1"]]
    assert (await api.as_("piat1").get(f"/cycles/{the_cycle}/non-completion")).json() == report
    assert (await api.as_("tm1").get(f"/cycles/{the_cycle}/non-completion")).status_code == 403


def test_a_service_without_a_head_of_service_is_reported_to_the_pia_manager():
    closes = cycle_closes(1)
    row = AuditRecord(
        audit_id="a1",
        case_ref="C-9",
        cycle=JANUARY,
        service_area="mash",
        kind="standard",
        stage="initially_graded",
        auditor_id="sm1",
        practitioner_id="sw9",
        team_manager_id="tm9",
        overdue=True,
        completion_due=closes - timedelta(days=7),
        reaudit_round=0,
        chain_id="a1",
        updated_at=closes,
        view={},
    )
    [mash] = non_completion(
        CycleAudits(allocated=[row], reaudits_due=[], carried_over=[]), closes, {"safeguarding": ["hos1"]}, ["piatmgr1"]
    )
    assert (mash.service_area, mash.head_of_service_ids, mash.sent_to) == ("mash", [], ["piatmgr1"])
    assert [(a.audit_id, a.days_late) for a in mash.not_complete] == [("a1", 7)]
