"""`POST /audits`: PIAT allocates an audit (R-ALLOC-1); services/allocation.py checks and starts it."""

from fastapi import APIRouter, status

from api.deps import Actor, IdempotencyKey, Now, Svc
from api.permissions import permit
from api.schemas.audits import AllocationRequest
from models.payloads import AuditView
from services import allocation

router = APIRouter(prefix="/audits", tags=["audits"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AuditView, dependencies=[permit("allocate_audit")])
async def allocate_audit(body: AllocationRequest, actor: Actor, svc: Svc, key: IdempotencyKey, now: Now) -> AuditView:
    """R-ALLOC-1: PIAT allocates; auditor, Team Manager and practitioner are told.

    A case has one audit of a kind per cycle (409 naming it otherwise); sending the same
    Idempotency-Key again answers 201 with the audit the first request allocated."""
    return await allocation.allocate_audit(svc, actor, body, key, now)
