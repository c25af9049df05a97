"""The audit's pure rules, safe inside workflows: which stages allow which staff action and whom
each stage waits on (one table: the workflow's validators, its view and the pages read it), what a
grading must hold (R-AUD-3, R-KIND-2), and what a final grade sets in motion (R-DISC, R-RE, R-KIND-4)."""

from collections.abc import Callable
from dataclasses import dataclass

from models.enums import BELOW_GOOD, AuditKind, Grade, ServiceArea, Stage
from models.errors import invalid
from models.payloads import AuditView, DomainGrade, OverallGrade

# Stages in which the auditor is still writing the report, or amending it after QA.
DRAFTING = frozenset({Stage.ALLOCATED, Stage.INITIALLY_GRADED, Stage.FINALLY_GRADED})
AMENDING = frozenset({Stage.REVISIONS_REQUESTED, Stage.NOT_ACCEPTED})
BEFORE_DISTRIBUTION = DRAFTING | AMENDING | {Stage.AWAITING_QA}
EVERY_STAGE = frozenset(Stage)
OPEN = EVERY_STAGE - {Stage.COMPLETED}


# ---- which stages allow which staff action --------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A precondition beside the stage, read from the audit's view (the workflow checks the same
    on its state, with its own words for the refusal)."""

    name: str
    holds: Callable[[AuditView], bool]


def _discussion_is(*statuses: str) -> Callable[[AuditView], bool]:
    return lambda view: view.findings_discussion is not None and view.findings_discussion.status in statuses


INITIAL_GRADING_RECORDED = Condition("the initial grading is recorded (R-AUD-5)", lambda v: v.initial_grading is not None)
GRADED = Condition("the audit is graded (not a peer audit, R-KIND-2)", lambda v: v.kind is not AuditKind.PEER)
NO_DISPUTE_YET = Condition("no dispute has been raised (one per audit)", lambda v: v.dispute_id is None)
DISCUSSION_AWAITED = Condition("a findings discussion is awaited (R-DISC)", _discussion_is("awaited", "more_requested"))
DISCUSSION_RECORDED = Condition("a findings discussion is recorded for review (R-DISC-3)", _discussion_is("recorded"))
FOLLOW_UP_DUE = Condition(
    "a Head of Service follow-up is due (R-RE-3)",
    lambda v: v.head_of_service_follow_up_required and v.head_of_service_follow_up is None,
)


@dataclass(frozen=True)
class StageRule:
    """When a staff action may be taken: in `stages`, where every condition holds, and not by the
    person the view names in `not_by` (an auditor does not quality-assure their own report)."""

    doing: str  # the refusal's words: "cannot <doing> while the audit is <stage>"
    stages: frozenset[Stage]
    conditions: tuple[Condition, ...] = ()
    not_by: str | None = None  # an AuditView field naming a person
    refused: str | None = None  # the refusal in other words than `doing`'s


# Keyed by the action's name: its Workflow Update, API route and permission key (api/permissions.py).
STAGE_RULES: dict[str, StageRule] = {
    "record_initial_grading": StageRule("record the initial grading", DRAFTING - {Stage.FINALLY_GRADED} | AMENDING),
    "record_practitioner_conversation": StageRule(
        "record the conversation",
        frozenset({Stage.INITIALLY_GRADED, Stage.FINALLY_GRADED}) | AMENDING,
        (INITIAL_GRADING_RECORDED,),
    ),
    "record_improvement_plan": StageRule("change the improvement plan", DRAFTING | AMENDING, (INITIAL_GRADING_RECORDED,)),
    "submit_for_qa": StageRule("submit for quality assurance", frozenset({Stage.FINALLY_GRADED}) | AMENDING),
    "quality_assure": StageRule("quality-assure the report", frozenset({Stage.AWAITING_QA}), not_by="auditor_id"),
    "reassign": StageRule("reassign the audit", BEFORE_DISTRIBUTION),
    "share_previous_practitioner_feedback": StageRule(
        "share feedback", OPEN, refused="the audit is complete; feedback is shared while the audit is open"
    ),
    "raise_dispute": StageRule("raise a dispute", frozenset({Stage.DISPUTE_WINDOW}), (NO_DISPUTE_YET, GRADED)),
    "record_findings_discussion": StageRule("record the findings discussion", EVERY_STAGE, (DISCUSSION_AWAITED,)),
    "review_findings_discussion": StageRule(
        "review the findings discussion", EVERY_STAGE, (DISCUSSION_RECORDED,), not_by="team_manager_id"
    ),
    "record_head_of_service_follow_up": StageRule("record the follow-up", EVERY_STAGE, (FOLLOW_UP_DUE,)),
    "raise_safety_concern": StageRule("raise a safety concern", EVERY_STAGE),
    # The pages hand a role over until the audit is complete; the workflow takes it until its run
    # ends (a completed audit's findings discussion may still be running).
    "replace_person": StageRule("hand a role over", OPEN),
}


def stage_allows(action: str, stage: Stage) -> bool:
    """Whether `stage` allows the staff action `action` (a key of `STAGE_RULES`)."""
    return stage in STAGE_RULES[action].stages


def refusal(action: str, stage: Stage) -> str | None:
    """Why `stage` does not allow `action` (a 409's message), or None when it does."""
    rule = STAGE_RULES[action]
    if stage in rule.stages:
        return None
    return rule.refused or f"cannot {rule.doing} while the audit is {stage.value}"


def offered(action: str, view: AuditView, actor_id: str) -> bool:
    """Whether `action` can succeed now for `actor_id`, as far as the audit's stage and state go
    (who may act at all is the permission table's: api/permissions.py)."""
    rule = STAGE_RULES[action]
    return (
        view.stage in rule.stages
        and all(c.holds(view) for c in rule.conditions)
        and (rule.not_by is None or getattr(view, rule.not_by) != actor_id)
    )


# ---- whom each stage waits on ---------------------------------------------------------------------


@dataclass(frozen=True)
class StageWait:
    """What a stage waits for (`action`, whose {placeholders} the view fills in), from the audit's
    people named by their view fields (`people`) or from anyone holding `role`, until `until`
    (a `Deadlines` field, or "reaudit_allocation")."""

    action: str
    people: tuple[str, ...] = ()
    role: str | None = None
    until: str | None = None


_AUDITOR = ("auditor_id",)
STAGE_WAITS: dict[Stage, StageWait] = {
    Stage.ALLOCATED: StageWait("initial grading after reviewing the record", _AUDITOR, until="completion_due"),
    Stage.INITIALLY_GRADED: StageWait("practitioner conversation and final grading", _AUDITOR, until="completion_due"),
    Stage.FINALLY_GRADED: StageWait("submission for quality assurance", _AUDITOR, until="completion_due"),
    Stage.AWAITING_QA: StageWait("quality assurance by PIAT", role="piat", until="qa_due"),
    Stage.REVISIONS_REQUESTED: StageWait("amended report", _AUDITOR, until="revision_due"),
    Stage.NOT_ACCEPTED: StageWait("completed audit for the {carried_into} cycle", _AUDITOR, until="completion_due"),
    Stage.DISPUTE_WINDOW: StageWait(
        "dispute window: the practitioner or Team Manager may dispute the grading",
        ("practitioner_id", "team_manager_id"),
        until="dispute_window_closes",
    ),
    Stage.IN_DISPUTE: StageWait("the dispute ({dispute}) to end", role="dispute"),
    Stage.REAUDIT_PLANNED: StageWait(
        "the {reaudit_cycle} cycle, when re-audit {reaudit_round} is allocated", role="system", until="reaudit_allocation"
    ),
    Stage.REAUDIT_IN_PROGRESS: StageWait("re-audit {reaudit_round} ({reaudit_id})", role="re-auditor"),
}


def waiting_on(stage: Stage) -> StageWait | None:
    """Whom `stage` waits on and what for; None when it waits on nobody (accepted: the report is on
    its way; completed)."""
    return STAGE_WAITS.get(stage)


# The Mosaic case note's title, e.g. "January Audit" (R-DIST-2).
KIND_TITLES = {
    AuditKind.STANDARD: "Audit",
    AuditKind.PEER: "Peer Audit",
    AuditKind.THEMED: "Themed Audit",
    AuditKind.REAUDIT: "Re-audit",
}


def check_grades(
    kind: AuditKind, area: ServiceArea, tool_domains: list[str], domains: list[DomainGrade], overall: OverallGrade
) -> None:
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
    check_graded_domains(domains)


def check_graded_domains(domains: list[DomainGrade]) -> None:
    """What any grading that is reported must hold, the auditor's or a dispute's regrade (R-AUD-3):
    at least one domain graded, and each graded domain's rationale."""
    if not any(d.grade for d in domains):
        raise invalid("at least one domain must be graded")
    if blank := [d.domain for d in domains if d.grade and not d.rationale.strip()]:
        raise invalid(f"a graded domain needs a rationale: {blank}")


def grading_faults(peer: bool, domains: list[DomainGrade], overall: OverallGrade | None) -> dict[str, str]:
    """The fields of a grading that `check_grades` refuses, by their path in the request's body
    (`domains.1.rationale`), each with what to do: the pages put the message beside the field."""
    faults: dict[str, str] = {}
    for i, d in enumerate(domains):
        if peer and d.grade:
            faults[f"domains.{i}.grade"] = "leave it blank: a peer audit is not graded"
        elif peer and not d.rationale.strip():
            faults[f"domains.{i}.rationale"] = "record the findings for this domain"
        elif d.grade and not d.rationale.strip():
            faults[f"domains.{i}.rationale"] = "give the rationale for this grade"
    if peer:
        if overall is not None and overall.grade:
            faults["overall.grade"] = "leave it blank: a peer audit is not graded"
        return faults
    if overall is not None and overall.grade is None:
        faults["overall.grade"] = "choose the overall grade"
    if domains and not any(d.grade for d in domains):
        faults["domains.0.grade"] = "grade at least one domain, or mark it not applicable only where it is"
    return faults


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
