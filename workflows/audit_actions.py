"""Staff actions on the report as Workflow Updates (R-AUD, R-QA, R-ALLOC-3, R-AUD-7, R-DISP-1):
each validator refuses a wrong person (403), a wrong moment (409) or incomplete content (422)
before anything is recorded; the handler records and moves the stage, and the run method
(workflows/audit.py) owns every deadline and notification. Part of `AuditWorkflow`."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.cycles import cycle_label
    from models.email_marks import person
    from models.enums import AuditKind, Grade, Stage
    from models.errors import forbidden, invalid, out_of_order
    from models.payloads import (
        DisputeRaise, DomainGrade, Grading, ImprovementPlan, OverallGrade, PractitionerConversation,
        PreviousPractitionerFeedback, QADecision, QARecord, Reassignment,
    )
    from models.rules import AMENDING, check_grades, refusal, stage_allows

from workflows.process import grade_text, when


class ReportActions:
    @workflow.update
    def record_initial_grading(self, actor_id: str, grading: Grading) -> None:
        self.initial = grading
        self._amend_or_move(Stage.INITIALLY_GRADED)
        self.projection.record(actor_id, "initial grading recorded", f"overall: {grade_text(grading.overall.grade)}")
        return None

    @record_initial_grading.validator
    def _validate_initial_grading(self, actor_id: str, grading: Grading) -> None:
        self._require_auditor(actor_id)
        self._require_stage("record_initial_grading")
        self._check_grades(grading.domains, grading.overall)

    @workflow.update
    def record_practitioner_conversation(self, actor_id: str, conversation: PractitionerConversation) -> None:
        self.conversation = conversation
        self._amend_or_move(Stage.FINALLY_GRADED)
        self.projection.record(actor_id, "practitioner conversation and final grading recorded",
                     f"held on {conversation.held_on}; overall: {grade_text(conversation.overall.grade)}")
        return None

    @record_practitioner_conversation.validator
    def _validate_conversation(self, actor_id: str, conversation: PractitionerConversation) -> None:
        self._require_auditor(actor_id)
        if self.initial is None:
            raise out_of_order("record the initial grading before the practitioner conversation (R-AUD-5)")
        self._require_stage("record_practitioner_conversation")
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
        self.projection.record(actor_id, "improvement plan recorded", f"{len(plan.actions)} actions")
        return None

    @record_improvement_plan.validator
    def _validate_improvement_plan(self, actor_id: str, plan: ImprovementPlan) -> None:
        self._require_auditor(actor_id)
        if self.initial is None:
            raise out_of_order("record the initial grading first; the plan can go with it (R-AUD-5)")
        self._require_stage("record_improvement_plan")

    @workflow.update
    async def submit_for_qa(self, actor_id: str) -> None:
        self.submitted_at = workflow.now()
        self.projection.clear_overdue("completion")
        self._move(Stage.AWAITING_QA)
        self.projection.record(actor_id, "submitted for quality assurance")
        return await self._after_run_caught_up()

    @submit_for_qa.validator
    def _validate_submit(self, actor_id: str) -> None:
        self._require_auditor(actor_id)
        if self.stage is Stage.NOT_ACCEPTED and not self.amended:
            raise out_of_order(f"the audit was not accepted: the amendment was due by {when(self.deadlines.revision_due)} "
                               "(R-QA-3). Amend the grading or the conversation, then submit it again")
        if self.stage in AMENDING and not self.amended:
            raise out_of_order("amend the grading or the conversation before resubmitting (R-QA-2)")
        self._require_stage("submit_for_qa")
        plan_needed = self.audit.kind is AuditKind.PEER or self.final_grade in (Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)
        if plan_needed and not self.initial.improvement_plan:
            raise invalid("this audit needs an improvement plan with at least one action (R-AUD-1, R-KIND-2): "
                          "add it with PUT /audits/{id}/improvement-plan".replace("{id}", self.audit_id))

    @workflow.update
    async def quality_assure(self, actor_id: str, decision: QADecision) -> None:
        self.pending_qa = decision
        self.qa_decisions.append(QARecord(at=workflow.now(), by=actor_id, **decision.model_dump()))
        self._move(Stage.ACCEPTED if decision.decision == "accept" else Stage.REVISIONS_REQUESTED)
        self.projection.record(actor_id, f"quality assurance: {decision.decision}", decision.details)
        view = await self._after_run_caught_up()
        if decision.decision == "return":
            return view
        # Accepted: answer with the findings discussion's due date too, once it is known.
        await workflow.wait_condition(lambda: not self._discussion_starting)
        return await self.projection.answer()

    @quality_assure.validator
    def _validate_qa(self, actor_id: str, decision: QADecision) -> None:
        if actor_id == self.auditor_id:
            raise forbidden("an auditor cannot quality-assure their own report")
        self._require_stage("quality_assure")

    @workflow.update
    async def reassign(self, actor_id: str, change: Reassignment) -> None:
        previous, self.auditor_id = self.auditor_id, change.auditor_id
        self.reassignments += 1
        self.projection.record(actor_id, "reassigned", f"{previous} -> {change.auditor_id}: {change.reason}")
        self.projection.changed()
        await self.notifier.email(
            f"reassigned-{self.reassignments}",
            [change.auditor_id, previous, self.team_manager_id],
            f"Audit reassigned: case {self.audit.case_ref}",
            f"The audit of case {self.audit.case_ref} moves from {person(previous)} to {person(change.auditor_id)}: "
            f"{change.reason}\nIts deadlines are unchanged.",
            **self._waiting_ask(change.auditor_id),
        )
        return None

    @reassign.validator
    def _validate_reassign(self, actor_id: str, change: Reassignment) -> None:
        self._require_stage("reassign")
        if change.auditor_id == self.auditor_id:
            raise invalid(f"{change.auditor_id} is already the auditor")
        if change.auditor_id == self.audit.practitioner_id:
            raise invalid("the practitioner cannot audit their own work")

    @workflow.update
    async def share_previous_practitioner_feedback(self, actor_id: str, feedback: PreviousPractitionerFeedback) -> None:
        self.projection.record(actor_id, "previous practitioner feedback sent", f"to {feedback.staff_id}")
        self.projection.changed()
        await self.notifier.email(
            f"previous-practitioner-feedback-{len(self.projection.history)}",
            [feedback.staff_id, feedback.team_manager_id],
            f"Audit findings on your earlier work: case {self.audit.case_ref}",
            f"The {cycle_label(self.audit.cycle)} audit of case {self.audit.case_ref} covers a period in which "
            f"{person(feedback.staff_id)} worked with the child. The auditor, {person(self.auditor_id)}, shares these "
            f"findings:\n{feedback.findings}",
            action="read the findings, and discuss them in supervision if they call for it",
        )
        return None

    @share_previous_practitioner_feedback.validator
    def _validate_feedback(self, actor_id: str, feedback: PreviousPractitionerFeedback) -> None:
        self._require_auditor(actor_id)
        self._require_stage("share_previous_practitioner_feedback")
        if feedback.staff_id == self.audit.practitioner_id:
            raise invalid("feedback under R-AUD-7 is for a previous practitioner, not the allocated one")

    @workflow.update
    async def raise_dispute(self, actor_id: str, dispute: DisputeRaise) -> None:
        self.dispute, self.dispute_raised_by = dispute, actor_id
        self.projection.record(actor_id, "dispute raised", ", ".join(dispute.domains_disputed))
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
        if not stage_allows("raise_dispute", self.stage) or workflow.now() >= closes:
            window = f"it closed {when(closes)}" if closes else "the report has not been sent yet"
            raise out_of_order(f"a dispute is raised within the dispute window after the report (R-DIST-4): {window}")
        if unknown := [d for d in dispute.domains_disputed if d not in a.domains and d != "overall"]:
            raise invalid(f"not domains of this audit: {unknown}; use the tool's domain names or \"overall\"")

    @workflow.update
    async def allocation_recorded(self) -> None:
        """Returns once the deadlines are set and the allocation sent, so `POST /audits` shows them."""
        await workflow.wait_condition(lambda: self._allocated)
        return await self.projection.answer()

    def _require_auditor(self, actor_id: str) -> None:
        if actor_id != self.auditor_id:
            raise forbidden(f"only the audit's current auditor ({self.auditor_id}) can do this")

    def _require_stage(self, action: str) -> None:
        """The stage rule of `action` (models/rules.py)."""
        if reason := refusal(action, self.stage):
            raise out_of_order(reason)

    def _check_grades(self, domains: list[DomainGrade], overall: OverallGrade) -> None:
        a = self.audit
        check_grades(a.kind, a.service_area, a.domains, domains, overall)

    async def _after_run_caught_up(self) -> None:
        self._requested += 1
        request = self._requested
        await workflow.wait_condition(lambda: self._settled >= request)
        return await self.projection.answer()
