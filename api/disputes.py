"""`/disputes`: raising a dispute about an audit's grading and each recorded step (R-DISP)."""

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel
from sqlmodel import Session, select
from temporalio.client import WorkflowHandle

from api import actions
from api.permissions import audit_id_in, permit
from api.deps import Actor, IdempotencyKey, Svc
from api.audits import audit_handle
from models.enums import DisputeLevel, DisputeStep
from models.disputes import (
    AmendedGrading, CorporateDecision, DisputeMeeting, DisputeSummary, DisputeView, FormalDiscussion,
    IndependentReviewDecision, IndependentReviewResult, Withdrawal, WrittenResponse,
)
from models.payloads import DisputeRaise
from models.staff import StaffMember
from models.tables import DisputeRecord
from workflows.audit import AuditWorkflow
from workflows.dispute import DisputeWorkflow

router = APIRouter(tags=["disputes"])


class DisputeSummaryOut(BaseModel):
    dispute_id: str
    audit_id: str
    level: DisputeLevel
    step: DisputeStep
    status: str
    overdue: bool
    raised_by: str


@router.post("/audits/{audit_id}/disputes", status_code=status.HTTP_201_CREATED, response_model=DisputeView, dependencies=[permit("raise_dispute")])
async def raise_dispute(audit_id: str, body: DisputeRaise, actor: Actor, svc: Svc, key: IdempotencyKey) -> DisputeView:
    """R-DISP-1, R-DIST-4: the practitioner or their Team Manager, within the dispute window."""
    # A retry with the key gets the first raise's answer from the audit instead of "already raised",
    # then the dispute's view like the first; `raised_recorded` only reads, so it needs no key.
    await actions.update(svc, audit_handle(svc, audit_id), AuditWorkflow.raise_dispute, [actor.id, body], actor, key)
    await actions.update(svc, _handle(svc, audit_id), DisputeWorkflow.raised_recorded)
    return await _answered(svc, audit_id)


@router.get("/disputes", response_model=list[DisputeSummaryOut], dependencies=[permit("list_disputes")])
def list_disputes(
    actor: Actor,
    svc: Svc,
    level: DisputeLevel | None = None,
    overdue: bool | None = None,
    open_only: Annotated[bool, Query(description="only disputes still open")] = False,
) -> list[DisputeSummaryOut]:
    query = select(DisputeRecord)
    if level is not None:
        query = query.where(DisputeRecord.level == level)
    if overdue is not None:
        query = query.where(DisputeRecord.overdue == overdue)
    if open_only:
        query = query.where(DisputeRecord.status == "open")
    with Session(svc.engine) as session:
        rows = session.exec(query.order_by(DisputeRecord.updated_at.desc())).all()
    return [DisputeSummaryOut(**row.model_dump()) for row in rows]


@router.get("/disputes/{dispute_id}", response_model=DisputeView, dependencies=[permit("get_dispute")])
async def get_dispute(dispute_id: str, actor: Actor, svc: Svc) -> DisputeView:
    audit_id = audit_id_in({"dispute_id": dispute_id})
    return await actions.saved_or_live(
        svc, _handle(svc, audit_id), DisputeWorkflow.view, DisputeView, DisputeRecord, audit_id, "dispute")


# One route per recorded step; each workflow validator checks the step and the person.


@router.post("/disputes/{dispute_id}/meeting", response_model=DisputeView, dependencies=[permit("record_meeting")])
async def record_meeting(dispute_id: str, body: DisputeMeeting, actor: Actor, svc: Svc, key: IdempotencyKey) -> DisputeView:
    """R-DISP-2: the meeting of auditor, practitioner and Team Manager (TM or auditor records it)."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_meeting, actor, body, key)


@router.post("/disputes/{dispute_id}/summary", response_model=DisputeView, dependencies=[permit("record_summary")])
async def record_summary(dispute_id: str, body: DisputeSummary, actor: Actor, svc: Svc, key: IdempotencyKey) -> DisputeView:
    """R-DISP-3: the Team Manager's summary and outcome."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_summary, actor, body, key)


@router.post("/disputes/{dispute_id}/amended-grading", response_model=DisputeView, dependencies=[permit("record_amended_grading")])
async def record_amended_grading(
    dispute_id: str, body: AmendedGrading, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-4: resolved informally; the auditor's amended final grading."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_amended_grading, actor, body, key)


@router.post("/disputes/{dispute_id}/formal-discussion", response_model=DisputeView, dependencies=[permit("record_formal_discussion")])
async def record_formal_discussion(
    dispute_id: str, body: FormalDiscussion, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-6: the PI&A Manager's discussion with the PSW and the agreed course of action."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_formal_discussion, actor, body, key)


@router.post("/disputes/{dispute_id}/written-response", response_model=DisputeView, dependencies=[permit("record_written_response")])
async def record_written_response(
    dispute_id: str, body: WrittenResponse, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-7: the written response (PI&A Manager or PSW), resolved with any regrade, or not."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_written_response, actor, body, key)


@router.post("/disputes/{dispute_id}/corporate-decision", response_model=DisputeView, dependencies=[permit("record_corporate_decision")])
async def record_corporate_decision(
    dispute_id: str, body: CorporateDecision, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-8, R-DISP-9: the Corporate Directors' decision."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_corporate_decision, actor, body, key)


@router.post("/disputes/{dispute_id}/independent-review", response_model=DisputeView, dependencies=[permit("record_independent_review")])
async def record_independent_review(
    dispute_id: str, body: IndependentReviewDecision, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-9: whether the Corporate Director for Quality Standards commissions an independent review."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_independent_review, actor, body, key)


@router.post("/disputes/{dispute_id}/independent-review/result", response_model=DisputeView, dependencies=[permit("record_independent_review_result")])
async def record_independent_review_result(
    dispute_id: str, body: IndependentReviewResult, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-9: the independent review's result, with any regrade."""
    return await _step(svc, dispute_id, DisputeWorkflow.record_independent_review_result, actor, body, key)


@router.post("/disputes/{dispute_id}/withdrawal", response_model=DisputeView, dependencies=[permit("withdraw")])
async def withdraw(dispute_id: str, body: Withdrawal, actor: Actor, svc: Svc, key: IdempotencyKey) -> DisputeView:
    """Whoever raised the dispute may withdraw it at any level; the grading then stands."""
    return await _step(svc, dispute_id, DisputeWorkflow.withdraw, actor, body, key)


def _handle(svc: Svc, dispute_id: str) -> WorkflowHandle:
    return svc.client.get_workflow_handle(f"dispute-{audit_id_in({'dispute_id': dispute_id})}")


async def _step(svc: Svc, dispute_id: str, update, actor: StaffMember, body: BaseModel, key: str | None) -> DisputeView:
    await actions.update(svc, _handle(svc, dispute_id), update, [actor.id, body], actor, key)
    return await _answered(svc, audit_id_in({"dispute_id": dispute_id}))


async def _answered(svc: Svc, audit_id: str) -> DisputeView:
    return await actions.answered(svc, _handle(svc, audit_id), DisputeWorkflow.view, DisputeView, DisputeRecord, audit_id)

