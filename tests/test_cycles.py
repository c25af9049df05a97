"""The audit year (R-CAL-3, R-CAL-4): each cycle a workflow, `cycle-YYYY-MM`, opened on its first
working day, listing what it holds, carrying its theme, and reporting non-completion to each Head
of Service at its close (R-QA-4). The Schedule that starts them is checked against the real dev
server in tests/test_cycle_schedule.py; here the starter runs when the Schedule would run it."""

from datetime import datetime

from models.cycle_audits import CycleAudits, non_completion
from models.cycle_views import CycleInput, CycleStarterInput
from models.tables import AuditRecord
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
    view,
)
from tests.faults.harness import skip_until  # a day at a time: a cycle's close holds the clock
from tests.test_cases import upload
from workflows.cycle import CycleStarterWorkflow, CycleWorkflow

# Worked out by hand from the 2027 calendar: a weekend or an England bank holiday moves the
# opening on (New Year's Day, Friday 1 January; the early May bank holiday, Monday 3 May) and
# the close back (the spring bank holiday, Monday 31 May).
OPENS_AND_CLOSES_2027 = {
    "2027-01": ((1, 4), (1, 29)), "2027-02": ((2, 1), (2, 26)), "2027-03": ((3, 1), (3, 31)),
    "2027-04": ((4, 1), (4, 30)), "2027-05": ((5, 4), (5, 28)), "2027-06": ((6, 1), (6, 30)),
    "2027-07": ((7, 1), (7, 30)), "2027-09": ((9, 1), (9, 30)), "2027-10": ((10, 1), (10, 29)),
    "2027-11": ((11, 1), (11, 30)),
}  # fmt: skip


async def start_cycle(client, settings, cycle: str):
    """As the Schedule's starter does on the 1st (tests below that need only the cycle)."""
    return await client.start_workflow(CycleWorkflow.run, CycleInput(cycle=cycle), id=f"cycle-{cycle}",
                                       task_queue=settings.temporal_task_queue)


async def get_cycle(api, cycle: str, as_="piat1") -> dict:
    r = await api.as_(as_).get(f"/cycles/{cycle}")
    assert r.status_code == 200, r.text
    return r.json()


def entry(cycle: dict, action: str) -> datetime:
    """When the cycle recorded `action`, to the minute (its activities take a few milliseconds)."""
    [at] = [at_london(h["at"]) for h in cycle["history"] if h["action"] == action]
    return at.replace(second=0, microsecond=0)


async def test_each_cycle_opens_on_its_first_working_day_and_closes_on_its_last(api, env, client, settings):
    """A year in seconds: the starter runs at 06:00 on the 1st of every month, as the Schedule
    would (the Schedule itself fires in none but the ten cycle months)."""
    for month in range(1, 13):
        await skip_until(env, london(2027, month, 1, 6))
        handle = await client.start_workflow(CycleStarterWorkflow.run, CycleStarterInput(), id=f"cycle-starter-{month}",
                                             task_queue=settings.temporal_task_queue)
        cycle = f"2027-{month:02d}"
        with env.auto_time_skipping_disabled():  # the clock stays at 06:00 on the 1st
            result = await handle.result()
        assert result == {"2027-05": "cycle-2027-05 was already running", "2027-08": "2027-08 holds no audit cycle",
                          "2027-12": "2027-12 holds no audit cycle"}.get(cycle, f"started cycle-{cycle}")
        if month == 4:  # PIAT sets May's theme in April, which starts May's cycle early
            assert (await api.as_("piat1").put("/cycles/2027-05/theme", json={"theme": "Neglect"})).status_code == 200

    await skip_until(env, london(2027, 12, 1, 9))
    for cycle, ((om, od), (cm, cd)) in OPENS_AND_CLOSES_2027.items():
        c = await get_cycle(api, cycle)
        assert c["status"] == "closed"
        assert entry(c, "cycle opened") == london(2027, om, od, 9)
        assert entry(c, "cycle closed") == london(2027, cm, cd, 17)
        assert (c["first_working_day"], c["last_working_day"]) == (f"2027-{om:02d}-{od:02d}", f"2027-{cm:02d}-{cd:02d}")
        # February, June and October convene SLT's moderation panel as they open (R-MOD-1).
        moderates = om in (2, 6, 10)
        assert c["moderation_panel_id"] == (f"moderation-{cycle}" if moderates else None)
        panel = await api.as_("piat1").get(f"/moderation-panels/{cycle}")
        assert panel.status_code == (200 if moderates else 422), panel.text
    r = await api.as_("piat1").get("/cycles/2027-08")
    assert r.status_code == 422 and "August or December" in r.json()["detail"]


