"""The audit year as it runs (R-CAL-3, R-CAL-4): each cycle's audits, its theme (R-KIND-3) and
its non-completion report (R-QA-4).

A cycle's own facts (status, theme, report) come from its workflow, `cycle-YYYY-MM`, or its
projection once it has ended; a month whose cycle has not started yet is described from the
calendar alone. The audits it holds come from the audit projection."""

from collections import Counter
from datetime import datetime

from sqlmodel import Session, select
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.schemas.year import AuditBrief, CycleDetail, CycleSummary, NonCompletionReport, ThemeChangeRequest
from models.calendar import WorkingCalendar, calendar_for
from models.cycle_audits import CycleAudits, cycle_audits
from models.cycle_views import CycleInput, CycleView
from models.cycles import cycle_kind, cycle_month, is_cycle, second_activity
from models.enums import CYCLE_MONTHS, Role
from models.settings import Settings
from models.staff import StaffMember
from models.tables import AuditRecord, CycleRecord
from services import actions
from services.clock import check_plannable
from services.context import Services
from services.errors import Refused
from services.people import sees_every_audit
from workflows.cycle import CycleWorkflow


def list_cycles(session: Session, settings: Settings, year: int) -> list[CycleSummary]:
    """The year's ten cycles, month by month."""
    cycles = [f"{year:04d}-{m:02d}" for m in CYCLE_MONTHS]
    rows = {r.cycle: r for r in session.exec(select(CycleRecord).where(CycleRecord.cycle.in_(cycles)))}
    calendar = calendar_for(settings)
    return [_summary(calendar, c, rows.get(c), None, cycle_audits(session, c)) for c in cycles]


async def get_cycle(svc: Services, cycle: str) -> CycleDetail:
    _check(cycle)
    return await _detail(svc, cycle)


async def set_cycle_theme(
    svc: Services, actor: StaffMember, cycle: str, body: ThemeChangeRequest, key: str | None, now: datetime
) -> CycleDetail:
    """R-KIND-3: the topic of a themed cycle. Set ahead of the month, it starts the cycle's
    workflow early (it waits for its first working day) so the topic is kept durably."""
    _check(cycle)
    check_plannable(cycle, now, svc.settings, passed_ok=True)
    if cycle_kind(cycle) != "themed":
        raise Refused(422, f"{cycle_month(cycle)} is not a themed cycle: only May and October carry a theme (R-KIND-3)")
    if not body.theme.strip():
        raise Refused(422, "theme: give the topic the senior management group chose")
    await actions.update(svc, await _started(svc, cycle), CycleWorkflow.set_theme, [actor.id, body.to_payload()], actor, key)
    return await _detail(svc, cycle)


async def get_non_completion(svc: Services, actor: StaffMember, cycle: str) -> NonCompletionReport:
    """R-QA-4, as sent at the cycle's close. A Head of Service sees their own service's section."""
    _check(cycle)
    view = await _view(svc, cycle)
    if view is None or view.non_completion is None:
        closes = calendar_for(svc.settings).cycle_end(cycle)
        raise Refused(
            404, f"no non-completion report for {cycle} yet: it is made when the cycle closes, {closes:%A %d %B %Y %H:%M}"
        )
    services = view.non_completion
    if not sees_every_audit(actor):
        services = [s for s in services if actor.has(Role.HEAD_OF_SERVICE) and s.service_area == actor.service_area]
    return NonCompletionReport(cycle=cycle, reported_at=view.reported_at, services=services)


# ---- reading a cycle --------------------------------------------------------------------------


def _check(cycle: str) -> None:
    if not is_cycle(cycle):
        raise Refused(422, f"cycle {cycle!r} is not an audit cycle: YYYY-MM, any month but August or December")


def _handle(svc: Services, cycle: str) -> WorkflowHandle:
    return svc.client.get_workflow_handle(f"cycle-{cycle}")


async def _view(svc: Services, cycle: str) -> CycleView | None:
    """The cycle's workflow's view; once its history is gone, rebuilt from its projection."""
    try:
        return await actions.saved_or_live(svc, _handle(svc, cycle), CycleWorkflow.view, CycleView, CycleRecord, cycle, "cycle")
    except Refused as missing:
        if missing.status_code != 404:
            raise
        return None


async def _started(svc: Services, cycle: str) -> WorkflowHandle:
    """The cycle's workflow, started now if the Schedule has not started it yet (one that has
    closed stays closed: the update then answers 409)."""
    try:
        return await svc.client.start_workflow(
            CycleWorkflow.run,
            CycleInput(cycle=cycle, moderation_per_service=svc.settings.moderation_per_service),
            id=f"cycle-{cycle}",
            task_queue=svc.settings.temporal_task_queue,
            static_summary=f"the {cycle} audit cycle",
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,  # a closed cycle never runs again
        )
    except WorkflowAlreadyStartedError:
        return _handle(svc, cycle)


async def _detail(svc: Services, cycle: str) -> CycleDetail:
    view = await _view(svc, cycle)
    held = await svc.in_session(cycle_audits, cycle)
    summary = _summary(calendar_for(svc.settings), cycle, None, view, held)
    return CycleDetail(
        **summary.model_dump(),
        allocated_audits=[_brief(r) for r in held.allocated],
        reaudits=[_brief(r) for r in held.reaudits_due],
        carried_over_audits=[_brief(r) for r in held.carried_over],
        opened_with=view.opened_with.model_dump() if view and view.opened_with else None,
        moderation_panel_id=view.moderation_panel_id if view else None,
        history=[h.model_dump(mode="json") for h in view.history] if view else [],
    )


def _summary(
    calendar: WorkingCalendar, cycle: str, row: CycleRecord | None, view: CycleView | None, held: CycleAudits
) -> CycleSummary:
    theme, status = (view.theme, view.status) if view else (row.theme, row.status) if row else (None, "not started")
    return CycleSummary(
        cycle=cycle,
        month=cycle_month(cycle),
        kind=cycle_kind(cycle),
        theme=theme,
        second_activity=second_activity(cycle),
        first_working_day=calendar.cycle_start(cycle).date(),
        last_working_day=calendar.cycle_end(cycle).date(),
        status=status,
        audits_by_stage=dict(Counter(r.stage for r in held.allocated + held.reaudits_due if r.cycle == cycle)),
        reaudits_due=len(held.reaudits_due),
        carried_over=len(held.carried_over),
    )


def _brief(r: AuditRecord) -> AuditBrief:
    return AuditBrief(
        audit_id=r.audit_id,
        case_ref=r.case_ref,
        service_area=r.service_area,
        kind=r.kind,
        auditor_id=r.auditor_id,
        stage=r.stage,
        completion_due=r.completion_due,
        overdue=r.overdue,
    )
