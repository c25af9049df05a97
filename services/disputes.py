"""A dispute about an audit's grading (R-DISP): raising it on the audit, the list, one dispute,
and each recorded step, which the dispute workflow's validators check (the step and the person)."""

from sqlmodel import Session, select
from temporalio.client import WorkflowHandle

from api.schemas import Request
from api.schemas.disputes import (
    AmendedGradingRequest,
    CorporateDecisionRequest,
    DisputeMeetingRequest,
    DisputeRaiseRequest,
    DisputeSummaryOut,
    DisputeSummaryRequest,
    FormalDiscussionRequest,
    IndependentReviewDecisionRequest,
    IndependentReviewResultRequest,
    WithdrawalRequest,
    WrittenResponseRequest,
)
from models.disputes import DisputeView
from models.enums import DisputeLevel
from models.staff import StaffMember
from models.tables import DisputeRecord
from services import actions
from services.audits import audit_handle
from services.context import Services
from workflows.audit import AuditWorkflow
from workflows.dispute import DisputeWorkflow


def audit_id_of(dispute_id: str) -> str:
    """A dispute is named by its audit, or by `dispute-<audit id>`, the workflow ID the audit shows."""
    return dispute_id.removeprefix("dispute-")


async def raise_dispute(
    svc: Services, actor: StaffMember, audit_id: str, body: DisputeRaiseRequest, key: str | None
) -> DisputeView:
    """R-DISP-1, R-DIST-4: the practitioner or their Team Manager, within the dispute window."""
    # A retry with the key gets the first raise's answer from the audit instead of "already raised",
    # then the dispute's view like the first; `raised_recorded` only reads, so it needs no key.
    await actions.update(svc, audit_handle(svc, audit_id), AuditWorkflow.raise_dispute, [actor.id, body.to_payload()], actor, key)
    await actions.update(svc, _handle(svc, audit_id), DisputeWorkflow.raised_recorded)
    return await _answered(svc, audit_id)


def list_disputes(
    session: Session, *, level: DisputeLevel | None = None, overdue: bool | None = None, open_only: bool = False
) -> list[DisputeSummaryOut]:
    query = select(DisputeRecord)
    if level is not None:
        query = query.where(DisputeRecord.level == level)
    if overdue is not None:
        query = query.where(DisputeRecord.overdue == overdue)
    if open_only:
        query = query.where(DisputeRecord.status == "open")
    rows = session.exec(query.order_by(DisputeRecord.updated_at.desc())).all()
    return [DisputeSummaryOut(**row.model_dump()) for row in rows]


async def get_dispute(svc: Services, dispute_id: str) -> DisputeView:
    audit_id = audit_id_of(dispute_id)
    return await actions.saved_or_live(
        svc, _handle(svc, audit_id), DisputeWorkflow.view, DisputeView, DisputeRecord, audit_id, "dispute"
    )


# One function per recorded step; each workflow validator checks the step and the person.


async def record_meeting(
    svc: Services, actor: StaffMember, dispute_id: str, body: DisputeMeetingRequest, key: str | None
) -> DisputeView:
    """R-DISP-2: the meeting of auditor, practitioner and Team Manager (TM or auditor records it)."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_meeting, actor, body, key)


async def record_summary(
    svc: Services, actor: StaffMember, dispute_id: str, body: DisputeSummaryRequest, key: str | None
) -> DisputeView:
    """R-DISP-3: the Team Manager's summary and outcome."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_summary, actor, body, key)


async def record_amended_grading(
    svc: Services, actor: StaffMember, dispute_id: str, body: AmendedGradingRequest, key: str | None
) -> DisputeView:
    """R-DISP-4: resolved informally; the auditor's amended final grading."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_amended_grading, actor, body, key)


async def record_formal_discussion(
    svc: Services, actor: StaffMember, dispute_id: str, body: FormalDiscussionRequest, key: str | None
) -> DisputeView:
    """R-DISP-6: the PI&A Manager's discussion with the PSW and the agreed course of action."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_formal_discussion, actor, body, key)


async def record_written_response(
    svc: Services, actor: StaffMember, dispute_id: str, body: WrittenResponseRequest, key: str | None
) -> DisputeView:
    """R-DISP-7: the written response (PI&A Manager or PSW), resolved with any regrade, or not."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_written_response, actor, body, key)


async def record_corporate_decision(
    svc: Services, actor: StaffMember, dispute_id: str, body: CorporateDecisionRequest, key: str | None
) -> DisputeView:
    """R-DISP-8, R-DISP-9: the Corporate Directors' decision."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_corporate_decision, actor, body, key)


async def record_independent_review(
    svc: Services, actor: StaffMember, dispute_id: str, body: IndependentReviewDecisionRequest, key: str | None
) -> DisputeView:
    """R-DISP-9: whether the Corporate Director for Quality Standards commissions an independent review."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_independent_review, actor, body, key)


async def record_independent_review_result(
    svc: Services, actor: StaffMember, dispute_id: str, body: IndependentReviewResultRequest, key: str | None
) -> DisputeView:
    """R-DISP-9: the independent review's result, with any regrade."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_independent_review_result, actor, body, key)


async def withdraw(svc: Services, actor: StaffMember, dispute_id: str, body: WithdrawalRequest, key: str | None) -> DisputeView:
    """Whoever raised the dispute may withdraw it at any level; the grading then stands."""
    return await _step(svc, dispute_id, DisputeWorkflow.withdraw, actor, body, key)


def _handle(svc: Services, dispute_id: str) -> WorkflowHandle:
    return svc.client.get_workflow_handle(f"dispute-{audit_id_of(dispute_id)}")


async def _step(svc: Services, dispute_id: str, update, actor: StaffMember, body: Request, key: str | None) -> DisputeView:
    await actions.update(svc, _handle(svc, dispute_id), update, [actor.id, body.to_payload()], actor, key)
    return await _answered(svc, audit_id_of(dispute_id))


async def _answered(svc: Services, audit_id: str) -> DisputeView:
    return await actions.answered(svc, _handle(svc, audit_id), DisputeWorkflow.view, DisputeView, DisputeRecord, audit_id)
