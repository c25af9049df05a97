"""The reports' pages (R-REP): `/app/reports` to choose a report, `/app/reports/{kind}?period=`
to read one, its charts inline (SVG drawn on the server) with the figures in tables beside them,
and `/app/reports/{kind}.csv` to download it signed in by the page's cookie.

Thin on purpose: each page runs the permission table's check and then `services.reports.report_for`
(in the thread pool: it reads the database), as the JSON route does."""

from fastapi import APIRouter, HTTPException, Request
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import Now, Svc
from api.permissions import authorise
from api.routes.reports import PeriodQuery, ServiceQuery, csv_response
from models.staff import StaffMember
from reports.charts import ChartName, chart
from reports.periods import EXAMPLES
from services.context import Services
from services.errors import Refused
from services.reports import ReportKind, report_for
from web.render import error_page, refusal, render
from web.session import PageActor

router = APIRouter(prefix="/app/reports")


@router.get("")
async def reports_index(request: Request, actor: PageActor, svc: Svc) -> Response:
    if problem := await _refused(request, svc, actor):
        return problem
    return _index(request, actor)


@router.get("/{kind}.csv")
async def report_csv_page(
    request: Request,
    kind: ReportKind,
    period: PeriodQuery,
    actor: PageActor,
    svc: Svc,
    now: Now,
    service_area: ServiceQuery = None,
) -> Response:
    if problem := await _refused(request, svc, actor):
        return problem
    try:
        return csv_response(kind, await run_in_threadpool(report_for, svc, actor, kind, period, service_area, now), service_area)
    except Refused as error:
        return error_page(request, actor, await refusal(request, error))


@router.get("/{kind}")
async def report_page(
    request: Request,
    kind: ReportKind,
    period: PeriodQuery,
    actor: PageActor,
    svc: Svc,
    now: Now,
    service_area: ServiceQuery = None,
) -> Response:
    if problem := await _refused(request, svc, actor):
        return problem
    try:
        report = await run_in_threadpool(report_for, svc, actor, kind, period, service_area, now)
    except Refused as error:
        if error.status_code != 422:
            return error_page(request, actor, await refusal(request, error))
        return _index(
            request, actor, error=error.detail, kind=kind.value, period=period, status=422
        )  # the form again, saying why
    charts = {} if report.empty else {name.value: Markup(chart(report, name)) for name in _shown(report)}
    query = f"period={report.period}" + (f"&service_area={service_area.value}" if service_area else "")
    return render(
        request, "reports/report.html", {"actor": actor, "report": report, "charts": charts, "query": query, "pct": _pct}
    )


async def _refused(request: Request, svc: Services, actor: StaffMember) -> Response | None:
    """The permission table's check for reports (what `permit("get_report")` runs for the API)."""
    try:
        await authorise("get_report", actor, svc, {})
    except HTTPException as error:
        return error_page(request, actor, await refusal(request, error))
    return None


def _index(
    request: Request, actor: StaffMember, error: str | None = None, kind: str | None = None, period: str = "", status: int = 200
) -> Response:
    return render(
        request,
        "reports/index.html",
        {"actor": actor, "kinds": list(ReportKind), "examples": EXAMPLES, "error": error, "chosen": kind, "period": period},
        status,
    )


def _shown(report) -> list[ChartName]:
    """Every chart, but moderation only when a panel sat in the period (the page says so instead)."""
    return [n for n in ChartName if n is not ChartName.MODERATION or report.moderation.panels]


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"
