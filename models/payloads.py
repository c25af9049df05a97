"""Pydantic models that cross the workflow boundary: inputs, updates, queries, activity requests.

They are plain pydantic models (never SQLModel tables) so the Temporal pydantic data converter
can carry them and the workflow sandbox can import them.
"""

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, model_validator

from models.enums import (
    AuditKind,
    ChainOutcome,
    Channel,
    DisputeLevel,
    Escalation,
    Grade,
    PersonRole,
    ServiceArea,
    Stage,
)
from models.limits import DomainName, Items, ItemText, RequiredText, StaffId, Text

if TYPE_CHECKING:
    from models.settings import Settings


class Policy(BaseModel):
    """Durations (working days) an audit was allocated with; see models.settings."""

    qa_sla_days: int = 1
    revision_days: int = 3
    revision_days_with_discussion: int = 4
    dispute_window_days: int = 5
    dispute_meeting_days: int = 5  # R-DISP-2
    dispute_summary_days: int = 2  # R-DISP-3
    dispute_amendment_days: int = 5  # Decision: the auditor's amended final grading (R-DISP-4)
    dispute_formal_days: int = 5  # R-DISP-6, and again R-DISP-7
    dispute_corporate_days: int = 5  # R-DISP-8
    dispute_review_decision_days: int = 5  # Decision: whether to commission an independent review
    discussion_escalation_days: int = 2  # Decision: reminder at the due date, Head of Service 2 days later
    discussion_more_days: int = 5  # Decision: time to re-record after PIAT asks for more
    safety_acknowledge_hours: float = 2  # R-SAFE-2: clock hours before the Head of Service is told
    safety_escalate_hours: float = 2  # R-SAFE-2: and again before the Assistant Director
    self_selection_decision_days: int = 5  # R-ALLOC-2 Decision: the Head of Service's answer
    # Not the framework's: how long a worker may hold one of the audit's workflow tasks (and its
    # dispute's and re-audits') before Temporal gives it to another. A crashed worker's task waits
    # this long.
    workflow_task_timeout_seconds: float = 10

    @property
    def task_timeout(self) -> timedelta:
        return timedelta(seconds=self.workflow_task_timeout_seconds)

    @classmethod
    def now(cls, settings: "Settings") -> "Policy":
        """The durations configured now (models.settings): each process keeps those it began with."""
        return cls(**{name: getattr(settings, name) for name in cls.model_fields})


class CalendarDays(BaseModel):
    """The council's calendar from `first` to `last`, as a workflow records it once (R-CAL-1):
    every weekday that is not a working day (bank holidays, closure days), and the working day's
    hours. The workflow works its deadlines out from it (models/calendar.py)."""

    first: date
    last: date
    closed: list[date]
    timezone: str
    working_day_starts: time
    working_day_ends: time


class AuditInput(BaseModel):
    """Everything the audit workflow needs, resolved by the API at allocation (R-ALLOC-1)."""

    audit_id: str
    case_ref: str
    service_area: ServiceArea
    kind: AuditKind
    cycle: str  # "YYYY-MM"
    theme: str | None = None
    auditor_id: str
    practitioner_id: str
    team_manager_id: str
    head_of_service_id: str | None
    cp_chair_or_iro_id: str | None = None
    involvement_start: date
    allocated_by: str
    # Who stands for PIAT on the audit: the allocator, unless a Head of Service's approval of a
    # self-selection allocated it (R-ALLOC-2), when PIAT is named apart (see `piat`).
    piat_id: str | None = None
    piat_manager_id: str | None = None
    domains: list[str]  # the service area's audit tool at allocation (R-AUD-6)
    policy: Policy = Policy()
    reaudit_round: int = 0  # 1 or 2 for re-audits (R-RE)
    follows_audit_id: str | None = None  # the audit this re-audit follows
    chain_id: str | None = None  # the first audit of the chain; a case key that is not personal data
    # The council's closed days from the day before allocation, worked out by the API and so
    # recorded with the start: the run needs no round trip to record them (None: it records them).
    calendar: CalendarDays | None = None

    @property
    def chain(self) -> str:
        return self.chain_id or self.audit_id

    @property
    def piat(self) -> str:
        """Whom the emails meant for the PI&A team go to (reviews, a dispute's copies)."""
        return self.piat_id or self.allocated_by


# ---- grading (R-AUD-3..5) -------------------------------------------------------------------


class DomainGrade(BaseModel):
    domain: DomainName
    grade: Grade | None = None  # None: not applicable, or any domain of a peer audit
    rationale: Text = ""


class OverallGrade(BaseModel):
    grade: Grade | None = None  # None only for peer audits (R-KIND-2)
    rationale: RequiredText


class ImprovementAction(BaseModel):
    action: ItemText
    owner_id: StaffId
    due_on: date


class Grading(BaseModel):
    """`PUT /audits/{id}/grading`: the initial grading after reviewing the record."""

    domains: Items[DomainGrade]
    overall: OverallGrade
    improvement_plan: Items[ImprovementAction] = []


