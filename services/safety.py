"""Concerns for a child's safety found while auditing (R-SAFE-1, R-SAFE-2): raising one, its
acknowledgement, the list and one concern."""

import itertools

from sqlmodel import Session, func, select
from temporalio.client import WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.schemas.safety import SafetyAcknowledgementRequest, SafetyConcernRaiseRequest, SafetyConcernSummary
from models.enums import PersonRole
from models.payloads import AuditView, Policy
from models.safety import SafetyConcernInput, SafetyConcernView
from models.staff import StaffMember
from models.tables import SafetyConcernRecord
from services import actions
from services.context import Services
from services.people import sees_every_audit
from workflows.safety import SafetyConcernWorkflow

RAISE_REQUEST = "raise_request"  # memo: which request (`raise:<staff id>:<key>`) raised a concern


async def raise_safety_concern(
    svc: Services, actor: StaffMember, audit: AuditView, body: SafetyConcernRaiseRequest, key: str | None
) -> SafetyConcernView:
    """R-SAFE-1: whoever audits the case (the permission table checked it) raises it, at any stage,
    even after completion; the practitioner's Team Manager is emailed at once, marked urgent (R-SAFE-2)."""
    actions.refuse_blank(body)
    concern = SafetyConcernInput(
        concern_id="",
        audit_id=audit.audit_id,
        case_ref=audit.case_ref,
        raised_by=actor.id,
        description=body.description,
        immediate_action_needed=body.immediate_action_needed,
        practitioner_id=audit.practitioner_id,
        team_manager_id=_team_manager_now(svc, audit),
        policy=Policy.now(svc.settings),
        cycle=audit.cycle,
        head_of_service_id=audit.head_of_service_id if audit.head_of_service_id in svc.directory else None,
    )
    handle = await _start(svc, concern, actions.request_id("raise", actor, key))
    await actions.update(svc, handle, SafetyConcernWorkflow.raised_recorded)
    concern_id = handle.id.removeprefix("safety-")
    return await actions.answered(svc, handle, SafetyConcernWorkflow.view, SafetyConcernView, SafetyConcernRecord, concern_id)


def _team_manager_now(svc: Services, audit: AuditView) -> str | None:
    """Whom the concern goes to: the Team Manager PIAT named on the audit, else the practitioner's
    Team Manager in the directory now. The audit's own is only refreshed at its steps, weeks apart,
    and may have left or be the practitioner's former team's. None: nobody to tell."""
    if PersonRole.TEAM_MANAGER in audit.named_by_piat and audit.team_manager_id in svc.directory:
        return audit.team_manager_id
    now = svc.directory.team_manager_of(audit.practitioner_id)
    return now.id if now else None


async def _start(svc: Services, concern: SafetyConcernInput, request: str | None) -> WorkflowHandle:
    """Number the audit's concerns 1, 2, ...: of two raised at once, Temporal gives each its own
    number (one start is refused and the next number tried). A retry with the same key finds its own."""
    known = await svc.in_session(_count, concern.audit_id)
    for number in itertools.count(known + 1):
        numbered = concern.model_copy(update={"concern_id": f"{concern.audit_id}-{number}"})
        try:
            return await svc.client.start_workflow(
                SafetyConcernWorkflow.run,
                numbered,
                id=f"safety-{numbered.concern_id}",
                task_queue=svc.settings.temporal_task_queue,
                memo={RAISE_REQUEST: request} if request else None,
                static_summary=f"safety concern {number} from audit {concern.audit_id}",
            )
        except WorkflowAlreadyStartedError:
            info = await actions.describe(svc, f"safety-{numbered.concern_id}")
            if request and info and await actions.memo(svc, info, RAISE_REQUEST) == request:
                return _handle(svc, numbered.concern_id)
    raise AssertionError("unreachable")


def _count(session: Session, audit_id: str) -> int:
    return session.exec(select(func.count()).where(SafetyConcernRecord.audit_id == audit_id)).one()


async def acknowledge(
    svc: Services, actor: StaffMember, concern_id: str, body: SafetyAcknowledgementRequest, key: str | None
) -> SafetyConcernView:
    """R-SAFE-2: the Team Manager, or the Head of Service or Assistant Director once told."""
    await actions.update(
        svc, _handle(svc, concern_id), SafetyConcernWorkflow.acknowledge, [actor.id, body.to_payload()], actor, key
    )
    return await get_safety_concern(svc, concern_id)


def list_safety_concerns(
    session: Session,
    actor: StaffMember,
    *,
    open: bool | None = None,  # noqa: A002
    audit_id: str | None = None,
    limit: int = 100,
) -> list[SafetyConcernSummary]:
    """Open ones first, then the newest. PIAT and managers see all; others those they raised or
    that their practitioners' audits raised."""
    query = select(SafetyConcernRecord)
    if open is not None:
        query = query.where(SafetyConcernRecord.open == open)
    if audit_id is not None:
        query = query.where(SafetyConcernRecord.audit_id == audit_id)
    if not sees_every_audit(actor):
        query = query.where((SafetyConcernRecord.raised_by == actor.id) | (SafetyConcernRecord.team_manager_id == actor.id))
    order = (SafetyConcernRecord.open.desc(), SafetyConcernRecord.raised_at.desc())
    rows = session.exec(query.order_by(*order).limit(limit)).all()
    return [SafetyConcernSummary(**row.model_dump() | {"team_manager_id": row.team_manager_id or None}) for row in rows]


async def get_safety_concern(svc: Services, concern_id: str) -> SafetyConcernView:
    """The concern with its timeline: raised, who was told when, the acknowledgement."""
    concern_id = concern_id.removeprefix("safety-")
    return await actions.saved_or_live(
        svc,
        _handle(svc, concern_id),
        SafetyConcernWorkflow.view,
        SafetyConcernView,
        SafetyConcernRecord,
        concern_id,
        "safety concern",
    )


def _handle(svc: Services, concern_id: str) -> WorkflowHandle:
    return svc.client.get_workflow_handle(f"safety-{concern_id.removeprefix('safety-')}")
