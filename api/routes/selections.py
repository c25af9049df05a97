"""Selecting a cycle's cases from the imported open-case list and allocating them at once
(R-ALLOC-1, R-KIND-1..4, R-CAL-4): services/selections.py says how."""

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.deps import Actor, IdempotencyKey, Now, SessionDep, Svc
from api.permissions import permit
from api.schemas.year import Confirmation, SelectionOut, SelectionRequest
from services import selections

router = APIRouter(tags=["selection"])


@router.post(
    "/cycles/{cycle}/selections",
    status_code=status.HTTP_201_CREATED,
    response_model=SelectionOut,
    dependencies=[permit("propose_selection")],
)
def propose_selection(
    cycle: Annotated[str, Path(max_length=7)],
    body: SelectionRequest,
    actor: Actor,
    svc: Svc,
    session: SessionDep,
    key: IdempotencyKey,
    now: Now,
) -> SelectionOut:
    return selections.propose_selection(session, svc, actor, cycle, body, now)


@router.post("/selections/{selection_id}/confirm", response_model=SelectionOut, dependencies=[permit("confirm_selection")])
async def confirm_selection(
    selection_id: str, body: Confirmation, actor: Actor, svc: Svc, key: IdempotencyKey, now: Now
) -> SelectionOut:
    """Every allocation starts, checked as `POST /audits` checks it; one that cannot is listed
    with its reason. The answer comes once every audit's workflow has started: each then tells
    its people and sets its deadlines on its own, as the audit's page shows. Confirming again
    starts nothing new, so a confirmation cut short is finished by sending it again."""
    return await selections.confirm_selection(svc, actor, selection_id, body, now)


@router.get("/selections/{selection_id}", response_model=SelectionOut, dependencies=[permit("get_selection")])
def get_selection(selection_id: str, actor: Actor, session: SessionDep) -> SelectionOut:
    return selections.get_selection(session, selection_id)