class PractitionerConversation(BaseModel):
    """`POST /audits/{id}/practitioner-conversation`: what was learnt, and the final grading."""

    held_on: date
    notes: RequiredText
    attendees: Items[StaffId] = []  # at a 2nd re-audit both practitioner and TM (R-RE-4)
    domains: Items[DomainGrade]
    overall: OverallGrade


class QADecision(BaseModel):
    """`POST /audits/{id}/qa` (R-QA-2)."""

    decision: Literal["accept", "return"]
    details: Text = ""
    discussion_offered: bool = False

    @model_validator(mode="after")
    def _return_needs_details(self) -> "QADecision":
        if self.decision == "return" and not self.details.strip():
            raise ValueError("a returned report needs details of what to review (R-QA-2)")
        return self


class Reassignment(BaseModel):
    """`POST /audits/{id}/reassign` (R-ALLOC-3)."""

    auditor_id: StaffId
    reason: RequiredText


class PersonChange(BaseModel):
    """`PUT /audits/{id}/people/{role}`: PIAT names who takes over a role on this audit."""

    role: PersonRole
    staff_id: StaffId
    reason: RequiredText


class ImprovementPlan(BaseModel):
    """`PUT /audits/{id}/improvement-plan`: the plan on its own, e.g. when the conversation's final
    grading turns out below the initial one (R-AUD-1)."""

    actions: Items[ImprovementAction] = Field(min_length=1)


class PreviousPractitionerFeedback(BaseModel):
    """`POST /audits/{id}/previous-practitioner-feedback` (R-AUD-7)."""

    staff_id: StaffId
    findings: RequiredText
    team_manager_id: StaffId | None = None  # resolved by the API from the staff directory


# ---- after the report (R-DISC, R-RE) ----------------------------------------------------------


class SmartAction(BaseModel):
    action: ItemText = Field(description="specific action")
    owner_id: StaffId
    measure: ItemText = Field(description="how progress will be measured")
    due_on: date


class FindingsDiscussion(BaseModel):
    """`POST /audits/{id}/findings-discussion`: recorded by the Team Manager (R-DISC-1..3)."""

    held_on: date
    attendees: Items[StaffId] = Field(min_length=1, description="staff IDs; the practitioner at least")
    smart_actions: Items[SmartAction] = []
    oversight_note: RequiredText = Field(description="the supervision / management-oversight note for Mosaic")


class DiscussionReview(BaseModel):
    """`POST /audits/{id}/findings-discussion/review`: PIAT accepts the note or asks for more."""

    decision: Literal["accept", "more"]
    comments: Text = ""

    @model_validator(mode="after")
    def _more_needs_comments(self) -> "DiscussionReview":
        if self.decision == "more" and not self.comments.strip():
            raise ValueError("say what more is needed in comments")
        return self


class HeadOfServiceFollowUp(BaseModel):
    """`POST /audits/{id}/head-of-service-follow-up` (R-RE-3)."""

    notes: RequiredText
    actions: Items[SmartAction] = []


class Recorded(BaseModel):
    at: datetime
    by: str


class DiscussionRecord(Recorded):
    discussion: FindingsDiscussion


class ReviewRecord(Recorded):
    review: DiscussionReview


class FollowUpRecord(Recorded):
    follow_up: HeadOfServiceFollowUp


class DiscussionView(BaseModel):
    working_days: int
    smart_actions_required: bool
    due: datetime | None
    status: Literal["awaited", "recorded", "more_requested", "accepted"]
    escalated_to_head_of_service: bool
    records: list[DiscussionRecord]
    reviews: list[ReviewRecord]


class ReauditPlan(BaseModel):
    round: int
    cycle: str
    allocate_at: datetime
    audit_id: str
    status: Literal["planned", "in_progress", "done"]
    final_overall_grade: Grade | None = None


class ChainLink(BaseModel):
    audit_id: str
    reaudit_round: int
    cycle: str
    stage: Stage
    overall_grade: Grade | None


class ServiceContacts(BaseModel):
    """Looked up when a step needs them: people change over the months a chain runs. None: no
    one in the directory holds the role now."""

    reauditor_id: str | None = None  # a senior manager of the service (R-KIND-6)
    team_manager_id: str | None = None
    head_of_service_id: str | None
    piat_manager_id: str | None = None
    psw_id: str | None
    assistant_director_id: str | None
    director_id: str | None
    corporate_director_quality_standards_id: str | None = None
    corporate_director_csc_id: str | None = None


class ReauditSchedule(BaseModel):
    cycle: str
    allocate_at: datetime


# ---- what the workflow shows --------------------------------------------------------------


class Waiting(BaseModel):
    action: str
    from_staff_ids: list[str]
    from_role: str | None = None  # when anyone holding a role may act (PIAT's QA)
    until: datetime | None = None