async def test_the_year_lists_each_month_s_kind_theme_and_second_activity(api, env):
    r = await api.as_("tm1").get("/cycles", params={"year": 2027})
    assert r.status_code == 200, r.text
    year = {c["cycle"]: c for c in r.json()}
    assert list(year) == list(OPENS_AND_CLOSES_2027)
    assert {c: (v["kind"], v["second_activity"]) for c, v in year.items()} == {
        "2027-01": ("standard", "re-audits"), "2027-02": ("standard", "moderation"), "2027-03": ("peer", "re-audits"),
        "2027-04": ("standard", "re-audits"), "2027-05": ("themed", "re-audits"), "2027-06": ("peer", "moderation"),
        "2027-07": ("standard", "re-audits"), "2027-09": ("standard", "re-audits"), "2027-10": ("themed", "moderation"),
        "2027-11": ("standard", "re-audits"),
    }  # fmt: skip
    assert year["2027-05"]["first_working_day"] == "2027-05-04" and year["2027-05"]["status"] == "not started"


async def test_a_themed_cycle_carries_its_topic(api, env, client):
    r = await api.as_("tm1").put("/cycles/2027-05/theme", json={"theme": "Neglect"})
    assert r.status_code == 403
    r = await api.as_("piat1").put("/cycles/2027-04/theme", json={"theme": "Neglect"})
    assert r.status_code == 422 and "not a themed cycle" in r.json()["detail"]
    r = await api.as_("piat1").put("/cycles/2027-05/theme", json={"theme": "  "})
    assert r.status_code == 422 and "theme" in r.json()["detail"]

    r = await api.as_("piat1").put("/cycles/2027-05/theme", json={"theme": "Neglect"})
    assert r.status_code == 200, r.text
    assert (r.json()["theme"], r.json()["status"]) == ("Neglect", "planned")  # started early, waiting for May
    r = await api.as_("piat1").put("/cycles/2027-05/theme", json={"theme": "Neglect and its impact"})
    assert r.json()["theme"] == "Neglect and its impact"
    year = {c["cycle"]: c for c in (await api.as_("piat1").get("/cycles", params={"year": 2027})).json()}
    assert (year["2027-05"]["theme"], year["2027-10"]["theme"]) == ("Neglect and its impact", None)

    # A selection for the themed cycle takes its topic; one for a cycle with none is refused.
    await upload(api, "case_ref,service_area,practitioner_id,involvement_start,cp_chair_or_iro_id\nC-1,safeguarding,sw1,2026-01-05,\n")
    r = await api.as_("piat1").post("/cycles/2027-05/selections", json={"per_team": 1, "seed": 7})
    assert r.status_code == 201, r.text
    assert r.json()["theme"] == "Neglect and its impact"
    r = await api.as_("piat1").post("/cycles/2027-10/selections", json={"per_team": 1})
    assert r.status_code == 422 and "PUT /cycles/{cycle}/theme" in r.json()["detail"]

    await skip_to(env, london(2027, 6, 1, 9))
    r = await api.as_("piat1").put("/cycles/2027-05/theme", json={"theme": "Too late"})
    assert r.status_code == 409 and "ended" in r.json()["detail"], r.text
    assert (await get_cycle(api, "2027-05"))["theme"] == "Neglect and its impact"


async def test_a_carried_over_audit_appears_in_the_next_cycle_beside_a_new_allocation(api, env, client, settings):
    await skip_to(env, london(2027, 1, 11, 9))
    carried = (await allocate(api, case_ref="C-1"))["audit_id"]
    await complete(api, env, carried)
    await submit(api, carried)
    returned = await qa(api, carried, "return", details="Rationale too thin")
    await skip_to(env, deadline(returned, "revision_due").replace(hour=17, minute=1))
    assert (await view(api, carried))["carried_into_cycle"] == "2027-02"  # R-QA-3
    await start_cycle(client, settings, "2027-02")
    fresh = (await allocate(api, case_ref="C-2", cycle="2027-02"))["audit_id"]  # the auditor still gets one

    await skip_to(env, london(2027, 2, 1, 9, 1))
    c = await get_cycle(api, "2027-02")
    assert c["status"] == "open"
    assert c["opened_with"] == {"allocated": 1, "reaudits_due": 0, "carried_over": 1}
    [over] = c["carried_over_audits"]
    assert (over["audit_id"], over["auditor_id"], over["stage"]) == (carried, "tm2", "not_accepted")
    assert at_london(over["completion_due"]) == london(2027, 2, 26, 17)  # its new due date
    assert [(a["audit_id"], a["auditor_id"]) for a in c["allocated_audits"]] == [(fresh, "tm2")]
    assert (c["carried_over"], c["audits_by_stage"]) == (1, {"allocated": 1})
    # It keeps its history: allocated in January, returned, not accepted.
    assert [h["action"] for h in (await view(api, carried))["history"]][-2:] == ["quality assurance: return", "not accepted"]


