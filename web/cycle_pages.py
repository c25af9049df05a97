"""The audit year's pages: `/app/cycles?year=` (the year's cycles, `GET /cycles`) and a cycle's page
(`/app/cycles/{cycle}`, the page its emails link to: models/pages.py) with its dates, status, the
audits it holds, its non-completion report once made (R-QA-4) and, for PIAT, the form that sets
a themed cycle's topic (R-KIND-3), which posts to `/app/cycles/{cycle}/theme`, and on a moderation
month with no panel yet the form that convenes it by hand (R-MOD-1, `POST /moderation-panels/{cycle}`)."""

from fastapi import APIRouter, Request
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from api.deps import Now, Svc
from api.permissions import allowed, authorise
from api.routes.cycles import Year
from api.schemas.year import PanelRequest, ThemeChangeRequest
from models.moderation import is_moderation_month
from models.staff import StaffMember
from services import cycles, moderation
from services.context import Services
from services.errors import Refused
from web.forms import read_form
from web.render import Refusal, error_page, form_again, new_key, refusal, render, see_other
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)
YEAR = TypeAdapter(Year)  # the year the API's route takes, with its bounds
THEME_SET = "Theme set: audits allocated in this cycle carry it."


@router.get("/cycles")
async def cycles_page(request: Request, actor: PageActor, svc: Svc, now: Now, year: str = "") -> Response:
    chosen = year.strip() or str(now.astimezone(svc.calendar.tz).year)
    try:
        number = _year(chosen)
        await authorise("list_cycles", actor, svc, {})
        rows = await svc.in_session(cycles.list_cycles, svc.settings, number)
    except Exception as error:  # noqa: BLE001 - a year the list cannot take: said beside the selector
        problem = await refusal(request, error)
        if problem.status_code == 403:
            return error_page(request, actor, problem)
        context = {
            "actor": actor,
            "rows": [],
            "year": None,
            "failed": "year",
            "values": {"year": chosen},
            "problem": problem.detail,
            "field_errors": problem.field_errors,
        }
        return render(request, "cycles.html", context, problem.status_code)
    return render(
        request, "cycles.html", {"actor": actor, "rows": rows, "year": number, "failed": "year", "values": {"year": str(number)}}
    )


def _year(value: str) -> int:
    try:
        return YEAR.validate_python(value)
    except ValidationError as error:
        message = error.errors()[0]["msg"]
        raise Refusal(422, f"year: {message}", [{"field": "year", "message": f"{message}: a year such as 2027"}]) from None


@router.get("/cycles/{cycle}")
async def cycle_page(request: Request, cycle: str, actor: PageActor, svc: Svc, done: str | None = None) -> Response:
    try:
        context = await _page_context(svc, cycle, actor)
    except Exception as error:  # noqa: BLE001 - every refusal becomes a page with its reason
        return error_page(request, actor, await refusal(request, error))
    return render(request, "cycle.html", context | {"notice": THEME_SET if done == "theme" else None})


@router.post("/cycles/{cycle}/theme")
async def set_theme(request: Request, cycle: str, actor: PageActor, svc: Svc, now: Now) -> Response:
    form = await read_form(request)
    try:
        body = ThemeChangeRequest.model_validate(form.body())
        await authorise("set_cycle_theme", actor, svc, {"cycle": cycle})
        await cycles.set_cycle_theme(svc, actor, cycle, body, form.idempotency_key(), now)
    except Exception as error:  # noqa: BLE001 - shown beside the form, which keeps what was typed
        return await form_again(request, actor, "cycle.html", "theme", form, error, lambda: _page_context(svc, cycle, actor))
    return see_other(f"/app/cycles/{cycle}?done=theme#top")


@router.post("/cycles/{cycle}/moderation-panel")
async def start_moderation_panel(request: Request, cycle: str, actor: PageActor, svc: Svc, now: Now) -> Response:
    form = await read_form(request)
    try:
        body = PanelRequest.model_validate(form.body())
        await authorise("start_moderation_panel", actor, svc, {"cycle": cycle})
        await moderation.start_moderation_panel(svc, cycle, body, now)
    except Exception as error:  # noqa: BLE001 - shown beside the form, which keeps what was typed
        return await form_again(
            request, actor, "cycle.html", "moderation-panel", form, error, lambda: _page_context(svc, cycle, actor)
        )
    return see_other(f"/app/moderation-panels/{cycle}?done=started#top")


async def _page_context(svc: Services, cycle: str, actor: StaffMember) -> dict:
    await authorise("get_cycle", actor, svc, {"cycle": cycle})
    detail = await cycles.get_cycle(svc, cycle)
    report, not_yet = await _non_completion(svc, cycle, actor)
    # The theme form where the route can take it: a themed month whose cycle has not closed (the
    # route refuses other months, the workflow a closed cycle; both still have the final say).
    offered = allowed("set_cycle_theme", actor, None) and detail.kind == "themed" and detail.status != "closed"
    # A moderation month's panel by hand, e.g. when the cycle did not convene it (the service
    # refuses one convened before the month's cycle opens, and a second one).
    convene = allowed("start_moderation_panel", actor, None) and is_moderation_month(cycle) and not detail.moderation_panel_id
    return {
        "cycle": detail,
        "report": report,
        "report_not_yet": not_yet,
        "forms": [form for form, shown in (("theme", offered), ("moderation-panel", convene)) if shown],
        "key": new_key(),
        "failed": None,
    }


async def _non_completion(svc: Services, cycle: str, actor: StaffMember):
    """The cycle's non-completion report as the person may read it (a Head of Service their own
    service's section); before the close, the API's words saying when it will be made."""
    if not allowed("get_non_completion", actor, None):
        return None, None
    try:
        return await cycles.get_non_completion(svc, actor, cycle), None
    except Refused as missing:
        if missing.status_code != 404:
            raise
        return None, missing.detail
