"""What a final grade sets in motion (R-DISC-1, R-DISC-2, R-RE-1, R-RE-3, R-RE-5, R-KIND-4)."""

import pytest

from models.enums import AuditKind, Grade, ServiceArea
from models.rules import discussion_rule, escalates_to_director, needs_reaudit

STANDARD, PEER, THEMED, REAUDIT = AuditKind.STANDARD, AuditKind.PEER, AuditKind.THEMED, AuditKind.REAUDIT
SG, MASH = ServiceArea.SAFEGUARDING, ServiceArea.MASH
O, G, RI, I = Grade.OUTSTANDING, Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE


@pytest.mark.parametrize(
    "kind, area, round_, grade, discussion, reaudit",
    [
        (STANDARD, SG, 0, O, None, False),
        (STANDARD, SG, 0, G, None, False),
        (STANDARD, SG, 0, RI, (10, False), True),  # R-DISC-2
        (STANDARD, SG, 0, I, (5, True), True),  # R-DISC-1
        (THEMED, SG, 0, RI, (10, False), True),
        (STANDARD, MASH, 0, I, (5, True), False),  # R-KIND-4: the TM acts, no re-audit
        (STANDARD, MASH, 0, RI, (10, False), False),
        (PEER, SG, 0, None, (10, False), False),  # Decision: a peer audit's plan
        (REAUDIT, SG, 1, G, None, False),
        (REAUDIT, SG, 1, RI, (5, True), True),  # R-DISC-1: a re-audit requiring a 2nd
        (REAUDIT, SG, 2, RI, (10, False), False),  # R-RE-5 instead of a 3rd
        (REAUDIT, SG, 2, I, (5, True), False),
    ],
)
def test_what_a_final_grade_sets_in_motion(kind, area, round_, grade, discussion, reaudit):
    rule = discussion_rule(kind, area, round_, grade)
    assert (rule and (rule.working_days, rule.smart_actions_required)) == discussion
    assert needs_reaudit(kind, area, round_, grade) is reaudit


def test_only_a_second_reaudit_below_good_goes_to_the_director():
    assert escalates_to_director(2, RI) and escalates_to_director(2, I)
    assert not escalates_to_director(2, G) and not escalates_to_director(1, I)


# ---- what a grading must hold (R-AUD-3, R-KIND-2) -------------------------------------------------

DOMAINS = ["voice", "plan"]


def _grades(*pairs, overall="good"):
    from models.payloads import DomainGrade, OverallGrade

    return [DomainGrade(domain=d, grade=g, rationale=r) for d, g, r in pairs], OverallGrade(grade=overall, rationale="why")


@pytest.mark.parametrize("kind, pairs, overall, refused", [
    (AuditKind.STANDARD, [("voice", "good", "seen"), ("plan", None, "")], "good", None),  # one not applicable
    (AuditKind.STANDARD, [("voice", "good", "seen")], "good", "missing domains"),
    (AuditKind.STANDARD, [("voice", "good", "a"), ("plan", "good", "b"), ("extra", "good", "c")], "good", "not in the"),
    (AuditKind.STANDARD, [("voice", "good", "a"), ("voice", "good", "b"), ("plan", "good", "c")], "good", "only once"),
    (AuditKind.STANDARD, [("voice", "good", "a"), ("plan", "good", "b")], None, "overall grade is required"),
    (AuditKind.STANDARD, [("voice", None, "a"), ("plan", None, "b")], "good", "at least one domain"),
    (AuditKind.STANDARD, [("voice", "good", " "), ("plan", "good", "b")], "good", "needs a rationale"),
    (AuditKind.PEER, [("voice", None, "findings"), ("plan", None, "findings")], None, None),
    (AuditKind.PEER, [("voice", "good", "findings"), ("plan", None, "findings")], None, "not graded"),
    (AuditKind.PEER, [("voice", None, ""), ("plan", None, "findings")], None, "record findings"),
])  # fmt: skip
def test_a_grading_holds_every_domain_of_the_tool_once(kind, pairs, overall, refused):
    from temporalio.exceptions import ApplicationError

    from models.rules import check_grades

    domains, overall_grade = _grades(*pairs, overall=overall)
    if refused is None:
        check_grades(kind, ServiceArea.SAFEGUARDING, DOMAINS, domains, overall_grade)
        return
    with pytest.raises(ApplicationError, match=refused) as refusal:
        check_grades(kind, ServiceArea.SAFEGUARDING, DOMAINS, domains, overall_grade)
    assert refusal.value.type == "Invalid"  # a 422


def test_an_audit_s_search_attributes_carry_identifiers_and_its_state():
    from datetime import UTC, datetime

    from models import search_attributes as sa
    from models.payloads import AuditInput

    audit = AuditInput.model_construct(cycle="2027-01", service_area=ServiceArea.SAFEGUARDING, kind=AuditKind.STANDARD,
                                       reaudit_round=1, chain_id="2027-01-std-abc", audit_id="2027-01-std-abc-r1")
    due = datetime(2027, 2, 1, 17, tzinfo=UTC)
    attributes = {k.name: v for k, v in sa.of_audit(audit, "awaiting_qa", None, due, True, "none").items()}
    assert attributes == {
        "AuditCycle": "2027-01", "AuditServiceArea": "safeguarding", "AuditKind": "standard", "AuditStage": "awaiting_qa",
        "AuditOverallGrade": None, "AuditDueTime": due, "Overdue": True, "AuditReauditRound": 1,
        "Escalation": "none", "AuditChain": audit.chain,
    }
    assert set(attributes) == {k.name for k in sa.ALL if k.name.startswith("Audit")} | {"Overdue", "Escalation"}
