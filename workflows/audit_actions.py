"""Staff actions on the report (R-AUD, R-QA, R-ALLOC-3, R-AUD-7, R-DISP-1), each a Workflow Update
of `AuditWorkflow`: each validator refuses a wrong person (403), a wrong moment (409, by the stage
rules of models/rules.py) or incomplete content (422) before anything is recorded; the handler
records and moves the stage, and the run (workflows/audit_report.py, audit_finalising.py) owns
every deadline and notification."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.cycles import cycle_label
    from models.email_marks import person
    from models.enums import AuditKind, Grade, Stage
    from models.errors import forbidden, invalid, out_of_order
    from models.payloads import (
        DisputeRaise,
        DomainGrade,
        Grading,
        ImprovementPlan,
        OverallGrade,
        PractitionerConversation,
        PreviousPractitionerFeedback,
        QADecision,
        QARecord,
        Reassignment,
    )
    from models.rules import AMENDING, check_grades, refusal, stage_allows

from workflows.audit_step import AuditStep
from workflows.audit_view import waiting_ask
from workflows.process import grade_text, when


class ReportActions(AuditStep):
    def record_initial_grading(self, actor_id: str, grading: Grading) -> None:
        self.state.initial = grading
        self.amend_or_move(Stage.INITIALLY_GRADED)
        self.projection.record(actor_id, "initial grading recorded", f"overall: {grade_text(grading.overall.grade)}")

    def validate_initial_grading(self, actor_id: str, grading: Grading) -> None:
        self._require_auditor(actor_id)
        self._require_stage("record_initial_grading")
        self._check_grades(grading.domains, grading.overall)

    def record_practitioner_conversation(self, actor_id: str, conversation: PractitionerConversation) -> None:
        self.state.conversation = conversation
        self.amend_or_move(Stage.FINALLY_GRADED)
        self.projection.record(
            actor_id,
            "practitioner conversation and final grading recorded",
            f"held on {conversation.held_on}; overall: {grade_text(conversation.overall.grade)}",
        )

    def validate_conversation(self, actor_id: str, conversation: PractitionerConversation) -> None:
        s, a = self.state, self.state.audit
        self._require_auditor(actor_id)
        if s.initial is None:
            raise out_of_order("record the initial grading before the practitioner conversation (R-AUD-5)")
        self._require_stage("record_practitioner_conversation")
        london_today = (workflow.now() + timedelta(hours=1)).date()  # UTC+1 at most: never refuse today
        if not s.allocated_at.date() <= conversation.held_on <= london_today:
            raise invalid(f"held_on must be between the allocation ({s.allocated_at.date()}) and today")
        self._check_grades(conversation.domains, conversation.overall)
        if a.reaudit_round == 2 and not {a.practitioner_id, s.team_manager_id} <= set(conversation.attendees):
            raise invalid(
                f"at a 2nd re-audit the re-auditor meets the practitioner ({a.practitioner_id}) and the "
                f"Team Manager ({s.team_manager_id}): list both in attendees (R-RE-4)"
            )

    def record_improvement_plan(self, actor_id: str, plan: ImprovementPlan) -> None:
        s = self.state
        assert s.initial is not None  # the validator
        s.initial = s.initial.model_copy(update={"improvement_plan": list(plan.actions)})
        if s.stage in AMENDING:
            s.amended = True
        self.projection.record(actor_id, "improvement plan recorded", f"{len(plan.actions)} actions")

    def validate_improvement_plan(self, actor_id: str) -> None:
        self._require_auditor(actor_id)
        if self.state.initial is None:
            raise out_of_order("record the initial grading first; the plan can go with it (R-AUD-5)")
        self._require_stage("record_improvement_plan")

    async def submit_for_qa(self, actor_id: str) -> None:
        self.state.submitted_at = workflow.now()
        self.projection.clear_overdue("completion")
        self.move(Stage.AWAITING_QA)
        self.projection.record(actor_id, "submitted for quality assurance")
        await self._after_run_caught_up()

    def validate_submit(self, actor_id: str) -> None:
        s = self.state
        self._require_auditor(actor_id)
        if s.stage is Stage.NOT_ACCEPTED and not s.amended:
            raise out_of_order(
                f"the audit was not accepted: the amendment was due by {when(s.deadlines.revision_due)} "
                "(R-QA-3). Amend the grading or the conversation, then submit it again"
            )
        if s.stage in AMENDING and not s.amended:
            raise out_of_order("amend the grading or the conversation before resubmitting (R-QA-2)")
        self._require_stage("submit_for_qa")
        plan_needed = s.audit.kind is AuditKind.PEER or s.final_grade in (Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)
        if plan_needed and not (s.initial and s.initial.improvement_plan):
            raise invalid(
                "this audit needs an improvement plan with at least one action (R-AUD-1, R-KIND-2): "
                "add it with PUT /audits/{id}/improvement-plan".replace("{id}", s.audit.audit_id)
            )

    async def quality_assure(self, actor_id: str, decision: QADecision) -> None:
        s = self.state
        s.pending_qa = decision
        s.qa_decisions.append(QARecord(at=workflow.now(), by=actor_id, **decision.model_dump()))
        self.move(Stage.ACCEPTED if decision.decision == "accept" else Stage.REVISIONS_REQUESTED)
        self.projection.record(actor_id, f"quality assurance: {decision.decision}", decision.details)
        await self._after_run_caught_up()
        if decision.decision == "return":
            return
        # Accepted: answer with the findings discussion's due date too, once it is known.
        await workflow.wait_condition(lambda: not s.discussion_starting)
        await self.projection.answer()

    def validate_qa(self, actor_id: str) -> None:
        if actor_id == self.state.auditor_id:
            raise forbidden("an auditor cannot quality-assure their own report")
        self._require_stage("quality_assure")

    async def reassign(self, actor_id: str, change: Reassignment) -> None:
        s = self.state
        previous, s.auditor_id = s.auditor_id, change.auditor_id
        s.reassignments += 1
        self.projection.record(actor_id, "reassigned", f"{previous} -> {change.auditor_id}: {change.reason}")
        self.projection.changed()
        await self.notifier.email(
            f"reassigned-{s.reassignments}",
            [change.auditor_id, previous, s.team_manager_id],
            f"Audit reassigned: case {s.audit.case_ref}",
            f"The audit of case {s.audit.case_ref} moves from {person(previous)} to {person(change.auditor_id)}: "
            f"{change.reason}\nIts deadlines are unchanged.",
            **waiting_ask(s, change.auditor_id),
        )

    def validate_reassign(self, change: Reassignment) -> None:
        self._require_stage("reassign")
        if change.auditor_id == self.state.auditor_id:
            raise invalid(f"{change.auditor_id} is already the auditor")
        if change.auditor_id == self.state.audit.practitioner_id:
            raise invalid("the practitioner cannot audit their own work")

    async def share_previous_practitioner_feedback(self, actor_id: str, feedback: PreviousPractitionerFeedback) -> None:
        s, a = self.state, self.state.audit
        self.projection.record(actor_id, "previous practitioner feedback sent", f"to {feedback.staff_id}")
        self.projection.changed()
        await self.notifier.email(
            f"previous-practitioner-feedback-{len(self.projection.history)}",
            [feedback.staff_id, feedback.team_manager_id],
            f"Audit findings on your earlier work: case {a.case_ref}",
            f"The {cycle_label(a.cycle)} audit of case {a.case_ref} covers a period in which "
            f"{person(feedback.staff_id)} worked with the child. The auditor, {person(s.auditor_id)}, shares these "
            f"findings:\n{feedback.findings}",
            action="read the findings, and discuss them in supervision if they call for it",
        )

    def validate_feedback(self, actor_id: str, feedback: PreviousPractitionerFeedback) -> None:
        self._require_auditor(actor_id)
        self._require_stage("share_previous_practitioner_feedback")
        if feedback.staff_id == self.state.audit.practitioner_id:
            raise invalid("feedback under R-AUD-7 is for a previous practitioner, not the allocated one")

    async def raise_dispute(self, actor_id: str, dispute: DisputeRaise) -> None:
        s = self.state
        s.dispute, s.dispute_raised_by = dispute, actor_id
        self.projection.record(actor_id, "dispute raised", ", ".join(dispute.domains_disputed))
        await workflow.wait_condition(lambda: s.dispute_id is not None)  # answer once it runs

    def validate_dispute(self, actor_id: str, dispute: DisputeRaise) -> None:
        s, a = self.state, self.state.audit
        if actor_id not in (a.practitioner_id, s.team_manager_id):
            raise forbidden(
                f"only the practitioner ({a.practitioner_id}) or their Team Manager ({s.team_manager_id}) can dispute this audit"
            )
        if s.dispute is not None:
            raise out_of_order("a dispute has already been raised about this audit; one per audit")
        if a.kind is AuditKind.PEER:
            raise invalid("peer audits are not graded, so there is no grading to dispute (R-KIND-2)")
        closes = s.deadlines.dispute_window_closes
        if not stage_allows("raise_dispute", s.stage) or closes is None or workflow.now() >= closes:
            window = f"it closed {when(closes)}" if closes else "the report has not been sent yet"
            raise out_of_order(f"a dispute is raised within the dispute window after the report (R-DIST-4): {window}")
        if unknown := [d for d in dispute.domains_disputed if d not in a.domains and d != "overall"]:
            raise invalid(f'not domains of this audit: {unknown}; use the tool\'s domain names or "overall"')

    async def allocation_recorded(self) -> None:
        """Returns once the deadlines are set and the allocation sent, so `POST /audits` shows them."""
        await workflow.wait_condition(lambda: self.state.allocated)
        await self.projection.answer()

    def _require_auditor(self, actor_id: str) -> None:
        if actor_id != self.state.auditor_id:
            raise forbidden(f"only the audit's current auditor ({self.state.auditor_id}) can do this")

    def _require_stage(self, action: str) -> None:
        """The stage rule of `action` (models/rules.py)."""
        if reason := refusal(action, self.state.stage):
            raise out_of_order(reason)

    def _check_grades(self, domains: list[DomainGrade], overall: OverallGrade) -> None:
        a = self.state.audit
        check_grades(a.kind, a.service_area, a.domains, domains, overall)

    async def _after_run_caught_up(self) -> None:
        s = self.state
        s.requested += 1
        request = s.requested
        await workflow.wait_condition(lambda: s.settled >= request)
        await self.projection.answer()
