"""`/self-selection-requests`: an auditor asks to audit a case of their choosing (R-ALLOC-2)."""

import itertools

from fastapi import APIRouter, HTTPException, status
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api import actions
from api.allocation import AllocationRequest, check_allocation, refuse_projected_duplicate
from api.clock import Now
from api.deps import Actor, IdempotencyKey, Svc
from api.permissions import permit
from models.limits import RequiredText
from models.self_selection import SelfSelectionDecision, SelfSelectionInput, SelfSelectionView
from models.tables import SelfSelectionRecord
from workflows.self_selection import SelfSelectionWorkflow

router = APIRouter(prefix="/self-selection-requests", tags=["self-selection"])


class SelfSelectionRequest(AllocationRequest):
    """The allocation the auditor asks for (they are its auditor), and why."""

    auditor_id: None = None  # the one asking
    reason: RequiredText


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SelfSelectionView,
             dependencies=[permit("request_self_selection")])
async def request_self_selection(body: SelfSelectionRequest, actor: Actor, svc: Svc, key: IdempotencyKey,
                                 now: Now) -> SelfSelectionView:
    """R-ALLOC-2: checked like an allocation (the asker must be able to audit it), then the Head
    of Service of the case's service is asked; 201 once they are emailed."""
    allocation = AllocationRequest(**body.model_dump(exclude={"reason", "auditor_id"}), auditor_id=actor.id)
    audit = check_allocation(allocation, actor, svc, now)
    await refuse_projected_duplicate(svc, audit)
    if await actions.describe(svc, f"audit-{audit.audit_id}"):
        raise HTTPException(409, f"case {audit.case_ref} already has a {audit.kind.value} audit in {audit.cycle}")
    handle = await _start(svc, SelfSelectionInput(request_id=f"{audit.audit_id}-by-{actor.id}", audit=audit,
                                                  reason=body.reason, head_of_service_id=audit.head_of_service_id))
    await actions.update(svc, handle, SelfSelectionWorkflow.asked)
    return await actions.query(svc, handle, SelfSelectionWorkflow.view)


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
