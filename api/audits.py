"""`/audits`: allocation and every staff action on one audit (R-ALLOC, R-AUD, R-QA)."""

import hashlib
import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field
from sqlmodel import Session, select
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api import actions
from api.permissions import permit, sees_every_audit
from api.deps import Actor, IdempotencyKey, Svc
from models import search_attributes as sa
from models.audit_tools import tool_for
from models.cycles import cycle_holds, is_cycle, month_of
from models.enums import AuditKind, Channel, Escalation, Grade, PersonRole, Role, ServiceArea, Stage
from models.limits import CASE_REF, MAX_ID, Identifier, RequiredText, StaffId, Theme
from models.payloads import (
    AuditInput,
    AuditView,
    ChainLink,
    DiscussionReview,
    FindingsDiscussion,
    Grading,
    HeadOfServiceFollowUp,
    ImprovementPlan,
    PersonChange,
    Policy,
    PractitionerConversation,
    PreviousPractitionerFeedback,
    QADecision,
    Reassignment,
)
from models.staff import StaffMember
from models.tables import AuditRecord, NotificationRecord
from workflows.audit import AuditWorkflow

router = APIRouter(prefix="/audits", tags=["audits"])

AUDITING_ROLES = (Role.AUDITOR, Role.TEAM_MANAGER, Role.PIAT, Role.IRO, Role.CP_CHAIR, Role.SENIOR_MANAGER)


class AllocationRequest(BaseModel):
    case_ref: Identifier = Field(pattern=CASE_REF, description="Mosaic case identifier, e.g. `C-104233`")
    service_area: ServiceArea
    kind: AuditKind
    cycle: str = Field(max_length=7, description='"YYYY-MM", a month holding an audit cycle (not August or December)')
    auditor_id: StaffId
    practitioner_id: StaffId
    involvement_start: date = Field(description="start of Children's Social Care involvement (R-AUD-2)")
    cp_chair_or_iro_id: StaffId | None = None
    theme: Theme | None = Field(default=None, description="themed audits only (R-KIND-3)")


class AuditSummary(BaseModel):
    audit_id: str
    case_ref: str
    cycle: str
    service_area: ServiceArea
    kind: AuditKind
    stage: Stage
    auditor_id: str
    practitioner_id: str
    overall_grade: Grade | None
    overdue: bool
    reaudit_round: int
    follows_audit_id: str | None
    chain_id: str
    escalation: Escalation


class NotificationOut(BaseModel):
    channel: Channel
    recipient_ids: list[str]
    subject: str
    body: str
    at: str
    delivery: Literal["sent", "pending", "not_delivered"] = Field(
        description="sent: accepted by the mail server (or on Mosaic); pending: queued or retrying; "
        "not_delivered: nobody reachable, or refused")
    reason: str | None = Field(description="who was skipped (not in the staff directory), or why not delivered yet")


class FeedbackRequest(BaseModel):
    staff_id: StaffId
    findings: RequiredText


# ---- allocation -----------------------------------------------------------------------------


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AuditView, dependencies=[permit("allocate_audit")])
async def allocate_audit(body: AllocationRequest, actor: Actor, svc: Svc, key: IdempotencyKey) -> AuditView:
    """R-ALLOC-1: PIAT allocates; auditor, Team Manager and practitioner are told.

    A case has one audit of a kind per cycle (409 naming it otherwise); sending the same
    Idempotency-Key again answers 201 with the audit the first request allocated."""
    audit = check_allocation(body, actor, svc)
    request = actions.request_id("allocate", actor, key)
    await refuse_projected_duplicate(svc, audit)
    handle = await start_audit(svc, audit, request)
    await actions.update(svc, handle, AuditWorkflow.allocation_recorded)
    return await actions.query(svc, handle, AuditWorkflow.view)


# The memo entry that remembers which request (`allocate:<PIAT staff id>:<key>`) started an audit.
ALLOCATION_REQUEST = "allocation_request"
KIND_CODES = {AuditKind.STANDARD: "std", AuditKind.PEER: "peer", AuditKind.THEMED: "thm"}  # re-audits: `<id>-r1`
ENDED_IN_ERROR = {
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED,
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED,
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED,
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
}


def audit_id_for(cycle: str, kind: AuditKind, case_ref: str) -> str:
    """One ID per case, cycle and kind, so that Temporal's one workflow per ID settles a race
    between two allocations. The case reference is hashed so that IDs have one shape; the hash
    of a case identifier is not personal data."""
    return f"{cycle}-{KIND_CODES[kind]}-{hashlib.sha256(case_ref.encode()).hexdigest()[:10]}"


