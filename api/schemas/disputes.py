"""A dispute's requests and answers (R-DISP)."""

from datetime import date

from pydantic import BaseModel, Field

from api.schemas import Request
from api.schemas.audits import DomainGradeIn, OverallGradeIn
from models.disputes import (
    AmendedGrading,
    CorporateDecision,
    DisputeMeeting,
    DisputeSummary,
    FormalDiscussion,
    IndependentReviewDecision,
    IndependentReviewResult,
    Withdrawal,
    WrittenResponse,
)
from models.enums import DisputeLevel, DisputeStep
from models.limits import DomainName, Items, RequiredText, StaffId
from models.payloads import DisputeRaise, Outcome


# ---- disputes (R-DISP) -------------------------------------------------------------------------


class DisputeRaiseRequest(Request):
    """`POST /audits/{id}/disputes`: the written response against the grading criteria (R-DISP-1)."""

    payload = DisputeRaise
    domains_disputed: Items[DomainName] = Field(min_length=1, description='domain names, or "overall"')
    rationale: RequiredText = Field(description="why, against the audit grading criteria")
    evidence: RequiredText = Field(description="evidence of the work done")


class RegradeIn(BaseModel):
    """A final grading that replaces the auditor's after a dispute."""

    domains: Items[DomainGradeIn]
    overall: OverallGradeIn


class DisputeMeetingRequest(Request):
    payload = DisputeMeeting
    held_on: date
    attendees: Items[StaffId] = Field(min_length=1)
    notes: RequiredText


class DisputeSummaryRequest(Request):
    payload = DisputeSummary
    outcome: Outcome
    summary: RequiredText


class AmendedGradingRequest(RegradeIn, Request):
    payload = AmendedGrading
    notes: RequiredText


class FormalDiscussionRequest(Request):
    payload = FormalDiscussion
    held_on: date
    course_of_action: RequiredText
    independent_review_of_recordings: bool = False


class WrittenResponseRequest(Request):
    payload = WrittenResponse
    response: RequiredText
    outcome: Outcome
    regrade: RegradeIn | None = None


class CorporateDecisionRequest(Request):
    payload = CorporateDecision
    outcome: Outcome
    notes: RequiredText
    regrade: RegradeIn | None = None


class IndependentReviewDecisionRequest(Request):
    payload = IndependentReviewDecision
    commissioned: bool
    notes: RequiredText


class IndependentReviewResultRequest(Request):
    payload = IndependentReviewResult
    findings: RequiredText
    regrade: RegradeIn | None = None


class WithdrawalRequest(Request):
    payload = Withdrawal
    reason: RequiredText


class DisputeSummaryOut(BaseModel):
    dispute_id: str
    audit_id: str
    level: DisputeLevel
    step: DisputeStep
    status: str
    overdue: bool
    raised_by: str
