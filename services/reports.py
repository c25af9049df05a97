"""The monthly, quarterly and annual reports (R-REP-1) from final gradings only (R-REP-2): the one
way a report is made, for the API's JSON, CSV and charts and for the pages.

Senior leaders and the Corporate Directors read the council's report, or one service's; a Head of
Service reads their own service's (asking for another is 403)."""

from datetime import datetime
from enum import StrEnum


from models.enums import Role, ServiceArea
from models.staff import StaffMember
from reports.figures import Report, build
from reports.periods import PeriodError, parse
from reports.rows import read
from services.context import Services
from services.errors import Refused
from services.people import sees_every_audit


class ReportKind(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"


def report_for(
    svc: Services, actor: StaffMember, kind: str, period: str, service_area: ServiceArea | str | None, now: datetime
) -> Report:
    """The report of `period`, as `actor` may read it. It reads the database: call it from a plain
    `def` route, or through the thread pool."""
    try:
        parsed = parse(str(kind), period)
    except PeriodError as error:
        raise Refused(422, str(error)) from None
    scope = scope_of(actor, getattr(service_area, "value", service_area))
    rows = read(svc.engine, svc.directory, parsed, scope)
    return build(parsed, rows.lines, rows.disputes, rows.moderations, now, scope=scope or "all services", previous=rows.previous)


def scope_of(actor: StaffMember, asked: str | None) -> str | None:
    """None: every service. Decision: a Head of Service reads their own service's report only."""
    if sees_every_audit(actor) or any(
        actor.has(r) for r in (Role.CORPORATE_DIRECTOR_QUALITY_STANDARDS, Role.CORPORATE_DIRECTOR_CSC)
    ):
        return asked
    if actor.has(Role.HEAD_OF_SERVICE) and asked in (None, actor.service_area):
        return actor.service_area
    raise Refused(403, "a Head of Service reads their own service's report only: leave out service_area")
