"""Which audits a cycle holds, read from the audit projection. Shared by the cycle workflow's
activities (what it opened with, the non-completion report) and `GET /cycles/{cycle}`."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, or_, select

from models.cycle_views import NOT_COMPLETE_STAGES, LateAudit, ServiceNonCompletion
from models.enums import AuditKind, ServiceArea, Stage
from models.tables import AuditRecord


@dataclass
class CycleAudits:
    allocated: list[AuditRecord]  # allocated in this cycle (standard, peer, themed, MASH)
    reaudits_due: list[AuditRecord]  # re-audits in this cycle, and audits planning one for it (R-RE-1)
    carried_over: list[AuditRecord]  # not accepted earlier, to be completed in this cycle (R-QA-3)


def cycle_audits(session: Session, cycle: str) -> CycleAudits:
    rows = session.exec(
        select(AuditRecord)
        .where(
            or_(
                AuditRecord.cycle == cycle,
                AuditRecord.carried_into_cycle == cycle,
                AuditRecord.reaudit_cycle == cycle,
            )
        )
        .order_by(AuditRecord.service_area, AuditRecord.audit_id)
    ).all()
    reaudit = AuditKind.REAUDIT.value
    return CycleAudits(
        allocated=[r for r in rows if r.cycle == cycle and r.kind != reaudit],
        reaudits_due=[
            r
            for r in rows
            if (r.cycle == cycle and r.kind == reaudit) or (r.reaudit_cycle == cycle and r.stage == Stage.REAUDIT_PLANNED.value)
        ],
        carried_over=[r for r in rows if r.carried_into_cycle == cycle],
    )


def overdue_incomplete(session: Session, at: datetime) -> list[AuditRecord]:
    """Every audit, whatever its cycle, not complete and past its completion deadline at `at`."""
    rows = session.exec(
        select(AuditRecord)
        .where(
            col(AuditRecord.stage).in_(NOT_COMPLETE_STAGES),
            col(AuditRecord.completion_due).is_not(None),
        )
        .order_by(AuditRecord.service_area, AuditRecord.audit_id)
    ).all()
    return [r for r in rows if (due := _due(r, at)) is not None and due < at]  # compared here: SQLite keeps them naive


def non_completion(
    held: CycleAudits, at: datetime, heads: dict[str, list[str]], fallback: list[str], overdue: Sequence[AuditRecord] = ()
) -> list[ServiceNonCompletion]:
    """R-QA-4, per service: every audit the cycle allocated or carried in, and those not complete
    at `at` with their auditor and how late; then those of `overdue` (incomplete past their
    deadline) the cycle does not hold. `heads`: each service's Heads of Service now; a service
    without one is sent to `fallback` (the PI&A Manager)."""
    due = {r.audit_id: r for r in held.allocated + held.carried_over}
    due.update({r.audit_id: r for r in held.reaudits_due if r.kind == AuditKind.REAUDIT.value})
    elsewhere = [r for r in overdue if r.audit_id not in due]
    report = []
    for service in ServiceArea:
        rows = [r for r in due.values() if r.service_area == service.value]
        others = [_late(r, at) for r in elsewhere if r.service_area == service.value]
        if not rows and not others:
            continue
        late = [_late(r, at) for r in rows if r.stage in NOT_COMPLETE_STAGES]
        named = heads.get(service.value, [])
        report.append(
            ServiceNonCompletion(
                service_area=service.value,
                head_of_service_ids=named,
                sent_to=named or fallback,
                allocated=len(rows),
                not_complete=sorted(late, key=lambda a: -a.days_late),
                overdue_from_other_cycles=sorted(others, key=lambda a: -a.days_late),
            )
        )
    return report


def _due(row: AuditRecord, at: datetime) -> datetime | None:
    due = row.completion_due
    if due is not None and due.tzinfo is None:  # SQLite hands datetimes back naive, in UTC
        due = due.replace(tzinfo=at.tzinfo)
    return due


def _late(row: AuditRecord, at: datetime) -> LateAudit:
    due = _due(row, at)
    days = (at - due).days if due is not None and at > due else 0
    return LateAudit(
        audit_id=row.audit_id,
        case_ref=row.case_ref,
        kind=row.kind,
        auditor_id=row.auditor_id,
        stage=row.stage,
        completion_due=due,
        days_late=days,
        cycle=row.cycle,
    )
