"""`/self-selection-requests`: an auditor asks to audit a case of their choosing (R-ALLOC-2)."""

import itertools

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError
from sqlmodel import Session, select
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api import actions
from api.allocation import AllocationRequest, check_allocation, refuse_projected_duplicate
from api.clock import Now
from api.deps import Actor, IdempotencyKey, Svc
from api.permissions import permit, sees_every_audit
from api.audits import unprocessable
from models.enums import AuditKind, Role
from models.payloads import AuditInput
from models.limits import CASE_REF, Identifier, RequiredText, Theme
from models.self_selection import SelfSelectionDecision, SelfSelectionInput, SelfSelectionView, Status
from models.staff import StaffMember
from models.tables import OpenCase, SelfSelectionRecord
from workflows.self_selection import SelfSelectionWorkflow

router = APIRouter(prefix="/self-selection-requests", tags=["self-selection"])


# What the case's row in the open-case list decides, and who the auditor is: sent by the asker,
# they could pick the practitioner and so the Head of Service who approves.
FROM_THE_CASE = ("service_area", "practitioner_id", "involvement_start", "cp_chair_or_iro_id")


class SelfSelectionRequest(BaseModel):
    """The case the auditor asks to audit (they are its auditor), the audit they ask for, and why.
    Its service, practitioner (and so Head of Service) and CP Chair / IRO are the open-case list's."""

    case_ref: Identifier = Field(pattern=CASE_REF, description="a case on the open-case list (`POST /cases/import`)")
    kind: AuditKind
    cycle: str = Field(max_length=7, description='"YYYY-MM", a month holding an audit cycle (not August or December)')
    theme: Theme | None = Field(default=None, description="themed audits only (R-KIND-3)")
    reason: RequiredText

    @model_validator(mode="before")
    @classmethod
    def _refuse_what_the_case_decides(cls, data):
        """Refused, not ignored: a client sending them could believe they took effect."""
        if not isinstance(data, dict):
            return data
        if "auditor_id" in data:
            raise PydanticCustomError("asker_is_auditor", "auditor_id: the auditor is whoever asks; leave it out")
        if sent := [f for f in FROM_THE_CASE if f in data]:
            raise PydanticCustomError("from_the_case", "{fields}: taken from the open-case list; leave them out",
                                      {"fields": ", ".join(sent)})
        return data


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SelfSelectionView,
             dependencies=[permit("request_self_selection")])
async def request_self_selection(body: SelfSelectionRequest, actor: Actor, svc: Svc, key: IdempotencyKey,
                                 now: Now) -> SelfSelectionView:
    """R-ALLOC-2: checked like an allocation (the asker must be able to audit it), then the Head
    of Service of the case's service is asked; 201 once they are emailed."""
    actions.refuse_blank(body)
    audit = _for_piat(svc, check_allocation(_allocation(svc, body, actor), actor, svc, now))
    await refuse_projected_duplicate(svc, audit)
    if await actions.describe(svc, f"audit-{audit.audit_id}"):
        raise HTTPException(409, f"case {audit.case_ref} already has a {audit.kind.value} audit in {audit.cycle}")
    handle = await _start(svc, SelfSelectionInput(request_id=f"{audit.audit_id}-by-{actor.id}", audit=audit,
                                                  reason=body.reason, head_of_service_id=audit.head_of_service_id))
    await actions.update(svc, handle, SelfSelectionWorkflow.asked)
    return await actions.query(svc, handle, SelfSelectionWorkflow.view)


def _allocation(svc: Svc, body: SelfSelectionRequest, actor: StaffMember) -> AllocationRequest:
    """The allocation asked for, of the case as the open-case list has it."""
    with Session(svc.engine) as session:
        case = session.get(OpenCase, body.case_ref)
    if case is None:
        raise unprocessable(f"case {body.case_ref} is not on the open-case list PIAT imported: only an open case "
                            "can be asked for (check the reference, or ask PIAT to import the current list)")
    return AllocationRequest(case_ref=case.case_ref, service_area=case.service_area, kind=body.kind, cycle=body.cycle,
                             auditor_id=actor.id, practitioner_id=case.practitioner_id,
                             involvement_start=case.involvement_start, cp_chair_or_iro_id=case.cp_chair_or_iro_id,
                             theme=body.theme)


