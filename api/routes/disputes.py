"""`/disputes`: raising a dispute about an audit's grading and each recorded step (R-DISP)."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import Actor, IdempotencyKey, SessionDep, Svc
from api.permissions import permit
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
from services import disputes

router = APIRouter(tags=["disputes"])


@router.post(
    "/audits/{audit_id}/disputes",
    status_code=status.HTTP_201_CREATED,
    response_model=DisputeView,
    dependencies=[permit("raise_dispute")],
)
async def raise_dispute(audit_id: str, body: DisputeRaiseRequest, actor: Actor, svc: Svc, key: IdempotencyKey) -> DisputeView:
    """R-DISP-1, R-DIST-4: the practitioner or their Team Manager, within the dispute window."""
    return await disputes.raise_dispute(svc, actor, audit_id, body, key)


@router.get("/disputes", response_model=list[DisputeSummaryOut], dependencies=[permit("list_disputes")])
def list_disputes(
    actor: Actor,
    session: SessionDep,
    level: DisputeLevel | None = None,
    overdue: bool | None = None,
    open_only: Annotated[bool, Query(description="only disputes still open")] = False,
) -> list[DisputeSummaryOut]:
    return disputes.list_disputes(session, level=level, overdue=overdue, open_only=open_only)


@router.get("/disputes/{dispute_id}", response_model=DisputeView, dependencies=[permit("get_dispute")])
async def get_dispute(dispute_id: str, actor: Actor, svc: Svc) -> DisputeView:
    return await disputes.get_dispute(svc, dispute_id)


# One route per recorded step; each workflow validator checks the step and the person.


@router.post("/disputes/{dispute_id}/meeting", response_model=DisputeView, dependencies=[permit("record_meeting")])
async def record_meeting(
    dispute_id: str, body: DisputeMeetingRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-2: the meeting of auditor, practitioner and Team Manager (TM or auditor records it)."""
    return await disputes.record_meeting(svc, actor, dispute_id, body, key)


@router.post("/disputes/{dispute_id}/summary", response_model=DisputeView, dependencies=[permit("record_summary")])
async def record_summary(
    dispute_id: str, body: DisputeSummaryRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-3: the Team Manager's summary and outcome."""
    return await disputes.record_summary(svc, actor, dispute_id, body, key)


@router.post(
    "/disputes/{dispute_id}/amended-grading", response_model=DisputeView, dependencies=[permit("record_amended_grading")]
)
async def record_amended_grading(
    dispute_id: str, body: AmendedGradingRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-4: resolved informally; the auditor's amended final grading."""
    return await disputes.record_amended_grading(svc, actor, dispute_id, body, key)


@router.post(
    "/disputes/{dispute_id}/formal-discussion", response_model=DisputeView, dependencies=[permit("record_formal_discussion")]
)
async def record_formal_discussion(
    dispute_id: str, body: FormalDiscussionRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-6: the PI&A Manager's discussion with the PSW and the agreed course of action."""
    return await disputes.record_formal_discussion(svc, actor, dispute_id, body, key)


@router.post(
    "/disputes/{dispute_id}/written-response", response_model=DisputeView, dependencies=[permit("record_written_response")]
)
async def record_written_response(
    dispute_id: str, body: WrittenResponseRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-7: the written response (PI&A Manager or PSW), resolved with any regrade, or not."""
    return await disputes.record_written_response(svc, actor, dispute_id, body, key)


@router.post(
    "/disputes/{dispute_id}/corporate-decision", response_model=DisputeView, dependencies=[permit("record_corporate_decision")]
)
async def record_corporate_decision(
    dispute_id: str, body: CorporateDecisionRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-8, R-DISP-9: the Corporate Directors' decision."""
    return await disputes.record_corporate_decision(svc, actor, dispute_id, body, key)


@router.post(
    "/disputes/{dispute_id}/independent-review", response_model=DisputeView, dependencies=[permit("record_independent_review")]
)
async def record_independent_review(
    dispute_id: str, body: IndependentReviewDecisionRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-9: whether the Corporate Director for Quality Standards commissions an independent review."""
    return await disputes.record_independent_review(svc, actor, dispute_id, body, key)


@router.post(
    "/disputes/{dispute_id}/independent-review/result",
    response_model=DisputeView,
    dependencies=[permit("record_independent_review_result")],
)
async def record_independent_review_result(
    dispute_id: str, body: IndependentReviewResultRequest, actor: Actor, svc: Svc, key: IdempotencyKey
) -> DisputeView:
    """R-DISP-9: the independent review's result, with any regrade."""
    return await disputes.record_independent_review_result(svc, actor, dispute_id, body, key)


@router.post("/disputes/{dispute_id}/withdrawal", response_model=DisputeView, dependencies=[permit("withdraw")])
async def withdraw(dispute_id: str, body: WithdrawalRequest, actor: Actor, svc: Svc, key: IdempotencyKey) -> DisputeView:
    """Whoever raised the dispute may withdraw it at any level; the grading then stands."""
    return await disputes.withdraw(svc, actor, dispute_id, body, key)
