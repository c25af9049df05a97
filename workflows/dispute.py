"""One dispute about an audit's grading: the informal, formal, corporate and independent-review
ladder (R-DISP-1..10), a child of the audit workflow (`dispute-<audit id>`).

The run method climbs the ladder one recorded step at a time. Each step has an owner and a
deadline in working days; a missed deadline reminds the owner and tells the next level
(R-DISP-10), and the dispute stays open, visibly overdue, until the step is recorded. Whoever
raised the dispute may withdraw it at any step. The result is the outcome, with any regrade:
the audit uses it as its final grading. The steps staff record are its Updates, in
dispute_steps.py.
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
        CORPORATE, EVERYONE, INFORMAL_NEXT, LEVEL_OF_STEP, AmendedGrading, CorporateDecision,
        DisputeInput, DisputeMeeting, DisputePeople, DisputeSummary, DisputeView, FormalDiscussion,
        IndependentReviewDecision, IndependentReviewResult, StepRecord, Withdrawal, WrittenResponse,
    )
    from models.email_marks import at, people, person
    from models.enums import DisputeLevel, DisputeStep
    from models.pages import audit_page
    from models.payloads import DisputeOutcome, Regrade, ServiceContacts, Waiting
    from models.projections import DisputeRow

from workflows.dispute_steps import DisputeSteps
from workflows.process import SYSTEM, LocalActivities, Notifier, Projection, RecordedCalendar, details, grade_text, unique, wait


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
class DisputeWorkflow(DisputeSteps):
    @workflow.init
    def __init__(self, dispute: DisputeInput) -> None:
        self.dispute, self.audit_id, self.case_ref = dispute, dispute.audit_id, dispute.case_ref
        self.activities = LocalActivities()
        self.calendar = RecordedCalendar(self.activities)
        self.notifier = Notifier(self.activities, self.audit_id, self.case_ref, self._email_about)
        self.projection = Projection(self.activities, PersistenceActivities.save_dispute_row, "save dispute projection", self._row, self._refresh)
        self.raised_at = workflow.now()
        self.step = DisputeStep.MEETING
        self.people: dict[str, str | None] = {
            "practitioner": dispute.practitioner_id, "team_manager": dispute.team_manager_id,
            "auditor": dispute.auditor_id, "head_of_service": dispute.head_of_service_id, "piat": dispute.piat_id,
            "piat_manager": dispute.piat_manager_id, "psw": dispute.psw_id,
            "cd_quality_standards": dispute.corporate_director_quality_standards_id,
            "cd_csc": dispute.corporate_director_csc_id,
        }
        self._pinned: set[str] = set()  # roles PIAT named on the audit: the directory no longer decides them
        self._owner_roles: tuple[str, ...] = ()
        self._handovers = 0
        self.deadlines: dict[DisputeStep, datetime] = {}
        self.records: dict[DisputeStep, StepRecord] = {}
        self._payloads: dict[DisputeStep, BaseModel] = {}
        self.withdrawal: Withdrawal | None = None
        self.outcome: DisputeOutcome | None = None
        self._reached: DisputeStep | None = None  # the step whose deadline the run now waits on

    # ---- the ladder --------------------------------------------------------------------------

    @workflow.run
    async def run(self, dispute: DisputeInput) -> DisputeOutcome:
        self.projection.start()
        self.projection.record(dispute.raised_by, "dispute raised", f"disputed: {', '.join(dispute.raised.domains_disputed)}")
        await self._raised()
        try:
            outcome = await self._informal() or await self._formal() or await self._corporate() or await self._independent_review()
        except Withdrawn as withdrawn:
            outcome = self._end("withdrawn", None)
            await self.notifier.email("withdrawn", self._ids(*EVERYONE), f"Dispute withdrawn: case {self.case_ref}",
                              f"{person(dispute.raised_by)} withdrew the dispute about the audit's grading: "
                              f"{withdrawn.withdrawal.reason}\nThe grading stands.", action="")
        await self.projection.finish()
        return outcome

    async def _raised(self) -> None:
        """R-DISP-1, R-DISP-2: the written response goes to the auditor; PIAT is copied."""
        d, r = self.dispute, self.dispute.raised
        await self.notifier.email(
            "raised",
            self._ids("auditor", "practitioner", "team_manager", "piat"),
            f"Audit dispute raised: case {d.case_ref}",
            f"{person(d.raised_by)} disputes the grading of the audit of case {d.case_ref}.\n"
            f"Disputed: {', '.join(r.domains_disputed)}\nRationale: {r.rationale}\nEvidence: {r.evidence}\n"
            "The audit goes on Mosaic once the dispute has ended.",
            action="meet together to discuss the dispute; the Team Manager or the auditor records the meeting on the "
                   "audit's page"
                   + ("" if d.meeting_due else f", within {d.policy.dispute_meeting_days} working days"),
            action_for=self._ids("auditor", "practitioner", "team_manager"), due=d.meeting_due,
        )

    async def _informal(self) -> DisputeOutcome | None:
        """R-DISP-2..4."""
        d, p = self.dispute, self.dispute.policy
        meeting = await self._step(
            DisputeStep.MEETING, DisputeMeeting, self.raised_at, p.dispute_meeting_days, ("team_manager", "auditor"),
            INFORMAL_NEXT, due=d.meeting_due,
        )
        met = _on(meeting.held_on)  # R-DISP-3 counts from the meeting itself
        summary = await self._step(
            DisputeStep.SUMMARY, DisputeSummary, met, p.dispute_summary_days, ("team_manager",), INFORMAL_NEXT
        )
        amend_due = self.calendar.known_deadline(workflow.now(), p.dispute_amendment_days) if summary.outcome == "resolved" else None
        await self.notifier.email("summary", self._ids("auditor", "piat", "practitioner"),
                          f"Dispute meeting summary ({summary.outcome}): case {d.case_ref}",
                          f"The Team Manager's summary of the dispute meeting ({summary.outcome}):\n{summary.summary}"
                          + ("" if summary.outcome == "resolved" else
                             "\nThe dispute goes to the formal stage: the PI&A Manager and the Principal Social Worker are told."),
                          **self._amendment_ask(summary.outcome, amend_due))
        if summary.outcome == "unresolved":
            return None
        amended = await self._step(
            DisputeStep.AMENDED_GRADING, AmendedGrading, workflow.now(), p.dispute_amendment_days, ("auditor",), INFORMAL_NEXT,
            due=amend_due,
        )
        regrade = Regrade(domains=amended.domains, overall=amended.overall)
        await self.notifier.email("final-report", self._ids("practitioner", "team_manager", "piat"),
                          f"Final (amended) audit report: case {d.case_ref}",
                          f"The dispute was resolved informally and the auditor amended the grading. Final overall grade: "
                          f"{grade_text(regrade.overall.grade)}. {regrade.overall.rationale}\n{amended.notes}", action="")
        return self._end("resolved", regrade)

    async def _formal(self) -> DisputeOutcome | None:
        """R-DISP-5..8."""
        d, p = self.dispute, self.dispute.policy
        self._climb(DisputeLevel.FORMAL)
        await self._refresh_people()
        # R-DISP-5, R-DISP-6: the PI&A Manager, and the PSW with whom they discuss it.
        due = self.calendar.known_deadline(workflow.now(), p.dispute_formal_days)
        await self.notifier.email("formal", self._ids("piat_manager", "psw"), f"Audit dispute (formal stage): case {d.case_ref}",
                          f"The informal stage did not resolve the dispute about the grading of the audit of case {d.case_ref}.\n"
                          f"The rationale of {person(d.raised_by)}: {d.raised.rationale}\nEvidence: {d.raised.evidence}",
                          action="discuss the dispute together; the PI&A Manager records the discussion and the course of "
                                 "action on the audit's page" + _within(due, p.dispute_formal_days),
                          due=due)
        discussion = await self._step(
            DisputeStep.FORMAL_DISCUSSION, FormalDiscussion, workflow.now(), p.dispute_formal_days, ("piat_manager",), CORPORATE,
            due=due,
        )
        discussed = _on(discussion.held_on)  # R-DISP-7 counts from the discussion itself
        response = await self._step(
            DisputeStep.WRITTEN_RESPONSE, WrittenResponse, discussed, p.dispute_formal_days, ("piat_manager", "psw"), CORPORATE
        )
        await self.notifier.email("written-response", self._ids("team_manager", "auditor", "head_of_service"),
                          f"Audit dispute: written response ({response.outcome}): case {d.case_ref}",
                          f"The written response to the dispute ({response.outcome}):\n{response.response}"
                          + _regraded(response.regrade)
                          + ("" if response.outcome == "resolved" else "\nThe dispute goes to the Corporate Directors."),
                          action="")
        return self._end("resolved", response.regrade) if response.outcome == "resolved" else None

    async def _corporate(self) -> DisputeOutcome | None:
        """R-DISP-8, R-DISP-9: both Corporate Directors discuss within 5 working days."""
        d, p = self.dispute, self.dispute.policy
        self._climb(DisputeLevel.CORPORATE)
        await self._refresh_people()
        due = self.calendar.known_deadline(workflow.now(), p.dispute_corporate_days)
        await self.notifier.email("corporate", self._ids(*CORPORATE), f"Audit dispute escalated to the Corporate Directors: case {d.case_ref}",
                          f"The formal stage did not resolve the dispute about the grading of the audit of case {d.case_ref}.",
                          action="discuss the dispute together, and either of you records the decision on the audit's page"
                                 + _within(due, p.dispute_corporate_days),
                          due=due)
        decision = await self._step(
            DisputeStep.CORPORATE_DECISION, CorporateDecision, workflow.now(), p.dispute_corporate_days, CORPORATE,
            ("cd_quality_standards",), due=due,
        )
        await self.notifier.email("corporate-decision", self._ids("team_manager", "auditor", "head_of_service", "piat"),
                          f"Audit dispute: Corporate Directors' decision ({decision.outcome}): case {d.case_ref}",
                          f"The Corporate Directors' decision ({decision.outcome}):\n{decision.notes}" + _regraded(decision.regrade)
                          + ("" if decision.outcome == "resolved" else
                             "\nThe Corporate Director for Quality Standards now decides whether to commission an independent review."),
                          action="")
        return self._end("resolved", decision.regrade) if decision.outcome == "resolved" else None

    async def _independent_review(self) -> DisputeOutcome:
        """R-DISP-9: the Corporate Director for Quality Standards considers an independent review."""
        d, p = self.dispute, self.dispute.policy
        self._climb(DisputeLevel.INDEPENDENT_REVIEW)
        await self._refresh_people()  # they now own a step: tell them so
        due = self.calendar.known_deadline(workflow.now(), p.dispute_review_decision_days)
        await self.notifier.email("independent-review-due", self._ids("cd_quality_standards"),
                          f"Audit dispute: consider an independent review: case {d.case_ref}",
                          f"The Corporate Directors did not resolve the dispute about the grading of the audit of case {d.case_ref}.",
                          action="decide whether an independent review is commissioned, and record it on the audit's page"
                                 + _within(due, p.dispute_review_decision_days),
                          due=due)
        cdqs = ("cd_quality_standards",)
        decision = await self._step(
            DisputeStep.INDEPENDENT_REVIEW, IndependentReviewDecision, workflow.now(), p.dispute_review_decision_days, cdqs, (),
            due=due,
        )
        if not decision.commissioned:
            await self.notifier.email("no-review", self._ids(*EVERYONE), f"Audit dispute ended: case {d.case_ref}",
                              f"No independent review will be commissioned: {decision.notes}\nThe grading stands.", action="")
            return self._end("unresolved", None)
        await self.notifier.email("review-commissioned", self._ids(*EVERYONE, "head_of_service"),
                          f"Independent review commissioned: case {d.case_ref}",
                          f"An independent review of the audit of case {d.case_ref} is commissioned: {decision.notes}\n"
                          "The audit goes on Mosaic once its result is recorded.", action="")
        result = await self._step(DisputeStep.INDEPENDENT_REVIEW_RESULT, IndependentReviewResult, None, 0, cdqs, ())
        await self.notifier.email("review-result", self._ids(*EVERYONE), f"Independent review of the audit: case {d.case_ref}",
                          f"The independent review's findings:\n{result.findings}" + _regraded(result.regrade), action="")
        return self._end("resolved", result.regrade)

    async def _step(self, step: DisputeStep, kind: type[Payload], since: datetime | None, days: int,
                    owners: tuple[str, ...], next_level: tuple[str, ...], due: datetime | None = None) -> Payload:
        """Wait for `step` to be recorded, and return what it recorded (a `kind`): due `days` working
        days after `since` (no deadline when `since` is None), or at `due` when the email asking for
        the step already named it. A missed deadline reminds the owners and tells the next level, or
        PIAT when there is none (R-DISP-10)."""
        self.step, self._owner_roles = step, owners
        await self._refresh_people()
        if due is None and since:
            due = await self.calendar.working_days(since, days, f"{step.value} due (R-DISP)")
        if due:
            self.deadlines[step] = due
        self._reached = step
        self.projection.changed()
        done = lambda: step in self.records or self.withdrawal is not None  # noqa: E731
        if not await wait(done, due, f"{step.value} recorded (R-DISP)"):
            self.projection.mark_overdue(step.value)
            what = step.value.replace('_', ' ')
            await self.notifier.email(f"{step.value}-reminder", self.owners, f"Reminder: dispute {what} overdue: case {self.case_ref}",
                              f"The {what} in the dispute about the grading of the audit of case {self.case_ref} was due "
                              f"by {at(due)} and is not recorded. The next level is told.",
                              action=f"record the {what} on the audit's page now")
            await self.notifier.email(f"{step.value}-next-level", self._ids(*(next_level or ("piat", "piat_manager"))),
                              f"Dispute step overdue: case {self.case_ref}",
                              f"The {what}, for {people(self.owners)} to record in the dispute about the grading of the "
                              f"audit of case {self.case_ref}, was due by {at(due)} and is not recorded.",
                              action=f"follow it up with {people(self.owners)}")
            await wait(done)
        if self.withdrawal is not None:
            raise Withdrawn(self.withdrawal)
        self.projection.clear_overdue(step.value)
        payload = self._payloads[step]
        assert isinstance(payload, kind)  # the step's Update takes a `kind`
        return payload

    def _climb(self, level: DisputeLevel) -> None:
        self.projection.record("system", f"dispute escalated to the {level.value.replace('_', ' ')} level")

    def _end(self, status: str, regrade: Regrade | None) -> DisputeOutcome:
        self.outcome = DisputeOutcome(status=status, level=self.level, regrade=regrade, ended_at=workflow.now())
        self.step = DisputeStep.ENDED
        self.projection.record("system", f"dispute {status}", f"final overall grade {grade_text(regrade.overall.grade)}" if regrade else "")
        return self.outcome

    # ---- people ---------------------------------------------------------------------------------

    @property
    def owners(self) -> list[str]:
        """Who records the step waited on, as the roles are held now."""
        return self._ids(*self._owner_roles)

    def _ids(self, *roles: str) -> list[str]:
        return unique([self.people.get(role) for role in roles])

    async def _refresh_people(self) -> None:
        """The role holders as the directory has them now."""
        contacts: ServiceContacts = await self.activities.run(
            DirectoryActivities.service_contacts, self.dispute.practitioner_id, "who holds each role now (staff directory)")
        found = {"team_manager": contacts.team_manager_id, "head_of_service": contacts.head_of_service_id,
                 "piat_manager": contacts.piat_manager_id, "psw": contacts.psw_id,
                 "cd_quality_standards": contacts.corporate_director_quality_standards_id,
                 "cd_csc": contacts.corporate_director_csc_id}
        for role, staff_id in found.items():
            if staff_id and role not in self._pinned and self.people.get(role) != staff_id:
                self.people[role] = staff_id
                self.projection.record(SYSTEM, f"{role.replace('_', ' ')} is now {staff_id}", "from the staff directory")

    @workflow.signal
    async def people_changed(self, people: DisputePeople) -> None:
        """PIAT replaced someone on the audit: the dispute follows, and a new owner of the step
        waited on is told what is waiting and by when."""
        before = set(self.owners)
        self.people.update(auditor=people.auditor_id, team_manager=people.team_manager_id,
                           head_of_service=people.head_of_service_id)
        self._pinned |= {role.value for role in people.pinned}
        self.projection.changed()
        if self.outcome is None and (new := [o for o in self.owners if o not in before]):
            self._handovers += 1
            due = self.deadlines.get(self.step)
            what = self.step.value.replace('_', ' ')
            await self.notifier.email(f"handover-{self._handovers}", new, f"Audit dispute: the {what} is yours: case {self.case_ref}",
                              f"PIAT named you on the audit of case {self.case_ref}, so the {what} in the dispute about "
                              "its grading is now yours to record.",
                              action=f"record the {what} on the audit's page", due=due)

    def _email_about(self) -> tuple[str, str]:
        """A dispute's emails name its audit's cycle and link to the audit's page."""
        return self.dispute.cycle, audit_page(self.audit_id)

    def _amendment_ask(self, outcome: str, due: datetime | None) -> _Ask:
        """After the meeting's summary: resolved, the auditor amends the grading; else nobody here acts."""
        if outcome != "resolved":
            return _Ask(action="")
        days = self.dispute.policy.dispute_amendment_days
        return _Ask(action="record the amended final grading on the audit's page" + _within(due, days),
                    action_for=self._ids("auditor"), due=due)

    # ---- recorded steps (Workflow Updates) ---------------------------------------------------------

    @workflow.update
    async def raised_recorded(self) -> None:
        """Returns once the meeting's deadline is set, so `POST /audits/{id}/disputes` shows it."""
        await workflow.wait_condition(lambda: DisputeStep.MEETING in self.deadlines)
        return await self.projection.answer()

    @workflow.query
    def view(self) -> DisputeView:
        return self._view()

    # ---- checks shared by the validators -------------------------------------------------------

    # ---- plumbing -------------------------------------------------------------------------------

    @property
    def level(self) -> DisputeLevel:
        return LEVEL_OF_STEP.get(self.step, self.outcome.level if self.outcome else DisputeLevel.INFORMAL)

    def _waiting(self) -> Waiting | None:
        if self.outcome or self.step is DisputeStep.ENDED:
            return None
        return Waiting(action=f"the {self.step.value.replace('_', ' ')} ({self.level.value} stage)",
                       from_staff_ids=list(self.owners), until=self.deadlines.get(self.step))

    def _refresh(self) -> None:
        self.projection.upsert({
            sa.DISPUTE_LEVEL: self.level.value,
            sa.DISPUTE_STEP: self.step.value,
            sa.OVERDUE: bool(self.projection.overdue_steps),
        })
        workflow.set_current_details(details(f"{self.level.value}: {self.step.value}", self._waiting(), self.projection.overdue_steps))

    def _row(self, whole: bool) -> DisputeRow:
        view = self._view()
        return DisputeRow.of(view, whole).model_copy(update={"waits": [view.waiting_for] if view.waiting_for else []})

    def _view(self) -> DisputeView:
        d = self.dispute
        return DisputeView(
            dispute_id=d.audit_id, audit_id=d.audit_id, case_ref=d.case_ref, raised_by=d.raised_by,
            raised_at=self.raised_at, raised=d.raised, level=self.level, step=self.step, waiting_for=self._waiting(),
            deadlines=dict(self.deadlines), overdue=bool(self.projection.overdue_steps), overdue_steps=list(self.projection.overdue_steps),
            records=list(self.records.values()), outcome=self.outcome, history=list(self.projection.history),
        )


def _on(day: date) -> datetime:
    """An event known only by its date: noon UTC is that date in London too, winter or summer."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def _within(due: datetime | None, days: int) -> str:
    """Where the deadline could not be named in advance, the rule that sets it."""
    return "" if due else f", within {days} working days"


def _regraded(regrade: Regrade | None) -> str:
    return f"\nFinal overall grade: {grade_text(regrade.overall.grade)}. {regrade.overall.rationale}" if regrade else ""

