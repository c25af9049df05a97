"""The workload plan's page (decision 0043): `/app/plans/{year}`, each month against each person
with the months above the configured load marked in words and colour, and
`/app/plans/{year}.csv` to download it signed in by the page's cookie.

Thin on purpose: the permission table's check, then `services.plans.plan_for` in the thread pool
(it reads the database), as the JSON route does."""

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from api.deps import Now, Svc
from api.permissions import authorise
from api.routes.plans import PerTeamQuery, YearPath, csv_response
from services.errors import Refused
from services.plans import plan_for, plannable_years
from web.render import error_page, refusal, render
from web.session import PageActor

router = APIRouter(prefix="/app/plans")


@router.get("")
async def plans_index(request: Request, actor: PageActor, svc: Svc, now: Now) -> Response:
    """The navigation's link: the furthest year that can be planned now, next year by default."""
    try:
        await authorise("get_plan", actor, svc, {})
    except HTTPException as error:
        return error_page(request, actor, await refusal(request, error))
    return RedirectResponse(f"/app/plans/{plannable_years(now, svc)[1]}", status_code=303)


@router.get("/{year}.csv")
async def plan_csv_page(request: Request, year: YearPath, actor: PageActor, svc: Svc, now: Now, per_team: PerTeamQuery = None):
    try:
        await authorise("get_plan_csv", actor, svc, {})
        return csv_response(await run_in_threadpool(plan_for, svc, year, now, per_team))
    except (HTTPException, Refused) as error:
        return error_page(request, actor, await refusal(request, error))


@router.get("/{year}")
async def plan_page(
    request: Request, year: YearPath, actor: PageActor, svc: Svc, now: Now, per_team: PerTeamQuery = None
) -> Response:
    try:
        await authorise("get_plan", actor, svc, {})
        plan = await run_in_threadpool(plan_for, svc, year, now, per_team)
    except (HTTPException, Refused) as error:
        return error_page(request, actor, await refusal(request, error))
    cells = {(m.cycle, c.staff_id): c for m in plan.months for c in m.cells}
    names = {s: (m.name if (m := svc.directory.get(s)) else s) for s in plan.staff_ids}
    query = f"?per_team={per_team}" if per_team else ""
    first, last = plannable_years(now, svc)
    others = [y for y in range(first, last + 1) if y != plan.year]
    return render(
        request,
        "plans/plan.html",
        {
            "actor": actor,
            "plan": plan,
            "cells": cells,
            "names": names,
            "query": query,
            "unnamed": any("" == s for _, s in cells),
            "others": others,
        },
    )
