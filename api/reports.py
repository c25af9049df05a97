"""`/reports`: the monthly, quarterly and annual reports (R-REP-1) from final gradings only
(R-REP-2), as JSON, as CSV (`/reports/{kind}.csv`) and as charts (`/reports/{kind}/charts/{name}.svg`).

Senior leaders and the Corporate Directors read the council's report, or one service's with
`service_area`; a Head of Service reads their own service's (asking for another is 403). The
pages (web/reports.py) call `report_for` as the JSON route does."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from api.clock import Now
from api.deps import Actor, Svc
from api.permissions import permit, sees_every_audit
from reports.charts import ChartName, chart
from reports.csv_export import report_csv
from reports.rows import read
from models.enums import Role, ServiceArea
from reports.periods import PeriodError, parse
from reports.figures import Report, build
from models.staff import StaffMember

router = APIRouter(prefix="/reports", tags=["reports"])


class ReportKind(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"


PeriodQuery = Annotated[str, Query(max_length=20, description="monthly 2027-03, quarterly 2027-Q1, annual 2027 (calendar year)")]
ServiceQuery = Annotated[ServiceArea | None, Query(description="one service's report (a Head of Service: their own, the default)")]


@router.get("/{kind}.csv", response_class=Response, dependencies=[permit("get_report_csv")],
            responses={200: {"content": {"text/csv": {}}, "description": "one figure a line: section, group, item, measure, value"}})
def get_report_csv(kind: ReportKind, period: PeriodQuery, svc: Svc, actor: Actor, now: Now,
                   service_area: ServiceQuery = None) -> Response:
    report = report_for(svc, actor, kind, period, service_area, now)
    name = f"qsaf-{kind.value}-report-{report.period}" + (f"-{service_area.value}" if service_area else "")
    return Response(report_csv(report), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/{kind}", response_model=Report, dependencies=[permit("get_report")])
def get_report(kind: ReportKind, period: PeriodQuery, svc: Svc, actor: Actor, now: Now, service_area: ServiceQuery = None) -> Report:
    """The report of `period`: grades overall, by domain, service and team; the trend; completion
    and QA; findings discussions; re-audit outcomes; disputes; moderation agreement; and the text
    written from them. A period with no audits answers `empty: true` with a message."""
    return report_for(svc, actor, kind, period, service_area, now)


@router.get("/{kind}/charts/{name}.svg", response_class=Response, dependencies=[permit("get_report_chart")],
            responses={200: {"content": {"image/svg+xml": {}}, "description": "the chart, with its title and description"}})
def get_report_chart(kind: ReportKind, name: ChartName, period: PeriodQuery, svc: Svc, actor: Actor, now: Now,
                     service_area: ServiceQuery = None) -> Response:
    report = report_for(svc, actor, kind, period, service_area, now)
    return Response(chart(report, name), media_type="image/svg+xml")


def report_for(svc: Svc, actor: StaffMember, kind: str, period: str, service_area: ServiceArea | str | None,
               now: datetime) -> Report:
    """The one way a report is made, for the JSON, the CSV, the charts and the page."""
    try:
        parsed = parse(str(kind), period)
    except PeriodError as error:
        raise HTTPException(422, str(error)) from None
    scope = scope_of(actor, getattr(service_area, "value", service_area))
    rows = read(svc.engine, svc.directory, parsed, scope)
    return build(parsed, rows.lines, rows.disputes, rows.moderations, now,
                 scope=scope or "all services", previous=rows.previous)


def scope_of(actor: StaffMember, asked: str | None) -> str | None:
    """None: every service. Decision: a Head of Service reads their own service's report only."""
    if sees_every_audit(actor) or any(actor.has(r) for r in (Role.CORPORATE_DIRECTOR_QUALITY_STANDARDS,
                                                             Role.CORPORATE_DIRECTOR_CSC)):
        return asked
    if actor.has(Role.HEAD_OF_SERVICE) and asked in (None, actor.service_area):
        return actor.service_area
    raise HTTPException(403, "a Head of Service reads their own service's report only: leave out service_area")
