"""The workload plan (decision 0043), worked out by hand from hand-built rows: each team's expected
draw shared evenly among its eligible auditors, the 12-month rule emptying a small team's list,
allocated months counted as they are, re-audits for their auditor, the moderation panels' load,
and the flag above the configured load. Real chains and panels: tests/api/test_plans_api.py."""

from datetime import UTC, datetime

from models.staff import StaffMember
from reports.plans import Allocated, Moderated, PlannedReaudit, TeamCases, plan
from reports.plans_csv import HEADER, plan_csv
from tests.helpers.dates import YEAR

NOW = datetime(YEAR - 1, 12, 1, 12, tzinfo=UTC)  # the December before the planned year


def member(id_, roles, team="Other", service="safeguarding") -> StaffMember:
    return StaffMember(id=id_, name=id_.upper(), email=f"{id_}@council.example", roles=roles, team=team, service_area=service)


STAFF = [
    member("piat1", ["piat"], "PIAT", "quality_assurance"),
    member("tm1", ["team_manager"], "A"),
    member("tm2", ["team_manager"], "B"),
    member("iro1", ["iro"], "QA", "quality_assurance"),
    member("swa", ["practitioner"], "A"),
    member("swb", ["practitioner"], "B"),
    member("sm1", ["senior_manager"], "Safeguarding"),
    member("slt1", ["slt_moderator"], "SLT", "children_social_care"),
    member("slt2", ["slt_moderator"], "SLT", "children_social_care"),
]
TEAMS = [TeamCases("safeguarding", "A", 5, frozenset({"tm1"})), TeamCases("safeguarding", "B", 1, frozenset({"tm2"}))]


def forecast(**kw):
    given = dict(per_team=2, max_per_month=2, moderation_per_service=2, generated_at=NOW)
    return plan(YEAR, STAFF, TEAMS, **(given | kw))


def loads(p, cycle: str) -> dict[str, tuple[float, int, float, float]]:
    month = next(m for m in p.months if m.cycle == cycle)
    return {c.staff_id: (c.selection, c.reaudits, c.moderations, c.total) for c in month.cells}


def test_each_team_s_draw_is_shared_evenly_among_the_auditors_eligible_for_it():
    p = forecast()
    assert [m.cycle for m in p.months] == [f"{YEAR}-{m:02d}" for m in (1, 2, 3, 4, 5, 6, 7, 9, 10, 11)]
    # January, standard: team A's 2 cases among piat1, tm2 and iro1 (never A's own manager, tm1),
    # 2/3 each; team B's 1 among piat1, tm1 and iro1, 1/3 each.
    assert loads(p, f"{YEAR}-01") == {
        "iro1": (1.0, 0, 0.0, 1.0),
        "piat1": (1.0, 0, 0.0, 1.0),
        "tm1": (0.33, 0, 0.0, 0.33),
        "tm2": (0.67, 0, 0.0, 0.67),
    }
    january = p.months[0]
    assert (january.kind, january.selection_basis, january.selection_audits, january.second_activity) == (
        "standard",
        "expected",
        3.0,
        "re-audits",
    )


def test_a_case_audited_this_year_is_not_drawn_again_and_peer_months_go_to_other_teams_practitioners():
    p = forecast()
    # February: team A has 3 cases left (2 drawn in January), draws 2; team B's one case is spent.
    assert {k: v[0] for k, v in loads(p, f"{YEAR}-02").items() if v[0]} == {"iro1": 0.67, "piat1": 0.67, "tm2": 0.67}
    # March, peer: team A's last case, to a practitioner of another team (swb), none of A's own.
    assert loads(p, f"{YEAR}-03") == {"swb": (1.0, 0, 0.0, 1.0)}
    assert p.months[2].kind == "peer"
    # April on: both lists are spent under the 12-month rule.
    assert all(m.selection_audits == 0 for m in p.months[3:])


def test_moderation_months_share_the_panel_s_expected_draw_among_the_slt_moderators_until_it_draws():
    drawn = [Moderated(f"{YEAR}-06", "slt1"), Moderated(f"{YEAR}-06", "slt1"), Moderated(f"{YEAR}-06", None)]
    p = forecast(moderated=drawn)
    assert [m.cycle for m in p.months if m.moderation_panel] == [f"{YEAR}-02", f"{YEAR}-06", f"{YEAR}-10"]
    # February: 2 audits for the one service with open cases, 1 each for slt1 and slt2.
    feb = loads(p, f"{YEAR}-02")
    assert (feb["slt1"], feb["slt2"]) == ((0.0, 0, 1.0, 1.0), (0.0, 0, 1.0, 1.0))
    june = next(m for m in p.months if m.cycle == f"{YEAR}-06")
    assert (june.moderation_basis, june.moderations) == ("drawn", 3.0)
    assert loads(p, f"{YEAR}-06") == {"slt1": (0.0, 0, 2.0, 2.0), "": (0.0, 0, 1.0, 1.0)}  # one unallocated
    assert not any(c.moderations for m in p.months if not m.moderation_panel for c in m.cells)


