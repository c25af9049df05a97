"""One audit's lifecycle: allocation to Mosaic (R-ALLOC, R-AUD, R-QA, R-DIST), then the findings
discussion (R-DISC) and any re-audit (R-RE), each re-audit a child workflow of the audit it follows.

The run method is the process as the framework tells it, step after step; staff act through
Workflow Updates whose validators refuse a wrong person, a wrong moment or incomplete content
before anything is recorded. Update handlers only record and move the stage; the run method owns
every deadline and every notification.

This module holds the state and the report's own path (allocation, QA, distribution). Each other
concern has its own module, mixed in here: the staff actions (audit_actions.py), the findings
discussion (audit_discussion.py), the dispute window, any dispute and the Mosaic upload
(audit_finalising.py), re-audits (audit_reaudit.py), who holds each role (audit_people.py) and
what the audit shows (audit_view.py).
"""

import asyncio
import itertools
from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.persistence import PersistenceActivities
    from models.cycles import cycle_label, month_of, next_cycle
    from models.enums import ChainOutcome, Escalation, PersonRole, Stage
    from models.email_marks import at, long_date, person
    from models.payloads import (
        AuditInput, AuditOutcome, Deadlines, DiscussionView, DisputeOutcome,
        DisputeRaise, FollowUpRecord, Grading, PractitionerConversation, QADecision, QARecord,
        ReauditPlan, Regrade,
    )
    from models.rules import AMENDING, KIND_TITLES, escalates_to_director, needs_reaudit, requires_second_reaudit

from workflows.audit_actions import ReportActions
from workflows.audit_discussion import FindingsDiscussionSteps
from workflows.audit_finalising import FinalisingSteps
from workflows.audit_people import AuditPeople
from workflows.audit_reaudit import ReauditSteps
from workflows.audit_view import AuditViewing
from workflows.process import SYSTEM, LocalActivities, Notifier, Projection, RecordedCalendar, grade_text, wait


ESCALATION_ORDER = list(Escalation)


