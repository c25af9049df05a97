"""The API's request and response bodies: the JSON it takes and gives, apart from the workflow
payloads (models/payloads.py) a history records. A request maps to its payload in `to_payload`,
at the service boundary (services/), so renaming a field here never changes a recorded payload:
field for field today, a renamed field maps there."""

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from models.enums import AuditKind, Channel, DisputeLevel, DisputeStep, Escalation, Grade, SafetyEscalation, ServiceArea, Stage
from models.limits import CASE_REF, MAX_CONFIRMED, DomainName, Identifier, Items, ItemText, RequiredText, StaffId, Text, Theme
from models.cycle_views import ServiceNonCompletion, ThemeChange
from models.disputes import (
    AmendedGrading, CorporateDecision, DisputeMeeting, DisputeSummary, FormalDiscussion, IndependentReviewDecision,
    IndependentReviewResult, Withdrawal, WrittenResponse,
)
from models.safety import SafetyAcknowledgement
from models.self_selection import SelfSelectionDecision, Status
from models.tables import ActionLogEntry
from models.payloads import (
    DiscussionReview, DisputeRaise, FindingsDiscussion, Grading, HeadOfServiceFollowUp, ImprovementPlan, Outcome,
    PractitionerConversation, QADecision, Reassignment,
)


class Request(BaseModel):
    """A request body that a workflow update carries on as `payload`."""

    payload: ClassVar[type[BaseModel]]

    def to_payload(self) -> BaseModel:
        return self.payload.model_validate(self.model_dump())


# ---- an audit's actions (R-AUD, R-QA, R-ALLOC-3, R-DISC, R-RE) --------------------------------


class DomainGradeIn(BaseModel):
    domain: DomainName
    grade: Grade | None = None  # None: not applicable, or any domain of a peer audit
    rationale: Text = ""


class OverallGradeIn(BaseModel):
    grade: Grade | None = None  # None only for peer audits (R-KIND-2)
    rationale: RequiredText


class ImprovementActionIn(BaseModel):
    action: ItemText
    owner_id: StaffId
    due_on: date


class SmartActionIn(BaseModel):
    action: ItemText = Field(description="specific action")
    owner_id: StaffId
    measure: ItemText = Field(description="how progress will be measured")
    due_on: date


class GradingRequest(Request):
    """`PUT /audits/{id}/grading`: the initial grading after reviewing the record."""

    payload = Grading
    domains: Items[DomainGradeIn]
    overall: OverallGradeIn
    improvement_plan: Items[ImprovementActionIn] = []


class PractitionerConversationRequest(Request):
    """`POST /audits/{id}/practitioner-conversation`: what was learnt, and the final grading."""

    payload = PractitionerConversation
    held_on: date
    notes: RequiredText
    attendees: Items[StaffId] = []  # at a 2nd re-audit both practitioner and TM (R-RE-4)
    domains: Items[DomainGradeIn]
    overall: OverallGradeIn


class QADecisionRequest(Request):
    """`POST /audits/{id}/qa` (R-QA-2)."""

    payload = QADecision
    decision: Literal["accept", "return"]
    details: Text = ""
    discussion_offered: bool = False

    @model_validator(mode="after")
    def _return_needs_details(self) -> "QADecisionRequest":
        if self.decision == "return" and not self.details.strip():
            raise ValueError("a returned report needs details of what to review (R-QA-2)")
        return self


class ReassignmentRequest(Request):
    """`POST /audits/{id}/reassign` (R-ALLOC-3)."""

    payload = Reassignment
    auditor_id: StaffId
    reason: RequiredText


class PersonRequest(BaseModel):
    """`PUT /audits/{id}/people/{role}`: mapped with the path's role (services/audits.py)."""

    staff_id: StaffId = Field(description="who takes the role over")
    reason: RequiredText = Field(description="why, e.g. left the council, long-term sickness")


class ImprovementPlanRequest(Request):
    """`PUT /audits/{id}/improvement-plan`: the plan on its own, e.g. when the conversation's final
    grading turns out below the initial one (R-AUD-1)."""

    payload = ImprovementPlan
    actions: Items[ImprovementActionIn] = Field(min_length=1)


