"""Reports (R-REP): the periods, the figures worked out by hand from hand-built rows, and the
words written from them. The API, the pages and real audits: tests/api/test_reports_api.py."""

from datetime import datetime, UTC

import pytest

from reports.periods import PeriodError, parse
from reports.figures import AuditLine, DisputeLine, build
from tests.helpers.reports import G, I, O, RI, at, moderation

UTC = UTC
NOW = datetime(2027, 12, 1, 12, tzinfo=UTC)


def line(audit_id, cycle, grade, domains, service="safeguarding", team="Team A", **kw) -> AuditLine:
    """A final audit unless told otherwise, submitted on time."""
    names = ("D1", "D2", "D3")
    return AuditLine(
        audit_id=audit_id,
        cycle=cycle,
        service_area=service,
        kind=kw.pop("kind", "standard"),
        team=team,
        overall=grade,
        domains=dict(zip(names, domains)),
        final=kw.pop("final", True),
        submitted=kw.pop("submitted", True),
        **kw,
    )


# The first quarter of 2027: ten audits of its three cycles, and one of April the quarter ignores.
LINES = [
    line("a1", "2027-01", G, (G, G, RI)),
    line(
        "a2",
        "2027-01",
        RI,
        (RI, G, I),
        submitted_late=True,
        qa_returns=1,
        discussion_due=at(2, 10),
        discussion_recorded_at=at(2, 9, 12),
    ),
    line(
        "a3",
        "2027-01",
        I,
        (I, RI, I),
        service="send",
        team="Team B",
        qa_returns=2,
        not_accepted=1,
        discussion_due=at(2, 5),
        discussion_recorded_at=at(2, 8, 10),
        discussion_escalated=True,
    ),
    line("a4", "2027-01", None, (), team="Team B", final=False),  # in dispute: its draft is not counted
    line("b1", "2027-02", O, (O, G, None), service="mash", team="Team C"),
    line("b2", "2027-02", None, (), final=False, submitted=False),
    line("c1", "2027-03", None, (None, None, None), kind="peer", discussion_due=at(4, 1)),
    line("c2", "2027-03", G, (G, G, G), kind="reaudit", reaudit_round=1, previous_overall=RI),
    line("c3", "2027-03", I, (I, I, RI), service="send", team="Team B", kind="reaudit", reaudit_round=2, previous_overall=I),
    line(
        "c4", "2027-03", RI, (RI, G, RI), team="Team B", kind="reaudit", reaudit_round=1, previous_overall=I, submitted_late=True
    ),
    line("x1", "2027-04", I, (I, I, I)),
]
DISPUTES = [
    DisputeLine("a4", "safeguarding", "informal", "open"),
    DisputeLine("a1", "safeguarding", "formal", "resolved", regraded=True),
    DisputeLine("a2", "safeguarding", "corporate", "unresolved"),
    DisputeLine("b1", "mash", "informal", "withdrawn"),
    DisputeLine("x1", "safeguarding", "informal", "resolved"),  # an April audit's
]


MODERATIONS = [
    moderation("2027-02-m01", "2027-02", "safeguarding", G, G, (True, True)),
    moderation("2027-02-m02", "2027-02", "safeguarding", RI, G, (True, False)),
    moderation("2027-02-m03", "2027-02", "send", I, I, (True, True)),
    moderation("2027-02-m04", "2027-02", "mash", O, None, (), overdue=True),  # not recorded yet
    moderation("2027-06-m01", "2027-06", "safeguarding", G, RI, (False, True)),  # the June panel: Q2
]


def quarter():
    return build(parse("quarterly", "2027-Q1"), LINES, DISPUTES, MODERATIONS, NOW)


# ---- periods ---------------------------------------------------------------------------------------


def test_periods_are_calendar_months_quarters_and_years():
    march = parse("monthly", "2027-03")
    assert (march.label, march.title, march.cycles) == ("2027-03", "March 2027", ("2027-03",))
    q3 = parse("quarterly", "2027-q3")
    assert (q3.label, q3.title, q3.cycles) == ("2027-Q3", "July to September 2027", ("2027-07", "2027-09"))
    year = parse("annual", " 2027 ")
    assert year.cycles == tuple(f"2027-{m:02d}" for m in (1, 2, 3, 4, 5, 6, 7, 9, 10, 11)) and len(year.months) == 12
    assert parse("annual", "2027").previous().label == "2026"
    assert parse("quarterly", "2027-Q1").previous().label == "2026-Q4"
    assert parse("monthly", "2027-01").previous().label == "2026-12"


