"""One audit's lifecycle: allocation to Mosaic (R-ALLOC, R-AUD, R-QA, R-DIST), then the findings
discussion (R-DISC) and any re-audit (R-RE), each re-audit a child workflow of the audit it follows.

The run method is the process as the framework tells it, step after step; staff act through
Workflow Updates whose validators refuse a wrong person, a wrong moment or incomplete content
before anything is recorded. Update handlers only record and move the stage; the run method owns
every deadline and every notification.
"""

import asyncio
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.calendar import CalendarActivities
    from activities.directory import DirectoryActivities
    from activities.persistence import PersistenceActivities
    from models import search_attributes as sa
    from models.cycles import cycle_label, cycle_month, month_of, next_cycle
    from models.enums import AuditKind, ChainOutcome, Channel, Escalation, Grade, PersonRole, Stage
    from models.errors import forbidden, invalid, out_of_order
    from models.payloads import (
        AuditRow,
        AllocationScheduleRequest,
        AuditInput,
        AuditView,
        Deadlines,
        DiscussionRecord,
        DiscussionReview,
        DiscussionView,
        DisputeInput,
        DisputeOutcome,
        DisputePeople,
        DisputeRaise,
        FindingsDiscussion,
        FollowUpRecord,
        HeadOfServiceFollowUp,
        DomainGrade,
        Grading,
        ImprovementPlan,
        PersonChange,
        OverallGrade,
        PractitionerConversation,
        PreviousPractitionerFeedback,
        QADecision,
        QARecord,
        ReauditPlan,
        Regrade,
        Reassignment,
        ReviewRecord,
        ServiceContacts,
        Waiting,
    )
    from models.rules import discussion_rule, escalates_to_director, needs_reaudit, requires_second_reaudit

from workflows.dispute import DisputeWorkflow
from workflows.process import ACTIVITY_OPTIONS, PEOPLE_CHANGE, SYSTEM, Process, details, grade_text, unique, when


# Stages in which the auditor is still writing the report.
DRAFTING = {Stage.ALLOCATED, Stage.INITIALLY_GRADED, Stage.FINALLY_GRADED}
AMENDING = {Stage.REVISIONS_REQUESTED, Stage.NOT_ACCEPTED}
BEFORE_DISTRIBUTION = DRAFTING | AMENDING | {Stage.AWAITING_QA}
KIND_TITLES = {AuditKind.STANDARD: "Audit", AuditKind.PEER: "Peer Audit", AuditKind.THEMED: "Themed Audit",
               AuditKind.REAUDIT: "Re-audit"}
ESCALATION_ORDER = list(Escalation)


