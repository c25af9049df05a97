"""What a final grade sets in motion (R-DISC-1, R-DISC-2, R-RE-1, R-RE-3, R-RE-5, R-KIND-4)."""

import pytest

from models.enums import AuditKind, Grade, ServiceArea, Stage
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

    audit = AuditInput.model_construct(
        cycle="2027-01",
        service_area=ServiceArea.SAFEGUARDING,
        kind=AuditKind.STANDARD,
        reaudit_round=1,
        chain_id="2027-01-std-abc",
        audit_id="2027-01-std-abc-r1",
    )
    due = datetime(2027, 2, 1, 17, tzinfo=UTC)
    attributes = {k.name: v for k, v in sa.of_audit(audit, "awaiting_qa", None, due, True, "none").items()}
    assert attributes == {
        "AuditCycle": "2027-01",
        "AuditServiceArea": "safeguarding",
        "AuditKind": "standard",
        "AuditStage": "awaiting_qa",
        "AuditOverallGrade": None,
        "AuditDueTime": due,
        "Overdue": True,
        "AuditReauditRound": 1,
        "Escalation": "none",
        "AuditChain": audit.chain,
    }
    assert set(attributes) == {k.name for k in sa.ALL if k.name.startswith("Audit")} | {"Overdue", "Escalation"}


# ---- which stages allow which staff action, and whom each stage waits on -------------------------------


def _view(**fields):
    from models.payloads import AuditView

    return AuditView.model_construct(
        **{
            "stage": Stage.ALLOCATED,
            "kind": STANDARD,
            "initial_grading": None,
            "findings_discussion": None,
            "dispute_id": None,
            "auditor_id": "tm1",
            "team_manager_id": "tm2",
            "head_of_service_follow_up_required": False,
            "head_of_service_follow_up": None,
        }
        | fields
    )


@pytest.mark.parametrize("action, stage, allowed", [
    ("record_initial_grading", Stage.ALLOCATED, True),
    ("record_initial_grading", Stage.INITIALLY_GRADED, True),
    ("record_initial_grading", Stage.FINALLY_GRADED, False),  # the conversation set the final grading
    ("record_initial_grading", Stage.REVISIONS_REQUESTED, True),
    ("submit_for_qa", Stage.FINALLY_GRADED, True),
    ("submit_for_qa", Stage.INITIALLY_GRADED, False),
    ("submit_for_qa", Stage.NOT_ACCEPTED, True),
    ("quality_assure", Stage.AWAITING_QA, True),
    ("quality_assure", Stage.ACCEPTED, False),
    ("reassign", Stage.AWAITING_QA, True),
    ("reassign", Stage.DISPUTE_WINDOW, False),
    ("raise_dispute", Stage.DISPUTE_WINDOW, True),
    ("raise_dispute", Stage.IN_DISPUTE, False),
    ("share_previous_practitioner_feedback", Stage.COMPLETED, False),
])  # fmt: skip
def test_a_stage_allows_an_action_or_says_why_not(action, stage, allowed):
    from models.rules import refusal, stage_allows

    assert stage_allows(action, stage) is allowed
    assert (refusal(action, stage) is None) is allowed


def test_a_refusal_keeps_the_workflow_s_words():
    from models.rules import refusal

    assert (
        refusal("record_initial_grading", Stage.FINALLY_GRADED)
        == "cannot record the initial grading while the audit is finally_graded"
    )
    assert refusal("share_previous_practitioner_feedback", Stage.COMPLETED) == (
        "the audit is complete; feedback is shared while the audit is open"
    )


def test_every_stage_ruled_action_has_a_permission():
    from api.permissions import PERMISSIONS
    from models.rules import STAGE_RULES

    assert set(STAGE_RULES) <= set(PERMISSIONS)


@pytest.mark.parametrize("action, fields, actor, offered", [
    ("record_practitioner_conversation", {"stage": Stage.INITIALLY_GRADED}, "tm1", False),  # no initial grading
    ("record_practitioner_conversation", {"stage": Stage.INITIALLY_GRADED, "initial_grading": object()}, "tm1", True),
    ("quality_assure", {"stage": Stage.AWAITING_QA}, "tm1", False),  # the auditor's own report
    ("quality_assure", {"stage": Stage.AWAITING_QA}, "piat1", True),
    ("raise_dispute", {"stage": Stage.DISPUTE_WINDOW, "kind": PEER}, "sw1", False),  # nothing graded to dispute
    ("raise_dispute", {"stage": Stage.DISPUTE_WINDOW, "dispute_id": "dispute-a"}, "sw1", False),  # one per audit
    ("raise_dispute", {"stage": Stage.DISPUTE_WINDOW}, "sw1", True),
    ("replace_person", {"stage": Stage.COMPLETED}, "piat1", False),
    ("record_head_of_service_follow_up", {"head_of_service_follow_up_required": True}, "hos1", True),
])  # fmt: skip
def test_an_action_is_offered_when_its_stage_and_conditions_allow(action, fields, actor, offered):
    from models.rules import offered as offered_now

    assert offered_now(action, _view(**fields), actor) is offered


def test_a_stage_waits_on_its_people_or_a_role_until_its_deadline():
    from models.rules import waiting_on

    assert waiting_on(Stage.AWAITING_QA).role == "piat" and waiting_on(Stage.AWAITING_QA).until == "qa_due"
    assert waiting_on(Stage.DISPUTE_WINDOW).people == ("practitioner_id", "team_manager_id")
    assert waiting_on(Stage.ACCEPTED) is None and waiting_on(Stage.COMPLETED) is None
    assert all(waiting_on(s) for s in Stage if s not in (Stage.ACCEPTED, Stage.COMPLETED))