def test_re_audits_and_allocated_months_count_for_their_auditors_and_a_month_over_the_limit_is_flagged():
    reaudits = [
        PlannedReaudit("a1-r1", f"{YEAR}-04", "sm1", "safeguarding", allocated=False),
        PlannedReaudit("a2-r2", f"{YEAR}-04", None, "safeguarding", allocated=False),
        PlannedReaudit("a3-r1", f"{YEAR}-05", "tm1", "safeguarding", allocated=True),
    ]
    allocated = [Allocated(f"{YEAR}-05", "tm1", "safeguarding", "A") for _ in range(2)]
    p = forecast(reaudits=reaudits, allocated=allocated)
    april = next(m for m in p.months if m.cycle == f"{YEAR}-04")
    assert [(r.audit_id, r.auditor_id, r.status) for r in april.reaudits] == [
        ("a1-r1", "sm1", "planned"),
        ("a2-r2", None, "planned"),
    ]
    assert loads(p, f"{YEAR}-04") == {"sm1": (0.0, 1, 0.0, 1.0), "": (0.0, 1, 0.0, 1.0)}
    # May: its selection is allocated (2 audits for tm1), not expected; with a re-audit, 3 > 2.
    may = next(m for m in p.months if m.cycle == f"{YEAR}-05")
    assert (may.selection_basis, may.selection_audits) == ("allocated", 2.0)
    assert loads(p, f"{YEAR}-05") == {"tm1": (2.0, 1, 0.0, 3.0)}
    assert [(f.cycle, f.staff_id, f.total) for f in p.flags] == [(f"{YEAR}-05", "tm1", 3.0)]
    assert [c.over for c in may.cells] == [True]
    assert "" not in p.staff_ids and "sm1" in p.staff_ids


def test_a_total_exactly_at_the_limit_is_not_flagged_and_nobody_eligible_is_listed_unnamed():
    p = forecast(max_per_month=1)
    # January's piat1 holds 2/3 + 1/3, and February's moderators 1 each: at the limit, not above it.
    assert (loads(p, f"{YEAR}-01")["piat1"][3], loads(p, f"{YEAR}-02")["slt1"][3]) == (1.0, 1.0)
    assert p.flags == []
    mash = plan(
        YEAR,
        [member("piat1", ["piat"])],
        [TeamCases("mash", "MASH", 3)],
        per_team=2,
        max_per_month=4,
        moderation_per_service=2,
        generated_at=NOW,
    )
    # MASH cases go to senior managers of Safeguarding or QA only: nobody here, so PIAT names one.
    assert loads(mash, f"{YEAR}-01") == {"": (2.0, 0, 0.0, 2.0)}
    assert mash.months[0].kind == "standard" and mash.flags == []


def test_the_csv_holds_one_person_s_month_a_line():
    p = forecast()
    lines = plan_csv(p).splitlines()
    assert tuple(lines[0].split(",")) == HEADER
    assert f"{YEAR}-01,tm2,0.67,0,0.0,0.67,false,2" in lines
    assert f"{YEAR}-03,swb,1.0,0,0.0,1.0,false,2" in lines
    assert len(lines) == 1 + sum(len(m.cells) for m in p.months)


def test_a_case_audited_in_the_12_months_before_the_year_stays_out_until_12_months_after_its_audit():
    team = TeamCases("safeguarding", "A", 3, frozenset({"tm1"}), audited_before=(f"{YEAR - 1}-10", f"{YEAR - 1}-11"))
    p = plan(YEAR, STAFF, [team], per_team=2, max_per_month=4, moderation_per_service=2, generated_at=NOW)
    # January: 3 open, 2 audited in October and November: 1 drawn. Then none is free until
    # October of the planned year, 12 months after the October audit, and November, after the November one.
    assert [m.selection_audits for m in p.months] == [1.0, 0, 0, 0, 0, 0, 0, 0, 1.0, 1.0]


def test_a_past_month_that_allocated_or_drew_nothing_expects_nothing():
    allocated = [Allocated(f"{YEAR}-03", "tm2", "safeguarding", "A")]
    p = forecast(first_to_come=f"{YEAR}-04", allocated=allocated)
    assert [(m.cycle, m.selection_basis, m.selection_audits) for m in p.months[:4]] == [
        (f"{YEAR}-01", "passed", 0),
        (f"{YEAR}-02", "passed", 0),
        (f"{YEAR}-03", "allocated", 1.0),
        (f"{YEAR}-04", "expected", 3.0),  # team A's 5 less March's 1 gives 2, and team B's 1
    ]
    assert (p.months[1].moderation_basis, p.months[1].moderations) == ("passed", 0)
    assert p.months[5].moderation_basis == "expected"
