"""After the report is distributed (R-DIST-4, R-DISP, R-DIST-2, R-DIST-3): the dispute window, a
dispute run as a child workflow whose outcome is the final grading, and the upload to Mosaic
with its alerts. Part of `AuditWorkflow` (workflows/audit.py)."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.cycles import cycle_label, cycle_month
    from models.disputes import DisputeInput
    from models.enums import AuditKind, Channel, Grade, Stage
    from models.rules import KIND_TITLES, requires_second_reaudit

from workflows.dispute import DisputeWorkflow
from workflows.process import SYSTEM, grade_text, unique


class FinalisingSteps:
    def _dispute_ask(self) -> dict:
        """What the report asks: the practitioner or Team Manager may dispute the grading while
        the window is open (a peer audit is not graded: nothing to dispute)."""
        a = self.audit
        if a.kind is AuditKind.PEER:
            return dict(action="")
        closes = self.deadlines.dispute_window_closes
        within = "" if closes else f" within {a.policy.dispute_window_days} working days"
        return dict(action=f"read the report; if you disagree with the grading, raise a dispute on the audit's page{within}, "
                           "before the dispute window closes",
                    action_for=[a.practitioner_id, self.team_manager_id], due=closes)

    async def _hold_dispute_window(self) -> bool:
        """R-DIST-4: the Mosaic upload waits for the dispute window; True if a dispute was raised."""
        # Already worked out for the report's email, where the calendar allowed (`_distribute_report`).
        self.deadlines.dispute_window_closes = self.deadlines.dispute_window_closes or await self.calendar.working_days(
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
            team_manager_id=self.team_manager_id, head_of_service_id=self.head_of_service_id, piat_id=a.piat,
            piat_manager_id=self._piat_manager, psw_id=contacts.psw_id,
            corporate_director_quality_standards_id=contacts.corporate_director_quality_standards_id,
            corporate_director_csc_id=contacts.corporate_director_csc_id, domains=a.domains, policy=a.policy,
            # So that the dispute's first email can say by when the meeting is due.
            meeting_due=self.calendar.known_deadline(workflow.now(), a.policy.dispute_meeting_days),
        )
        handle = await workflow.start_child_workflow(
            DisputeWorkflow.run, dispute, id=f"dispute-{a.audit_id}",
            static_summary=f"dispute about audit {a.audit_id}, raised by {self.dispute_raised_by}", task_timeout=a.policy.task_timeout,
        )
        self.dispute_id, self._dispute_handle = handle.id, handle
        self.projection.changed()
        self.dispute_outcome = outcome = await handle
        self._dispute_handle = None
        if outcome.regrade:
            self.regrade = outcome.regrade
            self.projection.record(SYSTEM, "final grading amended after the dispute", f"overall: {grade_text(self.final_grade)}")
            # A 1st re-audit regraded to Good no longer needs the Head of Service's follow-up.
            self.follow_up_required &= requires_second_reaudit(a.reaudit_round, self.final_grade)
        else:
            self.projection.record(SYSTEM, f"dispute {outcome.status}: the grading stands")
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
        await self.notifier.post(
            Channel.MOSAIC_CASE_NOTE,
            "mosaic-case-note",
            alerted,
            title,
            f"audit completed as part of the {cycle_label(a.cycle)} audit cycle\n\n{grading}\n\n"
            "please see documents for copy of audit report with actions identified for completion "
            f"as part of the improvement plan\n\nMosaic alert sent to {', '.join(alerted)}",
        )
        await self.notifier.post(
            Channel.MOSAIC_ALERT,
            "mosaic-alert",
            alerted,
            f"{title} uploaded: case {a.case_ref}",
            f"The {cycle_label(a.cycle)} {kind.lower()} of case {a.case_ref} is on the record. {grading}.",
        )