class FeedbackRequest(BaseModel):
    """`POST /audits/{id}/previous-practitioner-feedback` (R-AUD-7): mapped with the practitioner's
    Team Manager from the directory (services/audits.py)."""

    staff_id: StaffId
    findings: RequiredText


class FindingsDiscussionRequest(Request):
    """`POST /audits/{id}/findings-discussion`: recorded by the Team Manager (R-DISC-1..3)."""

    payload = FindingsDiscussion
    held_on: date
    attendees: Items[StaffId] = Field(min_length=1, description="staff IDs; the practitioner at least")
    smart_actions: Items[SmartActionIn] = []
    oversight_note: RequiredText = Field(description="the supervision / management-oversight note for Mosaic")


class DiscussionReviewRequest(Request):
    """`POST /audits/{id}/findings-discussion/review`: PIAT accepts the note or asks for more."""

    payload = DiscussionReview
    decision: Literal["accept", "more"]
    comments: Text = ""

    @model_validator(mode="after")
    def _more_needs_comments(self) -> "DiscussionReviewRequest":
        if self.decision == "more" and not self.comments.strip():
            raise ValueError("say what more is needed in comments")
        return self


class HeadOfServiceFollowUpRequest(Request):
    """`POST /audits/{id}/head-of-service-follow-up` (R-RE-3)."""

    payload = HeadOfServiceFollowUp
    notes: RequiredText
    actions: Items[SmartActionIn] = []


# ---- audits: what the API answers ------------------------------------------------------------


class AuditSummary(BaseModel):
    audit_id: str
    case_ref: str
    cycle: str
    service_area: ServiceArea
    kind: AuditKind
    stage: Stage
    auditor_id: str
    practitioner_id: str
    overall_grade: Grade | None
    overdue: bool
    reaudit_round: int
    follows_audit_id: str | None
    chain_id: str
    escalation: Escalation


class NotificationOut(BaseModel):
    channel: Channel
    recipient_ids: list[str]
    subject: str
    body: str
    at: str
    delivery: Literal["sent", "pending", "not_delivered"] = Field(
        description="sent: accepted by the mail server (or on Mosaic); pending: queued or retrying; "
        "not_delivered: nobody reachable, or refused")
    reason: str | None = Field(description="who was skipped (not in the staff directory), whom the mail server "
                               "refused, or why not delivered yet")


# ---- allocation (R-ALLOC-1) --------------------------------------------------------------------


class AllocationRequest(BaseModel):
    case_ref: Identifier = Field(pattern=CASE_REF, description="Mosaic case identifier, e.g. `C-104233`")
    service_area: ServiceArea
    kind: AuditKind
    cycle: str = Field(max_length=7, description='"YYYY-MM", a month holding an audit cycle (not August or December)')
    auditor_id: StaffId
    practitioner_id: StaffId
    involvement_start: date = Field(description="start of Children's Social Care involvement (R-AUD-2)")
    cp_chair_or_iro_id: StaffId | None = None
    theme: Theme | None = Field(default=None, description="themed audits only (R-KIND-3)")


# ---- disputes (R-DISP) -------------------------------------------------------------------------


class DisputeRaiseRequest(Request):
    """`POST /audits/{id}/disputes`: the written response against the grading criteria (R-DISP-1)."""

    payload = DisputeRaise
    domains_disputed: Items[DomainName] = Field(min_length=1, description='domain names, or "overall"')
    rationale: RequiredText = Field(description="why, against the audit grading criteria")
    evidence: RequiredText = Field(description="evidence of the work done")


class RegradeIn(BaseModel):
    """A final grading that replaces the auditor's after a dispute."""

    domains: Items[DomainGradeIn]
    overall: OverallGradeIn


class DisputeMeetingRequest(Request):
    payload = DisputeMeeting
    held_on: date
    attendees: Items[StaffId] = Field(min_length=1)
    notes: RequiredText


class DisputeSummaryRequest(Request):
    payload = DisputeSummary
    outcome: Outcome
    summary: RequiredText


