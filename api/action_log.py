"""Attributable: every request that acts, allowed or refused, is appended to the action log
(who, what, on which audit, when, with what outcome, under which request ID), and so is every
read of a child's audit, its emails, a dispute or a safety concern (who read which, when: the
route's template and the IDs, never what was shown). PIAT can read it (`GET /action-log`). The
database itself refuses to change an entry, or delete one before its retention has passed.
Reading it is services/action_log.py and api/routes/action_log.py."""

import asyncio
import logging
import uuid
from datetime import datetime

from fastapi import FastAPI, HTTPException, Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import insert

from api.deps import staff_for_token
from api.permissions import audit_id_in
from models.tables import ActionLogEntry

log = logging.getLogger("qsaf.api")
ACTS = {"POST", "PUT", "PATCH", "DELETE"}
# Reads of what is about a child, by the JSON API or a staff page: an access record, as a case
# file's is. A list is one entry (the IDs it showed are not kept). Other reads (cycles, reports,
# one's own work) are not logged: they are the service's, not a child's.
READS = {
    "/audits",
    "/audits/{audit_id}",
    "/audits/{audit_id}/notifications",
    "/disputes",
    "/disputes/{dispute_id}",
    "/safety-concerns",
    "/safety-concerns/{concern_id}",
    "/app/audits",
    "/app/audits/{audit_id}",
    "/app/disputes",
    "/app/disputes/{dispute_id}",
    "/app/safety-concerns/{concern_id}",
}
APPEND = insert(ActionLogEntry.__table__)


def install(app: FastAPI) -> None:
    app.add_middleware(ActionLog)


class ActionLog:
    """Appends every acting request to the log, under its request ID, before its answer's last
    byte goes out. A plain ASGI middleware: `@app.middleware("http")` wraps each request in a
    task and a stream of its own, a cost paid on every staff action."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # The server's own ID for the request, on its answer and its log lines (api/metrics.py).
        request_id = scope.get("state", {}).get("request_id") or uuid.uuid4().hex
        status, logged = 500, False  # 500 unless the app answers

        async def answer(message: Message) -> None:
            nonlocal status, logged
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body") and not logged and _kept(scope):
                logged = True
                await _log(scope, request_id, status)
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            if not logged and _kept(scope):  # the app failed before answering
                await _log(scope, request_id, status)


def _kept(scope: Scope) -> bool:
    """An action, or a read of a child's records: known only once the router has matched the
    route (it sets `route` in the scope), so asked as the answer ends."""
    if scope["method"] in ACTS:
        return True
    return scope["method"] == "GET" and getattr(scope.get("route"), "path", None) in READS


async def _log(scope: Scope, request_id: str, status: int) -> None:
    at = await scope["app"].state.services.clock()
    await asyncio.to_thread(_append, scope, request_id, status, at)


def _append(scope: Scope, request_id: str, status: int, at: datetime) -> None:
    route = scope.get("route")
    params = scope.get("path_params") or {}
    target = next((params[name] for name in ("audit_id", "dispute_id", "concern_id") if name in params), None)
    entry = dict(
        at=at,
        request_id=request_id,
        actor_id=scope.get("state", {}).get("actor_id") or _token_actor(scope),
        method=scope["method"],
        route=getattr(route, "path", "(no route)"),
        target_id=target,
        audit_id=audit_id_in(params),
        status=status,
    )
    try:  # one Core INSERT: every staff action pays for it, and the ORM's unit of work doubled it
        with scope["app"].state.services.engine.begin() as connection:
            connection.execute(APPEND, entry)
    except Exception as error:  # noqa: BLE001 - the action stands; the gap is loud in the log
        log.error(
            "action log: request %s (%s %s) not recorded: %s", request_id, scope["method"], entry["route"], type(error).__name__
        )


def _token_actor(scope: Scope) -> str | None:
    """Who a request's bearer token names, when no route's dependency read it (no route matched,
    405, a failure before authentication): a refused request is still someone's. None for no
    token or a bad one."""
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        return staff_for_token(Request(scope), scope["app"].state.services, token.strip()).id
    except HTTPException:
        return None
