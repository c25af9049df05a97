"""Attributable: every request that acts, allowed or refused, is appended to the action log
(who, what, on which audit, when, with what outcome, under which request ID), and PIAT can read
it (`GET /action-log`). The database itself refuses to change or delete an entry."""

import asyncio
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel
from sqlmodel import Session, select

from api.deps import Actor, Svc
from api.permissions import audit_id_in, permit
from models.tables import ActionLogEntry

log = logging.getLogger("qsaf.api")
router = APIRouter(tags=["operations"])
ACTS = {"POST", "PUT", "PATCH", "DELETE"}


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def record_actions(request: Request, call_next):
        request_id = _request_id(request)
        request.state.request_id = request_id
        status = 500  # unless the app answers
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers["X-Request-ID"] = request_id
            return response
        finally:
            if request.method in ACTS:
                await asyncio.to_thread(_append, request, request_id, status)


def _request_id(request: Request) -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", given) else uuid.uuid4().hex


def _append(request: Request, request_id: str, status: int) -> None:
    route = request.scope.get("route")
    params = request.scope.get("path_params") or {}
    target = next((params[name] for name in ("audit_id", "dispute_id", "concern_id") if name in params), None)
    entry = ActionLogEntry(
        at=datetime.now(UTC), request_id=request_id, actor_id=request.scope.get("state", {}).get("actor_id"),
        method=request.method, route=getattr(route, "path", "(no route)"), target_id=target,
        audit_id=audit_id_in(params), status=status,
    )
    try:
        with Session(request.app.state.services.engine) as session:
            session.add(entry)
            session.commit()
    except Exception as error:  # noqa: BLE001 - the action stands; the gap is loud in the log
        log.error("action log: request %s (%s %s) not recorded: %s", request_id, request.method, entry.route, type(error).__name__)


class ActionLogPage(BaseModel):
    entries: list[ActionLogEntry]
    next_before: int | None  # pass as `before` for the next (older) page


@router.get("/action-log", response_model=ActionLogPage, dependencies=[permit("read_action_log")])
def read_action_log(
    actor: Actor,
    svc: Svc,
    audit_id: Annotated[str | None, Query(max_length=80)] = None,
    actor_id: Annotated[str | None, Query(max_length=64)] = None,
    before: Annotated[int | None, Query(ge=1, description="entries older than this ID")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ActionLogPage:
    """Newest first, a page at a time; PIAT only."""
    query = select(ActionLogEntry)
    for column, value in ((ActionLogEntry.audit_id, audit_id), (ActionLogEntry.actor_id, actor_id)):
        if value is not None:
            query = query.where(column == value)
    if before is not None:
        query = query.where(ActionLogEntry.id < before)
    with Session(svc.engine) as session:
        entries = list(session.exec(query.order_by(ActionLogEntry.id.desc()).limit(limit)))
    return ActionLogPage(entries=entries, next_before=entries[-1].id if len(entries) == limit else None)
