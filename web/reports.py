"""The reports' pages (R-REP): `/app/reports` to choose a report, `/app/reports/{kind}?period=`
to read one, its charts inline (SVG drawn on the server) with the figures in tables beside them.

Thin on purpose: each page calls `api.reports.report_for`, as the JSON route does. Signing in is
the API's bearer dependency here; the `web` branch's cookie sign-in replaces `Actor` on merge."""

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.deps import Actor, Svc
from api.permissions import permit
from api.report_charts import ChartName, chart
from api.reports import PeriodQuery, ReportKind, ServiceQuery, report_for
from models.report_periods import EXAMPLES
from web.render import render

router = APIRouter(prefix="/app/reports", include_in_schema=False)


@router.get("", response_class=HTMLResponse, dependencies=[permit("get_report")])
def reports_index(actor: Actor) -> HTMLResponse:
    return _index()


@router.get("/{kind}", response_class=HTMLResponse, dependencies=[permit("get_report")])
def report_page(kind: ReportKind, period: PeriodQuery, svc: Svc, actor: Actor, service_area: ServiceQuery = None) -> HTMLResponse:
    try:
        report = report_for(svc, actor, kind, period, service_area)
    except HTTPException as refused:
        if refused.status_code != 422:
            raise
        return _index(error=refused.detail, kind=kind.value, period=period, status=422)  # the form again, saying why
    charts = {} if report.empty else {name.value: Markup(chart(report, name)) for name in _shown(report)}
    query = f"period={report.period}" + (f"&service_area={service_area.value}" if service_area else "")
    return HTMLResponse(render("reports/report.html", report=report, charts=charts, query=query, pct=_pct))


def _index(error: str | None = None, kind: str | None = None, period: str = "", status: int = 200) -> HTMLResponse:
    return HTMLResponse(render("reports/index.html", kinds=list(ReportKind), examples=EXAMPLES, error=error,
                               chosen=kind, period=period), status_code=status)


def _shown(report) -> list[ChartName]:
    """Every chart, but moderation only when a panel sat in the period (the page says so instead)."""
    return [n for n in ChartName if n is not ChartName.MODERATION or report.moderation.panels]


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"