class AmendedGradingRequest(RegradeIn, Request):
    payload = AmendedGrading
    notes: RequiredText


class FormalDiscussionRequest(Request):
    payload = FormalDiscussion
    held_on: date
    course_of_action: RequiredText
    independent_review_of_recordings: bool = False


class WrittenResponseRequest(Request):
    payload = WrittenResponse
    response: RequiredText
    outcome: Outcome
    regrade: RegradeIn | None = None


class CorporateDecisionRequest(Request):
    payload = CorporateDecision
    outcome: Outcome
    notes: RequiredText
    regrade: RegradeIn | None = None


class IndependentReviewDecisionRequest(Request):
    payload = IndependentReviewDecision
    commissioned: bool
    notes: RequiredText


class IndependentReviewResultRequest(Request):
    payload = IndependentReviewResult
    findings: RequiredText
    regrade: RegradeIn | None = None


class WithdrawalRequest(Request):
    payload = Withdrawal
    reason: RequiredText


class DisputeSummaryOut(BaseModel):
    dispute_id: str
    audit_id: str
    level: DisputeLevel
    step: DisputeStep
    status: str
    overdue: bool
    raised_by: str



# ---- safety concerns (R-SAFE) ------------------------------------------------------------------


class SafetyConcernRaiseRequest(BaseModel):
    """`POST /audits/{id}/safety-concerns`: what the auditor saw, in their words (the concern's
    input, services/safety.py)."""

    description: RequiredText = Field(description="what was found and why the child may not be safe")
    immediate_action_needed: bool = Field(description="whether someone must act now")


class SafetyAcknowledgementRequest(Request):
    """`POST /safety-concerns/{id}/acknowledge`."""

    payload = SafetyAcknowledgement
    action_taken: RequiredText = Field(description="what was done to keep the child safe")


class SafetyConcernSummary(BaseModel):
    concern_id: str
    audit_id: str
    raised_by: str
    team_manager_id: str | None  # None: there was no Team Manager to tell
    open: bool
    escalation: SafetyEscalation
    overdue: bool
    raised_at: datetime


# ---- self-selection (R-ALLOC-2) ----------------------------------------------------------------


# What the case's row in the open-case list decides, and who the auditor is: sent by the asker,
# they could pick the practitioner and so the Head of Service who approves.
FROM_THE_CASE = ("service_area", "practitioner_id", "involvement_start", "cp_chair_or_iro_id")


class SelfSelectionRequest(BaseModel):
    """The case the auditor asks to audit (they are its auditor), the audit they ask for, and why.
    Its service, practitioner (and so Head of Service) and CP Chair / IRO are the open-case list's."""

    case_ref: Identifier = Field(pattern=CASE_REF, description="a case on the open-case list (`POST /cases/import`)")
    kind: AuditKind
    cycle: str = Field(max_length=7, description='"YYYY-MM", a month holding an audit cycle (not August or December)')
    theme: Theme | None = Field(default=None, description="themed audits only (R-KIND-3)")
    reason: RequiredText

    @model_validator(mode="before")
    @classmethod
    def _refuse_what_the_case_decides(cls, data):
        """Refused, not ignored: a client sending them could believe they took effect."""
        if not isinstance(data, dict):
            return data
        if "auditor_id" in data:
            raise PydanticCustomError("asker_is_auditor", "auditor_id: the auditor is whoever asks; leave it out")
        if sent := [f for f in FROM_THE_CASE if f in data]:
            raise PydanticCustomError("from_the_case", "{fields}: taken from the open-case list; leave them out",
                                      {"fields": ", ".join(sent)})
        return data



class SelfSelectionDecisionRequest(Request):
    """`POST /self-selection-requests/{id}/decision`: the Head of Service's answer."""

    payload = SelfSelectionDecision
    approve: bool
    comment: Text = ""


class SelfSelectionSummary(BaseModel):
    request_id: str
    case_ref: str
    cycle: str
    requested_by: str
    head_of_service_id: str | None
    status: Status
    due: datetime | None
    updated_at: datetime


