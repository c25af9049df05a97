"""A self-selection request's payloads (R-ALLOC-2)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from models.enums import AuditKind
from models.limits import Text
from models.payloads import AuditInput, HistoryEntry, Waiting
from models.projections import Projection


Status = Literal["awaiting_decision", "approved", "refused", "unanswered", "not_allocated"]


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
    status: Status
    due: datetime | None
    decided_by: str | None
    decision: SelfSelectionDecision | None
    audit_id: str | None  # the audit approval started
    history: list[HistoryEntry]


class SelfSelectionRow(Projection):
    """The request's row (the `self_selection` table): `GET /self-selection-requests` lists them, and
    a read of the request answers from its whole view there without the worker a query needs.
    While it waits, the Head of Service's decision is on their My work (the `waiting` table)."""

    request_id: str
    case_ref: str
    cycle: str
    requested_by: str
    head_of_service_id: str | None
    status: str
    due: datetime | None
    updated_at: datetime

    @classmethod
    def of(cls, v: SelfSelectionView, whole: bool) -> "SelfSelectionRow":
        return cls(
            request_id=v.request_id,
            case_ref=v.case_ref,
            cycle=v.cycle,
            requested_by=v.requested_by,
            head_of_service_id=v.head_of_service_id,
            status=v.status,
            due=v.due,
            updated_at=v.history[-1].at if v.history else v.requested_at,
            view=v.model_dump(mode="json") if whole else None,
            waits=[Waiting(action="approve or refuse the request", from_staff_ids=[v.head_of_service_id], until=v.due)]
            if v.status == "awaiting_decision" and v.head_of_service_id
            else [],
        )
