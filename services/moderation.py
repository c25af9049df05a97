"""Moderation panels (R-MOD-1..4): a panel's draw, progress and results, and the moderator's record.

The cycle workflow starts a panel when a February, June or October cycle opens; PIAT may start one
by hand, e.g. when the cycle did not."""

import re
from datetime import datetime

from sqlmodel import Session
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.schemas.year import ModerationFindingsRequest, ModeratorChangeRequest, PanelRequest
from models.cycles import CYCLE_PATTERN
from models.enums import Role
from models.moderation import (
    ModerationPanelInput,
    ModerationPanelView,
    ModerationPolicy,
    ModerationSummary,
    is_moderation_month,
    panel_of,
)
from models.staff import StaffMember
from models.tables import ModerationPanelRecord
from services import actions
from services.clock import check_plannable
from services.context import Services
from services.errors import Refused
from workflows.moderation import ModerationPanelWorkflow

MODERATION_ID = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-m\d{2,3}$")


async def start_moderation_panel(svc: Services, cycle: str, body: PanelRequest | None, now: datetime) -> ModerationPanelView:
    """R-MOD-1: convene a moderation month's panel; 201 once the moderators and PIAT are emailed.
    One panel a month: 409 if it exists (running or ended)."""
    _check_cycle(cycle)
    check_plannable(cycle, now, svc.settings, passed_ok=True)
    if now < (opens := svc.calendar.cycle_start(cycle)):
        # Convened early it would draw nothing final yet and, one panel a month, hold the real one.
        raise Refused(
            422,
            f"the {cycle} moderation panel can be convened from "
            f"{opens:%A} {opens.day} {opens:%B %Y}, {opens:%H:%M}, "
            "when its month's cycle opens (R-MOD-1)",
        )
    body = body or PanelRequest()
    panel = ModerationPanelInput(
        cycle=cycle,
        per_service=body.per_service or svc.settings.moderation_per_service,
        seed=body.seed,
        policy=ModerationPolicy(moderation_days=svc.settings.moderation_days),
    )
    if await _exists(svc, cycle):
        raise _exists_already(cycle)
    try:
        handle = await svc.client.start_workflow(
            ModerationPanelWorkflow.run,
            panel,
            id=f"moderation-{cycle}",
            task_queue=svc.settings.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"moderation panel {cycle}",
        )
    except WorkflowAlreadyStartedError:
        raise _exists_already(cycle) from None
    await actions.update(svc, handle, ModerationPanelWorkflow.opened)
    return await actions.query(svc, handle, ModerationPanelWorkflow.view)


async def get_moderation_panel(svc: Services, cycle: str) -> ModerationPanelView:
    """R-MOD: the draw (with its seed), each moderation's progress, and the agreement so far."""
    _check_cycle(cycle)
    return await actions.saved_or_live(
        svc,
        _handle(svc, cycle),
        ModerationPanelWorkflow.view,
        ModerationPanelView,
        ModerationPanelRecord,
        cycle,
        "moderation panel",
    )


async def record_moderation(
    svc: Services, actor: StaffMember, moderation_id: str, body: ModerationFindingsRequest, key: str | None
) -> ModerationSummary:
    """R-MOD-3, R-MOD-4: the moderator's findings on the moderation template; the feedback goes to
    the auditor and PIAT and onto Mosaic. Only the moderator it is allocated to; once."""
    if not MODERATION_ID.match(moderation_id):
        raise Refused(404, f"no moderation {moderation_id}: moderation IDs look like 2027-02-m01")
    handle = _handle(svc, panel_of(moderation_id))
    await actions.update(svc, handle, ModerationPanelWorkflow.record, [actor.id, moderation_id, body.to_payload()], actor, key)
    view: ModerationPanelView = await actions.query(svc, handle, ModerationPanelWorkflow.view)
    return next(m for m in view.moderations if m.moderation_id == moderation_id)


async def give_moderation(
    svc: Services, actor: StaffMember, cycle: str, audit_id: str, body: ModeratorChangeRequest, key: str | None
) -> ModerationSummary:
    """PIAT gives a drawn audit's moderation to another SLT moderator (one left, or nobody could
    take it at the draw): they are emailed, the one before told it is no longer theirs; the due
    time stays. 409 once it is recorded."""
    _check_cycle(cycle)
    handle = _handle(svc, cycle)
    panel = await actions.saved_or_live(
        svc, handle, ModerationPanelWorkflow.view, ModerationPanelView, ModerationPanelRecord, cycle, "moderation panel"
    )
    if audit_id not in {m.audit_id for m in panel.moderations} | set(panel.unallocated):
        raise Refused(
            404,
            f"audit {audit_id} is not on the {cycle} moderation panel: GET /moderation-panels/{cycle} lists the audits it drew",
        )
    member = svc.directory.get(body.moderator_id)
    if member is None or not member.has(Role.SLT_MODERATOR):
        raise Refused(422, f"moderator_id: {body.moderator_id} is not an SLT moderator in the staff directory")
    await actions.update(
        svc, handle, ModerationPanelWorkflow.give_moderation, [actor.id, audit_id, body.moderator_id], actor, key
    )
    view: ModerationPanelView = await actions.answered(
        svc, handle, ModerationPanelWorkflow.view, ModerationPanelView, ModerationPanelRecord, cycle
    )
    return next(m for m in view.moderations if m.audit_id == audit_id)


def _check_cycle(cycle: str) -> None:
    if not CYCLE_PATTERN.match(cycle) or not is_moderation_month(cycle):
        raise Refused(422, f"cycle: {cycle!r} is not a moderation month: YYYY-MM in February, June or October (R-MOD-1)")


async def _exists(svc: Services, cycle: str) -> bool:
    """Temporal knows a panel while its history lasts; the projection knows it after."""
    if await actions.describe(svc, f"moderation-{cycle}") is not None:
        return True
    return await svc.in_session(Session.get, ModerationPanelRecord, cycle) is not None


def _exists_already(cycle: str) -> Refused:
    return Refused(409, f"the {cycle} moderation panel already exists: GET /moderation-panels/{cycle}")


def _handle(svc: Services, cycle: str) -> WorkflowHandle:
    return svc.client.get_workflow_handle(f"moderation-{cycle}")
