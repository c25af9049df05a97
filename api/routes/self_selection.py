"""`/self-selection-requests`: an auditor asks to audit a case of their choosing (R-ALLOC-2)."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import Actor, IdempotencyKey, Now, SessionDep, Svc
from api.permissions import permit
from api.schemas.year import SelfSelectionDecisionRequest, SelfSelectionRequest, SelfSelectionSummary
from models.self_selection import SelfSelectionView, Status
from services import self_selection

router = APIRouter(prefix="/self-selection-requests", tags=["self-selection"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=SelfSelectionView, dependencies=[permit("request_self_selection")]
)
async def request_self_selection(
    body: SelfSelectionRequest, actor: Actor, svc: Svc, key: IdempotencyKey, now: Now
) -> SelfSelectionView:
    """R-ALLOC-2: checked like an allocation (the asker must be able to audit it), then the Head
    of Service of the case's service is asked; 201 once they are emailed."""
    return await self_selection.request_self_selection(svc, actor, body, now)


@router.get("", response_model=list[SelfSelectionSummary], dependencies=[permit("list_self_selections")])
def list_self_selections(
    actor: Actor,
    session: SessionDep,
    status: Status | None = None,  # noqa: A002 (the query parameter's name)
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SelfSelectionSummary]:
    """From each request's row, newest first: senior leaders see all; anyone else those they
    asked and those asked of them as the case's Head of Service."""
    return self_selection.list_self_selections(session, actor, status=status, limit=limit)


@router.post("/{request_id}/decision", response_model=SelfSelectionView, dependencies=[permit("decide_self_selection")])
async def decide_self_selection(
    request_id: str, body: SelfSelectionDecisionRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> SelfSelectionView:
    """The Head of Service approves (the audit starts) or refuses, within 5 working days."""
    return await self_selection.decide_self_selection(svc, actor, request_id, body, key)


@router.get("/{request_id}", response_model=SelfSelectionView, dependencies=[permit("get_self_selection")])
async def get_self_selection(request_id: str, actor: Actor, svc: Svc) -> SelfSelectionView:
    return await self_selection.get_self_selection(svc, request_id)
