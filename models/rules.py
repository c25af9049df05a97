"""The audit's pure rules, safe inside workflows: which stages allow what, what a grading must
hold (R-AUD-3, R-KIND-2), and what a final grade sets in motion (R-DISC, R-RE, R-KIND-4)."""

from dataclasses import dataclass

from models.enums import BELOW_GOOD, AuditKind, Grade, ServiceArea, Stage
from models.errors import invalid

# Stages in which the auditor is still writing the report, or amending it after QA.
DRAFTING = frozenset({Stage.ALLOCATED, Stage.INITIALLY_GRADED, Stage.FINALLY_GRADED})
AMENDING = frozenset({Stage.REVISIONS_REQUESTED, Stage.NOT_ACCEPTED})
BEFORE_DISTRIBUTION = DRAFTING | AMENDING | {Stage.AWAITING_QA}
# The Mosaic case note's title, e.g. "January Audit" (R-DIST-2).
KIND_TITLES = {AuditKind.STANDARD: "Audit", AuditKind.PEER: "Peer Audit", AuditKind.THEMED: "Themed Audit",
               AuditKind.REAUDIT: "Re-audit"}


def check_grades(kind: AuditKind, area: ServiceArea, tool_domains: list[str], domains: list, overall) -> None:
    """R-AUD-3: every domain of the tool once; a grade and rationale where applicable. Peer audits
    are not graded but record findings for each domain (R-KIND-2). Raises `invalid` (a 422)."""
    names = [d.domain for d in domains]
    if missing := [n for n in tool_domains if n not in names]:
        raise invalid(f"missing domains (grade null marks one not applicable): {missing}")
    if unknown := [n for n in names if n not in tool_domains]:
        raise invalid(f"domains not in the {area.value} audit tool: {unknown}")
    if len(names) != len(set(names)):
        raise invalid("each domain may appear only once")
    if kind is AuditKind.PEER:
        if overall.grade or any(d.grade for d in domains):
            raise invalid("peer audits are not graded (R-KIND-2): leave every grade null")
        if blank := [d.domain for d in domains if not d.rationale.strip()]:
            raise invalid(f"record findings for each domain of a peer audit: {blank}")
        return
    if overall.grade is None:
        raise invalid("the overall grade is required (R-AUD-3)")
    if not any(d.grade for d in domains):
        raise invalid("at least one domain must be graded")
    if blank := [d.domain for d in domains if d.grade and not d.rationale.strip()]:
        raise invalid(f"a graded domain needs a rationale: {blank}")


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
