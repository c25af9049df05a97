"""What a final grade sets in motion (R-DISC, R-RE, R-KIND-4): pure rules, safe inside workflows."""

from dataclasses import dataclass

from models.enums import BELOW_GOOD, AuditKind, Grade, ServiceArea


@dataclass(frozen=True)
class DiscussionRule:
    working_days: int
    smart_actions_required: bool


def discussion_rule(kind: AuditKind, area: ServiceArea, reaudit_round: int, grade: Grade | None) -> DiscussionRule | None:
    """When the Team Manager and practitioner must discuss the findings, if at all (R-DISC-1, R-DISC-2)."""
    if kind is AuditKind.PEER:
        return DiscussionRule(10, False)  # Decision: a peer audit's improvement plan, 10 working days
    if grade not in BELOW_GOOD:
        return None
    if grade is Grade.INADEQUATE or requires_second_reaudit(reaudit_round, grade):
        return DiscussionRule(5, True)  # R-DISC-1: SMART actions within 5 working days
    return DiscussionRule(10, False)  # R-DISC-2


def needs_reaudit(kind: AuditKind, area: ServiceArea, reaudit_round: int, grade: Grade | None) -> bool:
    """R-RE-1: a graded audit below Good is re-audited, never MASH (R-KIND-4), at most twice."""
    return grade in BELOW_GOOD and kind is not AuditKind.PEER and area is not ServiceArea.MASH and reaudit_round < 2


def requires_second_reaudit(reaudit_round: int, grade: Grade | None) -> bool:
    """R-RE-3."""
    return reaudit_round == 1 and grade in BELOW_GOOD


def escalates_to_director(reaudit_round: int, grade: Grade | None) -> bool:
    """R-RE-5."""
    return reaudit_round == 2 and grade in BELOW_GOOD
