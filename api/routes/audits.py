"""`/audits`: the list, one audit, and every staff action on it (R-AUD, R-QA, R-DISC, R-RE).
Allocating one is api/routes/allocation.py."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Actor, IdempotencyKey, SessionDep, Svc
from api.permissions import authorised_audit, permit
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
from models.enums import AuditKind, PersonRole, ServiceArea, Stage
from models.limits import MAX_ID
from models.payloads import AuditView
from services import audits

router = APIRouter(prefix="/audits", tags=["audits"])


# ---- reading --------------------------------------------------------------------------------


@router.get("", response_model=list[AuditSummary], dependencies=[permit("list_audits")])
def list_audits(
    actor: Actor,
    session: SessionDep,
    cycle: Annotated[str | None, Query(max_length=7)] = None,
    service_area: ServiceArea | None = None,
    kind: AuditKind | None = None,
    stage: Stage | None = None,
    auditor_id: Annotated[str | None, Query(max_length=MAX_ID)] = None,
    overdue: bool | None = None,
    reaudit_round: Annotated[int | None, Query(ge=0, le=2, description="0: first audits; 1 or 2: re-audits")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditSummary]:
    return audits.list_audits(
        session,
        actor,
        cycle=cycle,
        service_area=service_area,
        kind=kind,
        stage=stage,
        auditor_id=auditor_id,
        overdue=overdue,
        reaudit_round=reaudit_round,
        limit=limit,
    )


@router.get("/{audit_id}", response_model=AuditView)
async def get_audit(audit: Annotated[AuditView, authorised_audit("get_audit")], svc: Svc) -> AuditView:
    return await audits.get_audit(svc, audit)


@router.get("/{audit_id}/notifications", response_model=list[NotificationOut])
async def list_notifications(
    audit: Annotated[AuditView, authorised_audit("list_notifications")], actor: Actor, svc: Svc
) -> list[NotificationOut]:
    """The audit's messages: every one to PIAT and the senior leaders; to anyone else those sent
    to them (findings about a previous practitioner, the PI&A Manager's notices and moderation
    feedback are not everyone's on the audit)."""
    return await audits.list_notifications(svc, actor, audit)


# ---- staff actions: each one Workflow Update, checked by its validator --------------------------


@router.put("/{audit_id}/grading", response_model=AuditView, dependencies=[permit("record_initial_grading")])
async def record_initial_grading(audit_id: str, body: GradingRequest, actor: Actor, svc: Svc, key: IdempotencyKey) -> AuditView:
    """R-AUD-3, R-AUD-5: the grading after reviewing the record, with the improvement plan."""
    return await audits.record_initial_grading(svc, actor, audit_id, body, key)


@router.post(
    "/{audit_id}/practitioner-conversation", response_model=AuditView, dependencies=[permit("record_practitioner_conversation")]
)
async def record_practitioner_conversation(
    audit_id: str, body: PractitionerConversationRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-AUD-5: the reflective conversation and the final grading."""
    return await audits.record_practitioner_conversation(svc, actor, audit_id, body, key)


@router.post("/{audit_id}/submit", response_model=AuditView, dependencies=[permit("submit_for_qa")])
async def submit_for_qa(audit_id: str, actor: Actor, svc: Svc, key: IdempotencyKey) -> AuditView:
    """R-QA-1: the report goes to PIAT, who aim to quality-assure it within one working day."""
    return await audits.submit_for_qa(svc, actor, audit_id, key)


@router.post("/{audit_id}/qa", response_model=AuditView, dependencies=[permit("quality_assure")])
async def quality_assure(audit_id: str, body: QADecisionRequest, actor: Actor, svc: Svc, key: IdempotencyKey) -> AuditView:
    """R-QA-2: accept, or return with details (3 working days to amend; 4 with a discussion)."""
    return await audits.quality_assure(svc, actor, audit_id, body, key)


@router.post("/{audit_id}/reassign", response_model=AuditView)
async def reassign(
    audit: Annotated[AuditView, authorised_audit("reassign")],
    body: ReassignmentRequest,
    actor: Actor,
    svc: Svc,
    key: IdempotencyKey,
) -> AuditView:
    """R-ALLOC-3: the auditor, their Head of Service or PIAT names another auditor of the same
    service; a re-audit goes to a senior manager of the audit's own service (R-KIND-6)."""
    return await audits.reassign(svc, actor, audit, body, key)


@router.put("/{audit_id}/people/{role}", response_model=AuditView, dependencies=[permit("replace_person")])
async def replace_person(
    audit_id: str, role: PersonRole, body: PersonRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """PIAT names who takes over a role on this audit, at any stage, with a reason: the wait moves
    to them and they are emailed what is waiting and by when; a running dispute follows."""
    return await audits.replace_person(svc, actor, audit_id, role, body, key)


@router.put("/{audit_id}/improvement-plan", response_model=AuditView, dependencies=[permit("record_improvement_plan")])
async def record_improvement_plan(
    audit_id: str, body: ImprovementPlanRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-AUD-1: the improvement plan on its own, until submission (or while amending after QA)."""
    return await audits.record_improvement_plan(svc, actor, audit_id, body, key)


@router.post(
    "/{audit_id}/previous-practitioner-feedback",
    response_model=AuditView,
    dependencies=[permit("share_previous_practitioner_feedback")],
)
async def share_previous_practitioner_feedback(
    audit_id: str, body: FeedbackRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-AUD-7: findings on an earlier practitioner's work go to them and their Team Manager."""
    return await audits.share_previous_practitioner_feedback(svc, actor, audit_id, body, key)


# ---- after the report: findings discussion and re-audit follow-up (R-DISC, R-RE) ----------------


@router.post("/{audit_id}/findings-discussion", response_model=AuditView, dependencies=[permit("record_findings_discussion")])
async def record_findings_discussion(
    audit_id: str, body: FindingsDiscussionRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-DISC-1..3: the Team Manager records the discussion, its SMART actions and the oversight note."""
    return await audits.record_findings_discussion(svc, actor, audit_id, body, key)


@router.post(
    "/{audit_id}/findings-discussion/review", response_model=AuditView, dependencies=[permit("review_findings_discussion")]
)
async def review_findings_discussion(
    audit_id: str, body: DiscussionReviewRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-DISC-3: PIAT accepts the recorded note or asks for more."""
    return await audits.review_findings_discussion(svc, actor, audit_id, body, key)


@router.post(
    "/{audit_id}/head-of-service-follow-up", response_model=AuditView, dependencies=[permit("record_head_of_service_follow_up")]
)
async def record_head_of_service_follow_up(
    audit_id: str, body: HeadOfServiceFollowUpRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> AuditView:
    """R-RE-3: the Head of Service's follow-up of a 1st re-audit still below Good."""
    return await audits.record_head_of_service_follow_up(svc, actor, audit_id, body, key)
