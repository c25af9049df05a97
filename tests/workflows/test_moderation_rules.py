"""Moderation panels' pure rules (R-MOD-2, R-MOD-4): which audits a panel draws from, the seeded
draw, the moderators' round robin, and the agreement statistics of the quarterly report."""

import pytest
from pydantic import ValidationError

from models.agreement import Judgement, agreement_by_domain, agreement_by_service, grade_changes, linear_weight, weighted_kappa
from models.enums import Grade as G
from models.moderation import Agreement, Candidate, allocate, draw, eligible, is_moderation_month, panel_of, source_cycles


def test_a_panel_draws_from_the_four_months_before_its_own():
    assert source_cycles("2027-02") == ["2026-10", "2026-11", "2026-12", "2027-01"]
    assert source_cycles("2027-06") == ["2027-02", "2027-03", "2027-04", "2027-05"]
    assert source_cycles("2027-10") == ["2027-06", "2027-07", "2027-08", "2027-09"]
    assert [is_moderation_month(c) for c in ("2027-02", "2027-06", "2027-10", "2027-01", "2027-13", "x")] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert panel_of("2027-02-m07") == "2027-02"


def test_only_graded_final_audits_of_those_months_are_eligible():
    assert eligible("2027-02", "2027-01", "good")
    assert eligible("2027-02", "2026-10", "inadequate")
    assert not eligible("2027-02", "2027-01", None)  # not final yet, or a peer audit (never graded)
    assert not eligible("2027-02", "2026-09", "good")  # five months before
    assert not eligible("2027-02", "2027-02", "good")  # the panel's own month


CANDIDATES = (
    [Candidate(f"2027-01-standard-C{n}", "safeguarding", "tm2") for n in range(6)]
    + [Candidate("2027-01-standard-M1", "mash", "sm1")]
    + [Candidate(f"2026-11-standard-F{n}", "fostering_adoption", "tm1") for n in range(3)]
)


def test_the_same_seed_on_the_same_audits_draws_the_same_and_every_service_is_covered():
    first = draw(CANDIDATES, 2, seed=42)
    assert draw(list(reversed(CANDIDATES)), 2, seed=42) == first  # the order they were read in does not matter
    assert sorted(c.service_area for c in first) == [
        "fostering_adoption",
        "fostering_adoption",
        "mash",
        "safeguarding",
        "safeguarding",
    ]
    assert len(set(first)) == 5  # no audit twice
    others = {tuple(draw(CANDIDATES, 2, seed)) for seed in range(20)}
    assert len(others) > 1  # the seed does decide
    assert draw([], 2, seed=1) == []
    assert len(draw(CANDIDATES, 50, seed=1)) == len(CANDIDATES)  # fewer than asked: all of them


def test_moderators_take_turns_and_never_moderate_their_own_audit():
    audits = [
        Candidate("a1", "s", "slt1"),
        Candidate("a2", "s", "tm1"),
        Candidate("a3", "s", "slt2"),
        Candidate("a4", "s", "tm2"),
    ]
    pairs = [(a.audit_id, m) for a, m in allocate(audits, ["slt2", "slt1"])]
    # a1's auditor is slt1, so slt2 takes it; then slt1; a3 is slt2's own, so slt1 again; then slt2.
    assert pairs == [("a1", "slt2"), ("a2", "slt1"), ("a3", "slt1"), ("a4", "slt2")]
    assert allocate([Candidate("a1", "s", "slt1")], ["slt1"]) == [(Candidate("a1", "s", "slt1"), None)]
    assert allocate([Candidate("a1", "s", "tm1")], []) == [(Candidate("a1", "s", "tm1"), None)]


def test_a_moderated_grade_only_with_a_disagreement():
    assert Agreement(agree=False, moderated_grade="good").moderated_grade is G.GOOD
    with pytest.raises(ValidationError, match="moderated_grade is required"):
        Agreement(agree=False)
    with pytest.raises(ValidationError, match="only when you disagree"):
        Agreement(agree=True, moderated_grade="good")


def test_weighted_kappa_on_a_hand_worked_example():
    """Linear weights over outstanding(0) > good(1) > requires improvement(2) > inadequate(3):
    w = 1 - |i - j| / 3, so 1, 2/3, 1/3, 0.

    (auditor, moderator): (G, G) (G, RI) (RI, RI) (I, RI) (O, G)
    observed = (1 + 2/3 + 1 + 2/3 + 2/3) / 5 = 4/5
    auditor's spread   p = O 1/5, G 2/5, RI 1/5, I 1/5
    moderator's spread q = G 2/5, RI 3/5
    chance = sum p_i q_j w_ij
           = q_G  (1/5 * 2/3 + 2/5 * 1 + 1/5 * 2/3 + 1/5 * 1/3) = 2/5 * 11/15 = 22/75
           + q_RI (1/5 * 1/3 + 2/5 * 2/3 + 1/5 * 1 + 1/5 * 2/3) = 3/5 * 10/15 = 30/75
           = 52/75
    kappa  = (60/75 - 52/75) / (1 - 52/75) = 8/23 = 0.3478
    """
    pairs = [
        (G.GOOD, G.GOOD),
        (G.GOOD, G.REQUIRES_IMPROVEMENT),
        (G.REQUIRES_IMPROVEMENT, G.REQUIRES_IMPROVEMENT),
        (G.INADEQUATE, G.REQUIRES_IMPROVEMENT),
        (G.OUTSTANDING, G.GOOD),
    ]
    result = weighted_kappa(pairs)
    assert (result.value, result.audits, result.weights) == (round(8 / 23, 4), 5, "linear")
    assert [linear_weight(G.OUTSTANDING, g) for g in G] == [1, pytest.approx(2 / 3), pytest.approx(1 / 3), 0]


def test_weighted_kappa_degenerate_cases():
    assert weighted_kappa([]).model_dump() == {"value": None, "weights": "linear", "audits": 0}
    # Everyone graded Good and the moderators agreed: chance explains it all (0/0), so no kappa.
    assert weighted_kappa([(G.GOOD, G.GOOD)] * 4).value is None
    # Full agreement over different grades: 1. Opposite ends every time: below chance.
    assert weighted_kappa([(G.GOOD, G.GOOD), (G.INADEQUATE, G.INADEQUATE)]).value == 1.0
    assert weighted_kappa([(G.OUTSTANDING, G.INADEQUATE), (G.INADEQUATE, G.OUTSTANDING)]).value < 0


def test_agreement_rates_and_grade_changes():
    judged = [
        Judgement("safeguarding", G.GOOD, G.GOOD, {"voice": True, "plan": False}),
        Judgement("safeguarding", G.GOOD, G.REQUIRES_IMPROVEMENT, {"voice": True, "plan": False}),
        Judgement("mash", G.INADEQUATE, G.INADEQUATE, {"decision": True}),
        Judgement("mash", G.GOOD, G.REQUIRES_IMPROVEMENT, {"decision": False}),
        Judgement("mash", G.OUTSTANDING, G.GOOD, {"decision": True}),
    ]
    assert agreement_by_domain(judged) == {"decision": round(2 / 3, 4), "plan": 0.0, "voice": 1.0}
    assert agreement_by_service(judged) == {"mash": round(1 / 3, 4), "safeguarding": 0.5}
    assert grade_changes(judged) == [
        {"from": "good", "to": "requires_improvement", "count": 2},
        {"from": "outstanding", "to": "good", "count": 1},
    ]
    assert agreement_by_domain([]) == {} and grade_changes([]) == []
