"""A dispute's payloads (R-DISP): its steps as staff record them, its input, people and view.
The audit's side of a dispute (raising it, a regrade, its outcome) is in models/payloads.py."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from models.enums import DisputeLevel, DisputeStep, PersonRole
from models.limits import Items, RequiredText, StaffId
from models.payloads import DisputeOutcome, DisputeRaise, HistoryEntry, Outcome, Policy, Regrade, Waiting


class DisputeMeeting(BaseModel):
    held_on: date
    attendees: Items[StaffId] = Field(min_length=1)
    notes: RequiredText


class DisputeSummary(BaseModel):
    outcome: Outcome
    summary: RequiredText


class AmendedGrading(Regrade):
    notes: RequiredText


class FormalDiscussion(BaseModel):
    held_on: date
    course_of_action: RequiredText
    independent_review_of_recordings: bool = False


class WrittenResponse(BaseModel):
    response: RequiredText
    outcome: Outcome
    regrade: Regrade | None = None


class CorporateDecision(BaseModel):
    outcome: Outcome
    notes: RequiredText
    regrade: Regrade | None = None


class IndependentReviewDecision(BaseModel):
    commissioned: bool
    notes: RequiredText


class IndependentReviewResult(BaseModel):
    findings: RequiredText
    regrade: Regrade | None = None


class Withdrawal(BaseModel):
    reason: RequiredText


class DisputeInput(BaseModel):
    audit_id: str
    case_ref: str
    cycle: str
    raised_by: str
    raised: DisputeRaise
    auditor_id: str
    practitioner_id: str
    team_manager_id: str
    head_of_service_id: str | None
    piat_id: str  # PIAT, copied into every informal step
    piat_manager_id: str
    psw_id: str | None
    corporate_director_quality_standards_id: str
    corporate_director_csc_id: str
    domains: list[str]
    policy: Policy
    # The informal meeting's deadline as the audit worked it out from its recorded calendar when
    # the dispute was raised (None: the dispute works it out, as runs before it did).
    meeting_due: datetime | None = None


class DisputePeople(BaseModel):
    """Sent by the audit to its dispute whenever PIAT replaces someone: the dispute follows."""

    auditor_id: str
    team_manager_id: str
    head_of_service_id: str | None
    pinned: list[PersonRole] = []  # roles PIAT named: the directory no longer decides them


class StepRecord(BaseModel):
    step: DisputeStep
    at: datetime
    by: str
    record: dict[str, Any]  # the step's payload, JSON-ready


class DisputeView(BaseModel):
    dispute_id: str
    audit_id: str
    case_ref: str
    raised_by: str
    raised_at: datetime
    raised: DisputeRaise
    level: DisputeLevel
    step: DisputeStep
    waiting_for: Waiting | None
    deadlines: dict[DisputeStep, datetime]
    overdue: bool
    overdue_steps: list[str]
    records: list[StepRecord]
    outcome: DisputeOutcome | None
    history: list[HistoryEntry]


# The level each recorded step belongs to (R-DISP).
LEVEL_OF_STEP = {
    DisputeStep.MEETING: DisputeLevel.INFORMAL,
    DisputeStep.SUMMARY: DisputeLevel.INFORMAL,
    DisputeStep.AMENDED_GRADING: DisputeLevel.INFORMAL,
    DisputeStep.FORMAL_DISCUSSION: DisputeLevel.FORMAL,
    DisputeStep.WRITTEN_RESPONSE: DisputeLevel.FORMAL,
    DisputeStep.CORPORATE_DECISION: DisputeLevel.CORPORATE,
    DisputeStep.INDEPENDENT_REVIEW: DisputeLevel.INDEPENDENT_REVIEW,
    DisputeStep.INDEPENDENT_REVIEW_RESULT: DisputeLevel.INDEPENDENT_REVIEW,
}

# Who is who in a dispute, by role: each step names the roles that own it and the roles of the
# next level, so a person replaced on the audit, or a role holder changed in the directory, takes
# over the waits and the emails at once.
INFORMAL_NEXT = ("piat_manager",)
CORPORATE = ("cd_quality_standards", "cd_csc")
EVERYONE = ("practitioner", "team_manager", "auditor", "piat")
