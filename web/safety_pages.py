"""A safety concern's page (`/app/safety-concerns/{concern_id}`): what was raised, who has been
told, whom it waits on and until when, and the acknowledgement form for whoever may give it now
(R-SAFE-2); and the list of concerns (`/app/safety-concerns`), scoped as `GET /safety-concerns` is. Raising
one is a form on the audit's page (web/audit_pages.py)."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import Svc
from api.permissions import allowed, audit_id_in, audit_of, authorise
from api.schemas.safety import SafetyAcknowledgementRequest
from models.staff import StaffMember
from services import safety
from services.context import Services
from web.forms import read_form
from web.render import Refusal, error_page, form_again, new_key, refusal, render, see_other
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)
OPEN = {"yes": True, "no": False}  # the list's filter; anything else is either


@router.get("/safety-concerns/{concern_id}")
async def concern_page(request: Request, concern_id: str, actor: PageActor, svc: Svc, done: str | None = None) -> Response:
    try:
        context = await _page_context(svc, concern_id, actor)
    except Exception as error:  # noqa: BLE001 - every refusal becomes a page with its reason
        return error_page(request, actor, await refusal(request, error))
    notice = {
        "raised": "Safety concern raised: the Team Manager has been emailed, marked urgent.",
        "acknowledge": "Acknowledgement recorded.",
    }.get(done or "")
    return render(request, "safety_concern.html", context | {"notice": notice})


@router.post("/safety-concerns/{concern_id}/acknowledge")
async def acknowledge(request: Request, concern_id: str, actor: PageActor, svc: Svc) -> Response:
    form = await read_form(request)
    try:
        body = SafetyAcknowledgementRequest.model_validate(form.body())
        await authorise("acknowledge", actor, svc, {"concern_id": concern_id})
        await safety.acknowledge(svc, actor, concern_id, body, form.idempotency_key())
    except Exception as error:  # noqa: BLE001 - shown beside the form, which keeps what was typed
        return await form_again(
            request, actor, "safety_concern.html", "acknowledge", form, error, lambda: _page_context(svc, concern_id, actor)
        )
    return see_other(f"/app/safety-concerns/{concern_id}?done=acknowledge#top")


async def _page_context(svc: Services, concern_id: str, actor: StaffMember) -> dict:
    params = {"concern_id": concern_id}
    await authorise("get_safety_concern", actor, svc, params)
    view = await safety.get_safety_concern(svc, concern_id)
    people = await audit_of(svc, {"audit_id": audit_id_in(params)})
    waiting = view.waiting_for
    # The concern's Team Manager (whom it was sent to) acknowledges, though the audit may name another.
    concern_people = await audit_of(svc, params)
    mine = waiting is not None and actor.id in waiting.from_staff_ids and allowed("acknowledge", actor, concern_people)
    return {
        "view": view,
        "forms": ["acknowledge"] if mine else [],
        "key": new_key(),
        "failed": None,
        "sees_audit": allowed("get_audit", actor, people),
    }


@router.get("/safety-concerns")
async def concerns_page(request: Request, actor: PageActor, svc: Svc, open: str = "", audit_id: str = "") -> Response:  # noqa: A002
    """The list `GET /safety-concerns` answers, scoped alike: open ones first, then the newest."""
    chosen = {"open": open, "audit_id": audit_id}
    try:
        if len(audit_id) > 80:  # the API's own bound on the filter
            raise Refusal(422, "audit_id: at most 80 characters", [{"field": "audit_id", "message": "at most 80 characters"}])
        await authorise("list_safety_concerns", actor, svc, {})
        rows = await svc.in_session(
            safety.list_safety_concerns, actor, open=OPEN.get(open), audit_id=audit_id.strip() or None, limit=500
        )
    except Exception as error:  # noqa: BLE001 - a filter the list cannot take: said beside it
        problem = await refusal(request, error)
        context = {"rows": [], "problem": problem.detail, "field_errors": problem.field_errors}
        return render(request, "safety_concerns.html", {"failed": "filters", "values": chosen} | context, problem.status_code)
    return render(request, "safety_concerns.html", {"failed": "filters", "values": chosen, "rows": rows})
