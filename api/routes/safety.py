"""`/safety-concerns`: concerns for a child's safety found while auditing (R-SAFE-1, R-SAFE-2)."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import Actor, IdempotencyKey, SessionDep, Svc
from api.permissions import authorised_audit, permit
from api.schemas.safety import SafetyAcknowledgementRequest, SafetyConcernRaiseRequest, SafetyConcernSummary
from models.payloads import AuditView
from models.safety import SafetyConcernView
from services import safety

router = APIRouter(tags=["safety concerns"])


@router.post("/audits/{audit_id}/safety-concerns", status_code=status.HTTP_201_CREATED, response_model=SafetyConcernView)
async def raise_safety_concern(
    audit: Annotated[AuditView, authorised_audit("raise_safety_concern")],
    body: SafetyConcernRaiseRequest,
    actor: Actor,
    svc: Svc,
    key: IdempotencyKey,
) -> SafetyConcernView:
    """R-SAFE-1: whoever audits the case raises it, at any stage, even after completion; the
    practitioner's Team Manager is emailed at once, marked urgent (R-SAFE-2)."""
    return await safety.raise_safety_concern(svc, actor, audit, body, key)


@router.post("/safety-concerns/{concern_id}/acknowledge", response_model=SafetyConcernView, dependencies=[permit("acknowledge")])
async def acknowledge(
    concern_id: str, body: SafetyAcknowledgementRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> SafetyConcernView:
    """R-SAFE-2: the Team Manager, or the Head of Service or Assistant Director once told."""
    return await safety.acknowledge(svc, actor, concern_id, body, key)


@router.get("/safety-concerns", response_model=list[SafetyConcernSummary], dependencies=[permit("list_safety_concerns")])
def list_safety_concerns(
    actor: Actor,
    session: SessionDep,
    open: Annotated[bool | None, Query(description="only open (true) or only acknowledged (false)")] = None,  # noqa: A002
    audit_id: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SafetyConcernSummary]:
    """Open ones first, then the newest. PIAT and managers see all; others those they raised or
    that their practitioners' audits raised."""
    return safety.list_safety_concerns(session, actor, open=open, audit_id=audit_id, limit=limit)


@router.get("/safety-concerns/{concern_id}", response_model=SafetyConcernView, dependencies=[permit("get_safety_concern")])
async def get_safety_concern(concern_id: str, actor: Actor, svc: Svc) -> SafetyConcernView:
    """The concern with its timeline: raised, who was told when, the acknowledgement."""
    return await safety.get_safety_concern(svc, concern_id)
