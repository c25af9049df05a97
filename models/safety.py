"""A safety concern's payloads (R-SAFE): raising and acknowledging it, its input, view and row."""

from datetime import datetime

from pydantic import BaseModel, Field

from models.enums import SafetyEscalation
from models.limits import RequiredText
from models.payloads import HistoryEntry, Policy, Waiting
from models.projections import Projection


class SafetyConcernRaise(BaseModel):
    """`POST /audits/{id}/safety-concerns`: what the auditor saw, in their words."""

    description: RequiredText = Field(description="what was found and why the child may not be safe")
    immediate_action_needed: bool = Field(description="whether someone must act now")


class SafetyAcknowledgement(BaseModel):
    """`POST /safety-concerns/{id}/acknowledge`."""

    action_taken: RequiredText = Field(description="what was done to keep the child safe")


class SafetyConcernInput(BaseModel):
    concern_id: str  # "<audit id>-<n>"
    audit_id: str
    case_ref: str
    raised_by: str
    description: str
    immediate_action_needed: bool
    practitioner_id: str
    team_manager_id: str | None  # their Team Manager now (None: nobody to tell, the Head of Service is)
    policy: Policy
    cycle: str | None = None  # the audit's, named in the emails (concerns raised before: None)
    # The audit's Head of Service, told when the directory's line of management names none (it
    # breaks at a Team Manager who has left). Concerns raised before: None.
    head_of_service_id: str | None = None


class SafetyConcernView(BaseModel):
    concern_id: str
    audit_id: str
    case_ref: str
    raised_by: str
    raised_at: datetime
    description: str
    immediate_action_needed: bool
    team_manager_id: str | None
    open: bool
    escalation: SafetyEscalation
    overdue: bool
    told: list[str]  # who has been asked to act, in order: the Team Manager, then whoever it went to
    waiting_for: Waiting | None
    acknowledged_by: str | None
    acknowledgement: SafetyAcknowledgement | None
    history: list[HistoryEntry]


class SafetyConcernRow(Projection):
    concern_id: str
    audit_id: str
    case_ref: str | None = None  # None in the rows of runs recorded before it was sent
    raised_by: str
    team_manager_id: str
    open: bool
    escalation: str
    overdue: bool
    raised_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, v: SafetyConcernView, whole: bool) -> "SafetyConcernRow":
        return cls(
            concern_id=v.concern_id,
            audit_id=v.audit_id,
            case_ref=v.case_ref,
            raised_by=v.raised_by,
            team_manager_id=v.team_manager_id or "",  # "": there was no Team Manager to tell
            open=v.open,
            escalation=v.escalation.value,
            overdue=v.overdue,
            raised_at=v.raised_at,
            updated_at=v.history[-1].at if v.history else v.raised_at,
            view=v.model_dump(mode="json") if whole else None,
        )
