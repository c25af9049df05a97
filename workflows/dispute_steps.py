"""A dispute's recorded steps as Workflow Updates (R-DISP-2..9, withdrawal): each validator refuses
a wrong person, a step not yet due or one already taken (the ladder's owners by role), and the
handler stores the step for the run method (workflows/dispute.py) to act on. Part of
`DisputeWorkflow`."""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.enums import DisputeStep
    from models.errors import forbidden, invalid, out_of_order
    from models.disputes import (
        AmendedGrading, CorporateDecision, DisputeInput, DisputeMeeting, DisputeSummary, FormalDiscussion,
        IndependentReviewDecision, IndependentReviewResult, StepRecord, Withdrawal, WrittenResponse,
    )
    from models.payloads import DisputeOutcome, Regrade

from workflows.process import Projection


class DisputeSteps:
    # The dispute's state the steps check and record, set by `DisputeWorkflow.__init__`.
    dispute: DisputeInput
    raised_at: datetime
    step: DisputeStep
    records: dict[DisputeStep, StepRecord]
    _payloads: dict[DisputeStep, BaseModel]
    withdrawal: Withdrawal | None
    outcome: DisputeOutcome | None
    _reached: DisputeStep | None
    projection: Projection

    if TYPE_CHECKING:
        @property
        def owners(self) -> list[str]: ...

    @workflow.update
    async def record_meeting(self, actor_id: str, meeting: DisputeMeeting) -> None:
        return await self._store(DisputeStep.MEETING, actor_id, meeting)

    @record_meeting.validator
    def _validate_meeting(self, actor_id: str, meeting: DisputeMeeting) -> None:
        self._expect(DisputeStep.MEETING, actor_id)
        if not self.raised_at.date() <= meeting.held_on <= (workflow.now() + timedelta(hours=1)).date():
            raise invalid(f"held_on must be between the dispute ({self.raised_at.date()}) and today")

    @workflow.update
    async def record_summary(self, actor_id: str, summary: DisputeSummary) -> None:
        return await self._store(DisputeStep.SUMMARY, actor_id, summary)

    @record_summary.validator
    def _validate_summary(self, actor_id: str, summary: DisputeSummary) -> None:
        self._expect(DisputeStep.SUMMARY, actor_id)

    @workflow.update
    async def record_amended_grading(self, actor_id: str, amended: AmendedGrading) -> None:
        return await self._store(DisputeStep.AMENDED_GRADING, actor_id, amended)

    @record_amended_grading.validator
    def _validate_amended(self, actor_id: str, amended: AmendedGrading) -> None:
        self._expect(DisputeStep.AMENDED_GRADING, actor_id)
        self._check_regrade(amended)

    @workflow.update
    async def record_formal_discussion(self, actor_id: str, discussion: FormalDiscussion) -> None:
        return await self._store(DisputeStep.FORMAL_DISCUSSION, actor_id, discussion)

    @record_formal_discussion.validator
    def _validate_formal(self, actor_id: str, discussion: FormalDiscussion) -> None:
        self._expect(DisputeStep.FORMAL_DISCUSSION, actor_id)
        if not self.raised_at.date() <= discussion.held_on <= (workflow.now() + timedelta(hours=1)).date():
            raise invalid(f"held_on must be between the dispute ({self.raised_at.date()}) and today")

    @workflow.update
    async def record_written_response(self, actor_id: str, response: WrittenResponse) -> None:
        return await self._store(DisputeStep.WRITTEN_RESPONSE, actor_id, response)

    @record_written_response.validator
    def _validate_response(self, actor_id: str, response: WrittenResponse) -> None:
        self._expect(DisputeStep.WRITTEN_RESPONSE, actor_id)
        self._check_regrade(response.regrade, response.outcome)

    @workflow.update
    async def record_corporate_decision(self, actor_id: str, decision: CorporateDecision) -> None:
        return await self._store(DisputeStep.CORPORATE_DECISION, actor_id, decision)

    @record_corporate_decision.validator
    def _validate_corporate(self, actor_id: str, decision: CorporateDecision) -> None:
        self._expect(DisputeStep.CORPORATE_DECISION, actor_id)
        self._check_regrade(decision.regrade, decision.outcome)

    @workflow.update
    async def record_independent_review(self, actor_id: str, decision: IndependentReviewDecision) -> None:
        return await self._store(DisputeStep.INDEPENDENT_REVIEW, actor_id, decision)

    @record_independent_review.validator
    def _validate_review(self, actor_id: str, decision: IndependentReviewDecision) -> None:
        self._expect(DisputeStep.INDEPENDENT_REVIEW, actor_id)

    @workflow.update
    async def record_independent_review_result(self, actor_id: str, result: IndependentReviewResult) -> None:
        return await self._store(DisputeStep.INDEPENDENT_REVIEW_RESULT, actor_id, result)

    @record_independent_review_result.validator
    def _validate_review_result(self, actor_id: str, result: IndependentReviewResult) -> None:
        self._expect(DisputeStep.INDEPENDENT_REVIEW_RESULT, actor_id)
        self._check_regrade(result.regrade)

    @workflow.update
    def withdraw(self, actor_id: str, withdrawal: Withdrawal) -> None:
        self.withdrawal = withdrawal
        self.projection.record(actor_id, "dispute withdrawn", withdrawal.reason)
        return None

    @withdraw.validator
    def _validate_withdraw(self, actor_id: str, withdrawal: Withdrawal) -> None:
        self._require_open()
        if self.step in self.records:  # recorded, and the ladder not yet moved on from it
            raise out_of_order(f"the {self.step.value.replace('_', ' ')} has just been recorded and the dispute is "
                               "moving on: withdraw it, if it is still open, once it waits for its next step")
        if actor_id != self.dispute.raised_by:
            raise forbidden(f"only {self.dispute.raised_by}, who raised the dispute, can withdraw it")

    def _require_open(self) -> None:
        if self.outcome is not None or self.withdrawal is not None:
            raise out_of_order("the dispute has ended")

    def _expect(self, step: DisputeStep, actor_id: str) -> None:
        """Right step, right person."""
        self._require_open()
        if self.step is not step or step in self.records:
            raise out_of_order(f"the dispute is waiting for the {self.step.value.replace('_', ' ')}, not the {step.value.replace('_', ' ')}")
        if actor_id not in self.owners:
            raise forbidden(f"the {step.value.replace('_', ' ')} is recorded by {' or '.join(self.owners)}")

    def _check_regrade(self, regrade: Regrade | None, outcome: str = "resolved") -> None:
        if regrade is None:
            return
        if outcome != "resolved":
            raise invalid("only a resolved dispute carries a regrade")
        names = [g.domain for g in regrade.domains]
        if sorted(names) != sorted(self.dispute.domains):
            raise invalid(f"a regrade grades every domain of the audit tool once: {self.dispute.domains}")
        if regrade.overall.grade is None:
            raise invalid("a regrade needs the overall grade")

    async def _store(self, step: DisputeStep, actor_id: str, payload: BaseModel) -> None:
        """Record a step, then answer once the run has moved on: the next step's deadline is set,
        or the dispute has ended."""
        self._payloads[step] = payload
        self.records[step] = StepRecord(step=step, at=workflow.now(), by=actor_id, record=payload.model_dump(mode="json"))
        self.projection.record(actor_id, f"{step.value.replace('_', ' ')} recorded")
        await workflow.wait_condition(lambda: self.outcome is not None or self._reached not in (None, step))
        return await self.projection.answer()
