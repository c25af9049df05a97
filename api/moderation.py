"""`/moderation-panels` and `/moderations` (R-MOD-1..4): a panel's draw, progress and results, and
the moderator's record.

The cycle workflow starts a panel when a February, June or October cycle opens; PIAT may start one
by hand (`POST /moderation-panels/{cycle}`), e.g. when the cycle did not."""

import re
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field
from sqlmodel import Session
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api import actions
from api.clock import Now, check_plannable
from api.deps import Actor, IdempotencyKey, Svc
from api.permissions import permit
from models.cycles import CYCLE_PATTERN
from models.enums import Role
from models.moderation import (
    ModerationFindings, ModerationPanelInput, ModerationPanelView, ModerationPolicy, ModerationSummary, ModeratorChange,
    is_moderation_month, panel_of,
)
from models.tables import ModerationPanelRecord
from workflows.moderation import ModerationPanelWorkflow

router = APIRouter(tags=["moderation"])
MODERATION_ID = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-m\d{2,3}$")
Cycle = Annotated[str, Path(max_length=7, description='the moderation month, "YYYY-MM" (February, June or October)')]


class PanelRequest(BaseModel):
    per_service: int | None = Field(default=None, ge=1, le=50, description="audits drawn per service area (MODERATION_PER_SERVICE)")
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1, description="to repeat a draw; recorded either way")


@router.post("/moderation-panels/{cycle}", status_code=status.HTTP_201_CREATED, response_model=ModerationPanelView,
             dependencies=[permit("start_moderation_panel")])
async def start_moderation_panel(cycle: Cycle, actor: Actor, svc: Svc, key: IdempotencyKey, now: Now,
                                 body: PanelRequest | None = None) -> ModerationPanelView:
    """R-MOD-1: convene a moderation month's panel; 201 once the moderators and PIAT are emailed.
    One panel a month: 409 if it exists (running or ended)."""
    _check_cycle(cycle)
    check_plannable(cycle, now, svc.settings, passed_ok=True)
    if now < (opens := svc.calendar.cycle_start(cycle)):
        # Convened early it would draw nothing final yet and, one panel a month, hold the real one.
        raise HTTPException(422, f"the {cycle} moderation panel can be convened from "
                                 f"{opens:%A} {opens.day} {opens:%B %Y}, {opens:%H:%M}, "
                                 "when its month's cycle opens (R-MOD-1)")
    body = body or PanelRequest()
    panel = ModerationPanelInput(cycle=cycle, per_service=body.per_service or svc.settings.moderation_per_service,
                                 seed=body.seed, policy=ModerationPolicy(moderation_days=svc.settings.moderation_days))
    if await _exists(svc, cycle):
        raise _exists_already(cycle)
    try:
        handle = await svc.client.start_workflow(
            ModerationPanelWorkflow.run, panel, id=f"moderation-{cycle}", task_queue=svc.settings.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE, static_summary=f"moderation panel {cycle}",
        )
    except WorkflowAlreadyStartedError:
        raise _exists_already(cycle) from None
    await actions.update(svc, handle, ModerationPanelWorkflow.opened)
    return await actions.query(svc, handle, ModerationPanelWorkflow.view)


@router.get("/moderation-panels/{cycle}", response_model=ModerationPanelView, dependencies=[permit("get_moderation_panel")])
async def get_moderation_panel(cycle: Cycle, actor: Actor, svc: Svc) -> ModerationPanelView:
    """R-MOD: the draw (with its seed), each moderation's progress, and the agreement so far."""
    _check_cycle(cycle)
    return await actions.saved_or_live(svc, _handle(svc, cycle), ModerationPanelWorkflow.view, ModerationPanelView,
                                       ModerationPanelRecord, cycle, "moderation panel")


@router.post("/moderations/{moderation_id}/record", response_model=ModerationSummary,
             dependencies=[permit("record_moderation")])
async def record_moderation(moderation_id: Annotated[str, Path(max_length=16)], body: ModerationFindings,
                            actor: Actor, svc: Svc, key: IdempotencyKey) -> ModerationSummary:
    """R-MOD-3, R-MOD-4: the moderator's findings on the moderation template; the feedback goes to
    the auditor and PIAT and onto Mosaic. Only the moderator it is allocated to; once."""
    if not MODERATION_ID.match(moderation_id):
        raise HTTPException(404, f"no moderation {moderation_id}: moderation IDs look like 2027-02-m01")
    handle = _handle(svc, panel_of(moderation_id))
    await actions.update(svc, handle, ModerationPanelWorkflow.record, [actor.id, moderation_id, body], actor, key)
    view: ModerationPanelView = await actions.query(svc, handle, ModerationPanelWorkflow.view)
    return next(m for m in view.moderations if m.moderation_id == moderation_id)


@router.put("/moderation-panels/{cycle}/moderations/{audit_id}/moderator", response_model=ModerationSummary,
            dependencies=[permit("give_moderation")])
async def give_moderation(cycle: Cycle, audit_id: Annotated[str, Path(max_length=80)], body: ModeratorChange,
                          actor: Actor, svc: Svc, key: IdempotencyKey) -> ModerationSummary:
    """PIAT gives a drawn audit's moderation to another SLT moderator (one left, or nobody could
    take it at the draw): they are emailed, the one before told it is no longer theirs; the due
    time stays. 409 once it is recorded."""
    _check_cycle(cycle)
    handle = _handle(svc, cycle)
    panel = await actions.saved_or_live(svc, handle, ModerationPanelWorkflow.view, ModerationPanelView,
                                        ModerationPanelRecord, cycle, "moderation panel")
    if audit_id not in {m.audit_id for m in panel.moderations} | set(panel.unallocated):
        raise HTTPException(404, f"audit {audit_id} is not on the {cycle} moderation panel: "
                                 f"GET /moderation-panels/{cycle} lists the audits it drew")
    member = svc.directory.get(body.moderator_id)
    if member is None or not member.has(Role.SLT_MODERATOR):
        raise HTTPException(422, f"moderator_id: {body.moderator_id} is not an SLT moderator in the staff directory")
    await actions.update(svc, handle, ModerationPanelWorkflow.give_moderation, [actor.id, audit_id, body.moderator_id],
                         actor, key)
    view: ModerationPanelView = await actions.answered(svc, handle, ModerationPanelWorkflow.view, ModerationPanelView,
                                                       ModerationPanelRecord, cycle)
    return next(m for m in view.moderations if m.audit_id == audit_id)


def _check_cycle(cycle: str) -> None:
    if not CYCLE_PATTERN.match(cycle) or not is_moderation_month(cycle):
        raise HTTPException(422, f"cycle: {cycle!r} is not a moderation month: YYYY-MM in February, June or October (R-MOD-1)")


async def _exists(svc: Svc, cycle: str) -> bool:
    """Temporal knows a panel while its history lasts; the projection knows it after."""
    if await actions.describe(svc, f"moderation-{cycle}") is not None:
        return True
    with Session(svc.engine) as session:
        return session.get(ModerationPanelRecord, cycle) is not None


def _exists_already(cycle: str) -> HTTPException:
    return HTTPException(409, f"the {cycle} moderation panel already exists: GET /moderation-panels/{cycle}")


def _handle(svc: Svc, cycle: str) -> WorkflowHandle:
    return svc.client.get_workflow_handle(f"moderation-{cycle}")
