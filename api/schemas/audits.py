"""An audit's requests and answers: its staff actions, the list, its messages, and allocating one."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from api.schemas import Request
from models.enums import AuditKind, Channel, Escalation, Grade, ServiceArea, Stage
from models.limits import CASE_REF, DomainName, Identifier, Items, ItemText, RequiredText, StaffId, Text, Theme
from models.payloads import (
    DiscussionReview,
    FindingsDiscussion,
    Grading,
    HeadOfServiceFollowUp,
    ImprovementPlan,
    PractitionerConversation,
    QADecision,
    Reassignment,
)


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
        "not_delivered: nobody reachable, or refused"
    )
    reason: str | None = Field(
        description="who was skipped (not in the staff directory), whom the mail server refused, or why not delivered yet"
    )


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