@workflow.defn
class AuditWorkflow(ReportActions, FindingsDiscussionSteps, FinalisingSteps, ReauditSteps, AuditPeople, AuditViewing):
    @workflow.init
    def __init__(self, audit: AuditInput) -> None:
        self.audit, self.audit_id, self.case_ref = audit, audit.audit_id, audit.case_ref
        self.activities = LocalActivities()
        self.calendar = RecordedCalendar(self.activities, audit.calendar)
        self.notifier = Notifier(self.activities, self.audit_id, self.case_ref, self._email_about)
        self.projection = Projection(self.activities, PersistenceActivities.save_audit_row, "save audit projection", self._row, self._refresh)
        # Whom the audit names now: the directory at each step that needs them, or whom PIAT named
        # instead (`PUT /audits/{id}/people/{role}`), which then holds (`_pinned`).
        self.auditor_id = audit.auditor_id
        self.team_manager_id = audit.team_manager_id
        self.head_of_service_id = audit.head_of_service_id
        self.cp_chair_or_iro_id = audit.cp_chair_or_iro_id
        self.piat_manager_id = audit.piat_manager_id
        self._follow_up_by_assistant_director: str | None = None  # R-RE-3, when the HoS re-audited
        self._pinned: set[PersonRole] = set()
        self.people_changes = 0
        self._finished = False  # the run is returning: nothing more can change
        self.stage = Stage.ALLOCATED
        self.allocated_at = workflow.now()
        self.deadlines = Deadlines()
        self.period_start = self.period_end = None
        self.carried_into_cycle: str | None = None
        self.initial: Grading | None = None
        self.conversation: PractitionerConversation | None = None
        self.qa_decisions: list[QARecord] = []
        self.submitted_at: datetime | None = None  # set by submit, cleared when QA decides
        self.pending_qa: QADecision | None = None
        self._qa_rounds = 0  # the rounds of QA so far, over every pass (`_first_qa_round`)
        self.amended = False  # an amendment since QA returned the report
        self.reassignments = 0
        # Updates that move the process wait until the run method has caught up with them, so
        # their answer carries the new deadline.
        self._requested = self._settled = 0
        self._allocated = False
        # After the report (R-DISC, R-RE)
        self.report_sent_at: datetime | None = None
        self.discussion: DiscussionView | None = None
        self.follow_up_required = False
        self.follow_up: FollowUpRecord | None = None
        self.reaudit: ReauditPlan | None = None
        self.chain_outcome: ChainOutcome | None = None
        self.escalation = Escalation.NONE
        self._discussion_notes_sent = 0
        self._discussion_round = 0
        self._discussion_starting = False
        self._discussion_task: asyncio.Task | None = None
        # Disputes (R-DISP)
        self.dispute: DisputeRaise | None = None
        self.dispute_raised_by: str | None = None
        self.dispute_id: str | None = None
        self.dispute_outcome: DisputeOutcome | None = None
        self.regrade: Regrade | None = None
        self._dispute_handle: workflow.ChildWorkflowHandle | None = None
        self.uploaded = False  # on Mosaic: the grading is final and may be reported (R-REP-2)
        self.final_at: datetime | None = None  # when it went on Mosaic: the moderation draw and the reports count from it

    # ---- the process ------------------------------------------------------------------------

    @workflow.run
    async def run(self, audit: AuditInput) -> AuditOutcome:
        self.projection.start()
        if audit.reaudit_round:
            self.projection.record(SYSTEM, f"re-audit {audit.reaudit_round} allocated", f"follows {audit.follows_audit_id}; cycle {audit.cycle}, auditor {audit.auditor_id}")
        else:
            self.projection.record(audit.allocated_by, "allocated", f"cycle {audit.cycle}, auditor {audit.auditor_id}")
        await self._allocate()
        while True:
            await self._await_submission()
            if await self._quality_assurance():
                break
            await self._carry_into_next_cycle()
        await self._distribute_report()
        # The findings discussion runs alongside the dispute window, any dispute, the upload and
        # any re-audit; a dispute restarts it on the final report (see _run_dispute).
        self._start_discussion()
        await self._finalise()
        await self._discussion_task  # by now the one on the final report, if a dispute restarted it
        await self._head_of_service_follow_up()
        self._finished = True
        await self.projection.finish()
        return AuditOutcome(audit_id=self.audit.audit_id, stage=self.stage, final_overall_grade=self.reported_grade,
                            chain_outcome=self.chain_outcome, escalation=self.escalation)

    async def _allocate(self) -> None:
        """R-ALLOC-1, R-AUD-1, R-AUD-2."""
        at, start = self.allocated_at, self.audit.involvement_start
        schedule = await self.calendar.on(at, lambda c: c.allocation_schedule(at, start))
        self.deadlines.completion_due = schedule.completion_due
        self.period_start, self.period_end = schedule.period_start, schedule.period_end
        self.projection.changed()
        a = self.audit
        theme = f"\nTheme: {a.theme}" if a.theme else ""
        await self.notifier.email(
            "allocation",
            [self.auditor_id, self.team_manager_id, a.practitioner_id],
            f"Audit allocated: case {a.case_ref} ({cycle_label(a.cycle)} {a.kind.value} audit)",
            f"The {a.kind.value} audit of case {a.case_ref} is allocated to {person(self.auditor_id)}.{theme}\n"
            f"Practitioner: {person(a.practitioner_id)}. Team Manager: {person(self.team_manager_id)}.\n"
            f"The audit covers {long_date(self.period_start)} to {long_date(self.period_end)}.",
            action="complete the audit (grading, practitioner conversation and any improvement plan) and submit it "
                   "for quality assurance",
            action_for=[self.auditor_id], due=schedule.completion_due,
        )
        self._allocated = True

    async def _await_submission(self) -> None:
        """Until the report is submitted; the completion deadline passing tells auditor and TM."""
        submitted = lambda: self.submitted_at is not None  # noqa: E731
        if await self._report_wait(submitted, self.deadlines.completion_due, "completion deadline (R-AUD-1)"):
            return
        self.projection.mark_overdue("completion")
        await self._refresh_people()
        await self.notifier.email(
            f"completion-overdue-{self.carried_into_cycle or self.audit.cycle}",
            [self.auditor_id, self.team_manager_id],
            f"Audit overdue: case {self.audit.case_ref}",
            f"The audit of case {self.audit.case_ref} was due by {at(self.deadlines.completion_due)} "
            f"and has not been submitted for quality assurance. Auditor: {person(self.auditor_id)}.",
            action="complete the audit and submit it for quality assurance as soon as you can",
            action_for=[self.auditor_id],
        )
        await self._report_wait(submitted)

    async def _quality_assurance(self) -> bool:
        """R-QA-1..3: True once PIAT accepts; False when an amendment is not made in time."""
        # A round's number keys its return and SLA-breach emails, and the outbox takes a key it
        # already holds for a retry of that send: so the rounds of a pass after "not accepted"
        # (R-QA-3) count on from the last pass's.
        for qa_round in itertools.count(self._qa_rounds + 1):
            self._qa_rounds = qa_round
            self.deadlines.qa_due = await self.calendar.working_days(
                self.submitted_at, self.audit.policy.qa_sla_days, "QA due (R-QA-1)"
            )
            self.deadlines.revision_due = None
            self.projection.changed()
            decided = lambda: self.pending_qa is not None  # noqa: E731
            if not await self._report_wait(decided, self.deadlines.qa_due, "quality assurance SLA (R-QA-1)"):
                await self._qa_sla_breached(qa_round)
                await self._report_wait(decided)
            decision, self.pending_qa, self.submitted_at = self.pending_qa, None, None
            self.projection.clear_overdue("qa")
            if decision.decision == "accept":
                return True
            if not await self._await_revision(qa_round, decision):
                return False
        raise AssertionError("unreachable")

    async def _qa_sla_breached(self, qa_round: int) -> None:
        """Decision (R-QA-1): the PI&A Manager is told; nothing else stops."""
        self.projection.mark_overdue("qa")
        await self._refresh_people()
        await self.notifier.email(
            f"qa-sla-breached-{qa_round}",
            [self._piat_manager],
            f"QA overdue: audit of case {self.audit.case_ref}",
            f"The audit of case {self.audit.case_ref} was submitted for quality assurance and was due "
            f"to be quality assured by {at(self.deadlines.qa_due)}. It has not been yet.",
            action="make sure PIAT quality-assures the report now",
        )

    async def _await_revision(self, qa_round: int, decision: QADecision) -> bool:
        """R-QA-2: 3 working days to amend, 4 where PIAT offered a discussion."""
        policy = self.audit.policy
        days = policy.revision_days_with_discussion if decision.discussion_offered else policy.revision_days
        self.deadlines.revision_due = await self.calendar.working_days(
            workflow.now(), days, f"revision due in {days} working days (R-QA-2)"
        )
        self.projection.changed()
        offer = "PIAT offers a discussion of the changes." if decision.discussion_offered else ""
        await self.notifier.email(
            f"qa-returned-{qa_round}",
            [self.auditor_id],
            f"Audit returned for revision: case {self.audit.case_ref}",
            f"Quality assurance returned the report with these points to review:\n{decision.details}\n{offer}".strip(),
            action="amend the report and submit it again", due=self.deadlines.revision_due,
        )
        resubmitted = lambda: self.submitted_at is not None  # noqa: E731
        return await self._report_wait(resubmitted, self.deadlines.revision_due, "amended report (R-QA-2)")

    async def _carry_into_next_cycle(self) -> None:
        """R-QA-3: not accepted; the auditor completes it in time for the cycle after the one in
        which the amendment was missed (never one already past), and the stage says so at once,
        so that a resubmission arriving meanwhile is refused as late, not half taken."""
        self.amended = False
        self._move(Stage.NOT_ACCEPTED)
        self.carried_into_cycle = next_cycle(max(self.carried_into_cycle or self.audit.cycle, month_of(workflow.now())))
        cycle = self.carried_into_cycle
        self.deadlines.completion_due = await self.calendar.on(workflow.now(), lambda c: c.cycle_end(cycle))
        self.amended = False
        self._move(Stage.NOT_ACCEPTED)
        self.projection.record(SYSTEM, "not accepted", f"amendment not made in time; carried into {self.carried_into_cycle}")
        await self._refresh_people()
        await self.notifier.email(
            f"not-accepted-{self.carried_into_cycle}",
            [self.auditor_id, self.team_manager_id, self._piat_manager],
            f"Audit not accepted: case {self.audit.case_ref}",
            f"The amended report was not submitted by {at(self.deadlines.revision_due)}, so the audit "
            f"is not accepted. It is carried into the {cycle_label(self.carried_into_cycle)} audit cycle; "
            "a new allocation still follows in that cycle.",
            action=f"complete the audit in time for the {cycle_label(self.carried_into_cycle)} cycle and submit it "
                   "for quality assurance",
            action_for=[self.auditor_id], due=self.deadlines.completion_due,
        )

    async def _distribute_report(self) -> None:
        """R-DIST-1 (R-RE-2): the accepted report goes to the practitioner and their Team Manager;
        a 1st re-audit still below Good also to the Head of Service, and to the PSW's attention (R-RE-3)."""
        a = self.audit
        second = requires_second_reaudit(a.reaudit_round, self.final_grade)
        contacts = await self._people_now()
        if second:
            self._follow_up_by_assistant_director = self._assistant_director_instead(contacts)
        # The dispute window's close, named in the report: worked out now (with no command) and
        # held by the window itself, so the email and the deadline agree.
        self.deadlines.dispute_window_closes = self.calendar.known_deadline(workflow.now(), a.policy.dispute_window_days)
        await self.notifier.email(
            "report",
            [a.practitioner_id, self.team_manager_id, self.follow_up_owner_id if second else None],
            f"{KIND_TITLES[a.kind]} report: case {a.case_ref} ({cycle_label(a.cycle)})",
            self._report_text(second),
            **self._dispute_ask(),
        )
        self.report_sent_at = workflow.now()
        if second:
            self.follow_up_required = True
            self._escalate(Escalation.HEAD_OF_SERVICE)
            await self.notifier.email(
                "principal-social-worker",
                [contacts.psw_id],
                f"1st re-audit still {grade_text(self.final_grade)}: case {a.case_ref}",
                f"The 1st re-audit of case {a.case_ref} is graded {grade_text(self.final_grade)}: a 2nd "
                f"re-audit will follow. {person(self.follow_up_owner_id)} follows up the agreed actions.",
                action="",
            )

    async def _finalise(self) -> None:
        """The dispute window, Mosaic, then what the final grade sets in motion (R-RE)."""
        if await self._hold_dispute_window():
            await self._run_dispute()
        await self._upload_to_mosaic()
        self.uploaded = True  # set with the stage, so one search-attribute upsert carries both
        self.final_at = workflow.now()
        self._move(Stage.COMPLETED)
        a, grade = self.audit, self.final_grade
        if needs_reaudit(a.kind, a.service_area, a.reaudit_round, grade):
            await self._reaudit()
        elif escalates_to_director(a.reaudit_round, grade):
            await self._escalate_to_director()
        elif a.reaudit_round:
            self.chain_outcome = ChainOutcome.CLOSED
            self.projection.changed()

    # ---- workflow plumbing -----------------------------------------------------------------------

    async def _report_wait(self, condition: Callable[[], bool], until: datetime | None = None, summary: str = "") -> bool:
        """A wait of the report's own path: the updates that move it (submit, QA) answer once the run
        reaches the next such wait, so their answer carries the deadline it has just computed."""
        self._settled = self._requested
        return await wait(condition, until, summary)

    def _move(self, stage: Stage) -> None:
        self.stage = stage
        self.projection.changed()

    def _amend_or_move(self, stage: Stage) -> None:
        """During revisions the stage stays; elsewhere the report moves forward."""
        if self.stage in AMENDING:
            self.amended = True
            self.projection.changed()
        else:
            self._move(stage)

    def _escalate(self, level: Escalation) -> None:
        if ESCALATION_ORDER.index(level) > ESCALATION_ORDER.index(self.escalation):
            self.escalation = level
            self.projection.changed()

