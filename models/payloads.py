"""Pydantic models that cross the workflow boundary: inputs, updates, queries, activity requests.

They are plain pydantic models (never SQLModel tables) so the Temporal pydantic data converter
can carry them and the workflow sandbox can import them.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from models.enums import AuditKind, Channel, Grade, ServiceArea, Stage

NonEmpty = Field(min_length=1)


class Policy(BaseModel):
    """Durations (working days) an audit was allocated with; see models.settings."""

    qa_sla_days: int = 1
    revision_days: int = 3
    revision_days_with_discussion: int = 4
    dispute_window_days: int = 5


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
    piat_manager_id: str | None = None
    domains: list[str]  # the service area's audit tool at allocation (R-AUD-6)
    policy: Policy = Policy()


# ---- grading (R-AUD-3..5) -------------------------------------------------------------------


class DomainGrade(BaseModel):
    domain: str = NonEmpty
    grade: Grade | None = None  # None: not applicable, or any domain of a peer audit
    rationale: str = ""


class OverallGrade(BaseModel):
    grade: Grade | None = None  # None only for peer audits (R-KIND-2)
    rationale: str = NonEmpty


class ImprovementAction(BaseModel):
    action: str = NonEmpty
    owner_id: str = NonEmpty
    due_on: date


class Grading(BaseModel):
    """`PUT /audits/{id}/grading`: the initial grading after reviewing the record."""

    domains: list[DomainGrade]
    overall: OverallGrade
    improvement_plan: list[ImprovementAction] = []


class PractitionerConversation(BaseModel):
    """`POST /audits/{id}/practitioner-conversation`: what was learnt, and the final grading."""

    held_on: date
    notes: str = NonEmpty
    domains: list[DomainGrade]
    overall: OverallGrade


class QADecision(BaseModel):
    """`POST /audits/{id}/qa` (R-QA-2)."""

    decision: Literal["accept", "return"]
    details: str = ""
    discussion_offered: bool = False

    @model_validator(mode="after")
    def _return_needs_details(self) -> "QADecision":
        if self.decision == "return" and not self.details.strip():
            raise ValueError("a returned report needs details of what to review (R-QA-2)")
        return self


class Reassignment(BaseModel):
    """`POST /audits/{id}/reassign` (R-ALLOC-3)."""

    auditor_id: str = NonEmpty
    reason: str = NonEmpty


class PreviousPractitionerFeedback(BaseModel):
    """`POST /audits/{id}/previous-practitioner-feedback` (R-AUD-7)."""

    staff_id: str = NonEmpty
    findings: str = NonEmpty
    team_manager_id: str | None = None  # resolved by the API from the staff directory


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


# ---- activity requests ----------------------------------------------------------------------


class AllocationScheduleRequest(BaseModel):
    allocated_at: datetime
    involvement_start: date


class AllocationSchedule(BaseModel):
    completion_due: datetime  # R-AUD-1
    period_start: date  # R-AUD-2
    period_end: date


class WorkingDaysRequest(BaseModel):
    event_at: datetime
    working_days: int


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