class Deadlines(BaseModel):
    completion_due: datetime | None = None  # R-AUD-1 (or the next cycle's end after R-QA-3)
    qa_due: datetime | None = None  # R-QA-1
    revision_due: datetime | None = None  # R-QA-2
    dispute_window_closes: datetime | None = None  # R-DIST-4


class HistoryEntry(BaseModel):
    at: datetime
    actor_id: str
    action: str
    detail: str = ""


class QARecord(BaseModel):
    at: datetime
    by: str
    decision: Literal["accept", "return"]
    details: str
    discussion_offered: bool


class AuditView(BaseModel):
    """`GET /audits/{id}`: where this audit is and what it waits for."""

    audit_id: str
    case_ref: str
    service_area: ServiceArea
    kind: AuditKind
    cycle: str
    theme: str | None
    auditor_id: str
    practitioner_id: str
    team_manager_id: str
    head_of_service_id: str | None
    cp_chair_or_iro_id: str | None
    stage: Stage
    waiting_for: Waiting | None
    overdue: bool
    overdue_steps: list[str]
    allocated_at: datetime
    audit_period_start: date | None
    audit_period_end: date | None
    carried_into_cycle: str | None
    deadlines: Deadlines
    initial_grading: Grading | None
    conversation: PractitionerConversation | None
    final_overall_grade: Grade | None
    improvement_plan: list[ImprovementAction]
    qa_decisions: list[QARecord]
    history: list[HistoryEntry]
    reaudit_round: int = 0
    follows_audit_id: str | None = None
    chain_id: str
    findings_discussion: DiscussionView | None = None
    head_of_service_follow_up_required: bool = False
    head_of_service_follow_up: FollowUpRecord | None = None
    reaudit: ReauditPlan | None = None
    chain_outcome: ChainOutcome | None = None
    escalation: Escalation = Escalation.NONE
    dispute_id: str | None = None
    dispute_outcome: "DisputeOutcome | None" = None
    final_grading: "Regrade | None" = None  # the grading after QA and any dispute (R-REP-2)
    final_at: datetime | None = (
        None  # when that grading went on Mosaic, final (None: not yet, or a view saved before it was kept)
    )
    named_by_piat: list[PersonRole] = []  # roles PIAT named (`PUT .../people/{role}`): the directory no longer decides them
    chain: list[ChainLink] = []  # filled by the API from the projection: every audit of the case's chain


class AuditOutcome(BaseModel):
    """What an audit's run returns: what a parent audit needs of its re-audit. The whole view stays
    in the projection and the `view` query; returned, it was the largest payload of the history.
    Runs that ended before returned an `AuditView`, which reads as this (its other fields ignored)."""

    audit_id: str
    stage: Stage
    final_overall_grade: Grade | None
    chain_outcome: ChainOutcome | None = None
    escalation: Escalation = Escalation.NONE


# ---- activity requests ----------------------------------------------------------------------


class AllocationSchedule(BaseModel):
    completion_due: datetime  # R-AUD-1
    period_start: date  # R-AUD-2
    period_end: date


class Notification(BaseModel):
    """One email, Mosaic case note or Mosaic alert. `key` makes a retried send a no-op."""

    key: str
    audit_id: str
    channel: Channel
    recipient_ids: list[str]
    subject: str
    body: str
    at: datetime  # the workflow's time, so time-skipped tests see simulated instants
    case_ref: str | None = None
    note_type: str = "Quality Assurance"  # Mosaic case notes only
    urgent: bool = False  # email: marked high importance (a safety concern)
    # What an email asks of its readers, as data: the email activity words it with their names,
    # London times and the page's link (activities/email_text.py). Staff IDs only, never names.
    cycle: str | None = None  # "2027-03": the audit's cycle, named in words
    action: str | None = None  # what is needed; "" nothing (for information); None: the body says (older sends)
    action_for: list[str] | None = None  # who of the recipients must act; None: all of them
    due: datetime | None = None  # by when
    link_path: str | None = None  # the page to act on, after PUBLIC_BASE_URL (models/pages.py)


# ---- disputes (R-DISP) ----------------------------------------------------------------------------

Outcome = Literal["resolved", "unresolved"]


class DisputeRaise(BaseModel):
    """`POST /audits/{id}/disputes`: the written response against the grading criteria (R-DISP-1)."""

    domains_disputed: Items[DomainName] = Field(min_length=1, description='domain names, or "overall"')
    rationale: RequiredText = Field(description="why, against the audit grading criteria")
    evidence: RequiredText = Field(description="evidence of the work done")


class Regrade(BaseModel):
    """A final grading that replaces the auditor's after a dispute."""

    domains: Items[DomainGrade]
    overall: OverallGrade


class DisputeOutcome(BaseModel):
    status: Literal["resolved", "unresolved", "withdrawn"]
    level: DisputeLevel
    regrade: Regrade | None = None
    ended_at: datetime


AuditView.model_rebuild()  # it names the dispute models defined after it
