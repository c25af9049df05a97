"""A year's workload, planned (`GET /plans/{year}`, the page `/app/plans/{year}`): what the year's
cycles, the re-audit chains and the moderation panels will ask of each auditor, month by month.

This reads the open-case list, the `audit` and `moderation` rows and the staff directory; the
forecast itself is reports/plans.py (pure). Call it from a plain `def` route or the thread pool."""

from collections import Counter
from datetime import datetime

from sqlmodel import Session, func, select

from activities.directory import DirectoryActivities
from models.enums import AuditKind, Stage
from models.tables import AuditRecord, ModerationRecord, OpenCase
from reports.plans import Allocated, Moderated, Plan, PlannedReaudit, TeamCases, plan
from models.cycles import months_before
from services.clock import current_month
from services.context import Services
from services.errors import Refused


def plannable_years(now: datetime, svc: Services) -> tuple[int, int]:
    """From this year to the year of the last cycle PIAT may plan now (`CYCLES_AHEAD_MONTHS`)."""
    first = current_month(now, svc.settings)
    year, month = int(first[:4]), int(first[5:]) - 1 + svc.settings.cycles_ahead_months
    return year, year + month // 12


def plan_for(svc: Services, year: str, now: datetime, per_team: int | None = None) -> Plan:
    first, last = plannable_years(now, svc)
    if not (len(year) == 4 and year.isdigit()):
        raise Refused(422, f"year {year!r} is not a year: four digits, e.g. /plans/{last}")
    if not first <= int(year) <= last:
        span = str(first) if first == last else f"{first} to {last}"
        past = f"; a past year's audits are in its annual report (GET /reports/annual?period={year})" if int(year) < first else ""
        raise Refused(422, f"the {year} workload cannot be planned: plans are for {span}{past}")
    with Session(svc.engine) as session:
        return _plan(session, svc, int(year), now, per_team or svc.settings.plan_cases_per_team)


def _plan(session: Session, svc: Services, year: int, now: datetime, per_team: int) -> Plan:
    prefix = f"{year:04d}-"
    rows = list(
        session.exec(
            select(AuditRecord).where((AuditRecord.cycle.startswith(prefix)) | (AuditRecord.reaudit_cycle.startswith(prefix)))
        )
    )
    moderated = session.exec(select(ModerationRecord).where(ModerationRecord.panel_cycle.startswith(prefix))).all()
    return plan(
        year,
        svc.directory.everyone(),
        _teams(session, svc, year),
        per_team=per_team,
        max_per_month=svc.settings.plan_max_audits_per_month,
        moderation_per_service=svc.settings.moderation_per_service,
        allocated=[_allocated(svc, r) for r in rows if r.cycle.startswith(prefix) and r.kind != AuditKind.REAUDIT.value],
        reaudits=_reaudits(svc, rows, prefix),
        moderated=[Moderated(m.panel_cycle, m.moderator_id) for m in moderated],
        first_to_come=current_month(now, svc.settings),
        generated_at=now,
    )


def _teams(session: Session, svc: Services, year: int) -> list[TeamCases]:
    """Each team's open cases, the Team Managers of their practitioners (as the directory has them
    now), and the cycles of those audited in the 12 months before the year (each case's latest)."""
    cases = session.exec(select(OpenCase.case_ref, OpenCase.service_area, OpenCase.team, OpenCase.practitioner_id)).all()
    counts = Counter((service, team) for _, service, team, _ in cases)
    managers: dict[tuple[str, str], set[str]] = {key: set() for key in counts}
    for _, service, team, practitioner in cases:
        if tm := svc.directory.team_manager_of(practitioner):
            managers[(service, team)].add(tm.id)
    january = f"{year:04d}-01"
    latest = dict(
        session.exec(
            select(AuditRecord.case_ref, func.max(AuditRecord.cycle))
            .where(AuditRecord.cycle > months_before(january, 12), AuditRecord.cycle < january)
            .group_by(AuditRecord.case_ref)
        ).all()
    )
    audited: dict[tuple[str, str], list[str]] = {key: [] for key in counts}
    for case_ref, service, team, _ in cases:
        if case_ref in latest:
            audited[(service, team)].append(latest[case_ref])
    return [
        TeamCases(s, t, n, frozenset(managers[(s, t)]), tuple(sorted(audited[(s, t)]))) for (s, t), n in sorted(counts.items())
    ]


def _allocated(svc: Services, row: AuditRecord) -> Allocated:
    practitioner = svc.directory.get(row.practitioner_id)
    return Allocated(row.cycle, row.auditor_id, row.service_area, practitioner.team if practitioner else "")


def _reaudits(svc: Services, rows: list[AuditRecord], prefix: str) -> list[PlannedReaudit]:
    """Re-audits allocated in the year (their rows name the auditor), and those planned for it and
    not yet allocated, whose auditor is looked up as the chain will look them up (decision 0019)."""
    allocated = [
        PlannedReaudit(r.audit_id, r.cycle, r.auditor_id, r.service_area, allocated=True)
        for r in rows
        if r.kind == AuditKind.REAUDIT.value and r.cycle.startswith(prefix)
    ]
    known = {r.audit_id for r in allocated}
    lookup = DirectoryActivities(svc.directory)
    planned = [
        PlannedReaudit(
            f"{r.chain_id}-r{r.reaudit_round + 1}",
            r.reaudit_cycle,
            lookup.service_contacts(r.practitioner_id).reauditor_id,
            r.service_area,
            allocated=False,
        )
        for r in rows
        if r.stage == Stage.REAUDIT_PLANNED.value and r.reaudit_cycle and r.reaudit_cycle.startswith(prefix)
    ]
    return allocated + [p for p in planned if p.audit_id not in known]