@pytest.mark.parametrize(
    "kind, text, says",
    [
        ("monthly", "2027-3", "period must look like 2027-03"),
        ("monthly", "March 2027", "period must look like 2027-03"),
        ("monthly", "2027-13", "the month is 01 to 12"),
        ("monthly", "2027-08", "August holds no audit cycle (R-CAL-3): choose another month, e.g. 2027-07"),
        ("quarterly", "2027-Q5", "period must look like 2027-Q1"),
        ("quarterly", "2027-03", "period must look like 2027-Q1"),
        ("annual", "27", "period must look like 2027"),
        ("annual", "1999", "between 2000 and 2100"),
        ("weekly", "2027", "choose monthly, quarterly or annual"),
    ],
)
def test_a_period_that_names_no_report_says_what_would(kind, text, says):
    with pytest.raises(PeriodError, match=says.replace("(", r"\(").replace(")", r"\)")):
        parse(kind, text)


# ---- the figures, worked out by hand -------------------------------------------------------------


def test_only_final_gradings_are_counted_overall_by_domain_service_and_team():
    r = quarter()
    assert (r.audits, r.final, r.not_yet_final, r.empty) == (10, 8, 2, False)  # x1 is April's
    o = r.grades.overall  # a4's draft and the peer audit c1 are not graded
    assert (o.outstanding, o.good, o.requires_improvement, o.inadequate, o.graded) == (1, 2, 2, 2, 7)
    assert o.good_or_better == 0.4286  # 3 / 7
    d = r.grades.by_domain
    assert (d["D1"].graded, d["D1"].good_or_better) == (7, 0.4286)
    assert (d["D2"].good, d["D2"].requires_improvement, d["D2"].inadequate, d["D2"].good_or_better) == (5, 1, 1, 0.7143)
    assert (d["D3"].graded, d["D3"].good_or_better) == (6, 0.1667)  # b1's D3 not applicable
    s = r.grades.by_service
    assert {k: (v.graded, v.good_or_better) for k, v in s.items()} == {
        "mash": (1, 1.0),
        "safeguarding": (4, 0.5),
        "send": (2, 0.0),
    }
    assert {k: (v.graded, v.good_or_better) for k, v in r.grades.by_team.items()} == {
        "Team A": (3, 0.6667),
        "Team B": (3, 0.0),
        "Team C": (1, 1.0),
    }


def test_the_trend_runs_cycle_by_cycle():
    r = quarter()
    assert [(p.label, p.audits, p.final, p.grades.graded, p.grades.good_or_better) for p in r.trend] == [
        ("2027-01", 4, 3, 3, 0.3333),
        ("2027-02", 2, 1, 1, 1.0),
        ("2027-03", 4, 4, 3, 0.3333),
    ]
    assert r.previous_periods == []


def test_completion_qa_and_discussions():
    c = quarter().completion
    assert (c.audits, c.submitted, c.on_time, c.late, c.not_submitted, c.on_time_share) == (10, 9, 7, 2, 1, 0.7)
    assert (c.returned_by_qa, c.qa_returns, c.not_accepted) == (2, 3, 1)
    d = quarter().discussions  # a2 on time, a3 late and escalated, c1 awaited
    assert (d.required, d.recorded, d.on_time, d.late, d.awaited, d.escalated_to_head_of_service) == (3, 2, 1, 1, 1, 1)
    assert d.on_time_share == 0.3333


def test_reaudit_outcomes():
    x = quarter().reaudits  # c2 RI -> Good, c4 Inadequate -> RI, c3 Inadequate -> Inadequate at the 2nd
    assert (x.final, x.improved, x.unchanged, x.worse) == (3, 2, 1, 0)
    assert (x.closed, x.second_reaudit_required, x.escalated, x.escalated_by_service) == (1, 1, 1, {"send": 1})


def test_disputes_by_level_and_outcome():
    x = quarter().disputes  # x1's (April) is not this quarter's
    assert (x.raised, x.regraded) == (4, 1)
    assert x.by_status == {"open": 1, "resolved": 1, "unresolved": 1, "withdrawn": 1}
    assert x.by_level["informal"] == {"open": 1, "resolved": 0, "unresolved": 0, "withdrawn": 1}
    assert x.by_level["formal"]["resolved"] == 1 and x.by_level["corporate"]["unresolved"] == 1
    assert sum(x.by_level["independent_review"].values()) == 0


