"""A safety concern's requests and answers (R-SAFE)."""

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas import Request
from models.enums import SafetyEscalation
from models.limits import RequiredText
from models.safety import SafetyAcknowledgement


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
