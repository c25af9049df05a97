"""`/moderation-panels` and `/moderations` (R-MOD-1..4): a panel's draw, progress and results, and
the moderator's record.

The cycle workflow starts a panel when a February, June or October cycle opens; PIAT may start one
by hand (`POST /moderation-panels/{cycle}`), e.g. when the cycle did not."""

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.deps import Actor, IdempotencyKey, Now, Svc
from api.permissions import permit
from api.schemas.year import ModerationFindingsRequest, ModeratorChangeRequest, PanelRequest
from models.moderation import ModerationPanelView, ModerationSummary
from services import moderation

router = APIRouter(tags=["moderation"])
Cycle = Annotated[str, Path(max_length=7, description='the moderation month, "YYYY-MM" (February, June or October)')]


@router.post(
    "/moderation-panels/{cycle}",
    status_code=status.HTTP_201_CREATED,
    response_model=ModerationPanelView,
    dependencies=[permit("start_moderation_panel")],
)
async def start_moderation_panel(
    cycle: Cycle, actor: Actor, svc: Svc, key: IdempotencyKey, now: Now, body: PanelRequest | None = None
) -> ModerationPanelView:
    """R-MOD-1: convene a moderation month's panel; 201 once the moderators and PIAT are emailed.
    One panel a month: 409 if it exists (running or ended)."""
    return await moderation.start_moderation_panel(svc, cycle, body, now)


@router.get("/moderation-panels/{cycle}", response_model=ModerationPanelView, dependencies=[permit("get_moderation_panel")])
async def get_moderation_panel(cycle: Cycle, actor: Actor, svc: Svc) -> ModerationPanelView:
    """R-MOD: the draw (with its seed), each moderation's progress, and the agreement so far."""
    return await moderation.get_moderation_panel(svc, cycle)


@router.post("/moderations/{moderation_id}/record", response_model=ModerationSummary, dependencies=[permit("record_moderation")])
async def record_moderation(
    moderation_id: Annotated[str, Path(max_length=16)],
    body: ModerationFindingsRequest,
    actor: Actor,
    svc: Svc,
    key: IdempotencyKey,
) -> ModerationSummary:
    """R-MOD-3, R-MOD-4: the moderator's findings on the moderation template; the feedback goes to
    the auditor and PIAT and onto Mosaic. Only the moderator it is allocated to; once."""
    return await moderation.record_moderation(svc, actor, moderation_id, body, key)


@router.put(
    "/moderation-panels/{cycle}/moderations/{audit_id}/moderator",
    response_model=ModerationSummary,
    dependencies=[permit("give_moderation")],
)
async def give_moderation(
    cycle: Cycle,
    audit_id: Annotated[str, Path(max_length=80)],
    body: ModeratorChangeRequest,
    actor: Actor,
    svc: Svc,
    key: IdempotencyKey,
) -> ModerationSummary:
    """PIAT gives a drawn audit's moderation to another SLT moderator (one left, or nobody could
    take it at the draw): they are emailed, the one before told it is no longer theirs; the due
    time stays. 409 once it is recorded."""
    return await moderation.give_moderation(svc, actor, cycle, audit_id, body, key)
