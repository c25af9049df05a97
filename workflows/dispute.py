"""One dispute about an audit's grading: the informal, formal, corporate and independent-review
ladder (R-DISP-1..10), a child of the audit workflow (`dispute-<audit id>`).

The run method climbs the ladder one recorded step at a time. Each step has an owner and a
deadline in working days; a missed deadline reminds the owner and tells the next level
(R-DISP-10), and the dispute stays open, visibly overdue, until the step is recorded. Whoever
raised the dispute may withdraw it at any step. The result is the outcome, with any regrade:
the audit uses it as its final grading. The steps staff record are its Updates, whose work
is in dispute_steps.py; the workflow owns the dispute's state (`DisputeState`,
dispute_state.py) and its helpers (workflows/process.py).
"""

from datetime import date, datetime, time, UTC
from typing import Required, TypedDict, TypeVar

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.directory import DirectoryActivities
    from activities.persistence import PersistenceActivities
    from models import search_attributes as sa
    from models.disputes import (
        CORPORATE,
        EVERYONE,
        INFORMAL_NEXT,
        AmendedGrading,
        CorporateDecision,
        DisputeInput,
        DisputeMeeting,
        DisputePeople,
        DisputeSummary,
        DisputeView,
        FormalDiscussion,
        IndependentReviewDecision,
        IndependentReviewResult,
        Withdrawal,
        WrittenResponse,
    )
    from models.email_marks import at, people, person
    from models.enums import DisputeLevel, DisputeStep
    from models.pages import audit_page
    from models.payloads import DisputeOutcome, Regrade, ServiceContacts, Waiting
    from models.projections import DisputeRow

from workflows.dispute_state import DisputeState
from workflows.dispute_steps import DisputeActions
from workflows.process import SYSTEM, LocalActivities, Notifier, Projection, RecordedCalendar, details, grade_text, wait


class Withdrawn(Exception):
    """Raised inside the run when the dispute is withdrawn at whatever step it waits on."""

    def __init__(self, withdrawal: Withdrawal) -> None:
        super().__init__(withdrawal.reason)
        self.withdrawal = withdrawal


class _Ask(TypedDict, total=False):
    """What an email asks, and of whom by when: `Notifier.email`'s arguments."""

    action: Required[str]
    action_for: list[str]
    due: datetime | None


Payload = TypeVar("Payload", bound=BaseModel)


