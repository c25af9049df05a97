"""An audit: the list, one audit with its chain and its messages, and every staff action on it
(R-AUD, R-QA, R-DISC, R-RE), each one Workflow Update that the workflow's validator checks.
Allocating one is services/allocation.py."""

from sqlmodel import Session, select
from temporalio.client import WorkflowHandle

from api.schemas.audits import (
    AuditSummary,
    DiscussionReviewRequest,
    FeedbackRequest,
    FindingsDiscussionRequest,
    GradingRequest,
    HeadOfServiceFollowUpRequest,
    ImprovementPlanRequest,
    NotificationOut,
    PersonRequest,
    PractitionerConversationRequest,
    QADecisionRequest,
    ReassignmentRequest,
)
from models.enums import AuditKind, PersonRole, Role
from models.payloads import AuditView, ChainLink, PersonChange, PreviousPractitionerFeedback
from models.staff import StaffMember
from models.tables import AuditRecord, NotificationRecord
from services import actions
from services.context import Services
from services.errors import unprocessable
from services.people import check_auditor, check_role_holder, sees_every_audit, staff_named
from workflows.audit import AuditWorkflow


# ---- reading --------------------------------------------------------------------------------


def list_audits(session: Session, actor: StaffMember, *, limit: int = 100, **equal: object) -> list[AuditSummary]:
    """The audits whose columns equal `equal` (None: any), newest change first, as `actor` may see
    them: the audits that name them, and a Head of Service's service's; senior leaders every one."""
    query = select(AuditRecord)
    for name, value in equal.items():
        if value is not None:
            query = query.where(getattr(AuditRecord, name) == value)
    if not sees_every_audit(actor):
        named = (
            (AuditRecord.auditor_id == actor.id)
            | (AuditRecord.practitioner_id == actor.id)
            | (AuditRecord.team_manager_id == actor.id)
            | (AuditRecord.cp_chair_or_iro_id == actor.id)
        )
        if actor.has(Role.HEAD_OF_SERVICE):
            named |= AuditRecord.service_area == actor.service_area
        query = query.where(named)
    rows = session.exec(query.order_by(AuditRecord.updated_at.desc()).limit(limit)).all()
    return [AuditSummary(**row.model_dump()) for row in rows]


async def get_audit(svc: Services, audit: AuditView) -> AuditView:
    """The audit with its chain: the first audit and its re-audits, as their rows have them."""
    links = await svc.in_session(_chain, audit.chain_id)
    return audit.model_copy(update={"chain": links})


def _chain(session: Session, chain_id: str) -> list[ChainLink]:
    rows = session.exec(select(AuditRecord).where(AuditRecord.chain_id == chain_id).order_by(AuditRecord.reaudit_round))
    return [
        ChainLink(audit_id=r.audit_id, reaudit_round=r.reaudit_round, cycle=r.cycle, stage=r.stage, overall_grade=r.overall_grade)
        for r in rows
    ]


async def list_notifications(svc: Services, actor: StaffMember, audit: AuditView) -> list[NotificationOut]:
    """The audit's messages: every one to PIAT and the senior leaders; to anyone else those sent
    to them (findings about a previous practitioner, the PI&A Manager's notices and moderation
    feedback are not everyone's on the audit)."""
    rows = await svc.in_session(_notifications, audit.audit_id)
    if not sees_every_audit(actor):
        rows = [r for r in rows if actor.id in r.recipient_ids]
    return [
        NotificationOut(
            channel=r.channel,
            recipient_ids=r.recipient_ids,
            subject=r.subject,
            body=r.body,
            at=r.at.isoformat(),
            delivery="pending" if r.delivery == "sending" else r.delivery,
            reason=delivery_reason(r),
        )
        for r in rows
    ]


def _notifications(session: Session, audit_id: str) -> list[NotificationRecord]:
    return list(
        session.exec(select(NotificationRecord).where(NotificationRecord.audit_id == audit_id).order_by(NotificationRecord.id))
    )


def delivery_reason(record: NotificationRecord) -> str | None:
    reasons = [record.reason, record.last_error if record.delivery != "sent" else None, _refused_while_taken(record)]
    return "; ".join(r for r in reasons if r) or None


def _refused_while_taken(record: NotificationRecord) -> str | None:
    """An email the mail server took for some recipients and refused for others: whom, and why."""
    if not record.refused or not set(record.addresses) - set(record.refused):
        return None
    return "refused by the mail server for " + ", ".join(f"{a} ({why})" for a, why in record.refused.items())


# ---- staff actions: each one Workflow Update, checked by its validator --------------------------


async def record_initial_grading(
    svc: Services, actor: StaffMember, audit_id: str, body: GradingRequest, key: str | None
) -> AuditView:
    """R-AUD-3, R-AUD-5: the grading after reviewing the record, with the improvement plan."""
    for item in body.improvement_plan:
        staff_named(svc.directory, item.owner_id, "improvement_plan owner_id")
    return await act(svc, audit_id, AuditWorkflow.record_initial_grading, [actor.id, body.to_payload()], actor, key)


async def record_practitioner_conversation(
    svc: Services, actor: StaffMember, audit_id: str, body: PractitionerConversationRequest, key: str | None
) -> AuditView:
    """R-AUD-5: the reflective conversation and the final grading."""
    return await act(svc, audit_id, AuditWorkflow.record_practitioner_conversation, [actor.id, body.to_payload()], actor, key)


async def submit_for_qa(svc: Services, actor: StaffMember, audit_id: str, key: str | None) -> AuditView:
    """R-QA-1: the report goes to PIAT, who aim to quality-assure it within one working day."""
    return await act(svc, audit_id, AuditWorkflow.submit_for_qa, [actor.id], actor, key)


