"""Turn the services' and the workflows' refusals into HTTP answers a person can act on; never a stack trace."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.client import RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from models.errors import FORBIDDEN, INVALID, OUT_OF_ORDER
from services.errors import Refused

log = logging.getLogger("qsaf.api")
STATUS_BY_TYPE = {FORBIDDEN: 403, OUT_OF_ORDER: 409, INVALID: 422}
# A refusal stays a few KB whatever was sent: FastAPI's default echoes each field's input.
MAX_ERRORS = 20
MAX_FIELD = 80  # a location can hold keys taken from the request body
MAX_MESSAGE = 120


def install(app: FastAPI) -> None:
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        # The type and the route find the bug; the body may hold personal data, so it stays out.
        log.error("unexpected %s on %s %s", type(error).__name__, request.method, _route(request))
        return JSONResponse({"detail": "something went wrong on our side; the error has been logged"}, status_code=500)

    @app.exception_handler(Refused)
    async def _refused(request: Request, error: Refused) -> JSONResponse:
        return JSONResponse({"detail": error.detail} | error.more, status_code=error.status_code)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(validation_body(error.errors()), status_code=422)

    @app.exception_handler(WorkflowUpdateFailedError)
    async def _update_refused(request: Request, error: WorkflowUpdateFailedError) -> JSONResponse:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type in STATUS_BY_TYPE:
            return JSONResponse({"detail": cause.message}, status_code=STATUS_BY_TYPE[cause.type])
        log.error("update failed unexpectedly: %s", type(cause).__name__)  # its message may quote the request
        return JSONResponse({"detail": "the action could not be completed; try again"}, status_code=500)

    @app.exception_handler(RPCTimeoutOrCancelledError)
    async def _update_unanswered(request: Request, error: RPCTimeoutOrCancelledError) -> JSONResponse:
        return _did_not_answer(request)

    @app.exception_handler(TimeoutError)
    async def _unanswered(request: Request, error: TimeoutError) -> JSONResponse:
        return _did_not_answer(request)  # the whole call's bound (services.actions.answer_within)

    @app.exception_handler(RPCError)
    async def _temporal_unavailable(request: Request, error: RPCError) -> JSONResponse:
        if error.status is RPCStatusCode.NOT_FOUND:
            return JSONResponse({"detail": "no such audit, or it is no longer running"}, status_code=404)
        if error.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
            return _did_not_answer(request)  # a query past its rpc_timeout
        log.error("temporal call failed: %s", error.status)
        return JSONResponse({"detail": "the workflow service is unavailable; try again shortly"}, status_code=503)


class Answered:
    """Just outside Starlette's last-resort handler, which answers an unexpected failure (the 500
    above, whose log line names its type and route) and then raises it again for the server to
    log: uvicorn would log it once more with its traceback and message, which can hold what the
    request carried. Answered and logged, it stops here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception:  # noqa: BLE001 - answered and logged, without the message, inside
            if scope["type"] != "http":
                raise


def validation_body(errors: list[dict]) -> dict:
    """Each error's field and message, never its `input` or `ctx` (they carry the value sent)."""
    listed = [
        {"field": _clip(".".join(str(part) for part in e["loc"]), MAX_FIELD), "message": _clip(e["msg"], MAX_MESSAGE)}
        for e in errors[:MAX_ERRORS]
    ]
    first = listed[0] if listed else {"field": "request", "message": "invalid"}
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return {"detail": f"the request was refused: {first['field']}: {first['message']}{more}", "errors": listed}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _did_not_answer(request: Request) -> JSONResponse:
    """A 504 that warns the action may yet complete: retrying blindly could do it twice."""
    seconds = request.app.state.services.settings.api_update_timeout_seconds
    log.warning("workflow did not answer within %g s on %s %s", seconds, request.method, _route(request))
    params = request.path_params
    if "dispute_id" in params:
        check = f"GET /disputes/{params['dispute_id']}"
    else:
        check = f"GET /audits/{params['audit_id']}" if "audit_id" in params else "GET /audits"
    detail = f"the audit did not answer within {seconds:g} s; the action may still complete — check {check} before trying again"
    return JSONResponse({"detail": detail}, status_code=504)


def _route(request: Request) -> str:
    """The route's template (`/audits/{audit_id}/qa`), so logs carry no identifiers or data."""
    return getattr(request.scope.get("route"), "path", request.url.path)