async def start_audit(svc: Svc, audit: AuditInput, request: str | None) -> WorkflowHandle:
    """Start the audit's workflow under the case's ID; of two allocations racing each other,
    Temporal starts one and refuses the other. An audit an operator terminated (or that failed)
    keeps its ID with its history and its notifications' keys (`<workflow id>/<step>`, which
    would silence a second run's emails), so allocating the case again takes the next ID,
    `<id>-2`, `<id>-3`: the same next ID for racing requests, so Temporal still decides."""
    for attempt in itertools.count(1):
        candidate = audit if attempt == 1 else audit.model_copy(update={"audit_id": f"{audit.audit_id}-{attempt}"})
        try:
            return await svc.client.start_workflow(
                AuditWorkflow.run,
                candidate,
                id=f"audit-{candidate.audit_id}",
                task_queue=svc.settings.temporal_task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=sa.at_allocation(candidate),
                memo={ALLOCATION_REQUEST: request} if request else None,
                static_summary=f"{audit.kind.value} audit, {audit.service_area.value}, cycle {audit.cycle}",
            )
        except WorkflowAlreadyStartedError:
            info = await actions.describe(svc, f"audit-{candidate.audit_id}")
            if info and info.status in ENDED_IN_ERROR:
                continue
            if request and info and await actions.memo(svc, info, ALLOCATION_REQUEST) == request:
                return audit_handle(svc, candidate.audit_id)  # a retry: the first request's audit
            raise _duplicate(audit, candidate.audit_id) from None
    raise AssertionError("unreachable")


async def refuse_projected_duplicate(svc: Svc, audit: AuditInput) -> None:
    """The list's projection also knows audits Temporal cannot settle: those whose history is
    gone, and those allocated under another ID (before IDs came from the case)."""
    with Session(svc.engine) as session:
        existing = session.exec(
            select(AuditRecord.audit_id).where(
                AuditRecord.case_ref == audit.case_ref, AuditRecord.cycle == audit.cycle, AuditRecord.kind == audit.kind.value
            )
        ).all()
    for audit_id in existing:
        info = await actions.describe(svc, f"audit-{audit_id}")
        if info and info.status in ENDED_IN_ERROR:
            continue
        if info is None or not (audit_id == audit.audit_id or audit_id.startswith(f"{audit.audit_id}-")):
            raise _duplicate(audit, audit_id)


def _duplicate(audit: AuditInput, audit_id: str) -> HTTPException:
    return HTTPException(409, f"case {audit.case_ref} already has a {audit.kind.value} audit in {audit.cycle}: {audit_id}")


def check_allocation(body: AllocationRequest, actor: StaffMember, svc: Svc) -> AuditInput:
    """Check the request against the framework and resolve the lines of management."""
    directory = svc.directory
    if body.kind is AuditKind.REAUDIT:
        raise _invalid("re-audits are scheduled by the audit they follow (R-RE-1), not allocated by hand")
    if not is_cycle(body.cycle):
        raise _invalid(f"cycle {body.cycle!r} is not an audit cycle: use YYYY-MM, any month but August or December")
    if body.cycle < (current := month_of(datetime.now(ZoneInfo(svc.settings.timezone)))):
        # R-QA-3 carries late work forward; nothing is allocated backwards (its deadlines would be past).
        raise _invalid(f"the {body.cycle} cycle has passed: allocate to the current month ({current}) or a later cycle")
    if not cycle_holds(body.cycle, body.kind.value, body.service_area.value):
        raise _invalid(f"the {body.cycle} cycle holds no {body.kind.value} audits (R-CAL-4)")
    if (body.kind is AuditKind.THEMED) != bool(body.theme and body.theme.strip()):
        raise _invalid("a themed audit needs its theme, and only themed audits carry one (R-KIND-3)")
    practitioner = _staff(svc, body.practitioner_id, "practitioner_id")
    auditor = _staff(svc, body.auditor_id, "auditor_id")
    if not practitioner.has(Role.PRACTITIONER):
        raise _invalid(f"{practitioner.id} is not a practitioner")
    team_manager = directory.team_manager_of(practitioner.id)
    if team_manager is None:
        raise _invalid(f"{practitioner.id} has no Team Manager in the staff directory")
    auditor_roles = (Role.PRACTITIONER,) if body.kind is AuditKind.PEER else AUDITING_ROLES
    if not any(auditor.has(r) for r in auditor_roles):
        raise _invalid(f"{auditor.id} cannot carry out a {body.kind.value} audit (R-KIND-1, R-KIND-2)")
    if auditor.id in (practitioner.id, team_manager.id):
        raise _invalid("the auditor must not be the practitioner or their own Team Manager")
    if body.cp_chair_or_iro_id:
        chair = _staff(svc, body.cp_chair_or_iro_id, "cp_chair_or_iro_id")
        if not (chair.has(Role.IRO) or chair.has(Role.CP_CHAIR)):
            raise _invalid(f"{chair.id} is not a CP Chair or IRO")
    if body.involvement_start > date.today():
        raise _invalid("involvement_start cannot be in the future")
    hos = directory.head_of_service_of(practitioner.id)
    piat_managers = directory.with_role(Role.PIAT_MANAGER)
    return AuditInput(
        audit_id=audit_id_for(body.cycle, body.kind, body.case_ref),
        case_ref=body.case_ref,
        service_area=body.service_area,
        kind=body.kind,
        cycle=body.cycle,
        theme=body.theme.strip() if body.theme else None,
        auditor_id=auditor.id,
        practitioner_id=practitioner.id,
        team_manager_id=team_manager.id,
        head_of_service_id=hos.id if hos else None,
        cp_chair_or_iro_id=body.cp_chair_or_iro_id,
        involvement_start=body.involvement_start,
        allocated_by=actor.id,
        piat_manager_id=piat_managers[0].id if piat_managers else None,
        domains=[d.name for d in tool_for(body.service_area).domains],
        policy=Policy.now(svc.settings),  # the durations in force now travel with the audit
    )


