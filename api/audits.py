"""`/audits`: the list, one audit, and every staff action on it (R-AUD, R-QA, R-DISC, R-RE).
Allocating one is api/allocation.py."""
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field
from sqlmodel import Session, select
from temporalio.client import WorkflowHandle

from api import actions
from api.permissions import permit, sees_every_audit
from api.deps import Actor, IdempotencyKey, Svc
from models.enums import AuditKind, Channel, Escalation, Grade, PersonRole, Role, ServiceArea, Stage
from models.limits import MAX_ID, RequiredText, StaffId
from models.payloads import (
    AuditView, ChainLink, DiscussionReview, FindingsDiscussion, Grading, HeadOfServiceFollowUp,
    ImprovementPlan, PersonChange, PractitionerConversation, PreviousPractitionerFeedback,
    QADecision, Reassignment,
)
from models.staff import StaffMember
from models.tables import AuditRecord, NotificationRecord
from workflows.audit import AuditWorkflow

router = APIRouter(prefix="/audits", tags=["audits"])

AUDITING_ROLES = (Role.AUDITOR, Role.TEAM_MANAGER, Role.PIAT, Role.IRO, Role.CP_CHAIR, Role.SENIOR_MANAGER)

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
    reason: str | None = Field(description="who was skipped (not in the staff directory), whom the mail server "
                               "refused, or why not delivered yet")


class FeedbackRequest(BaseModel):
    staff_id: StaffId
    findings: RequiredText


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
    """The audit's messages: every one to PIAT and the senior leaders; to anyone else those sent
    to them (findings about a previous practitioner, the PI&A Manager's notices and moderation
    feedback are not everyone's on the audit)."""
    await checked_view(request, svc, audit_id)  # 404 for no such audit
    with Session(svc.engine) as session:
        rows = session.exec(
            select(NotificationRecord).where(NotificationRecord.audit_id == audit_id).order_by(NotificationRecord.id)
        ).all()
    if not sees_every_audit(actor):
        rows = [r for r in rows if actor.id in r.recipient_ids]
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
        staff_named(svc, item.owner_id, "improvement_plan owner_id")
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
    new = staff_named(svc, body.auditor_id, "auditor_id")
    _check_auditor(view, new)
    if view.kind is AuditKind.REAUDIT:
        service, rule = view.service_area.value, "R-KIND-6"
    else:
        current = svc.directory.get(view.auditor_id)
        service, rule = (current.service_area if current else None), "R-ALLOC-3"
    if service and new.service_area != service:
        raise unprocessable(f"the new auditor must work in the {service} service ({rule})")
    return await act(svc, audit_id, AuditWorkflow.reassign, [actor.id, body], actor, key)


def _check_auditor(view: AuditView, new: StaffMember) -> None:
    """Who may take an audit over: as at allocation, by its kind (R-KIND-1, R-KIND-2)."""
    if view.kind is AuditKind.PEER:
        if not new.has(Role.PRACTITIONER):
            raise unprocessable(f"peer audits are done by practitioners (R-KIND-2); {new.id} is not one")
    elif not any(new.has(r) for r in AUDITING_ROLES):
        raise unprocessable(f"{new.id} is not an auditor")
    if new.id == view.practitioner_id:
        raise unprocessable("the auditor must not be the practitioner whose work is audited")
    if view.kind is AuditKind.REAUDIT and not new.has(Role.SENIOR_MANAGER):
        raise unprocessable(f"re-audits are done by senior managers of the service (R-KIND-6); {new.id} is not one")
    if new.id == view.team_manager_id:
        raise unprocessable("the auditor must not be the practitioner's own Team Manager")


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
    new = staff_named(svc, body.staff_id, "staff_id")
    if role is PersonRole.AUDITOR:
        _check_auditor(view, new)
    elif not any(new.has(r) for r in ROLE_HELD[role]):
        raise unprocessable(f"{new.id} is not a {' or '.join(r.value for r in ROLE_HELD[role])} in the staff directory")
    change = PersonChange(role=role, staff_id=new.id, reason=body.reason)
    return await act(svc, audit_id, AuditWorkflow.replace_person, [actor.id, change], actor, key)


@router.put("/{audit_id}/improvement-plan", response_model=AuditView, dependencies=[permit("record_improvement_plan")])
async def record_improvement_plan(
    audit_id: str, body: ImprovementPlan, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-AUD-1: the improvement plan on its own, until submission (or while amending after QA)."""
    for item in body.actions:
        staff_named(svc, item.owner_id, "actions owner_id")
    return await act(svc, audit_id, AuditWorkflow.record_improvement_plan, [actor.id, body], actor, key)


@router.post("/{audit_id}/previous-practitioner-feedback", response_model=AuditView, dependencies=[permit("share_previous_practitioner_feedback")])
async def share_previous_practitioner_feedback(
    audit_id: str, body: FeedbackRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-AUD-7: findings on an earlier practitioner's work go to them and their Team Manager."""
    member = staff_named(svc, body.staff_id, "staff_id")
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
        staff_named(svc, staff_id, "attendees")
    for action in body.smart_actions:
        staff_named(svc, action.owner_id, "smart_actions owner_id")
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
        staff_named(svc, action.owner_id, "actions owner_id")
    return await act(
        svc, audit_id, AuditWorkflow.record_head_of_service_follow_up, [actor.id, body], actor, key
    )


# ---- helpers --------------------------------------------------------------------------------


async def act(svc: Svc, audit_id: str, update_fn, args: list, actor: StaffMember, key: str | None) -> AuditView:
    """One staff action on the audit (a Workflow Update), answered with the audit as it now is."""
    handle = audit_handle(svc, audit_id)
    await actions.update(svc, handle, update_fn, args, actor, key)
    return await actions.answered(svc, handle, AuditWorkflow.view, AuditView, AuditRecord, audit_id)


def audit_handle(svc: Svc, audit_id: str) -> WorkflowHandle:
    return svc.client.get_workflow_handle(f"audit-{audit_id}")


async def checked_view(request: Request, svc: Svc, audit_id: str) -> AuditView:
    """The audit as the permission check has just read it (one query a request), else asked now."""
    return getattr(request.state, "audit", None) or await current_view(svc, audit_id)


async def current_view(svc: Svc, audit_id: str) -> AuditView:
    return await actions.saved_or_live(
        svc, audit_handle(svc, audit_id), AuditWorkflow.view, AuditView, AuditRecord, audit_id, "audit")


def _delivery_reason(record: NotificationRecord) -> str | None:
    reasons = [record.reason, record.last_error if record.delivery != "sent" else None, _refused_while_taken(record)]
    return "; ".join(r for r in reasons if r) or None


def _refused_while_taken(record: NotificationRecord) -> str | None:
    """An email the mail server took for some recipients and refused for others: whom, and why."""
    if not record.refused or not set(record.addresses) - set(record.refused):
        return None
    return "refused by the mail server for " + ", ".join(f"{a} ({why})" for a, why in record.refused.items())


def staff_named(svc: Svc, staff_id: str, field: str) -> StaffMember:
    member = svc.directory.get(staff_id)
    if member is None:
        raise unprocessable(f"{field}: no member of staff {staff_id!r} in the directory")
    return member


def unprocessable(message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, message)
