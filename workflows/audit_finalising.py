"""After the report is distributed (R-DIST-4, R-DISP, R-DIST-2, R-DIST-3): the dispute window, a
dispute run as a child workflow whose outcome is the final grading, the upload to Mosaic with its
alerts, then what the final grade sets in motion (R-RE)."""

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.cycles import cycle_label, cycle_month
    from models.disputes import DisputeInput
    from models.enums import AuditKind, ChainOutcome, Channel, Grade, Stage
    from models.rules import KIND_TITLES, escalates_to_director, needs_reaudit, requires_second_reaudit

from workflows.audit_discussion import DiscussionSteps
from workflows.audit_reaudit import Reaudits
from workflows.audit_state import AuditState
from workflows.audit_step import AuditHelpers, AuditStep
from workflows.dispute import DisputeWorkflow
from workflows.process import SYSTEM, grade_text, unique


class Finalising(AuditStep):
    def __init__(self, state: AuditState, helpers: AuditHelpers, discussion: DiscussionSteps, reaudits: Reaudits) -> None:
        super().__init__(state, helpers)
        self._discussion, self._reaudits = discussion, reaudits
        self.dispute: workflow.ChildWorkflowHandle[Any, Any] | None = None  # while one runs: it hears of people changed

    async def finalise(self) -> None:
        """The dispute window, Mosaic, then what the final grade sets in motion (R-RE)."""
        s = self.state
        if await self._hold_dispute_window():
            await self._run_dispute()
        await self._upload_to_mosaic()
        s.uploaded = True  # set with the stage, so one search-attribute upsert carries both
        s.final_at = workflow.now()
        self.move(Stage.COMPLETED)
        a, grade = s.audit, s.final_grade
        if needs_reaudit(a.kind, a.service_area, a.reaudit_round, grade):
            await self._reaudits.reaudit()
        elif escalates_to_director(a.reaudit_round, grade):
            await self._reaudits.escalate_to_director()
        elif a.reaudit_round:
            s.chain_outcome = ChainOutcome.CLOSED
            self.projection.changed()

    async def _hold_dispute_window(self) -> bool:
        """R-DIST-4: the Mosaic upload waits for the dispute window; True if a dispute was raised."""
        s = self.state
        # Already worked out for the report's email, where the calendar allowed (`ReportPath.distribute`).
        s.deadlines.dispute_window_closes = s.deadlines.dispute_window_closes or await self.calendar.working_days(
            workflow.now(), s.audit.policy.dispute_window_days, "dispute window closes (R-DIST-4)"
        )
        self.move(Stage.DISPUTE_WINDOW)
        raised = lambda: s.dispute is not None  # noqa: E731
        return await self.report_wait(raised, s.deadlines.dispute_window_closes, "dispute window (R-DIST-4)")

    async def _run_dispute(self) -> None:
        """R-DISP: the dispute runs as a child workflow; its outcome is the final grading."""
        s, a = self.state, self.state.audit
        contacts = await self.people.now()
        self.move(Stage.IN_DISPUTE)
        restart_discussion = self._discussion.pause()
        dispute = DisputeInput(
            audit_id=a.audit_id,
            case_ref=a.case_ref,
            cycle=a.cycle,
            raised_by=s.dispute_raised_by,
            raised=s.dispute,
            auditor_id=s.auditor_id,
            practitioner_id=a.practitioner_id,
            team_manager_id=s.team_manager_id,
            head_of_service_id=s.head_of_service_id,
            piat_id=a.piat,
            piat_manager_id=s.piat_manager,
            psw_id=contacts.psw_id,
            corporate_director_quality_standards_id=contacts.corporate_director_quality_standards_id,
            corporate_director_csc_id=contacts.corporate_director_csc_id,
            domains=a.domains,
            policy=a.policy,
            # So that the dispute's first email can say by when the meeting is due.
            meeting_due=self.calendar.known_deadline(workflow.now(), a.policy.dispute_meeting_days),
        )
        handle = await workflow.start_child_workflow(
            DisputeWorkflow.run,
            dispute,
            id=f"dispute-{a.audit_id}",
            static_summary=f"dispute about audit {a.audit_id}, raised by {s.dispute_raised_by}",
            task_timeout=a.policy.task_timeout,
        )
        s.dispute_id, self.dispute = handle.id, handle
        self.projection.changed()
        s.dispute_outcome = outcome = await handle
        self.dispute = None
        if outcome.regrade:
            s.regrade = outcome.regrade
            self.projection.record(SYSTEM, "final grading amended after the dispute", f"overall: {grade_text(s.final_grade)}")
            # A 1st re-audit regraded to Good no longer needs the Head of Service's follow-up.
            s.follow_up_required &= requires_second_reaudit(a.reaudit_round, s.final_grade)
        else:
            self.projection.record(SYSTEM, f"dispute {outcome.status}: the grading stands")
        if restart_discussion:
            s.report_sent_at = workflow.now()  # the final report went out with the dispute's end
            self._discussion.start()

    async def _upload_to_mosaic(self) -> None:
        """R-DIST-2 case note and R-DIST-3 alerts."""
        s, a = self.state, self.state.audit
        await self.people.refresh()
        alerted = [a.practitioner_id, s.team_manager_id, s.cp_chair_or_iro_id]
        if s.final_grade is Grade.INADEQUATE or requires_second_reaudit(a.reaudit_round, s.final_grade):
            alerted.append(s.head_of_service_id)
        to = unique(alerted)
        kind = KIND_TITLES[a.kind]
        title = f"{cycle_month(a.cycle)} {kind}"
        grading = f"overall grading: {grade_text(s.final_grade)}" if a.kind is not AuditKind.PEER else "peer audit: not graded"
        await self.notifier.post(
            Channel.MOSAIC_CASE_NOTE,
            "mosaic-case-note",
            to,
            title,
            f"audit completed as part of the {cycle_label(a.cycle)} audit cycle\n\n{grading}\n\n"
            "please see documents for copy of audit report with actions identified for completion "
            f"as part of the improvement plan\n\nMosaic alert sent to {', '.join(to)}",
        )
        await self.notifier.post(
            Channel.MOSAIC_ALERT,
            "mosaic-alert",
            to,
            f"{title} uploaded: case {a.case_ref}",
            f"The {cycle_label(a.cycle)} {kind.lower()} of case {a.case_ref} is on the record. {grading}.",
        )