# ---- cycles (R-CAL-3, R-CAL-4, R-QA-4) ---------------------------------------------------------


class ThemeChangeRequest(Request):
    """`PUT /cycles/{cycle}/theme`: the topic the senior management group chose (R-KIND-3)."""

    payload = ThemeChange
    theme: Theme


class AuditBrief(BaseModel):
    audit_id: str
    case_ref: str
    service_area: str
    kind: str
    auditor_id: str
    stage: str
    completion_due: datetime | None
    overdue: bool


class CycleSummary(BaseModel):
    cycle: str
    month: str
    kind: str  # for every service but MASH, whose audits run in every cycle (R-KIND-4)
    theme: str | None
    second_activity: str  # re-audits or moderation (R-CAL-4)
    first_working_day: date
    last_working_day: date
    status: str  # not started, planned, open, closed
    audits_by_stage: dict[str, int]
    reaudits_due: int
    carried_over: int


class CycleDetail(CycleSummary):
    allocated_audits: list[AuditBrief]
    reaudits: list[AuditBrief]  # a planned re-audit shows the audit that plans it (stage reaudit_planned)
    carried_over_audits: list[AuditBrief]
    opened_with: dict | None
    moderation_panel_id: str | None
    history: list[dict]


class NonCompletionReport(BaseModel):
    cycle: str
    reported_at: datetime
    services: list[ServiceNonCompletion]


# ---- selection (R-ALLOC-1, R-KIND-1..4) -----------------------------------------------------------


class SelectionRequest(BaseModel):
    per_team: int = Field(ge=1, le=50, description="cases to draw from each team")
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1, description="to repeat a draw; recorded either way")
    theme: Theme | None = Field(default=None, description="themed cycles: the topic (R-KIND-3), if not set for the cycle")


class ProposedAllocation(BaseModel):
    case_ref: Identifier
    kind: AuditKind
    auditor_id: Identifier | None


class Confirmation(BaseModel):
    allocations: list[ProposedAllocation] = Field(max_length=MAX_CONFIRMED, description="the proposal as PIAT adjusted it: any of its cases")


class Confirmed(BaseModel):
    case_ref: str
    audit_id: str | None = None
    refused: str | None = None


class SelectionOut(BaseModel):
    selection_id: str
    cycle: str
    per_team: int
    seed: int
    theme: str | None
    proposal: list[ProposedAllocation]
    confirmed: list[Confirmed]


# ---- the open-case list (R-ALLOC-1) ----------------------------------------------------------------


class RefusedRow(BaseModel):
    row: int  # the file's line number (the header is line 1)
    reason: str


class ImportResult(BaseModel):
    imported: int
    ignored_columns: list[str]


class CaseOut(BaseModel):
    case_ref: str
    service_area: ServiceArea
    practitioner_id: str
    team: str
    involvement_start: date
    cp_chair_or_iro_id: str | None


# ---- moderation panels (R-MOD) -------------------------------------------------------------------


class ModeratorChangeRequest(BaseModel):
    """`PUT /moderation-panels/{cycle}/moderations/{audit_id}/moderator` (services/moderation.py
    passes the moderator on)."""

    moderator_id: StaffId = Field(description="an SLT moderator who neither audited nor was audited in it")


class PanelRequest(BaseModel):
    per_service: int | None = Field(default=None, ge=1, le=50, description="audits drawn per service area (MODERATION_PER_SERVICE)")
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1, description="to repeat a draw; recorded either way")


# ---- everyone's own work -------------------------------------------------------------------------


class WorkItem(BaseModel):
    process: str  # audit, dispute, safety_concern, moderation_panel, self_selection
    id: str
    case_ref: str | None
    action: str
    until: datetime | None
    overdue: bool  # past `until`, or a step of the process is overdue
    by_role: str | None  # waiting on anyone holding this role (e.g. PIAT's quality assurance)
    link: str


# ---- operations ----------------------------------------------------------------------------------


class ActionLogPage(BaseModel):
    entries: list[ActionLogEntry]
    next_before: int | None  # pass as `before` for the next (older) page