async def quality_assure(svc: Services, actor: StaffMember, audit_id: str, body: QADecisionRequest, key: str | None) -> AuditView:
    """R-QA-2: accept, or return with details (3 working days to amend; 4 with a discussion)."""
    return await act(svc, audit_id, AuditWorkflow.quality_assure, [actor.id, body.to_payload()], actor, key)


async def reassign(svc: Services, actor: StaffMember, audit: AuditView, body: ReassignmentRequest, key: str | None) -> AuditView:
    """R-ALLOC-3: the auditor, their Head of Service or PIAT names another auditor of the same
    service; a re-audit goes to a senior manager of the audit's own service (R-KIND-6)."""
    new = staff_named(svc.directory, body.auditor_id, "auditor_id")
    check_auditor(audit, new)
    if audit.kind is AuditKind.REAUDIT:
        service, rule = audit.service_area.value, "R-KIND-6"
    else:
        current = svc.directory.get(audit.auditor_id)
        service, rule = (current.service_area if current else None), "R-ALLOC-3"
    if service and new.service_area != service:
        raise unprocessable(f"the new auditor must work in the {service} service ({rule})")
    return await act(svc, audit.audit_id, AuditWorkflow.reassign, [actor.id, body.to_payload()], actor, key)


async def replace_person(
    svc: Services, actor: StaffMember, audit_id: str, role: PersonRole, body: PersonRequest, key: str | None
) -> AuditView:
    """PIAT names who takes over a role on this audit, at any stage, with a reason: the wait moves
    to them and they are emailed what is waiting and by when; a running dispute follows."""
    view = await current_view(svc, audit_id)
    new = staff_named(svc.directory, body.staff_id, "staff_id")
    check_role_holder(view, role, new)
    change = PersonChange(role=role, staff_id=new.id, reason=body.reason)
    return await act(svc, audit_id, AuditWorkflow.replace_person, [actor.id, change], actor, key)


async def record_improvement_plan(
    svc: Services, actor: StaffMember, audit_id: str, body: ImprovementPlanRequest, key: str | None
) -> AuditView:
    """R-AUD-1: the improvement plan on its own, until submission (or while amending after QA)."""
    for item in body.actions:
        staff_named(svc.directory, item.owner_id, "actions owner_id")
    return await act(svc, audit_id, AuditWorkflow.record_improvement_plan, [actor.id, body.to_payload()], actor, key)


async def share_previous_practitioner_feedback(
    svc: Services, actor: StaffMember, audit_id: str, body: FeedbackRequest, key: str | None
) -> AuditView:
    """R-AUD-7: findings on an earlier practitioner's work go to them and their Team Manager."""
    member = staff_named(svc.directory, body.staff_id, "staff_id")
    team_manager = svc.directory.team_manager_of(member.id)
    feedback = PreviousPractitionerFeedback(
        staff_id=member.id, findings=body.findings, team_manager_id=team_manager.id if team_manager else None
    )
    return await act(svc, audit_id, AuditWorkflow.share_previous_practitioner_feedback, [actor.id, feedback], actor, key)


# ---- after the report: findings discussion and re-audit follow-up (R-DISC, R-RE) ----------------


async def record_findings_discussion(
    svc: Services, actor: StaffMember, audit_id: str, body: FindingsDiscussionRequest, key: str | None
) -> AuditView:
    """R-DISC-1..3: the Team Manager records the discussion, its SMART actions and the oversight note."""
    for staff_id in body.attendees:
        staff_named(svc.directory, staff_id, "attendees")
    for action in body.smart_actions:
        staff_named(svc.directory, action.owner_id, "smart_actions owner_id")
    return await act(svc, audit_id, AuditWorkflow.record_findings_discussion, [actor.id, body.to_payload()], actor, key)


async def review_findings_discussion(
    svc: Services, actor: StaffMember, audit_id: str, body: DiscussionReviewRequest, key: str | None
) -> AuditView:
    """R-DISC-3: PIAT accepts the recorded note or asks for more."""
    return await act(svc, audit_id, AuditWorkflow.review_findings_discussion, [actor.id, body.to_payload()], actor, key)


async def record_head_of_service_follow_up(
    svc: Services, actor: StaffMember, audit_id: str, body: HeadOfServiceFollowUpRequest, key: str | None
) -> AuditView:
    """R-RE-3: the Head of Service's follow-up of a 1st re-audit still below Good."""
    for action in body.actions:
        staff_named(svc.directory, action.owner_id, "actions owner_id")
    return await act(svc, audit_id, AuditWorkflow.record_head_of_service_follow_up, [actor.id, body.to_payload()], actor, key)


# ---- the audit's workflow -------------------------------------------------------------------


async def act(svc: Services, audit_id: str, update_fn, args: list, actor: StaffMember, key: str | None) -> AuditView:
    """One staff action on the audit (a Workflow Update), answered with the audit as it now is."""
    handle = audit_handle(svc, audit_id)
    await actions.update(svc, handle, update_fn, args, actor, key)
    return await actions.answered(svc, handle, AuditWorkflow.view, AuditView, AuditRecord, audit_id)


def audit_handle(svc: Services, audit_id: str) -> WorkflowHandle:
    return svc.client.get_workflow_handle(f"audit-{audit_id}")


async def current_view(svc: Services, audit_id: str) -> AuditView:
    """The audit as its row holds it, else as its workflow answers (404: no such audit)."""
    return await actions.saved_or_live(
        svc, audit_handle(svc, audit_id), AuditWorkflow.view, AuditView, AuditRecord, audit_id, "audit"
    )
