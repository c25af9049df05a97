"""Reading a report's rows (R-REP): the `audit`, `dispute` and `moderation` tables, turned into
what reports/figures.py counts. No workflow is asked: a report reads only the projections, so it
costs Temporal nothing and a year's report is a few queries."""

from dataclasses import dataclass
from collections.abc import Iterable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from reports.facts import AuditFacts, facts_of_saved_view
from reports.periods import Period
from reports.figures import AuditLine, DisputeLine
from models.staff import StaffDirectory
from models.tables import AuditRecord, DisputeRecord, ModerationRecord

UNKNOWN_TEAM = "team not in the staff directory"
LONDON = ZoneInfo("Europe/London")
EARLIER_YEARS = 2  # the annual report's comparison with the years before


@dataclass
class Rows:
    lines: list[AuditLine]
    disputes: list[DisputeLine]
    moderations: list[ModerationRecord]
    previous: dict[Period, list[AuditLine]]


def read(engine: Engine, directory: StaffDirectory, period: Period, service_area: str | None) -> Rows:
    with Session(engine) as session:
        records = _audits(session, period.cycles, service_area)
        lines = _lines(session, directory, records)
        previous = {}
        if period.kind == "annual":
            earlier = [period.previous()]
            while len(earlier) < EARLIER_YEARS:
                earlier.append(earlier[-1].previous())
            previous = {p: _lines(session, directory, _audits(session, p.cycles, service_area)) for p in earlier}
        return Rows(
            lines=lines,
            disputes=_disputes(session, records),
            previous=previous,
            moderations=_moderations(session, period.months, service_area),
        )


def _audits(session: Session, cycles: Iterable[str], service_area: str | None) -> list[AuditRecord]:
    query = select(AuditRecord).where(col(AuditRecord.cycle).in_(cycles))
    if service_area:
        query = query.where(AuditRecord.service_area == service_area)
    return list(session.exec(query))


def _lines(session: Session, directory: StaffDirectory, records: list[AuditRecord]) -> list[AuditLine]:
    followed = _final_grades(session, {r.follows_audit_id for r in records if r.follows_audit_id})
    return [line_of(r, team_of(directory, r), followed.get(r.follows_audit_id) if r.follows_audit_id else None) for r in records]


def _final_grades(session: Session, audit_ids: set[str]) -> dict[str, str | None]:
    if not audit_ids:
        return {}
    return {
        r.audit_id: r.overall_grade for r in session.exec(select(AuditRecord).where(col(AuditRecord.audit_id).in_(audit_ids)))
    }


def line_of(record: AuditRecord, team: str, previous_overall: str | None) -> AuditLine:
    """R-REP-2: the grades count only once the facts say the grading is final (on Mosaic)."""
    facts = AuditFacts.model_validate(record.facts) if record.facts else facts_of_saved_view(record.view) or AuditFacts()
    return AuditLine(
        audit_id=record.audit_id,
        cycle=record.cycle,
        service_area=record.service_area,
        kind=record.kind,
        team=team,
        overall=record.overall_grade if facts.final else None,
        domains=facts.final_domains or {},
        reaudit_round=record.reaudit_round,
        previous_overall=previous_overall,
        final=facts.final,
        submitted=facts.first_submitted_at is not None,
        submitted_late=facts.submitted_late,
        qa_returns=facts.qa_returns,
        not_accepted=facts.not_accepted,
        discussion_due=facts.discussion_due,
        discussion_recorded_at=facts.discussion_recorded_at,
        discussion_escalated=facts.discussion_escalated,
        days_to_final=days_to_final(record) if facts.final else None,
    )


def days_to_final(record: AuditRecord) -> int | None:
    """London calendar days from allocation (kept in the row's view: it never changes) to final."""
    allocated = (record.view or {}).get("allocated_at")
    if record.final_at is None or not allocated:
        return None
    return (_london_date(record.final_at) - _london_date(datetime.fromisoformat(allocated))).days


def _london_date(instant: datetime) -> date:
    return (instant if instant.tzinfo else instant.replace(tzinfo=UTC)).astimezone(LONDON).date()


def team_of(directory: StaffDirectory, record: AuditRecord) -> str:
    """Decision: the practitioner's team in the staff directory now (a team's name, never a
    person's); for a practitioner who has left, their Team Manager's team."""
    for staff_id in (record.practitioner_id, record.team_manager_id):
        if (member := directory.get(staff_id)) is not None:
            return member.team
    return UNKNOWN_TEAM


def _disputes(session: Session, records: list[AuditRecord]) -> list[DisputeLine]:
    services = {r.audit_id: r.service_area for r in records}
    if not services:
        return []
    rows = session.exec(select(DisputeRecord).where(col(DisputeRecord.audit_id).in_(services)))
    return [
        DisputeLine(
            audit_id=d.audit_id,
            service_area=services[d.audit_id],
            level=d.level,
            status=d.status,
            regraded=bool(((d.view or {}).get("outcome") or {}).get("regrade")),
        )
        for d in rows
    ]


def _moderations(session: Session, months: Iterable[str], service_area: str | None) -> list[ModerationRecord]:
    query = select(ModerationRecord).where(col(ModerationRecord.panel_cycle).in_(months))
    if service_area:
        query = query.where(ModerationRecord.service_area == service_area)
    return list(session.exec(query))
