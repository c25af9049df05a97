"""A self-selection request's page (`/app/self-selection-requests/{request_id}`, the page its
emails link to: models/pages.py): what the auditor asked for and why, its status, the decision
once made, and for the Head of Service it waits on the decision form (R-ALLOC-2), which posts to
`/app/self-selection-requests/{request_id}/decision` and runs the service the API's route runs.
Asking is `/app/self-selection-requests/new` (`POST /self-selection-requests`): the case, the
audit asked for and why."""

from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import Now, Svc
from api.permissions import allowed, authorise
from api.schemas.year import SelfSelectionDecisionRequest, SelfSelectionRequest
from models.enums import AuditKind
from models.staff import StaffMember
from services import self_selection
from services.clock import current_month
from services.context import Services
from web.forms import read_form
from web.render import error_page, form_again, new_key, refusal, render, see_other
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)
ASKED = "Asked: the Head of Service of the case's service is emailed and decides within 5 working days."
DECIDED = {
    "approved": "Approved: the audit has started and the auditor is emailed.",
    "refused": "Refused: the case stays unallocated and the auditor is told.",
    "not_allocated": "Approved, but the case had meanwhile been allocated: nothing was started; the auditor is told.",
}


@router.get("/self-selection-requests/new")
async def ask_page(request: Request, actor: PageActor, svc: Svc, now: Now) -> Response:
    """The asking form: before `/{request_id}`, so "new" is never read as a request's ID."""
    try:
        await authorise("request_self_selection", actor, svc, {})
    except Exception as error:  # noqa: BLE001
        return error_page(request, actor, await refusal(request, error))
    return render(request, "self_selection_new.html", await _ask_context(svc, now))


@router.post("/self-selection-requests/new")
async def ask(request: Request, actor: PageActor, svc: Svc, now: Now) -> Response:
    form = await read_form(request)
    try:
        body = SelfSelectionRequest.model_validate(form.body())
        await authorise("request_self_selection", actor, svc, {})
        view = await self_selection.request_self_selection(svc, actor, body, now)
    except Exception as error:  # noqa: BLE001 - shown beside the form, which keeps what was typed
        return await form_again(request, actor, "self_selection_new.html", "ask", form, error, lambda: _ask_context(svc, now))
    return see_other(f"/app/self-selection-requests/{view.request_id}?done=asked#top")


async def _ask_context(svc: Services, now: datetime) -> dict:
    kinds = [k for k in AuditKind if k is not AuditKind.REAUDIT]
    return {"forms": ["ask"], "key": new_key(), "failed": None, "kinds": kinds, "this_month": current_month(now, svc.settings)}


@router.get("/self-selection-requests/{request_id}")
async def request_page(request: Request, request_id: str, actor: PageActor, svc: Svc, done: str | None = None) -> Response:
    try:
        context = await _page_context(svc, request_id, actor)
    except Exception as error:  # noqa: BLE001 - every refusal becomes a page with its reason
        return error_page(request, actor, await refusal(request, error))
    notice = DECIDED.get(context["view"].status) if done == "decision" else ASKED if done == "asked" else None
    return render(request, "self_selection.html", context | {"notice": notice})


@router.post("/self-selection-requests/{request_id}/decision")
async def decide(request: Request, request_id: str, actor: PageActor, svc: Svc) -> Response:
    form = await read_form(request)
    try:
        body = SelfSelectionDecisionRequest.model_validate(form.body())
        await authorise("decide_self_selection", actor, svc, {"request_id": request_id})
        await self_selection.decide_self_selection(svc, actor, request_id, body, form.idempotency_key())
    except Exception as error:  # noqa: BLE001 - shown beside the form, which keeps what was typed
        return await form_again(
            request, actor, "self_selection.html", "decision", form, error, lambda: _page_context(svc, request_id, actor)
        )
    return see_other(f"/app/self-selection-requests/{request_id}?done=decision#top")


async def _page_context(svc: Services, request_id: str, actor: StaffMember) -> dict:
    await authorise("get_self_selection", actor, svc, {"request_id": request_id})
    view = await self_selection.get_self_selection(svc, request_id)
    # The form for the Head of Service the request waits on; the workflow checks the person again.
    mine = (
        view.status == "awaiting_decision"
        and view.head_of_service_id == actor.id
        and allowed("decide_self_selection", actor, None)
    )
    return {"view": view, "forms": ["decision"] if mine else [], "key": new_key(), "failed": None}