# ---- reading --------------------------------------------------------------------------------


@router.get("", response_model=list[AuditSummary], dependencies=[permit("list_audits")])
def list_audits(
    actor: Actor,
    svc: Svc,
    cycle: Annotated[str | None, Query(max_length=7)] = None,
    service_area: ServiceArea | None = None,
    kind: AuditKind | None = None,
    stage: Stage | None = None,
    auditor_id: Annotated[str | None, Query(max_length=MAX_ID)] = None,
    overdue: bool | None = None,
    reaudit_round: Annotated[int | None, Query(ge=0, le=2, description="0: first audits; 1 or 2: re-audits")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditSummary]:
    query = select(AuditRecord)
    for column, value in (
        (AuditRecord.cycle, cycle),
        (AuditRecord.service_area, service_area),
        (AuditRecord.kind, kind),
        (AuditRecord.stage, stage),
        (AuditRecord.auditor_id, auditor_id),
        (AuditRecord.overdue, overdue),
        (AuditRecord.reaudit_round, reaudit_round),
    ):
        if value is not None:
            query = query.where(column == value)
    if not sees_every_audit(actor):  # scoped: the audits that name them, and a Head of Service's service's
        named = ((AuditRecord.auditor_id == actor.id) | (AuditRecord.practitioner_id == actor.id)
                 | (AuditRecord.team_manager_id == actor.id) | (AuditRecord.cp_chair_or_iro_id == actor.id))
        if actor.has(Role.HEAD_OF_SERVICE):
            named |= AuditRecord.service_area == actor.service_area
        query = query.where(named)
    with Session(svc.engine) as session:
        rows = session.exec(query.order_by(AuditRecord.updated_at.desc()).limit(limit)).all()
    return [AuditSummary(**row.model_dump()) for row in rows]


@router.get("/{audit_id}", response_model=AuditView, dependencies=[permit("get_audit")])
async def get_audit(audit_id: str, request: Request, actor: Actor, svc: Svc) -> AuditView:
    view = await checked_view(request, svc, audit_id)
    with Session(svc.engine) as session:
        links = session.exec(
            select(AuditRecord).where(AuditRecord.chain_id == view.chain_id).order_by(AuditRecord.reaudit_round)
        ).all()
    view.chain = [
        ChainLink(audit_id=r.audit_id, reaudit_round=r.reaudit_round, cycle=r.cycle, stage=r.stage, overall_grade=r.overall_grade)
        for r in links
    ]
    return view


@router.get("/{audit_id}/notifications", response_model=list[NotificationOut], dependencies=[permit("list_notifications")])
async def list_notifications(audit_id: str, request: Request, actor: Actor, svc: Svc) -> list[NotificationOut]:
    await checked_view(request, svc, audit_id)  # 404 for no such audit
    with Session(svc.engine) as session:
        rows = session.exec(
            select(NotificationRecord).where(NotificationRecord.audit_id == audit_id).order_by(NotificationRecord.id)
        ).all()
    return [
        NotificationOut(channel=r.channel, recipient_ids=r.recipient_ids, subject=r.subject, body=r.body,
                        at=r.at.isoformat(), delivery="pending" if r.delivery == "sending" else r.delivery,
                        reason=_delivery_reason(r))
        for r in rows
    ]


# ---- staff actions: each one Workflow Update, checked by its validator --------------------------


@router.put("/{audit_id}/grading", response_model=AuditView, dependencies=[permit("record_initial_grading")])
async def record_initial_grading(audit_id: str, body: Grading, actor: Actor, svc: Svc, key: IdempotencyKey) -> AuditView:
    """R-AUD-3, R-AUD-5: the grading after reviewing the record, with the improvement plan."""
    for item in body.improvement_plan:
        _staff(svc, item.owner_id, "improvement_plan owner_id")
    return await act(svc, audit_id, AuditWorkflow.record_initial_grading, [actor.id, body], actor, key)


@router.post("/{audit_id}/practitioner-conversation", response_model=AuditView, dependencies=[permit("record_practitioner_conversation")])
async def record_practitioner_conversation(
    audit_id: str, body: PractitionerConversation, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-AUD-5: the reflective conversation and the final grading."""
    return await act(
        svc, audit_id, AuditWorkflow.record_practitioner_conversation, [actor.id, body], actor, key
    )


@router.post("/{audit_id}/submit", response_model=AuditView, dependencies=[permit("submit_for_qa")])
async def submit_for_qa(audit_id: str, actor: Actor, svc: Svc, key: IdempotencyKey) -> AuditView:
    """R-QA-1: the report goes to PIAT, who aim to quality-assure it within one working day."""
    return await act(svc, audit_id, AuditWorkflow.submit_for_qa, [actor.id], actor, key)


@router.post("/{audit_id}/qa", response_model=AuditView, dependencies=[permit("quality_assure")])
async def quality_assure(audit_id: str, body: QADecision, actor: Actor, svc: Svc, key: IdempotencyKey) -> AuditView:
    """R-QA-2: accept, or return with details (3 working days to amend; 4 with a discussion)."""
    return await act(svc, audit_id, AuditWorkflow.quality_assure, [actor.id, body], actor, key)


@router.post("/{audit_id}/reassign", response_model=AuditView, dependencies=[permit("reassign")])
async def reassign(
    audit_id: str, body: Reassignment, request: Request, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-ALLOC-3: the auditor, their Head of Service or PIAT names another auditor of the same
    service; a re-audit goes to a senior manager of the audit's own service (R-KIND-6)."""
    view = await checked_view(request, svc, audit_id)
    new = _staff(svc, body.auditor_id, "auditor_id")
    _check_auditor(view, new)
    if view.kind is AuditKind.REAUDIT:
        service, rule = view.service_area.value, "R-KIND-6"
    else:
        current = svc.directory.get(view.auditor_id)
        service, rule = (current.service_area if current else None), "R-ALLOC-3"
    if service and new.service_area != service:
        raise _invalid(f"the new auditor must work in the {service} service ({rule})")
    return await act(svc, audit_id, AuditWorkflow.reassign, [actor.id, body], actor, key)


def _check_auditor(view: AuditView, new: StaffMember) -> None:
    if not any(new.has(r) for r in AUDITING_ROLES):
        raise _invalid(f"{new.id} is not an auditor")
    if view.kind is AuditKind.REAUDIT and not new.has(Role.SENIOR_MANAGER):
        raise _invalid(f"re-audits are done by senior managers of the service (R-KIND-6); {new.id} is not one")
    if new.id == view.team_manager_id:
        raise _invalid("the auditor must not be the practitioner's own Team Manager")


class PersonRequest(BaseModel):
    staff_id: StaffId = Field(description="who takes the role over")
    reason: RequiredText = Field(description="why, e.g. left the council, long-term sickness")


ROLE_HELD = {  # what the directory must say of whoever takes each role on
    PersonRole.TEAM_MANAGER: (Role.TEAM_MANAGER,),
    PersonRole.HEAD_OF_SERVICE: (Role.HEAD_OF_SERVICE,),
    PersonRole.CP_CHAIR_OR_IRO: (Role.IRO, Role.CP_CHAIR),
}


@router.put("/{audit_id}/people/{role}", response_model=AuditView, dependencies=[permit("replace_person")])
async def replace_person(
    audit_id: str, role: PersonRole, body: PersonRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """PIAT names who takes over a role on this audit, at any stage, with a reason: the wait moves
    to them and they are emailed what is waiting and by when; a running dispute follows."""
    view = await current_view(svc, audit_id)
    new = _staff(svc, body.staff_id, "staff_id")
    if role is PersonRole.AUDITOR:
        _check_auditor(view, new)
    elif not any(new.has(r) for r in ROLE_HELD[role]):
        raise _invalid(f"{new.id} is not a {' or '.join(r.value for r in ROLE_HELD[role])} in the staff directory")
    change = PersonChange(role=role, staff_id=new.id, reason=body.reason)
    return await act(svc, audit_id, AuditWorkflow.replace_person, [actor.id, change], actor, key)


@router.put("/{audit_id}/improvement-plan", response_model=AuditView, dependencies=[permit("record_improvement_plan")])
async def record_improvement_plan(
    audit_id: str, body: ImprovementPlan, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-AUD-1: the improvement plan on its own, until submission (or while amending after QA)."""
    for item in body.actions:
        _staff(svc, item.owner_id, "actions owner_id")
    return await act(svc, audit_id, AuditWorkflow.record_improvement_plan, [actor.id, body], actor, key)


@router.post("/{audit_id}/previous-practitioner-feedback", response_model=AuditView, dependencies=[permit("share_previous_practitioner_feedback")])
async def share_previous_practitioner_feedback(
    audit_id: str, body: FeedbackRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-AUD-7: findings on an earlier practitioner's work go to them and their Team Manager."""
    member = _staff(svc, body.staff_id, "staff_id")
    team_manager = svc.directory.team_manager_of(member.id)
    feedback = PreviousPractitionerFeedback(
        staff_id=member.id, findings=body.findings, team_manager_id=team_manager.id if team_manager else None
    )
    return await act(
        svc, audit_id, AuditWorkflow.share_previous_practitioner_feedback, [actor.id, feedback], actor, key
    )


# ---- after the report: findings discussion and re-audit follow-up (R-DISC, R-RE) ----------------


@router.post("/{audit_id}/findings-discussion", response_model=AuditView, dependencies=[permit("record_findings_discussion")])
async def record_findings_discussion(
    audit_id: str, body: FindingsDiscussion, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-DISC-1..3: the Team Manager records the discussion, its SMART actions and the oversight note."""
    for staff_id in body.attendees:
        _staff(svc, staff_id, "attendees")
    for action in body.smart_actions:
        _staff(svc, action.owner_id, "smart_actions owner_id")
    return await act(
        svc, audit_id, AuditWorkflow.record_findings_discussion, [actor.id, body], actor, key
    )


@router.post("/{audit_id}/findings-discussion/review", response_model=AuditView, dependencies=[permit("review_findings_discussion")])
async def review_findings_discussion(
    audit_id: str, body: DiscussionReview, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-DISC-3: PIAT accepts the recorded note or asks for more."""
    return await act(
        svc, audit_id, AuditWorkflow.review_findings_discussion, [actor.id, body], actor, key
    )


@router.post("/{audit_id}/head-of-service-follow-up", response_model=AuditView, dependencies=[permit("record_head_of_service_follow_up")])
async def record_head_of_service_follow_up(
    audit_id: str, body: HeadOfServiceFollowUp, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-RE-3: the Head of Service's follow-up of a 1st re-audit still below Good."""
    for action in body.actions:
        _staff(svc, action.owner_id, "actions owner_id")
    return await act(
        svc, audit_id, AuditWorkflow.record_head_of_service_follow_up, [actor.id, body], actor, key
    )


# ---- helpers --------------------------------------------------------------------------------


async def act(svc: Svc, audit_id: str, update_fn, args: list, actor: StaffMember, key: str | None) -> AuditView:
    """One staff action on the audit (a Workflow Update), answered with the audit as it now is."""
    await actions.update(svc, audit_handle(svc, audit_id), update_fn, args, actor, key)
    return await current_view(svc, audit_id)


def audit_handle(svc: Svc, audit_id: str) -> WorkflowHandle:
    return svc.client.get_workflow_handle(f"audit-{audit_id}")


async def checked_view(request: Request, svc: Svc, audit_id: str) -> AuditView:
    """The audit as the permission check has just read it (one query a request), else asked now."""
    return getattr(request.state, "audit", None) or await current_view(svc, audit_id)


async def current_view(svc: Svc, audit_id: str) -> AuditView:
    return await actions.live_or_saved(
        svc, audit_handle(svc, audit_id), AuditWorkflow.view, AuditView, AuditRecord, audit_id, "audit")


def _delivery_reason(record: NotificationRecord) -> str | None:
    reasons = [record.reason, record.last_error if record.delivery != "sent" else None]
    return "; ".join(r for r in reasons if r) or None


def _staff(svc: Svc, staff_id: str, field: str) -> StaffMember:
    member = svc.directory.get(staff_id)
    if member is None:
        raise _invalid(f"{field}: no member of staff {staff_id!r} in the directory")
    return member


def _invalid(message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, message)
