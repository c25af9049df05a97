"""A self-selection request's payloads (R-ALLOC-2)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from models.enums import AuditKind
from models.limits import Text
from models.payloads import AuditInput, HistoryEntry


class SelfSelectionDecision(BaseModel):
    """`POST /self-selection-requests/{id}/decision`: the Head of Service's answer."""

    approve: bool
    comment: Text = ""



class SelfSelectionInput(BaseModel):
    request_id: str
    audit: AuditInput  # the audit it would start, checked against the framework when asked for
    reason: str
    head_of_service_id: str | None



class SelfSelectionView(BaseModel):
    request_id: str
    requested_by: str
    requested_at: datetime
    case_ref: str
    cycle: str
    kind: AuditKind
    reason: str
    head_of_service_id: str | None
    status: Literal["awaiting_decision", "approved", "refused", "unanswered", "not_allocated"]
    due: datetime | None
    decided_by: str | None
    decision: SelfSelectionDecision | None
    audit_id: str | None  # the audit approval started
    history: list[HistoryEntry]