async def test_the_cycle_lists_the_reaudits_due_in_it(api, env):
    await skip_to(env, london(2027, 7, 1, 9))
    audit_id = await audit_to_report(api, env, "requires_improvement", cycle="2027-07")
    await skip_to(env, london(2027, 7, 8, 17, 5))  # final: a re-audit is planned for September (R-RE-1)
    c = await get_cycle(api, "2027-09")
    assert [(a["audit_id"], a["stage"]) for a in c["reaudits"]] == [(audit_id, "reaudit_planned")]
    assert c["reaudits_due"] == 1

    await skip_to(env, london(2027, 9, 1, 9, 5))  # the re-audit starts with the cycle
    c = await get_cycle(api, "2027-09")
    assert [(a["kind"], a["stage"]) for a in c["reaudits"]] == [("reaudit", "allocated")]
    assert c["audits_by_stage"] == {"allocated": 1}


async def test_non_completion_is_reported_to_each_head_of_service_at_the_close(api, env, client, settings, smtp, sent):
    await start_cycle(client, settings, "2027-01")
    # Allocated now (the test server starts at today's real time, some weeks before the cycle):
    # due a month on, so well past due when the cycle closes on 29 January.
    late_audit = await allocate(api, case_ref="C-2", auditor_id="piat1")
    late = late_audit["audit_id"]
    days_late = (london(2027, 1, 29, 17) - at_london(late_audit["deadlines"]["completion_due"])).days
    assert days_late > 0
    await skip_to(env, london(2027, 1, 4, 10))
    done = (await allocate(api, case_ref="C-1"))["audit_id"]
    await complete(api, env, done)
    await submit(api, done)  # the auditor's part is done: with PIAT for QA

    r = await api.as_("piat1").get("/cycles/2027-01/non-completion")
    assert r.status_code == 404 and "Friday 29 January 2027 17:00" in r.json()["detail"]
    await skip_to(env, london(2027, 1, 29, 17, 1))
    r = await api.as_("hos1").get("/cycles/2027-01/non-completion")
    assert r.status_code == 200, r.text
    report = r.json()
    assert at_london(report["reported_at"]).replace(microsecond=0) == london(2027, 1, 29, 17)
    [section] = report["services"]
    assert (section["service_area"], section["head_of_service_ids"], section["sent_to"], section["allocated"]) == (
        "safeguarding", ["hos1"], ["hos1"], 2)
    [missing] = section["not_complete"]
    assert (missing["audit_id"], missing["auditor_id"], missing["stage"], missing["days_late"]) == (late, "piat1", "allocated", days_late)

    [mail] = await mail_to(smtp, "hos1@council.example")
    assert mail["Subject"] == "Audits not complete: January 2027 cycle, safeguarding"
    body = mail.get_content()
    assert "case C-2" in body and "auditor Priya Audit" in body and f"{days_late} days late" in body and "C-1" not in body
    assert [n.recipient_ids for n in sent("cycle-2027-01")] == [["hos1"]]
    assert (await api.as_("piat1").get("/cycles/2027-01/non-completion")).json() == report
    assert (await api.as_("tm1").get("/cycles/2027-01/non-completion")).status_code == 403


def test_a_service_without_a_head_of_service_is_reported_to_the_pia_manager():
    at = london(2027, 1, 29, 17)
    row = AuditRecord(audit_id="a1", case_ref="C-9", cycle="2027-01", service_area="mash", kind="standard", stage="initially_graded",
                      auditor_id="sm1", practitioner_id="sw9", team_manager_id="tm9", overdue=True, completion_due=london(2027, 1, 22, 17),
                      reaudit_round=0, chain_id="a1", updated_at=at, view={})
    [mash] = non_completion(CycleAudits(allocated=[row], reaudits_due=[], carried_over=[]), at, {"safeguarding": ["hos1"]}, ["piatmgr1"])
    assert (mash.service_area, mash.head_of_service_ids, mash.sent_to) == ("mash", [], ["piatmgr1"])
    assert [(a.audit_id, a.days_late) for a in mash.not_complete] == [("a1", 7)]
