"""The audit year's pages: `/app/cycles?year=` (the year's cycles, `GET /cycles`) and a cycle's page
(`/app/cycles/{cycle}`, the page its emails link to: models/pages.py) with its dates, status, the
audits it holds, its non-completion report once made (R-QA-4) and, for PIAT, the form that sets
a themed cycle's topic (R-KIND-3), which posts to `/app/cycles/{cycle}/theme`."""

import inspect

from fastapi import APIRouter, HTTPException, Request
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from api import cycles
from api.permissions import allowed
from models.cycle_views import ThemeChange
from models.staff import StaffMember
from web.calls import call_route, new_key, see_other, svc_of
from web.forms import read_form
from web.render import Refusal, error_page, form_again, refusal, render
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)
# The year the API's own route takes (its Query bounds): called directly, FastAPI does not check it.
YEAR = TypeAdapter(inspect.signature(cycles.list_cycles).parameters["year"].annotation)
THEME_SET = "Theme set: audits allocated in this cycle carry it (R-KIND-3)."


@router.get("/cycles")
async def cycles_page(request: Request, actor: PageActor, year: str = "") -> Response:
    svc = svc_of(request)
    chosen = year.strip() or str((await svc.clock()).astimezone(svc.calendar.tz).year)
    try:
        number = _year(chosen)
        rows = await call_route(request, cycles.list_cycles, actor, year=number)
    except Exception as error:  # noqa: BLE001 - a year the list cannot take: said beside the selector
        problem = await refusal(request, error)
        if problem.status_code == 403:
            return error_page(request, actor, problem)
        context = {"actor": actor, "rows": [], "year": None, "failed": "year", "values": {"year": chosen},
                   "problem": problem.detail, "field_errors": problem.field_errors}
        return render(request, "cycles.html", context, problem.status_code)
    return render(request, "cycles.html", {"actor": actor, "rows": rows, "year": number, "failed": "year",
                                           "values": {"year": str(number)}})


def _year(value: str) -> int:
    try:
        return YEAR.validate_python(value)
    except ValidationError as error:
        message = error.errors()[0]["msg"]
        raise Refusal(422, f"year: {message}", [{"field": "year", "message": f"{message}: a year such as 2027"}]) from None


@router.get("/cycles/{cycle}")
async def cycle_page(request: Request, cycle: str, actor: PageActor, done: str | None = None) -> Response:
    try:
        context = await _page_context(request, cycle, actor)
    except Exception as error:  # noqa: BLE001 - every refusal becomes a page with its reason
        return error_page(request, actor, await refusal(request, error))
    return render(request, "cycle.html", context | {"notice": THEME_SET if done == "theme" else None})


@router.post("/cycles/{cycle}/theme")
async def set_theme(request: Request, cycle: str, actor: PageActor) -> Response:
    form = await read_form(request)
    try:
        body = ThemeChange.model_validate(form.body())
        await call_route(request, cycles.set_cycle_theme, actor, {"cycle": cycle}, body=body, key=form.idempotency_key())
    except Exception as error:  # noqa: BLE001 - shown beside the form, which keeps what was typed
        return await form_again(request, actor, "cycle.html", "theme", form, error,
                                lambda: _page_context(request, cycle, actor))
    return see_other(f"/app/cycles/{cycle}?done=theme#top")


async def _page_context(request: Request, cycle: str, actor: StaffMember) -> dict:
    detail: cycles.CycleDetail = await call_route(request, cycles.get_cycle, actor, {"cycle": cycle})
    report, not_yet = await _non_completion(request, cycle, actor)
    # The theme form where the route can take it: a themed month whose cycle has not closed (the
    # route refuses other months, the workflow a closed cycle; both still have the final say).
    offered = allowed("set_cycle_theme", actor, None) and detail.kind == "themed" and detail.status != "closed"
    return {"cycle": detail, "report": report, "report_not_yet": not_yet, "forms": ["theme"] if offered else [],
            "key": new_key(), "failed": None}


async def _non_completion(request: Request, cycle: str, actor: StaffMember):
    """The cycle's non-completion report as the person may read it (a Head of Service their own
    service's section); before the close, the API's words saying when it will be made."""
    if not allowed("get_non_completion", actor, None):
        return None, None
    try:
        return await call_route(request, cycles.get_non_completion, actor, {"cycle": cycle}), None
    except HTTPException as missing:
        if missing.status_code != 404:
            raise
        return None, missing.detail
