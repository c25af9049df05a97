"""`/reports`: the monthly, quarterly and annual reports (R-REP-1) from final gradings only
(R-REP-2), as JSON, as CSV (`/reports/{kind}.csv`) and as charts (`/reports/{kind}/charts/{name}.svg`).

Senior leaders and the Corporate Directors read the council's report, or one service's with
`service_area`; a Head of Service reads their own service's (asking for another is 403). The
pages (web/reports.py) call `services.reports.report_for` as these routes do."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import Actor, Now, Svc
from api.permissions import permit
from models.enums import ServiceArea
from reports.charts import ChartName, chart
from reports.csv_export import report_csv
from reports.figures import Report
from services.reports import ReportKind, report_for

router = APIRouter(prefix="/reports", tags=["reports"])

PeriodQuery = Annotated[str, Query(max_length=20, description="monthly 2027-03, quarterly 2027-Q1, annual 2027 (calendar year)")]
ServiceQuery = Annotated[
    ServiceArea | None, Query(description="one service's report (a Head of Service: their own, the default)")
]


@router.get(
    "/{kind}.csv",
    response_class=Response,
    dependencies=[permit("get_report_csv")],
    responses={200: {"content": {"text/csv": {}}, "description": "one figure a line: section, group, item, measure, value"}},
)
def get_report_csv(
    kind: ReportKind, period: PeriodQuery, svc: Svc, actor: Actor, now: Now, service_area: ServiceQuery = None
) -> Response:
    return csv_response(kind, report_for(svc, actor, kind, period, service_area, now), service_area)


def csv_response(kind: ReportKind, report: Report, service_area: ServiceArea | None) -> Response:
    """The report as a CSV file to download (the pages' download too)."""
    name = f"qsaf-{kind.value}-report-{report.period}" + (f"-{service_area.value}" if service_area else "")
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/{kind}", response_model=Report, dependencies=[permit("get_report")])
def get_report(
    kind: ReportKind, period: PeriodQuery, svc: Svc, actor: Actor, now: Now, service_area: ServiceQuery = None
) -> Report:
    """The report of `period`: grades overall, by domain, service and team; the trend; completion
    and QA; findings discussions; re-audit outcomes; disputes; moderation agreement; and the text
    written from them. A period with no audits answers `empty: true` with a message."""
    return report_for(svc, actor, kind, period, service_area, now)


@router.get(
    "/{kind}/charts/{name}.svg",
    response_class=Response,
    dependencies=[permit("get_report_chart")],
    responses={200: {"content": {"image/svg+xml": {}}, "description": "the chart, with its title and description"}},
)
def get_report_chart(
    kind: ReportKind, name: ChartName, period: PeriodQuery, svc: Svc, actor: Actor, now: Now, service_area: ServiceQuery = None
) -> Response:
    report = report_for(svc, actor, kind, period, service_area, now)
    return Response(chart(report, name), media_type="image/svg+xml")
