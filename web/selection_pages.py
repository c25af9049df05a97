"""A cycle's selection through the pages (PIAT, R-ALLOC-1): `/app/selections` draws one from the
open-case list (`POST /cycles/{cycle}/selections`: cases per team, a seed to repeat a draw, a
themed cycle's theme); `/app/selections/{selection_id}` reviews its proposal — each case with its
auditor, any of them left out or given another auditor — and confirms it
(`POST /selections/{id}/confirm`), then lists each case's audit or the reason it did not start.
Each runs the service its API route runs (services/selections.py)."""

from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import Now, Svc
from api.permissions import authorise
from api.schemas.year import Confirmation, SelectionRequest
from models.enums import Role
from models.staff import StaffMember
from services import selections
from services.clock import current_month
from services.context import Services
from services.people import AUDITING_ROLES
from web.forms import Form, read_form
from web.render import error_page, form_again, new_key, refusal, render, see_other
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)
DONE = {
    "drawn": "Drawn: review the proposal, adjust it and confirm it to start the audits.",
    "confirmed": "Confirmed: each audit below has started and emails its people; any that could not start says why.",
}


@router.get("/selections")
async def draw_page(request: Request, actor: PageActor, svc: Svc, now: Now, cycle: str = "") -> Response:
    try:
        await authorise("propose_selection", actor, svc, {})
    except Exception as error:  # noqa: BLE001 - PIAT only: the others are told who may
        return error_page(request, actor, await refusal(request, error))
    context = _draw_context(svc, now) | {"failed": "draw", "values": {"cycle": cycle or current_month(now, svc.settings)}}
    return render(request, "selection_draw.html", context)


@router.post("/selections")
async def draw(request: Request, actor: PageActor, svc: Svc, now: Now) -> Response:
    form = await read_form(request)
    cycle = form.get("cycle").strip()
    try:
        body = SelectionRequest.model_validate(form.body(drop=("idempotency_key", "cycle")))
        await authorise("propose_selection", actor, svc, {"cycle": cycle})
        selection = await svc.in_session(selections.propose_selection, svc, actor, cycle, body, now)
    except Exception as error:  # noqa: BLE001 - shown beside the form, which keeps what was typed

        async def page() -> dict:
            return _draw_context(svc, now)

        return await form_again(request, actor, "selection_draw.html", "draw", form, error, page)
    return see_other(f"/app/selections/{selection.selection_id}?done=drawn#top")


def _draw_context(svc: Services, now: datetime) -> dict:
    return {"key": new_key(), "forms": ["draw"], "this_month": current_month(now, svc.settings)}


@router.get("/selections/{selection_id}")
async def selection_page(request: Request, selection_id: str, actor: PageActor, svc: Svc, done: str = "") -> Response:
    try:
        context = await _page_context(svc, selection_id, actor)
    except Exception as error:  # noqa: BLE001 - every refusal becomes a page with its reason
        return error_page(request, actor, await refusal(request, error))
    return render(request, "selection.html", context | {"notice": DONE.get(done)})


@router.post("/selections/{selection_id}/confirm")
async def confirm(request: Request, selection_id: str, actor: PageActor, svc: Svc, now: Now) -> Response:
    form = await read_form(request)
    try:
        body = Confirmation.model_validate(_confirmation(form))
        await authorise("confirm_selection", actor, svc, {"selection_id": selection_id})
        await selections.confirm_selection(svc, actor, selection_id, body, now)
    except Exception as error:  # noqa: BLE001 - shown beside the form, which keeps what was chosen
        return await form_again(
            request, actor, "selection.html", "confirm", form, error, lambda: _page_context(svc, selection_id, actor)
        )
    return see_other(f"/app/selections/{selection_id}?done=confirmed#top")


def _confirmation(form: Form) -> dict:
    """The proposal's rows PIAT kept ticked, each with the auditor chosen (none: "no auditor named",
    which the confirmation lists as not started)."""
    rows = form.body(drop=("idempotency_key",)).get("allocations", [])
    kept = [row for row in rows if isinstance(row, dict) and row.pop("include", None) == "yes"]
    return {"allocations": [{"auditor_id": None} | row for row in kept]}


async def _page_context(svc: Services, selection_id: str, actor: StaffMember) -> dict:
    await authorise("get_selection", actor, svc, {"selection_id": selection_id})
    selection = await svc.in_session(selections.get_selection, selection_id)
    everyone = sorted(svc.directory.everyone(), key=lambda m: m.id)
    return {
        "selection": selection,
        "started": {c.case_ref: c for c in selection.confirmed},
        "auditors": [m for m in everyone if any(m.has(r) for r in AUDITING_ROLES + (Role.PRACTITIONER,))],
        "forms": ["confirm"],
        "key": new_key(),
        "failed": None,
    }
