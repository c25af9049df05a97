"""An auditor's request to audit a case of their choosing (R-ALLOC-2): asked, listed, decided."""

import itertools
from datetime import datetime

from sqlmodel import Session, select
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.schemas.audits import AllocationRequest
from api.schemas.year import SelfSelectionDecisionRequest, SelfSelectionRequest, SelfSelectionSummary
from models.enums import Role
from models.payloads import AuditInput
from models.self_selection import SelfSelectionInput, SelfSelectionView, Status
from models.staff import StaffMember
from models.tables import OpenCase, SelfSelectionRecord
from services import actions
from services.allocation import check_allocation, refuse_projected_duplicate
from services.context import Services
from services.errors import Refused, unprocessable
from services.people import sees_every_audit
from workflows.self_selection import SelfSelectionWorkflow


async def request_self_selection(
    svc: Services, actor: StaffMember, body: SelfSelectionRequest, now: datetime
) -> SelfSelectionView:
    """R-ALLOC-2: checked like an allocation (the asker must be able to audit it), then the Head
    of Service of the case's service is asked; 201 once they are emailed."""
    actions.refuse_blank(body)
    case = await svc.in_session(Session.get, OpenCase, body.case_ref)
    audit = _for_piat(svc, check_allocation(_allocation(case, body, actor), actor, svc, now))
    await refuse_projected_duplicate(svc, audit)
    if await actions.describe(svc, f"audit-{audit.audit_id}"):
        raise Refused(409, f"case {audit.case_ref} already has a {audit.kind.value} audit in {audit.cycle}")
    handle = await _start(
        svc,
        SelfSelectionInput(
            request_id=f"{audit.audit_id}-by-{actor.id}",
            audit=audit,
            reason=body.reason,
            head_of_service_id=audit.head_of_service_id,
        ),
    )
    await actions.update(svc, handle, SelfSelectionWorkflow.asked)
    return await actions.query(svc, handle, SelfSelectionWorkflow.view)


def _allocation(case: OpenCase | None, body: SelfSelectionRequest, actor: StaffMember) -> AllocationRequest:
    """The allocation asked for, of the case as the open-case list has it."""
    if case is None:
        raise unprocessable(
            f"case {body.case_ref} is not on the open-case list PIAT imported: only an open case "
            "can be asked for (check the reference, or ask PIAT to import the current list)"
        )
    return AllocationRequest(
        case_ref=case.case_ref,
        service_area=case.service_area,
        kind=body.kind,
        cycle=body.cycle,
        auditor_id=actor.id,
        practitioner_id=case.practitioner_id,
        involvement_start=case.involvement_start,
        cp_chair_or_iro_id=case.cp_chair_or_iro_id,
        theme=body.theme,
    )


def _for_piat(svc: Services, audit: AuditInput) -> AuditInput:
    """The approving Head of Service allocates the audit, but PIAT still reviews it and is copied
    into its dispute: PIAT (else the PI&A Manager) is named for the emails meant for them."""
    piat = svc.directory.with_role(Role.PIAT)
    return audit.model_copy(update={"piat_id": piat[0].id if piat else audit.piat_manager_id})


async def _start(svc: Services, request: SelfSelectionInput) -> WorkflowHandle:
    """A request is a process of its own: asked again after a refusal (or no answer), it takes
    the next ID, `<id>-2`, `<id>-3`, so its emails' keys are new and the Head of Service is told;
    reusing the ended run's ID would repeat its keys, which the outbox drops as sent."""
    first = request.request_id
    for attempt in itertools.count(1):
        if attempt > 1:
            request = request.model_copy(update={"request_id": f"{first}-{attempt}"})
        try:
            return await svc.client.start_workflow(
                SelfSelectionWorkflow.run,
                request,
                id=f"self-selection-{request.request_id}",
                task_queue=svc.settings.temporal_task_queue,
                static_summary=f"self-selection, cycle {request.audit.cycle}",
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            info = await actions.describe(svc, f"self-selection-{request.request_id}")
            if info is None or info.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING:
                raise Refused(
                    409,
                    f"you have already asked to audit this case in {request.audit.cycle}: "
                    f"{request.request_id} waits for the Head of Service's decision",
                ) from None
    raise AssertionError("unreachable")


def list_self_selections(
    session: Session, actor: StaffMember, *, status: Status | None = None, limit: int = 100
) -> list[SelfSelectionSummary]:
    """From each request's row, newest first: senior leaders see all; anyone else those they
    asked and those asked of them as the case's Head of Service."""
    query = select(SelfSelectionRecord)
    if status is not None:
        query = query.where(SelfSelectionRecord.status == status)
    if not sees_every_audit(actor):
        query = query.where((SelfSelectionRecord.requested_by == actor.id) | (SelfSelectionRecord.head_of_service_id == actor.id))
    rows = session.exec(query.order_by(SelfSelectionRecord.updated_at.desc(), SelfSelectionRecord.request_id).limit(limit)).all()
    return [SelfSelectionSummary(**row.model_dump(exclude={"view", "view_current"})) for row in rows]


async def decide_self_selection(
    svc: Services, actor: StaffMember, request_id: str, body: SelfSelectionDecisionRequest, key: str | None
) -> SelfSelectionView:
    """The Head of Service approves (the audit starts) or refuses, within 5 working days."""
    await actions.update(svc, _handle(svc, request_id), SelfSelectionWorkflow.decide, [actor.id, body.to_payload()], actor, key)
    return await actions.query(svc, _handle(svc, request_id), SelfSelectionWorkflow.view)


async def get_self_selection(svc: Services, request_id: str) -> SelfSelectionView:
    request_id = request_id.removeprefix("self-selection-")
    return await actions.saved_or_live(
        svc,
        _handle(svc, request_id),
        SelfSelectionWorkflow.view,
        SelfSelectionView,
        SelfSelectionRecord,
        request_id,
        "self-selection request",
    )


def _handle(svc: Services, request_id: str) -> WorkflowHandle:
    return svc.client.get_workflow_handle(f"self-selection-{request_id.removeprefix('self-selection-')}")
