"""`GET /action-log`: PIAT reads who did or read what, when (api/action_log.py records it)."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Actor, SessionDep
from api.permissions import permit
from api.schemas.work import ActionLogPage
from models.limits import MAX_ROW_ID
from services import action_log

router = APIRouter(tags=["operations"])


@router.get("/action-log", response_model=ActionLogPage, dependencies=[permit("read_action_log")])
def read_action_log(
    actor: Actor,
    session: SessionDep,
    audit_id: Annotated[str | None, Query(max_length=80)] = None,
    actor_id: Annotated[str | None, Query(max_length=64)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="entries older than this ID")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ActionLogPage:
    """Newest first, a page at a time; PIAT only."""
    return action_log.read_action_log(session, audit_id=audit_id, actor_id=actor_id, before=before, limit=limit)