@workflow.defn
class DisputeWorkflow:
    @workflow.init
    def __init__(self, dispute: DisputeInput) -> None:
        self.state = s = DisputeState.raised_with(dispute, workflow.now())
        self.activities = LocalActivities()
        self.calendar = RecordedCalendar(self.activities)
        self.notifier = Notifier(self.activities, dispute.audit_id, dispute.case_ref, self._email_about)
        self.projection = Projection(
            self.activities, PersistenceActivities.save_dispute_row, "save dispute projection", self._row, self._refresh
        )
        self.actions = DisputeActions(s, self.projection)

    # ---- the ladder --------------------------------------------------------------------------

    @workflow.run
    async def run(self, dispute: DisputeInput) -> DisputeOutcome:
        self.projection.start()
        self.projection.record(dispute.raised_by, "dispute raised", f"disputed: {', '.join(dispute.raised.domains_disputed)}")
        await self._raised()
        try:
            outcome = (
                await self._informal() or await self._formal() or await self._corporate() or await self._independent_review()
            )
        except Withdrawn as withdrawn:
            outcome = self._end("withdrawn", None)
            await self.notifier.email(
                "withdrawn",
                self.state.ids(*EVERYONE),
                f"Dispute withdrawn: case {self.state.dispute.case_ref}",
                f"{person(dispute.raised_by)} withdrew the dispute about the audit's grading: "
                f"{withdrawn.withdrawal.reason}\nThe grading stands.",
                action="",
            )
        await self.projection.finish()
        return outcome

    async def _raised(self) -> None:
        """R-DISP-1, R-DISP-2: the written response goes to the auditor; PIAT is copied."""
        d, r = self.state.dispute, self.state.dispute.raised
        await self.notifier.email(
            "raised",
            self.state.ids("auditor", "practitioner", "team_manager", "piat"),
            f"Audit dispute raised: case {d.case_ref}",
            f"{person(d.raised_by)} disputes the grading of the audit of case {d.case_ref}.\n"
            f"Disputed: {', '.join(r.domains_disputed)}\nRationale: {r.rationale}\nEvidence: {r.evidence}\n"
            "The audit goes on Mosaic once the dispute has ended.",
            action="meet together to discuss the dispute; the Team Manager or the auditor records the meeting on the "
            "audit's page" + ("" if d.meeting_due else f", within {d.policy.dispute_meeting_days} working days"),
            action_for=self.state.ids("auditor", "practitioner", "team_manager"),
            due=d.meeting_due,
        )

    async def _informal(self) -> DisputeOutcome | None:
        """R-DISP-2..4."""
        d, p = self.state.dispute, self.state.dispute.policy
        meeting = await self._step(
            DisputeStep.MEETING,
            DisputeMeeting,
            self.state.raised_at,
            p.dispute_meeting_days,
            ("team_manager", "auditor"),
            INFORMAL_NEXT,
            due=d.meeting_due,
        )
        met = _on(meeting.held_on)  # R-DISP-3 counts from the meeting itself
        summary = await self._step(
            DisputeStep.SUMMARY, DisputeSummary, met, p.dispute_summary_days, ("team_manager",), INFORMAL_NEXT
        )
        amend_due = (
            self.calendar.known_deadline(workflow.now(), p.dispute_amendment_days) if summary.outcome == "resolved" else None
        )
        await self.notifier.email(
            "summary",
            self.state.ids("auditor", "piat", "practitioner"),
            f"Dispute meeting summary ({summary.outcome}): case {d.case_ref}",
            f"The Team Manager's summary of the dispute meeting ({summary.outcome}):\n{summary.summary}"
            + (
                ""
                if summary.outcome == "resolved"
                else "\nThe dispute goes to the formal stage: the PI&A Manager and the Principal Social Worker are told."
            ),
            **self._amendment_ask(summary.outcome, amend_due),
        )
        if summary.outcome == "unresolved":
            return None
        amended = await self._step(
            DisputeStep.AMENDED_GRADING,
            AmendedGrading,
            workflow.now(),
            p.dispute_amendment_days,
            ("auditor",),
            INFORMAL_NEXT,
            due=amend_due,
        )
        regrade = Regrade(domains=amended.domains, overall=amended.overall)
        await self.notifier.email(
            "final-report",
            self.state.ids("practitioner", "team_manager", "piat"),
            f"Final (amended) audit report: case {d.case_ref}",
            f"The dispute was resolved informally and the auditor amended the grading. Final overall grade: "
            f"{grade_text(regrade.overall.grade)}. {regrade.overall.rationale}\n{amended.notes}",
            action="",
        )
        return self._end("resolved", regrade)

    async def _formal(self) -> DisputeOutcome | None:
        """R-DISP-5..8."""
        d, p = self.state.dispute, self.state.dispute.policy
        self._climb(DisputeLevel.FORMAL)
        await self._refresh_people()
        # R-DISP-5, R-DISP-6: the PI&A Manager, and the PSW with whom they discuss it.
        due = self.calendar.known_deadline(workflow.now(), p.dispute_formal_days)
        await self.notifier.email(
            "formal",
            self.state.ids("piat_manager", "psw"),
            f"Audit dispute (formal stage): case {d.case_ref}",
            f"The informal stage did not resolve the dispute about the grading of the audit of case {d.case_ref}.\n"
            f"The rationale of {person(d.raised_by)}: {d.raised.rationale}\nEvidence: {d.raised.evidence}",
            action="discuss the dispute together; the PI&A Manager records the discussion and the course of "
            "action on the audit's page" + _within(due, p.dispute_formal_days),
            due=due,
        )
        discussion = await self._step(
            DisputeStep.FORMAL_DISCUSSION,
            FormalDiscussion,
            workflow.now(),
            p.dispute_formal_days,
            ("piat_manager",),
            CORPORATE,
            due=due,
        )
        discussed = _on(discussion.held_on)  # R-DISP-7 counts from the discussion itself
        response = await self._step(
            DisputeStep.WRITTEN_RESPONSE, WrittenResponse, discussed, p.dispute_formal_days, ("piat_manager", "psw"), CORPORATE
        )
        await self.notifier.email(
            "written-response",
            self.state.ids("team_manager", "auditor", "head_of_service"),
            f"Audit dispute: written response ({response.outcome}): case {d.case_ref}",
            f"The written response to the dispute ({response.outcome}):\n{response.response}"
            + _regraded(response.regrade)
            + ("" if response.outcome == "resolved" else "\nThe dispute goes to the Corporate Directors."),
            action="",
        )
        return self._end("resolved", response.regrade) if response.outcome == "resolved" else None

    async def _corporate(self) -> DisputeOutcome | None:
        """R-DISP-8, R-DISP-9: both Corporate Directors discuss within 5 working days."""
        d, p = self.state.dispute, self.state.dispute.policy
        self._climb(DisputeLevel.CORPORATE)
        await self._refresh_people()
        due = self.calendar.known_deadline(workflow.now(), p.dispute_corporate_days)
        await self.notifier.email(
            "corporate",
            self.state.ids(*CORPORATE),
            f"Audit dispute escalated to the Corporate Directors: case {d.case_ref}",
            f"The formal stage did not resolve the dispute about the grading of the audit of case {d.case_ref}.",
            action="discuss the dispute together, and either of you records the decision on the audit's page"
            + _within(due, p.dispute_corporate_days),
            due=due,
        )
        decision = await self._step(
            DisputeStep.CORPORATE_DECISION,
            CorporateDecision,
            workflow.now(),
            p.dispute_corporate_days,
            CORPORATE,
            ("cd_quality_standards",),
            due=due,
        )
        await self.notifier.email(
            "corporate-decision",
            self.state.ids("team_manager", "auditor", "head_of_service", "piat"),
            f"Audit dispute: Corporate Directors' decision ({decision.outcome}): case {d.case_ref}",
            f"The Corporate Directors' decision ({decision.outcome}):\n{decision.notes}"
            + _regraded(decision.regrade)
            + (
                ""
                if decision.outcome == "resolved"
                else "\nThe Corporate Director for Quality Standards now decides whether to commission an independent review."
            ),
            action="",
        )
        return self._end("resolved", decision.regrade) if decision.outcome == "resolved" else None

    async def _independent_review(self) -> DisputeOutcome:
        """R-DISP-9: the Corporate Director for Quality Standards considers an independent review."""
        d, p = self.state.dispute, self.state.dispute.policy
        self._climb(DisputeLevel.INDEPENDENT_REVIEW)
        await self._refresh_people()  # they now own a step: tell them so
        due = self.calendar.known_deadline(workflow.now(), p.dispute_review_decision_days)
        await self.notifier.email(
            "independent-review-due",
            self.state.ids("cd_quality_standards"),
            f"Audit dispute: consider an independent review: case {d.case_ref}",
            f"The Corporate Directors did not resolve the dispute about the grading of the audit of case {d.case_ref}.",
            action="decide whether an independent review is commissioned, and record it on the audit's page"
            + _within(due, p.dispute_review_decision_days),
            due=due,
        )
        cdqs = ("cd_quality_standards",)
        decision = await self._step(
            DisputeStep.INDEPENDENT_REVIEW,
            IndependentReviewDecision,
            workflow.now(),
            p.dispute_review_decision_days,
            cdqs,
            (),
            due=due,
        )
        if not decision.commissioned:
            await self.notifier.email(
                "no-review",
                self.state.ids(*EVERYONE),
                f"Audit dispute ended: case {d.case_ref}",
                f"No independent review will be commissioned: {decision.notes}\nThe grading stands.",
                action="",
            )
            return self._end("unresolved", None)
        await self.notifier.email(
            "review-commissioned",
            self.state.ids(*EVERYONE, "head_of_service"),
            f"Independent review commissioned: case {d.case_ref}",
            f"An independent review of the audit of case {d.case_ref} is commissioned: {decision.notes}\n"
            "The audit goes on Mosaic once its result is recorded.",
            action="",
        )
        result = await self._step(DisputeStep.INDEPENDENT_REVIEW_RESULT, IndependentReviewResult, None, 0, cdqs, ())
        await self.notifier.email(
            "review-result",
            self.state.ids(*EVERYONE),
            f"Independent review of the audit: case {d.case_ref}",
            f"The independent review's findings:\n{result.findings}" + _regraded(result.regrade),
            action="",
        )
        return self._end("resolved", result.regrade)

    async def _step(
        self,
        step: DisputeStep,
        kind: type[Payload],
        since: datetime | None,
        days: int,
        owners: tuple[str, ...],
        next_level: tuple[str, ...],
        due: datetime | None = None,
    ) -> Payload:
        """Wait for `step` to be recorded, and return what it recorded (a `kind`): due `days` working
        days after `since` (no deadline when `since` is None), or at `due` when the email asking for
        the step already named it. A missed deadline reminds the owners and tells the next level, or
        PIAT when there is none (R-DISP-10)."""
        self.state.step, self.state.owner_roles = step, owners
        await self._refresh_people()
        if due is None and since:
            due = await self.calendar.working_days(since, days, f"{step.value} due (R-DISP)")
        if due:
            self.state.deadlines[step] = due
        self.state.reached = step
        self.projection.changed()
        done = lambda: step in self.state.records or self.state.withdrawal is not None  # noqa: E731
        if not await wait(done, due, f"{step.value} recorded (R-DISP)"):
            self.projection.mark_overdue(step.value)
            what = step.value.replace("_", " ")
            await self.notifier.email(
                f"{step.value}-reminder",
                self.state.owners,
                f"Reminder: dispute {what} overdue: case {self.state.dispute.case_ref}",
                f"The {what} in the dispute about the grading of the audit of case {self.state.dispute.case_ref} was due "
                f"by {at(due)} and is not recorded. The next level is told.",
                action=f"record the {what} on the audit's page now",
            )
            await self.notifier.email(
                f"{step.value}-next-level",
                self.state.ids(*(next_level or ("piat", "piat_manager"))),
                f"Dispute step overdue: case {self.state.dispute.case_ref}",
                f"The {what}, for {people(self.state.owners)} to record in the dispute about the grading of the "
                f"audit of case {self.state.dispute.case_ref}, was due by {at(due)} and is not recorded.",
                action=f"follow it up with {people(self.state.owners)}",
            )
            await wait(done)
        if self.state.withdrawal is not None:
            raise Withdrawn(self.state.withdrawal)
        self.projection.clear_overdue(step.value)
        payload = self.state.payloads[step]
        assert isinstance(payload, kind)  # the step's Update takes a `kind`
        return payload

    def _climb(self, level: DisputeLevel) -> None:
        self.projection.record("system", f"dispute escalated to the {level.value.replace('_', ' ')} level")

    def _end(self, status: str, regrade: Regrade | None) -> DisputeOutcome:
        self.state.outcome = DisputeOutcome(status=status, level=self.state.level, regrade=regrade, ended_at=workflow.now())
        self.state.step = DisputeStep.ENDED
        self.projection.record(
            "system", f"dispute {status}", f"final overall grade {grade_text(regrade.overall.grade)}" if regrade else ""
        )
        return self.state.outcome

    # ---- people ---------------------------------------------------------------------------------

    async def _refresh_people(self) -> None:
        """The role holders as the directory has them now."""
        contacts: ServiceContacts = await self.activities.run(
            DirectoryActivities.service_contacts, self.state.dispute.practitioner_id, "who holds each role now (staff directory)"
        )
        found = {
            "team_manager": contacts.team_manager_id,
            "head_of_service": contacts.head_of_service_id,
            "piat_manager": contacts.piat_manager_id,
            "psw": contacts.psw_id,
            "cd_quality_standards": contacts.corporate_director_quality_standards_id,
            "cd_csc": contacts.corporate_director_csc_id,
        }
        for role, staff_id in found.items():
            if staff_id and role not in self.state.pinned and self.state.people.get(role) != staff_id:
                self.state.people[role] = staff_id
                self.projection.record(SYSTEM, f"{role.replace('_', ' ')} is now {staff_id}", "from the staff directory")

    @workflow.signal
    async def people_changed(self, people: DisputePeople) -> None:
        """PIAT replaced someone on the audit: the dispute follows, and a new owner of the step
        waited on is told what is waiting and by when."""
        before = set(self.state.owners)
        self.state.people.update(
            auditor=people.auditor_id, team_manager=people.team_manager_id, head_of_service=people.head_of_service_id
        )
        self.state.pinned |= {role.value for role in people.pinned}
        self.projection.changed()
        if self.state.outcome is None and (new := [o for o in self.state.owners if o not in before]):
            self.state.handovers += 1
            due = self.state.deadlines.get(self.state.step)
            what = self.state.step.value.replace("_", " ")
            await self.notifier.email(
                f"handover-{self.state.handovers}",
                new,
                f"Audit dispute: the {what} is yours: case {self.state.dispute.case_ref}",
                f"PIAT named you on the audit of case {self.state.dispute.case_ref}, so the {what} in the dispute about "
                "its grading is now yours to record.",
                action=f"record the {what} on the audit's page",
                due=due,
            )

    def _email_about(self) -> tuple[str, str]:
        """A dispute's emails name its audit's cycle and link to the audit's page."""
        return self.state.dispute.cycle, audit_page(self.state.dispute.audit_id)

    def _amendment_ask(self, outcome: str, due: datetime | None) -> _Ask:
        """After the meeting's summary: resolved, the auditor amends the grading; else nobody here acts."""
        if outcome != "resolved":
            return _Ask(action="")
        days = self.state.dispute.policy.dispute_amendment_days
        return _Ask(
            action="record the amended final grading on the audit's page" + _within(due, days),
            action_for=self.state.ids("auditor"),
            due=due,
        )

    # ---- recorded steps (Workflow Updates) ---------------------------------------------------------

    @workflow.update
    async def raised_recorded(self) -> None:
        """Returns once the meeting's deadline is set, so `POST /audits/{id}/disputes` shows it."""
        await workflow.wait_condition(lambda: DisputeStep.MEETING in self.state.deadlines)
        return await self.projection.answer()

    # ---- the steps staff record (dispute_steps.py) -------------------------------------------------

    @workflow.update
    async def record_meeting(self, actor_id: str, meeting: DisputeMeeting) -> None:
        await self.actions.store(DisputeStep.MEETING, actor_id, meeting)

    @record_meeting.validator
    def _validate_meeting(self, actor_id: str, meeting: DisputeMeeting) -> None:
        self.actions.expect_held(DisputeStep.MEETING, actor_id, meeting.held_on)

    @workflow.update
    async def record_summary(self, actor_id: str, summary: DisputeSummary) -> None:
        await self.actions.store(DisputeStep.SUMMARY, actor_id, summary)

    @record_summary.validator
    def _validate_summary(self, actor_id: str, summary: DisputeSummary) -> None:
        self.actions.expect(DisputeStep.SUMMARY, actor_id)

    @workflow.update
    async def record_amended_grading(self, actor_id: str, amended: AmendedGrading) -> None:
        await self.actions.store(DisputeStep.AMENDED_GRADING, actor_id, amended)

    @record_amended_grading.validator
    def _validate_amended(self, actor_id: str, amended: AmendedGrading) -> None:
        self.actions.expect_regrade(DisputeStep.AMENDED_GRADING, actor_id, amended)

    @workflow.update
    async def record_formal_discussion(self, actor_id: str, discussion: FormalDiscussion) -> None:
        await self.actions.store(DisputeStep.FORMAL_DISCUSSION, actor_id, discussion)

    @record_formal_discussion.validator
    def _validate_formal(self, actor_id: str, discussion: FormalDiscussion) -> None:
        self.actions.expect_held(DisputeStep.FORMAL_DISCUSSION, actor_id, discussion.held_on)

    @workflow.update
    async def record_written_response(self, actor_id: str, response: WrittenResponse) -> None:
        await self.actions.store(DisputeStep.WRITTEN_RESPONSE, actor_id, response)

    @record_written_response.validator
    def _validate_response(self, actor_id: str, response: WrittenResponse) -> None:
        self.actions.expect_regrade(DisputeStep.WRITTEN_RESPONSE, actor_id, response.regrade, response.outcome)

    @workflow.update
    async def record_corporate_decision(self, actor_id: str, decision: CorporateDecision) -> None:
        await self.actions.store(DisputeStep.CORPORATE_DECISION, actor_id, decision)

    @record_corporate_decision.validator
    def _validate_corporate(self, actor_id: str, decision: CorporateDecision) -> None:
        self.actions.expect_regrade(DisputeStep.CORPORATE_DECISION, actor_id, decision.regrade, decision.outcome)

    @workflow.update
    async def record_independent_review(self, actor_id: str, decision: IndependentReviewDecision) -> None:
        await self.actions.store(DisputeStep.INDEPENDENT_REVIEW, actor_id, decision)

    @record_independent_review.validator
    def _validate_review(self, actor_id: str, decision: IndependentReviewDecision) -> None:
        self.actions.expect(DisputeStep.INDEPENDENT_REVIEW, actor_id)

    @workflow.update
    async def record_independent_review_result(self, actor_id: str, result: IndependentReviewResult) -> None:
        await self.actions.store(DisputeStep.INDEPENDENT_REVIEW_RESULT, actor_id, result)

    @record_independent_review_result.validator
    def _validate_review_result(self, actor_id: str, result: IndependentReviewResult) -> None:
        self.actions.expect_regrade(DisputeStep.INDEPENDENT_REVIEW_RESULT, actor_id, result.regrade)

    @workflow.update
    def withdraw(self, actor_id: str, withdrawal: Withdrawal) -> None:
        self.actions.withdraw(actor_id, withdrawal)

    @withdraw.validator
    def _validate_withdraw(self, actor_id: str, withdrawal: Withdrawal) -> None:
        self.actions.validate_withdraw(actor_id)

    @workflow.query
    def view(self) -> DisputeView:
        return self._view()

    # ---- plumbing -------------------------------------------------------------------------------

    def _waiting(self) -> Waiting | None:
        if self.state.outcome or self.state.step is DisputeStep.ENDED:
            return None
        return Waiting(
            action=f"the {self.state.step.value.replace('_', ' ')} ({self.state.level.value} stage)",
            from_staff_ids=list(self.state.owners),
            until=self.state.deadlines.get(self.state.step),
        )

    def _refresh(self) -> None:
        self.projection.upsert(
            {
                sa.DISPUTE_LEVEL: self.state.level.value,
                sa.DISPUTE_STEP: self.state.step.value,
                sa.OVERDUE: bool(self.projection.overdue_steps),
            }
        )
        workflow.set_current_details(
            details(f"{self.state.level.value}: {self.state.step.value}", self._waiting(), self.projection.overdue_steps)
        )

    def _row(self, whole: bool) -> DisputeRow:
        view = self._view()
        return DisputeRow.of(view, whole).model_copy(update={"waits": [view.waiting_for] if view.waiting_for else []})

    def _view(self) -> DisputeView:
        d = self.state.dispute
        return DisputeView(
            dispute_id=d.audit_id,
            audit_id=d.audit_id,
            case_ref=d.case_ref,
            raised_by=d.raised_by,
            raised_at=self.state.raised_at,
            raised=d.raised,
            level=self.state.level,
            step=self.state.step,
            waiting_for=self._waiting(),
            deadlines=dict(self.state.deadlines),
            overdue=bool(self.projection.overdue_steps),
            overdue_steps=list(self.projection.overdue_steps),
            records=list(self.state.records.values()),
            outcome=self.state.outcome,
            history=list(self.projection.history),
        )


def _on(day: date) -> datetime:
    """An event known only by its date: noon UTC is that date in London too, winter or summer."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def _within(due: datetime | None, days: int) -> str:
    """Where the deadline could not be named in advance, the rule that sets it."""
    return "" if due else f", within {days} working days"


def _regraded(regrade: Regrade | None) -> str:
    return f"\nFinal overall grade: {grade_text(regrade.overall.grade)}. {regrade.overall.rationale}" if regrade else ""