def _for_piat(svc: Svc, audit: AuditInput) -> AuditInput:
    """The approving Head of Service allocates the audit, but PIAT still reviews it and is copied
    into its dispute: PIAT (else the PI&A Manager) is named for the emails meant for them."""
    piat = svc.directory.with_role(Role.PIAT)
    return audit.model_copy(update={"piat_id": piat[0].id if piat else audit.piat_manager_id})


async def _start(svc: Svc, request: SelfSelectionInput) -> WorkflowHandle:
    """A request is a process of its own: asked again after a refusal (or no answer), it takes
    the next ID, `<id>-2`, `<id>-3`, so its emails' keys are new and the Head of Service is told;
    reusing the ended run's ID would repeat its keys, which the outbox drops as sent."""
    first = request.request_id
    for attempt in itertools.count(1):
        if attempt > 1:
            request = request.model_copy(update={"request_id": f"{first}-{attempt}"})
        try:
            return await svc.client.start_workflow(
                SelfSelectionWorkflow.run, request, id=f"self-selection-{request.request_id}",
                task_queue=svc.settings.temporal_task_queue, static_summary=f"self-selection, cycle {request.audit.cycle}",
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            info = await actions.describe(svc, f"self-selection-{request.request_id}")
            if info is None or info.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING:
                raise HTTPException(409, f"you have already asked to audit this case in {request.audit.cycle}: "
                                         f"{request.request_id} waits for the Head of Service's decision") from None
    raise AssertionError("unreachable")


class SelfSelectionSummary(BaseModel):
    request_id: str
    case_ref: str
    cycle: str
    requested_by: str
    head_of_service_id: str | None
    status: Status
    due: datetime | None
    updated_at: datetime


@router.get("", response_model=list[SelfSelectionSummary], dependencies=[permit("list_self_selections")])
def list_self_selections(
    actor: Actor, svc: Svc,
    status: Status | None = None,  # noqa: A002 (the query parameter's name)
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SelfSelectionSummary]:
    """From each request's row, newest first: senior leaders see all; anyone else those they
    asked and those asked of them as the case's Head of Service."""
    query = select(SelfSelectionRecord)
    if status is not None:
        query = query.where(SelfSelectionRecord.status == status)
    if not sees_every_audit(actor):
        query = query.where((SelfSelectionRecord.requested_by == actor.id) | (SelfSelectionRecord.head_of_service_id == actor.id))
    with Session(svc.engine) as session:
        rows = session.exec(query.order_by(SelfSelectionRecord.updated_at.desc(), SelfSelectionRecord.request_id).limit(limit)).all()
    return [SelfSelectionSummary(**row.model_dump(exclude={"view", "view_current"})) for row in rows]


@router.post("/{request_id}/decision", response_model=SelfSelectionView, dependencies=[permit("decide_self_selection")])
async def decide_self_selection(
    request_id: str, body: SelfSelectionDecision, actor: Actor, svc: Svc, key: IdempotencyKey
) -> SelfSelectionView:
    """The Head of Service approves (the audit starts) or refuses, within 5 working days."""
    await actions.update(svc, _handle(svc, request_id), SelfSelectionWorkflow.decide, [actor.id, body], actor, key)
    return await actions.query(svc, _handle(svc, request_id), SelfSelectionWorkflow.view)


@router.get("/{request_id}", response_model=SelfSelectionView, dependencies=[permit("get_self_selection")])
async def get_self_selection(request_id: str, actor: Actor, svc: Svc) -> SelfSelectionView:
    request_id = request_id.removeprefix("self-selection-")
    return await actions.saved_or_live(svc, _handle(svc, request_id), SelfSelectionWorkflow.view, SelfSelectionView,
                                       SelfSelectionRecord, request_id, "self-selection request")


def _handle(svc: Svc, request_id: str) -> WorkflowHandle:
    return svc.client.get_workflow_handle(f"self-selection-{request_id.removeprefix('self-selection-')}")