@workflow.defn
class AuditWorkflow(Process):
    @workflow.init
    def __init__(self, audit: AuditInput) -> None:
        self._init_process()
        self.audit, self.audit_id, self.case_ref = audit, audit.audit_id, audit.case_ref
        # Runs started before people could change kept whom they named at allocation and looked
        # the service's contacts up once; they replay that way (README: "Changing running code").
        self._people_change = workflow.patched(PEOPLE_CHANGE)
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
        self._contacts: ServiceContacts | None = None
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

    # ---- the process ------------------------------------------------------------------------

    @workflow.run
    async def run(self, audit: AuditInput) -> AuditView:
        projector = asyncio.create_task(self._project(
            PersistenceActivities.save_audit_row, PersistenceActivities.save_audit_snapshot, "save audit projection"))
        if audit.reaudit_round:
            self._record(SYSTEM, f"re-audit {audit.reaudit_round} allocated", f"follows {audit.follows_audit_id}; cycle {audit.cycle}, auditor {audit.auditor_id}")
        else:
            self._record(audit.allocated_by, "allocated", f"cycle {audit.cycle}, auditor {audit.auditor_id}")
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
        await self._finish(projector, PersistenceActivities.save_audit_row)
        return self._view()

    async def _allocate(self) -> None:
        """R-ALLOC-1, R-AUD-1, R-AUD-2."""
        schedule = await workflow.execute_activity_method(
            CalendarActivities.allocation_schedule,
            AllocationScheduleRequest(allocated_at=self.allocated_at, involvement_start=self.audit.involvement_start),
            summary="R-AUD-1 completion deadline and R-AUD-2 audit period",
            **ACTIVITY_OPTIONS,
        )
        self.deadlines.completion_due = schedule.completion_due
        self.period_start, self.period_end = schedule.period_start, schedule.period_end
        self._changed()
        a = self.audit
        theme = f"\nTheme: {a.theme}" if a.theme else ""
        await self._email(
            "allocation",
            [self.auditor_id, self.team_manager_id, a.practitioner_id],
            f"Audit allocated: case {a.case_ref} ({cycle_label(a.cycle)} {a.kind.value} audit)",
            f"Case {a.case_ref} is allocated to auditor {self.auditor_id} for the {cycle_label(a.cycle)} cycle.{theme}\n"
            f"Practitioner: {a.practitioner_id}. Team Manager: {self.team_manager_id}.\n"
            f"Period covered: {self.period_start} to {self.period_end}.\n"
            f"The audit and its improvement plan are due by {when(schedule.completion_due)}.",
        )
        self._allocated = True

    async def _await_submission(self) -> None:
        """Until the report is submitted; the completion deadline passing tells auditor and TM."""
        submitted = lambda: self.submitted_at is not None  # noqa: E731
        if await self._report_wait(submitted, self.deadlines.completion_due, "completion deadline (R-AUD-1)"):
            return
        self._mark_overdue("completion")
        await self._refresh_people()
        await self._email(
            f"completion-overdue-{self.carried_into_cycle or self.audit.cycle}",
            [self.auditor_id, self.team_manager_id],
            f"Audit overdue: case {self.audit.case_ref}",
            f"The audit of case {self.audit.case_ref} was due by {when(self.deadlines.completion_due)} "
            f"and has not been submitted for quality assurance. Auditor: {self.auditor_id}.",
        )
        await self._report_wait(submitted)

    async def _quality_assurance(self) -> bool:
        """R-QA-1..3: True once PIAT accepts; False when an amendment is not made in time."""
        for qa_round in itertools.count(1):
            self.deadlines.qa_due = await self._working_days(
                self.submitted_at, self.audit.policy.qa_sla_days, "QA due (R-QA-1)"
            )
            self.deadlines.revision_due = None
            self._changed()
            decided = lambda: self.pending_qa is not None  # noqa: E731
            if not await self._report_wait(decided, self.deadlines.qa_due, "quality assurance SLA (R-QA-1)"):
                await self._qa_sla_breached(qa_round)
                await self._report_wait(decided)
            decision, self.pending_qa, self.submitted_at = self.pending_qa, None, None
            self._clear_overdue("qa")
            if decision.decision == "accept":
                return True
            if not await self._await_revision(qa_round, decision):
                return False
        raise AssertionError("unreachable")

    async def _qa_sla_breached(self, qa_round: int) -> None:
        """Decision (R-QA-1): the PI&A Manager is told; nothing else stops."""
        self._mark_overdue("qa")
        await self._refresh_people()
        await self._email(
            f"qa-sla-breached-{qa_round}",
            [self._piat_manager],
            f"QA overdue: audit of case {self.audit.case_ref}",
            f"The audit of case {self.audit.case_ref} was submitted for quality assurance and was due "
            f"to be quality assured by {when(self.deadlines.qa_due)}.",
        )

    async def _await_revision(self, qa_round: int, decision: QADecision) -> bool:
        """R-QA-2: 3 working days to amend, 4 where PIAT offered a discussion."""
        policy = self.audit.policy
        days = policy.revision_days_with_discussion if decision.discussion_offered else policy.revision_days
        self.deadlines.revision_due = await self._working_days(
            workflow.now(), days, f"revision due in {days} working days (R-QA-2)"
        )
        self._changed()
        offer = " PIAT offers a discussion of the changes." if decision.discussion_offered else ""
        await self._email(
            f"qa-returned-{qa_round}",
            [self.auditor_id],
            f"Audit returned for revision: case {self.audit.case_ref}",
            f"Quality assurance returned the report with these points to review:\n{decision.details}\n"
            f"Please submit the amended report by {when(self.deadlines.revision_due)}.{offer}",
        )
        resubmitted = lambda: self.submitted_at is not None  # noqa: E731
        return await self._report_wait(resubmitted, self.deadlines.revision_due, "amended report (R-QA-2)")

    async def _carry_into_next_cycle(self) -> None:
        """R-QA-3: not accepted; the auditor completes it in time for the cycle after the one in
        which the amendment was missed (never one already past), and the stage says so at once,
        so that a resubmission arriving meanwhile is refused as late, not half taken."""
        if self._people_change:
            self.amended = False
            self._move(Stage.NOT_ACCEPTED)
        self.carried_into_cycle = next_cycle(max(self.carried_into_cycle or self.audit.cycle, month_of(workflow.now())))
        self.deadlines.completion_due = await workflow.execute_activity_method(
            CalendarActivities.cycle_deadline,
            self.carried_into_cycle,
            summary=f"end of the {self.carried_into_cycle} cycle (R-QA-3)",
            **ACTIVITY_OPTIONS,
        )
        self.amended = False
        self._move(Stage.NOT_ACCEPTED)
        self._record(SYSTEM, "not accepted", f"amendment not made in time; carried into {self.carried_into_cycle}")
        await self._refresh_people()
        await self._email(
            f"not-accepted-{self.carried_into_cycle}",
            [self.auditor_id, self.team_manager_id, self._piat_manager],
            f"Audit not accepted: case {self.audit.case_ref}",
            f"The amended report was not submitted by {when(self.deadlines.revision_due)}, so the audit "
            f"is not accepted (R-QA-3). Complete it in time for the {cycle_label(self.carried_into_cycle)} "
            f"cycle, by {when(self.deadlines.completion_due)}. A new allocation still follows in that cycle.",
        )

    async def _distribute_report(self) -> None:
        """R-DIST-1 (R-RE-2): the accepted report goes to the practitioner and their Team Manager;
        a 1st re-audit still below Good also to the Head of Service, and to the PSW's attention (R-RE-3)."""
        a = self.audit
        second = requires_second_reaudit(a.reaudit_round, self.final_grade)
        contacts = await self._people_now() if self._people_change else None
        if second:
            self._follow_up_by_assistant_director = self._assistant_director_instead(contacts)
        await self._email(
            "report",
            [a.practitioner_id, self.team_manager_id, self.follow_up_owner_id if second else None],
            f"{KIND_TITLES[a.kind]} report: case {a.case_ref} ({cycle_label(a.cycle)})",
            self._report_text(),
        )
        self.report_sent_at = workflow.now()
        if second:
            self.follow_up_required = True
            self._escalate(Escalation.HEAD_OF_SERVICE)
            contacts = contacts or await self._people_now()
            await self._email(
                "principal-social-worker",
                [contacts.psw_id],
                f"1st re-audit still {grade_text(self.final_grade)}: case {a.case_ref}",
                f"The 1st re-audit of case {a.case_ref} ({a.audit_id}) is graded {grade_text(self.final_grade)}: a 2nd "
                f"re-audit will follow (R-RE-3). {self.follow_up_owner_id} follows up the agreed actions.",
            )

    async def _finalise(self) -> None:
        """The dispute window, Mosaic, then what the final grade sets in motion (R-RE)."""
        if await self._hold_dispute_window():
            await self._run_dispute()
        await self._upload_to_mosaic()
        self.uploaded = True  # set with the stage, so one search-attribute upsert carries both
        self._move(Stage.COMPLETED)
        a, grade = self.audit, self.final_grade
        if needs_reaudit(a.kind, a.service_area, a.reaudit_round, grade):
            await self._reaudit()
        elif escalates_to_director(a.reaudit_round, grade):
            await self._escalate_to_director()
        elif a.reaudit_round:
            self.chain_outcome = ChainOutcome.CLOSED
            self._changed()

    async def _hold_dispute_window(self) -> bool:
        """R-DIST-4: the Mosaic upload waits for the dispute window; True if a dispute was raised."""
        self.deadlines.dispute_window_closes = await self._working_days(
            workflow.now(), self.audit.policy.dispute_window_days, "dispute window closes (R-DIST-4)"
        )
        self._move(Stage.DISPUTE_WINDOW)
        raised = lambda: self.dispute is not None  # noqa: E731
        return await self._report_wait(raised, self.deadlines.dispute_window_closes, "dispute window (R-DIST-4)")

    async def _run_dispute(self) -> None:
        """R-DISP: the dispute runs as a child workflow; its outcome is the final grading."""
        a = self.audit
        contacts = await self._people_now()
        self._move(Stage.IN_DISPUTE)
        restart_discussion = self._pause_discussion()
        dispute = DisputeInput(
            audit_id=a.audit_id, case_ref=a.case_ref, cycle=a.cycle, raised_by=self.dispute_raised_by,
            raised=self.dispute, auditor_id=self.auditor_id, practitioner_id=a.practitioner_id,
            team_manager_id=self.team_manager_id, head_of_service_id=self.head_of_service_id, piat_id=a.allocated_by,
            piat_manager_id=self._piat_manager, psw_id=contacts.psw_id,
            corporate_director_quality_standards_id=contacts.corporate_director_quality_standards_id,
            corporate_director_csc_id=contacts.corporate_director_csc_id, domains=a.domains, policy=a.policy,
        )
        handle = await workflow.start_child_workflow(
            DisputeWorkflow.run, dispute, id=f"dispute-{a.audit_id}",
            static_summary=f"dispute about audit {a.audit_id}, raised by {self.dispute_raised_by}",
        )
        self.dispute_id, self._dispute_handle = handle.id, handle
        self._changed()
        self.dispute_outcome = outcome = await handle
        self._dispute_handle = None
        if outcome.regrade:
            self.regrade = outcome.regrade
            self._record(SYSTEM, "final grading amended after the dispute", f"overall: {grade_text(self.final_grade)}")
            # A 1st re-audit regraded to Good no longer needs the Head of Service's follow-up.
            self.follow_up_required &= requires_second_reaudit(a.reaudit_round, self.final_grade)
        else:
            self._record(SYSTEM, f"dispute {outcome.status}: the grading stands")
        if restart_discussion:
            self.report_sent_at = workflow.now()  # the final report went out with the dispute's end
            self._start_discussion()

    async def _upload_to_mosaic(self) -> None:
        """R-DIST-2 case note and R-DIST-3 alerts."""
        a = self.audit
        await self._refresh_people()
        alerted = [a.practitioner_id, self.team_manager_id, self.cp_chair_or_iro_id]
        if self.final_grade is Grade.INADEQUATE or requires_second_reaudit(a.reaudit_round, self.final_grade):
            alerted.append(self.head_of_service_id)
        alerted = unique(alerted)
        kind = KIND_TITLES[a.kind]
        title = f"{cycle_month(a.cycle)} {kind}"
        grading = f"overall grading: {grade_text(self.final_grade)}" if a.kind is not AuditKind.PEER else "peer audit: not graded"
        await self._post(
            Channel.MOSAIC_CASE_NOTE,
            "mosaic-case-note",
            alerted,
            title,
            f"audit completed as part of the {cycle_label(a.cycle)} audit cycle\n\n{grading}\n\n"
            "please see documents for copy of audit report with actions identified for completion "
            f"as part of the improvement plan\n\nMosaic alert sent to {', '.join(alerted)}",
        )
        await self._post(
            Channel.MOSAIC_ALERT,
            "mosaic-alert",
            alerted,
            f"{title} uploaded: case {a.case_ref}",
            f"The {cycle_label(a.cycle)} {kind.lower()} of case {a.case_ref} is on the record. {grading}.",
        )

    # ---- findings discussion (R-DISC) ---------------------------------------------------------------

    def _start_discussion(self) -> None:
        self._discussion_starting = True
        self._discussion_round += 1
        self._discussion_task = asyncio.create_task(self._findings_discussion())

    def _pause_discussion(self) -> bool:
        """A dispute about the grading stops a discussion not yet recorded: it starts again on the
        final report. True if it was stopped."""
        if self.discussion is not None and self.discussion.records:
            return False
        self._discussion_task.cancel()
        self.discussion = None
        self._clear_overdue("discussion")
        self._changed()
        return True

    async def _findings_discussion(self) -> None:
        a = self.audit
        rule = discussion_rule(a.kind, a.service_area, a.reaudit_round, self.final_grade)
        if rule is None:
            self._discussion_starting = False
            return  # Good or Outstanding: no discussion is required
        due = await self._working_days(
            self.report_sent_at, rule.working_days, f"findings discussion due in {rule.working_days} working days (R-DISC)"
        )
        self.discussion = d = DiscussionView(
            working_days=rule.working_days, smart_actions_required=rule.smart_actions_required, due=due,
            status="awaited", escalated_to_head_of_service=False, records=[], reviews=[],
        )
        self._changed()
        await self._refresh_people()
        smart = " and agree SMART actions (specific action, owner, measure, due date)" if rule.smart_actions_required else ""
        await self._email(
            f"discussion{self._discussion_round}-due",
            [self.team_manager_id, a.practitioner_id],
            f"Findings discussion due: case {a.case_ref}",
            f"Please discuss the audit findings{smart} by {when(due)}, and record the discussion as a "
            f"supervision / management-oversight note (R-DISC-1..3).",
        )
        self._discussion_starting = False
        for handled in itertools.count():  # a record may arrive while we are still sending: count, don't look
            await self._await_discussion_record(handled)
            await self._discussion_recorded(d.records[handled], handled + 1)
            await self._wait(lambda: d.status != "recorded")
            if d.status == "accepted":
                return
            d.due = await self._working_days(workflow.now(), a.policy.discussion_more_days, "findings discussion re-recorded")
            self._changed()
            await self._email(
                f"discussion{self._discussion_round}-more-{len(d.reviews)}",
                [self.team_manager_id],
                f"Findings discussion: more needed: case {a.case_ref}",
                f"PIAT asks for more on the discussion note: {d.reviews[-1].review.comments}\nPlease record it again by {when(d.due)}.",
            )

    async def _await_discussion_record(self, recorded_so_far: int) -> None:
        """Due date: reminder to the Team Manager; some days on: the Head of Service (R-DISC-3)."""
        a, d = self.audit, self.discussion
        recorded = lambda: len(d.records) > recorded_so_far  # noqa: E731
        if await self._wait(recorded, d.due, "findings discussion recorded (R-DISC)"):
            return
        self._mark_overdue("discussion")
        self._escalate(Escalation.TEAM_MANAGER)
        await self._refresh_people()
        await self._email(
            f"discussion{self._discussion_round}-reminder-{recorded_so_far}",
            [self.team_manager_id],
            f"Reminder: findings discussion overdue: case {a.case_ref}",
            f"The findings discussion of case {a.case_ref} was due by {when(d.due)} and is not recorded. Without it, "
            f"the Head of Service is told in {a.policy.discussion_escalation_days} working days (R-DISC-3).",
        )
        escalate_at = await self._working_days(d.due, a.policy.discussion_escalation_days, "escalation date (R-DISC-3)")
        if await self._wait(recorded, escalate_at, "escalation to the Head of Service (R-DISC-3)"):
            return
        d.escalated_to_head_of_service = True
        self._escalate(Escalation.HEAD_OF_SERVICE)
        self._record(SYSTEM, "findings discussion escalated to the Head of Service")
        await self._refresh_people()
        await self._email(
            f"discussion{self._discussion_round}-escalated-{recorded_so_far}",
            [self.head_of_service_id],
            f"Findings discussion not recorded: case {a.case_ref}",
            f"Team Manager {self.team_manager_id} has not recorded the findings discussion of case {a.case_ref}, "
            f"due by {when(d.due)} (R-DISC-3). Please follow it up.",
        )
        await self._wait(recorded)

    async def _discussion_recorded(self, record: DiscussionRecord, number: int) -> None:
        """R-DISC-3: the note goes to Mosaic and to PIAT for review."""
        a, discussion = self.audit, record.discussion
        actions = "".join(f"\n- {s.action} (owner {s.owner_id}; measure: {s.measure}; by {s.due_on})" for s in discussion.smart_actions)
        await self._post(
            Channel.MOSAIC_CASE_NOTE,
            f"discussion{self._discussion_round}-note-{number}",
            [self.team_manager_id, a.practitioner_id],
            f"Audit findings discussion ({cycle_month(a.cycle)} {KIND_TITLES[a.kind]})",
            f"discussion of the {cycle_label(a.cycle)} audit findings held on {discussion.held_on} with "
            f"{', '.join(discussion.attendees)}\n\n{discussion.oversight_note}"
            + (f"\n\nSMART actions:{actions}" if actions else ""),
            note_type="Management Oversight",
        )
        await self._email(
            f"discussion{self._discussion_round}-recorded-{number}",
            [self._piat_manager, a.allocated_by],
            f"Findings discussion recorded for review: case {a.case_ref}",
            f"Team Manager {self.team_manager_id} recorded the findings discussion of case {a.case_ref} ({a.audit_id}). "
            "Please review the note: accept it or ask for more.",
        )
        self._discussion_notes_sent = number

    async def _head_of_service_follow_up(self) -> None:
        """R-RE-3: the Head of Service records their follow-up of a 1st re-audit still below Good."""
        await self._wait(lambda: not self.follow_up_required or self.follow_up is not None)

    # ---- re-audits (R-RE) ----------------------------------------------------------------------

    async def _reaudit(self) -> None:
        """R-RE-1: plan the next re-audit's cycle, wait for it, run the re-audit as a child."""
        a = self.audit
        schedule = await workflow.execute_activity_method(
            CalendarActivities.reaudit_schedule, workflow.now(), summary="re-audit cycle (R-RE-1)", **ACTIVITY_OPTIONS
        )
        round_ = a.reaudit_round + 1
        self.reaudit = plan = ReauditPlan(
            round=round_, cycle=schedule.cycle, allocate_at=schedule.allocate_at, audit_id=f"{a.chain}-r{round_}", status="planned"
        )
        self._move(Stage.REAUDIT_PLANNED)
        self._record(SYSTEM, f"re-audit {round_} planned", f"cycle {schedule.cycle}")
        await self._wait(lambda: False, schedule.allocate_at, f"re-audit {round_} allocated in the {schedule.cycle} cycle (R-RE-1)")
        if self.follow_up_required and self.follow_up is None:
            await self._refresh_people()
            await self._email(
                "follow-up-reminder",
                [self.follow_up_owner_id],
                f"Head of Service follow-up not recorded: case {a.case_ref}",
                f"The 2nd re-audit of case {a.case_ref} starts now; your follow-up of the agreed actions (R-RE-3) is not recorded.",
            )
        contacts = await self._people_now()
        child = a.model_copy(
            update=dict(
                audit_id=plan.audit_id, kind=AuditKind.REAUDIT, cycle=plan.cycle, theme=None,
                # Nobody senior of the service in the directory, nor its Head of Service: PIAT, who
                # allocated the chain, hand it to a senior manager (R-KIND-6) with `reassign`.
                auditor_id=contacts.reauditor_id or a.allocated_by,
                head_of_service_id=contacts.head_of_service_id or self.head_of_service_id,
                team_manager_id=self.team_manager_id, cp_chair_or_iro_id=self.cp_chair_or_iro_id,
                piat_manager_id=self.piat_manager_id,
                reaudit_round=round_, follows_audit_id=a.audit_id, chain_id=a.chain,
            )
        )
        plan.status = "in_progress"
        self._move(Stage.REAUDIT_IN_PROGRESS)
        result = await workflow.execute_child_workflow(
            AuditWorkflow.run,
            child,
            id=f"audit-{child.audit_id}",
            search_attributes=sa.at_allocation(child),
            static_summary=f"re-audit {round_} of audit {a.audit_id}, cycle {child.cycle}",
        )
        plan.status, plan.final_overall_grade = "done", result.final_overall_grade
        self.chain_outcome = result.chain_outcome
        self._escalate(result.escalation)
        self._move(Stage.COMPLETED)

    async def _escalate_to_director(self) -> None:
        """R-RE-5: still below Good at the 2nd re-audit; the chain ends here."""
        a = self.audit
        contacts = await self._people_now()
        self.chain_outcome = ChainOutcome.ESCALATED
        self._escalate(Escalation.DIRECTOR)
        self._record(SYSTEM, "escalated to the Head of Service, Assistant Director and Director (R-RE-5)")
        await self._email(
            "escalated-to-director",
            [self.head_of_service_id, contacts.assistant_director_id, contacts.director_id],
            f"2nd re-audit still {grade_text(self.final_grade)}: case {a.case_ref}",
            f"Case {a.case_ref} has been audited ({a.chain}) and re-audited twice; the 2nd re-audit ({a.audit_id}) is "
            f"graded {grade_text(self.final_grade)}. Practice has not achieved the required outcomes (R-RE-5).",
        )

    async def _people_now(self) -> ServiceContacts:
        """Who holds each role now: looked up whenever a step needs them, as people leave and move
        over the months a chain runs. A role nobody holds now keeps whom the audit named."""
        if not self._people_change and self._contacts is not None:
            return self._contacts  # a run started before people could change looked them up once
        self._contacts = contacts = await workflow.execute_activity_method(
            DirectoryActivities.service_contacts, self.audit.practitioner_id,
            summary="who holds each role now (staff directory)", **ACTIVITY_OPTIONS,
        )
        if self._people_change:
            self._adopt(contacts)
        return contacts

    async def _refresh_people(self) -> None:
        """Before a step tells or waits for someone (runs started before people could change: no-op)."""
        if self._people_change:
            await self._people_now()

    def _adopt(self, contacts: ServiceContacts) -> None:
        """Take the directory's Team Manager and Head of Service, unless PIAT named someone."""
        for role, now in ((PersonRole.TEAM_MANAGER, contacts.team_manager_id),
                          (PersonRole.HEAD_OF_SERVICE, contacts.head_of_service_id)):
            before = self._person(role)
            if role in self._pinned or now is None or now == before:
                continue
            self._set_person(role, now)
            self._record(SYSTEM, f"{role.label} is now {now}", f"was {before}; from the staff directory")
        self.piat_manager_id = contacts.piat_manager_id or self.piat_manager_id

    def _person(self, role: PersonRole) -> str | None:
        return getattr(self, f"{role.value}_id")

    def _set_person(self, role: PersonRole, staff_id: str) -> None:
        setattr(self, f"{role.value}_id", staff_id)

    def _assistant_director_instead(self, contacts: ServiceContacts | None) -> str | None:
        """Decision (R-RE-3): a Head of Service who did the re-audit does not follow up their own
        report: the Assistant Director does."""
        if contacts and self.head_of_service_id == self.auditor_id:
            return contacts.assistant_director_id
        return None

    @property
    def follow_up_owner_id(self) -> str | None:
        return self._follow_up_by_assistant_director or self.head_of_service_id

    # ---- staff actions (Workflow Updates) ------------------------------------------------------

    @workflow.update
    def record_initial_grading(self, actor_id: str, grading: Grading) -> None:
        self.initial = grading
        self._amend_or_move(Stage.INITIALLY_GRADED)
        self._record(actor_id, "initial grading recorded", f"overall: {grade_text(grading.overall.grade)}")
        return None

    @record_initial_grading.validator
    def _validate_initial_grading(self, actor_id: str, grading: Grading) -> None:
        self._require_auditor(actor_id)
        self._require_stage(DRAFTING - {Stage.FINALLY_GRADED} | AMENDING, "record the initial grading")
        self._check_grades(grading.domains, grading.overall)

    @workflow.update
    def record_practitioner_conversation(self, actor_id: str, conversation: PractitionerConversation) -> None:
        self.conversation = conversation
        self._amend_or_move(Stage.FINALLY_GRADED)
        self._record(actor_id, "practitioner conversation and final grading recorded",
                     f"held on {conversation.held_on}; overall: {grade_text(conversation.overall.grade)}")
        return None

    @record_practitioner_conversation.validator
    def _validate_conversation(self, actor_id: str, conversation: PractitionerConversation) -> None:
        self._require_auditor(actor_id)
        if self.initial is None:
            raise out_of_order("record the initial grading before the practitioner conversation (R-AUD-5)")
        self._require_stage({Stage.INITIALLY_GRADED, Stage.FINALLY_GRADED} | AMENDING, "record the conversation")
        london_today = (workflow.now() + timedelta(hours=1)).date()  # UTC+1 at most: never refuse today
        if not self.allocated_at.date() <= conversation.held_on <= london_today:
            raise invalid(f"held_on must be between the allocation ({self.allocated_at.date()}) and today")
        self._check_grades(conversation.domains, conversation.overall)
        a = self.audit
        if a.reaudit_round == 2 and not {a.practitioner_id, self.team_manager_id} <= set(conversation.attendees):
            raise invalid(f"at a 2nd re-audit the re-auditor meets the practitioner ({a.practitioner_id}) and the "
                          f"Team Manager ({self.team_manager_id}): list both in attendees (R-RE-4)")

    @workflow.update
    def record_improvement_plan(self, actor_id: str, plan: ImprovementPlan) -> None:
        self.initial = self.initial.model_copy(update={"improvement_plan": list(plan.actions)})
        if self.stage in AMENDING:
            self.amended = True
        self._record(actor_id, "improvement plan recorded", f"{len(plan.actions)} actions")
        return None

    @record_improvement_plan.validator
    def _validate_improvement_plan(self, actor_id: str, plan: ImprovementPlan) -> None:
        self._require_auditor(actor_id)
        if self.initial is None:
            raise out_of_order("record the initial grading first; the plan can go with it (R-AUD-5)")
        self._require_stage(DRAFTING | AMENDING, "change the improvement plan")

    @workflow.update
    async def replace_person(self, actor_id: str, change: PersonChange) -> None:
        """PIAT names who takes over a role, at any stage: the wait moves to them, they are told
        what is waiting and by when, and a running dispute follows."""
        previous = self._person(change.role)
        self._set_person(change.role, change.staff_id)
        self._pinned.add(change.role)
        self.people_changes += 1
        self._record(actor_id, f"{change.role.label} replaced", f"{previous} -> {change.staff_id}: {change.reason}")
        if self._dispute_handle is not None:
            await self._dispute_handle.signal(DisputeWorkflow.people_changed, self._dispute_people())
        await self._email(
            f"person-{self.people_changes}",
            [change.staff_id, previous],
            f"You are now the {change.role.label} for the audit of case {self.case_ref}",
            f"{actor_id} named {change.staff_id} as the {change.role.label} for the {cycle_label(self.audit.cycle)} "
            f"audit of case {self.case_ref} ({self.audit_id}), in place of {previous}: {change.reason}\n{self._waiting_text(change.staff_id)}",
        )
        return None

    @replace_person.validator
    def _validate_replace_person(self, actor_id: str, change: PersonChange) -> None:
        if change.staff_id == self._person(change.role):
            raise invalid(f"{change.staff_id} is already the {change.role.label}")
        if change.staff_id == self.audit.practitioner_id:
            raise invalid("the practitioner cannot hold another role on their own audit")
        if change.role is PersonRole.AUDITOR and change.staff_id == self.team_manager_id:
            raise invalid("the auditor must not be the practitioner's own Team Manager")
        if change.role is PersonRole.TEAM_MANAGER and change.staff_id == self.auditor_id:
            raise invalid(f"{change.staff_id} audits this case, so cannot be its Team Manager too")
        if self._finished:
            raise out_of_order("the audit and its chain have ended; there is no one to replace")

    @workflow.update
    async def submit_for_qa(self, actor_id: str) -> None:
        self.submitted_at = workflow.now()
        self._clear_overdue("completion")
        self._move(Stage.AWAITING_QA)
        self._record(actor_id, "submitted for quality assurance")
        return await self._after_run_caught_up()

    @submit_for_qa.validator
    def _validate_submit(self, actor_id: str) -> None:
        self._require_auditor(actor_id)
        if self.stage is Stage.NOT_ACCEPTED and not self.amended:
            raise out_of_order(f"the audit was not accepted: the amendment was due by {when(self.deadlines.revision_due)} "
                               "(R-QA-3). Amend the grading or the conversation, then submit it again")
        if self.stage in AMENDING and not self.amended:
            raise out_of_order("amend the grading or the conversation before resubmitting (R-QA-2)")
        self._require_stage({Stage.FINALLY_GRADED} | AMENDING, "submit for quality assurance")
        plan_needed = self.audit.kind is AuditKind.PEER or self.final_grade in (Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)
        if plan_needed and not self.initial.improvement_plan:
            raise invalid("this audit needs an improvement plan with at least one action (R-AUD-1, R-KIND-2): "
                          "add it with PUT /audits/{id}/improvement-plan".replace("{id}", self.audit_id))

    @workflow.update
    async def quality_assure(self, actor_id: str, decision: QADecision) -> None:
        self.pending_qa = decision
        self.qa_decisions.append(QARecord(at=workflow.now(), by=actor_id, **decision.model_dump()))
        self._move(Stage.ACCEPTED if decision.decision == "accept" else Stage.REVISIONS_REQUESTED)
        self._record(actor_id, f"quality assurance: {decision.decision}", decision.details)
        view = await self._after_run_caught_up()
        if decision.decision == "return":
            return view
        # Accepted: answer with the findings discussion's due date too, once it is known.
        await workflow.wait_condition(lambda: not self._discussion_starting)
        return await self._answer()

    @quality_assure.validator
    def _validate_qa(self, actor_id: str, decision: QADecision) -> None:
        if actor_id == self.auditor_id:
            raise forbidden("an auditor cannot quality-assure their own report")
        self._require_stage({Stage.AWAITING_QA}, "quality-assure the report")

    @workflow.update
    async def reassign(self, actor_id: str, change: Reassignment) -> None:
        previous, self.auditor_id = self.auditor_id, change.auditor_id
        self.reassignments += 1
        self._record(actor_id, "reassigned", f"{previous} -> {change.auditor_id}: {change.reason}")
        self._changed()
        await self._email(
            f"reassigned-{self.reassignments}",
            [change.auditor_id, previous, self.team_manager_id],
            f"Audit reassigned: case {self.audit.case_ref}",
            f"The audit of case {self.audit.case_ref} moves from {previous} to {change.auditor_id} "
            f"({change.reason}). Its deadlines are unchanged (R-ALLOC-3): due by {when(self.deadlines.completion_due)}.",
        )
        return None

    @reassign.validator
    def _validate_reassign(self, actor_id: str, change: Reassignment) -> None:
        self._require_stage(BEFORE_DISTRIBUTION, "reassign the audit")
        if change.auditor_id == self.auditor_id:
            raise invalid(f"{change.auditor_id} is already the auditor")
        if change.auditor_id == self.audit.practitioner_id:
            raise invalid("the practitioner cannot audit their own work")

    @workflow.update
    async def share_previous_practitioner_feedback(self, actor_id: str, feedback: PreviousPractitionerFeedback) -> None:
        self._record(actor_id, "previous practitioner feedback sent", f"to {feedback.staff_id}")
        self._changed()
        await self._email(
            f"previous-practitioner-feedback-{len(self.history)}",
            [feedback.staff_id, feedback.team_manager_id],
            f"Audit findings on your earlier work: case {self.audit.case_ref}",
            f"The {cycle_label(self.audit.cycle)} audit of case {self.audit.case_ref} covers a period in which "
            f"you worked with the child. The auditor ({self.auditor_id}) shares these findings (R-AUD-7):\n"
            f"{feedback.findings}",
        )
        return None

    @share_previous_practitioner_feedback.validator
    def _validate_feedback(self, actor_id: str, feedback: PreviousPractitionerFeedback) -> None:
        self._require_auditor(actor_id)
        if self.stage is Stage.COMPLETED:
            raise out_of_order("the audit is complete; feedback is shared while the audit is open")
        if feedback.staff_id == self.audit.practitioner_id:
            raise invalid("feedback under R-AUD-7 is for a previous practitioner, not the allocated one")

    @workflow.update
    async def record_findings_discussion(self, actor_id: str, discussion: FindingsDiscussion) -> None:
        d = self.discussion
        d.records.append(DiscussionRecord(at=workflow.now(), by=actor_id, discussion=discussion))
        d.status = "recorded"
        self._clear_overdue("discussion")
        self._record(actor_id, "findings discussion recorded", f"{len(discussion.smart_actions)} SMART actions")
        # Answer once the note is on Mosaic and PIAT has been asked to review it.
        recorded = len(d.records)
        await workflow.wait_condition(lambda: self._discussion_notes_sent >= recorded)
        return await self._answer()

    @record_findings_discussion.validator
    def _validate_discussion(self, actor_id: str, discussion: FindingsDiscussion) -> None:
        a, d = self.audit, self.discussion
        if actor_id != self.team_manager_id:
            raise forbidden(f"only the Team Manager ({self.team_manager_id}) records the findings discussion")
        if d is None:
            raise out_of_order("no findings discussion is due for this audit" + ("" if self.report_sent_at else " yet"))
        if d.status not in ("awaited", "more_requested"):
            raise out_of_order(f"the findings discussion is {d.status.replace('_', ' ')}; PIAT reviews it next")
        if d.smart_actions_required and not discussion.smart_actions:
            raise invalid("this discussion must agree SMART actions (R-DISC-1)")
        if a.practitioner_id not in discussion.attendees:
            raise invalid(f"the practitioner ({a.practitioner_id}) takes part in the discussion: list them in attendees")
        if discussion.held_on < self.report_sent_at.date() or discussion.held_on > (workflow.now() + timedelta(hours=1)).date():
            raise invalid(f"held_on must be between the report ({self.report_sent_at.date()}) and today")

    @workflow.update
    def review_findings_discussion(self, actor_id: str, review: DiscussionReview) -> None:
        d = self.discussion
        d.reviews.append(ReviewRecord(at=workflow.now(), by=actor_id, review=review))
        d.status = "accepted" if review.decision == "accept" else "more_requested"
        self._record(actor_id, f"findings discussion review: {review.decision}", review.comments)
        return None

    @review_findings_discussion.validator
    def _validate_review(self, actor_id: str, review: DiscussionReview) -> None:
        if self.discussion is None or self.discussion.status != "recorded":
            status = self.discussion.status.replace("_", " ") if self.discussion else "not due"
            raise out_of_order(f"there is no recorded discussion to review (it is {status})")
        if actor_id == self.team_manager_id:
            raise forbidden("the Team Manager cannot review their own discussion note")

    @workflow.update
    def record_head_of_service_follow_up(self, actor_id: str, follow_up: HeadOfServiceFollowUp) -> None:
        self.follow_up = FollowUpRecord(at=workflow.now(), by=actor_id, follow_up=follow_up)
        self._record(actor_id, "Head of Service follow-up recorded")
        return None

    @record_head_of_service_follow_up.validator
    def _validate_follow_up(self, actor_id: str, follow_up: HeadOfServiceFollowUp) -> None:
        if actor_id != self.follow_up_owner_id:
            raise forbidden(f"only {self.follow_up_owner_id}, who follows up this re-audit (R-RE-3), records it")
        if not self.follow_up_required:
            raise out_of_order("no follow-up is due: only a 1st re-audit still below Good needs one (R-RE-3)")
        if self.follow_up is not None:
            raise out_of_order("the follow-up is already recorded")

    @workflow.update
    async def raise_dispute(self, actor_id: str, dispute: DisputeRaise) -> None:
        self.dispute, self.dispute_raised_by = dispute, actor_id
        self._record(actor_id, "dispute raised", ", ".join(dispute.domains_disputed))
        await workflow.wait_condition(lambda: self.dispute_id is not None)  # answer once it runs
        return None

    @raise_dispute.validator
    def _validate_dispute(self, actor_id: str, dispute: DisputeRaise) -> None:
        a = self.audit
        if actor_id not in (a.practitioner_id, self.team_manager_id):
            raise forbidden(f"only the practitioner ({a.practitioner_id}) or their Team Manager ({self.team_manager_id}) can dispute this audit")
        if self.dispute is not None:
            raise out_of_order("a dispute has already been raised about this audit; one per audit")
        if a.kind is AuditKind.PEER:
            raise invalid("peer audits are not graded, so there is no grading to dispute (R-KIND-2)")
        closes = self.deadlines.dispute_window_closes
        if self.stage is not Stage.DISPUTE_WINDOW or workflow.now() >= closes:
            window = f"it closed {when(closes)}" if closes else "the report has not been sent yet"
            raise out_of_order(f"a dispute is raised within the dispute window after the report (R-DIST-4): {window}")
        if unknown := [d for d in dispute.domains_disputed if d not in a.domains and d != "overall"]:
            raise invalid(f"not domains of this audit: {unknown}; use the tool's domain names or \"overall\"")

    @workflow.update
    async def allocation_recorded(self) -> None:
        """Returns once the deadlines are set and the allocation sent, so `POST /audits` shows them."""
        await workflow.wait_condition(lambda: self._allocated)
        return await self._answer()

    @workflow.query
    def view(self) -> AuditView:
        return self._view()

    # ---- checks shared by the validators ---------------------------------------------------------

    def _require_auditor(self, actor_id: str) -> None:
        if actor_id != self.auditor_id:
            raise forbidden(f"only the audit's current auditor ({self.auditor_id}) can do this")

    def _require_stage(self, allowed: set[Stage], action: str) -> None:
        if self.stage not in allowed:
            raise out_of_order(f"cannot {action} while the audit is {self.stage.value}")

    def _check_grades(self, domains: list[DomainGrade], overall: OverallGrade) -> None:
        """R-AUD-3: every domain of the tool once; a grade and rationale where applicable."""
        names = [d.domain for d in domains]
        expected = self.audit.domains
        if missing := [n for n in expected if n not in names]:
            raise invalid(f"missing domains (grade null marks one not applicable): {missing}")
        if unknown := [n for n in names if n not in expected]:
            raise invalid(f"domains not in the {self.audit.service_area.value} audit tool: {unknown}")
        if len(names) != len(set(names)):
            raise invalid("each domain may appear only once")
        if self.audit.kind is AuditKind.PEER:
            if overall.grade or any(d.grade for d in domains):
                raise invalid("peer audits are not graded (R-KIND-2): leave every grade null")
            if blank := [d.domain for d in domains if not d.rationale.strip()]:
                raise invalid(f"record findings for each domain of a peer audit: {blank}")
            return
        if overall.grade is None:
            raise invalid("the overall grade is required (R-AUD-3)")
        if not any(d.grade for d in domains):
            raise invalid("at least one domain must be graded")
        if blank := [d.domain for d in domains if d.grade and not d.rationale.strip()]:
            raise invalid(f"a graded domain needs a rationale: {blank}")

    # ---- workflow plumbing -----------------------------------------------------------------------

    @property
    def _piat_manager(self) -> str:
        """Who hears of PIAT's own misses and reviews (the PI&A Manager; else the allocating PIAT)."""
        return self.piat_manager_id or self.audit.allocated_by

    @property
    def final_grade(self) -> Grade | None:
        grading = self.final_grading
        return grading.overall.grade if grading else None

    @property
    def final_grading(self) -> Regrade | None:
        """The grading after QA and any dispute: what Mosaic, reports and re-audits use (R-REP-2)."""
        if self.regrade:
            return self.regrade
        c = self.conversation
        return Regrade(domains=c.domains, overall=c.overall) if c else None

    @property
    def _grading_is_final(self) -> bool:
        """R-REP-2: only the grading after QA and any dispute is reported: from the Mosaic upload
        on. (Runs started before this rule showed drafts, and replay their upserts that way.)"""
        return self.uploaded or not self._people_change

    @property
    def reported_grade(self) -> Grade | None:
        """The final overall grade once final: the `AuditOverallGrade` search attribute, the list."""
        return self.final_grade if self._grading_is_final else None

    async def _report_wait(self, condition: Callable[[], bool], until: datetime | None = None, summary: str = "") -> bool:
        """A wait of the report's own path: the updates that move it (submit, QA) answer once the run
        reaches the next such wait, so their answer carries the deadline it has just computed."""
        self._settled = self._requested
        return await self._wait(condition, until, summary)

    async def _after_run_caught_up(self) -> None:
        self._requested += 1
        request = self._requested
        await workflow.wait_condition(lambda: self._settled >= request)
        return await self._answer()

    def _move(self, stage: Stage) -> None:
        self.stage = stage
        self._changed()

    def _amend_or_move(self, stage: Stage) -> None:
        """During revisions the stage stays; elsewhere the report moves forward."""
        if self.stage in AMENDING:
            self.amended = True
            self._changed()
        else:
            self._move(stage)

    def _escalate(self, level: Escalation) -> None:
        if ESCALATION_ORDER.index(level) > ESCALATION_ORDER.index(self.escalation):
            self.escalation = level
            self._changed()

    def _refresh(self) -> None:
        waiting = self._waiting()
        self._upsert({
            sa.AUDIT_CYCLE: self.audit.cycle,
            sa.AUDIT_SERVICE_AREA: self.audit.service_area.value,
            sa.AUDIT_KIND: self.audit.kind.value,
            sa.AUDIT_STAGE: self.stage.value,
            sa.AUDIT_OVERALL_GRADE: self.reported_grade.value if self.reported_grade else None,
            sa.AUDIT_DUE_TIME: waiting.until if waiting else None,
            sa.AUDIT_OVERDUE: bool(self.overdue_steps),
            sa.AUDIT_REAUDIT_ROUND: self.audit.reaudit_round,
            sa.AUDIT_ESCALATION: self.escalation.value,
            sa.AUDIT_CHAIN: self.audit.chain,
        })
        workflow.set_current_details(details(self.stage.value, waiting, self.overdue_steps))

    def _waiting(self) -> Waiting | None:
        """What the audit waits for first: its report's stage, then the discussion, then the follow-up."""
        return self._waiting_on_report() or self._waiting_on_discussion() or self._waiting_on_follow_up()

    def _waiting_text(self, staff_id: str) -> str:
        """What waits on `staff_id` now, for the email that hands a role over."""
        waits = [w for w in (self._waiting_on_report(), self._waiting_on_discussion(), self._waiting_on_follow_up())
                 if w and staff_id in w.from_staff_ids]
        if not waits:
            return f"Nothing waits on you now; the audit is {self.stage.value.replace('_', ' ')}."
        return "\n".join(f"Waiting on you: {w.action}" + (f", by {when(w.until)}." if w.until else ".") for w in waits)

    def _dispute_people(self) -> DisputePeople:
        return DisputePeople(auditor_id=self.auditor_id, team_manager_id=self.team_manager_id,
                             head_of_service_id=self.head_of_service_id, pinned=sorted(self._pinned))

    def _waiting_on_discussion(self) -> Waiting | None:
        d, tm = self.discussion, self.team_manager_id
        if d is None or d.status == "accepted":
            return None
        if d.status == "recorded":
            return Waiting(action="review of the findings discussion note", from_role="piat", from_staff_ids=[])
        return Waiting(action="findings discussion recorded by the Team Manager", from_staff_ids=[tm], until=d.due)

    def _waiting_on_follow_up(self) -> Waiting | None:
        if self.follow_up_required and self.follow_up is None:
            return Waiting(action="Head of Service follow-up of the agreed actions (R-RE-3)",
                           from_staff_ids=[self.follow_up_owner_id])
        return None

    def _waiting_on_report(self) -> Waiting | None:
        a, d, auditor = self.audit, self.deadlines, [self.auditor_id]
        match self.stage:
            case Stage.ALLOCATED:
                return Waiting(action="initial grading after reviewing the record", from_staff_ids=auditor, until=d.completion_due)
            case Stage.INITIALLY_GRADED:
                return Waiting(action="practitioner conversation and final grading", from_staff_ids=auditor, until=d.completion_due)
            case Stage.FINALLY_GRADED:
                return Waiting(action="submission for quality assurance", from_staff_ids=auditor, until=d.completion_due)
            case Stage.AWAITING_QA:
                return Waiting(action="quality assurance by PIAT", from_role="piat", from_staff_ids=[], until=d.qa_due)
            case Stage.REVISIONS_REQUESTED:
                return Waiting(action="amended report", from_staff_ids=auditor, until=d.revision_due)
            case Stage.NOT_ACCEPTED:
                return Waiting(action=f"completed audit for the {self.carried_into_cycle} cycle", from_staff_ids=auditor, until=d.completion_due)
            case Stage.DISPUTE_WINDOW:
                return Waiting(action="dispute window: the practitioner or Team Manager may dispute the grading",
                               from_staff_ids=[a.practitioner_id, self.team_manager_id], until=d.dispute_window_closes)
            case Stage.IN_DISPUTE:
                return Waiting(action=f"the dispute ({self.dispute_id or 'starting'}) to end", from_staff_ids=[],
                               from_role="dispute")
            case Stage.REAUDIT_PLANNED:
                return Waiting(action=f"the {self.reaudit.cycle} cycle, when re-audit {self.reaudit.round} is allocated",
                               from_staff_ids=[], from_role="system", until=self.reaudit.allocate_at)
            case Stage.REAUDIT_IN_PROGRESS:
                return Waiting(action=f"re-audit {self.reaudit.round} ({self.reaudit.audit_id})",
                               from_staff_ids=[], from_role="re-auditor")
        return None

    def _report_text(self) -> str:
        a, c = self.audit, self.conversation
        lines = [f"Audit of case {a.case_ref}, {cycle_label(a.cycle)} cycle ({a.kind.value} audit).",
                 f"Auditor: {self.auditor_id}. Period covered: {self.period_start} to {self.period_end}."]
        if a.theme:
            lines.append(f"Theme: {a.theme}")
        lines.append(f"Overall: {grade_text(c.overall.grade)}. {c.overall.rationale}")
        lines += [f"- {d.domain}: {grade_text(d.grade)}. {d.rationale}".rstrip() for d in c.domains]
        lines.append(f"Practitioner conversation ({c.held_on}): {c.notes}")
        lines += ["Improvement plan:"] + [f"- {p.action} (owner {p.owner_id}, by {p.due_on})" for p in self.initial.improvement_plan]
        lines.append(f"You may dispute the grading within {a.policy.dispute_window_days} working days (R-DIST-4).")
        return "\n".join(lines)

    def _row(self, whole: bool) -> AuditRow:
        return AuditRow.of(self._view(), whole)

    def _view(self) -> AuditView:
        a = self.audit
        return AuditView(
            audit_id=a.audit_id, case_ref=a.case_ref, service_area=a.service_area, kind=a.kind, cycle=a.cycle,
            theme=a.theme, auditor_id=self.auditor_id, practitioner_id=a.practitioner_id,
            team_manager_id=self.team_manager_id, head_of_service_id=self.head_of_service_id,
            cp_chair_or_iro_id=self.cp_chair_or_iro_id, stage=self.stage, waiting_for=self._waiting(),
            overdue=bool(self.overdue_steps), overdue_steps=list(self.overdue_steps), allocated_at=self.allocated_at,
            audit_period_start=self.period_start, audit_period_end=self.period_end,
            carried_into_cycle=self.carried_into_cycle, deadlines=self.deadlines.model_copy(),
            initial_grading=self.initial, conversation=self.conversation, final_overall_grade=self.reported_grade,
            improvement_plan=self.initial.improvement_plan if self.initial else [],
            qa_decisions=list(self.qa_decisions), history=list(self.history),
            reaudit_round=a.reaudit_round, follows_audit_id=a.follows_audit_id, chain_id=a.chain,
            findings_discussion=self.discussion.model_copy() if self.discussion else None,
            head_of_service_follow_up_required=self.follow_up_required, head_of_service_follow_up=self.follow_up,
            reaudit=self.reaudit.model_copy() if self.reaudit else None, chain_outcome=self.chain_outcome,
            escalation=self.escalation, dispute_id=self.dispute_id, dispute_outcome=self.dispute_outcome,
            final_grading=self.final_grading if self._grading_is_final else None,
        )