def test_moderation_agreement_of_the_quarters_panel():
    m = quarter().moderation  # February's panel only; m04 not recorded
    assert (m.panels, m.drawn, m.recorded, m.overdue) == (["2027-02"], 4, 3, 1)
    res = m.results
    assert (res.moderated, res.overall_agreement) == (3, 0.6667)
    assert res.agreement_by_domain == {"D1": 1.0, "D2": 0.6667}
    assert res.agreement_by_service == {"safeguarding": 0.5, "send": 1.0}
    assert res.grade_changes == [{"from": RI, "to": G, "count": 1}]
    # Pairs (G,G), (RI,G), (I,I): observed 8/9, chance 2/3 (linear weights), kappa (8/9-2/3)/(1/3) = 2/3.
    assert (res.kappa.value, res.kappa.audits) == (0.6667, 3)


def test_the_words_come_from_the_figures():
    r = quarter()
    assert [s.heading for s in r.sections] == ["What the final gradings show", "How the process ran"]
    know, how = r.sections[0].paragraphs, r.sections[1].paragraphs
    assert know[0] == (
        "Of 7 final gradings, 3 (43%) are Good or better: 1 Outstanding, 2 Good, 2 Requires Improvement, 2 Inadequate."
    )
    assert know[1] == "The strongest domain is D2 (71% Good or better of 7); the weakest is D3 (17% of 6)."
    assert know[2] == "Inadequate gradings by service: send 2."
    assert "1 was still below Good at the 2nd re-audit and went to the Director (R-RE-5): send (1)." in know[3]
    assert how[0].startswith("10 audits were allocated for the 3 cycles of January to March 2027; 8 are final")
    assert "7 of 10 (70%) were submitted for quality assurance by their completion deadline" in how[1]
    assert how[2].startswith("3 findings discussions were due: 1 recorded on time (33%)")
    assert "4 gradings were disputed" in how[3] and "Levels reached: informal, formal, corporate." in how[3]
    assert how[4].endswith("linearly weighted kappa 0.67 over 3 audits (substantial agreement).")


def test_the_annual_report_is_framed_for_self_evaluation():
    year = parse("annual", "2027")
    earlier = {year.previous(): [line("p1", "2026-05", G, (G, G, G)), line("p2", "2026-05", I, (I, I, I))]}
    r = build(year, LINES, DISPUTES, MODERATIONS, NOW, previous=earlier)
    assert [s.heading for s in r.sections] == ["What we know about practice quality", "How we know it", "What we plan"]
    assert r.audits == 11 and [p.label for p in r.trend][:3] == ["2027-01", "2027-02", "2027-03"]
    assert [(p.label, p.grades.good_or_better) for p in r.previous_periods] == [("2026", 0.5)]
    o = r.grades.overall  # x1 (April, Inadequate) counts in the year: 3 of 8 Good or better
    assert (o.graded, o.good_or_better) == (8, 0.375)
    assert r.sections[0].paragraphs[1] == "That is 12 points down on 2026 (50% of 2)."
    # The year's moderation: (G,G), (RI,G), (I,I), (G,RI): observed 10/12, chance 17/24, kappa 3/7.
    assert r.moderation.results.kappa.value == 0.4286
    plan = r.sections[2].paragraphs
    assert plan[0].startswith("Make D3 the focus of practice improvement")
    assert plan[1].startswith("Follow up the 1 re-audit chain escalated to the Director with the Heads of Service of send")
    assert plan[2].startswith("Raise completion on time from 73% to at least 90%")  # 8 of 11
    assert plan[3].startswith("Findings discussions on time were 33%")
    assert plan[4] == (
        "Moderation agreement is moderate (kappa 0.43): a grading-criteria calibration session for "
        "auditors, starting with D1 (75% agreement)."
    )


def test_a_period_with_no_audits_says_so():
    r = build(parse("monthly", "2027-05"), LINES, DISPUTES, MODERATIONS, NOW)
    assert r.empty and (r.audits, r.final, r.grades.overall.graded, r.disputes.raised) == (0, 0, 0, 0)
    assert r.message == "No audits were allocated for the cycles of May 2027: there are no gradings to report."
    assert [s.heading for s in r.sections] == ["Nothing to report"]
