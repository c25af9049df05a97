"""`/self-selection-requests`: an auditor asks to audit a case of their choosing (R-ALLOC-2)."""

from fastapi import APIRouter, HTTPException, status
from temporalio.client import WorkflowHandle
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
    request = SelfSelectionInput(request_id=f"{audit.audit_id}-by-{actor.id}", audit=audit, reason=body.reason,
                                 head_of_service_id=audit.head_of_service_id)
    try:
        handle = await svc.client.start_workflow(
            SelfSelectionWorkflow.run, request, id=f"self-selection-{request.request_id}",
            task_queue=svc.settings.temporal_task_queue, static_summary=f"self-selection, cycle {audit.cycle}",
        )
    except WorkflowAlreadyStartedError:
        raise HTTPException(409, f"you have already asked to audit this case in {audit.cycle}: {request.request_id}") from None
    await actions.update(svc, handle, SelfSelectionWorkflow.asked)
    return await actions.query(svc, handle, SelfSelectionWorkflow.view)


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
