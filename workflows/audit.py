"""One audit's lifecycle: allocation to Mosaic (R-ALLOC, R-AUD, R-QA, R-DIST), then the findings
discussion (R-DISC) and any re-audit (R-RE), each re-audit a child workflow of the audit it follows.

The run method is the process as the framework tells it, step after step; staff act through
Workflow Updates whose validators refuse a wrong person, a wrong moment or incomplete content
before anything is recorded. Update handlers only record and move the stage; the run owns every
deadline and every notification.

The workflow owns the audit's state (`AuditState`, workflows/audit_state.py), its helpers (local
activities, the recorded calendar, notifications, the projection: workflows/process.py; who holds
each role: audit_people.py) and the parts of its process, each a class over the state and the
helpers: the report's path (audit_report.py), the staff actions on the report (audit_actions.py),
the findings discussion (audit_discussion.py), the dispute window, any dispute and the Mosaic
upload (audit_finalising.py) and re-audits (audit_reaudit.py). What it shows: audit_view.py.
The handlers here are thin: each hands its work to the part it belongs to.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.persistence import PersistenceActivities
    from models.payloads import (
        AuditInput,
        AuditOutcome,
        AuditView,
        DiscussionReview,
        DisputeRaise,
        FindingsDiscussion,
        Grading,
        HeadOfServiceFollowUp,
        ImprovementPlan,
        PersonChange,
        PractitionerConversation,
        PreviousPractitionerFeedback,
        QADecision,
        Reassignment,
    )

from workflows import audit_view
from workflows.audit_actions import ReportActions
from workflows.audit_discussion import DiscussionSteps
from workflows.audit_finalising import Finalising
from workflows.audit_people import People
from workflows.audit_reaudit import Reaudits
from workflows.audit_report import ReportPath
from workflows.audit_state import AuditState
from workflows.audit_step import AuditHelpers
from workflows.process import SYSTEM, LocalActivities, Notifier, Projection, RecordedCalendar


@workflow.defn
class AuditWorkflow:
    @workflow.init
    def __init__(self, audit: AuditInput) -> None:
        self.state = s = AuditState.allocated_with(audit, workflow.now())
        activities = LocalActivities()
        notifier = Notifier(activities, audit.audit_id, audit.case_ref, lambda: audit_view.email_about(s))
        self.projection = projection = Projection(
            activities,
            PersistenceActivities.save_audit_row,
            "save audit projection",
            lambda whole: audit_view.row(s, projection, whole),
            lambda: audit_view.refresh(s, projection),
        )
        # Recorded with the start when the API allocated it: no local activity to record it.
        calendar = RecordedCalendar(activities, audit.calendar)
        helpers = AuditHelpers(calendar, notifier, projection, People(s, activities, notifier, projection))
        self.people = helpers.people
        self.report = ReportPath(s, helpers)
        self.actions = ReportActions(s, helpers)
        self.discussion = DiscussionSteps(s, helpers)
        self.finalising = Finalising(s, helpers, self.discussion, Reaudits(s, helpers, AuditWorkflow.run))

    # ---- the process ------------------------------------------------------------------------

    @workflow.run
    async def run(self, audit: AuditInput) -> AuditOutcome:
        s, report = self.state, self.report
        self.projection.start()
        if audit.reaudit_round:
            self.projection.record(
                SYSTEM,
                f"re-audit {audit.reaudit_round} allocated",
                f"follows {audit.follows_audit_id}; cycle {audit.cycle}, auditor {audit.auditor_id}",
            )
        else:
            self.projection.record(audit.allocated_by, "allocated", f"cycle {audit.cycle}, auditor {audit.auditor_id}")
        await report.allocate()
        while True:
            await report.await_submission()
            if await report.quality_assurance():
                break
            await report.carry_into_next_cycle()
        await report.distribute()
        # The findings discussion runs alongside the dispute window, any dispute, the upload and
        # any re-audit; a dispute restarts it on the final report (`Finalising`).
        self.discussion.start()
        await self.finalising.finalise()
        await self.discussion.ended()
        await self.discussion.head_of_service_follow_up()
        s.finished = True
        await self.projection.finish()
        return AuditOutcome(
            audit_id=audit.audit_id,
            stage=s.stage,
            final_overall_grade=s.reported_grade,
            chain_outcome=s.chain_outcome,
            escalation=s.escalation,
        )

    @workflow.query
    def view(self) -> AuditView:
        return audit_view.view(self.state, self.projection)

    # ---- the report (audit_actions.py) ----------------------------------------------------------------

    @workflow.update
    async def allocation_recorded(self) -> None:
        await self.actions.allocation_recorded()

    @workflow.update
    def record_initial_grading(self, actor_id: str, grading: Grading) -> None:
        self.actions.record_initial_grading(actor_id, grading)

    @record_initial_grading.validator
    def _validate_initial_grading(self, actor_id: str, grading: Grading) -> None:
        self.actions.validate_initial_grading(actor_id, grading)

    @workflow.update
    def record_practitioner_conversation(self, actor_id: str, conversation: PractitionerConversation) -> None:
        self.actions.record_practitioner_conversation(actor_id, conversation)

    @record_practitioner_conversation.validator
    def _validate_conversation(self, actor_id: str, conversation: PractitionerConversation) -> None:
        self.actions.validate_conversation(actor_id, conversation)

    @workflow.update
    def record_improvement_plan(self, actor_id: str, plan: ImprovementPlan) -> None:
        self.actions.record_improvement_plan(actor_id, plan)

    @record_improvement_plan.validator
    def _validate_improvement_plan(self, actor_id: str, plan: ImprovementPlan) -> None:
        self.actions.validate_improvement_plan(actor_id)

    @workflow.update
    async def submit_for_qa(self, actor_id: str) -> None:
        await self.actions.submit_for_qa(actor_id)

    @submit_for_qa.validator
    def _validate_submit(self, actor_id: str) -> None:
        self.actions.validate_submit(actor_id)

    @workflow.update
    async def quality_assure(self, actor_id: str, decision: QADecision) -> None:
        await self.actions.quality_assure(actor_id, decision)

    @quality_assure.validator
    def _validate_qa(self, actor_id: str, decision: QADecision) -> None:
        self.actions.validate_qa(actor_id)

    @workflow.update
    async def reassign(self, actor_id: str, change: Reassignment) -> None:
        await self.actions.reassign(actor_id, change)

    @reassign.validator
    def _validate_reassign(self, actor_id: str, change: Reassignment) -> None:
        self.actions.validate_reassign(change)

    @workflow.update
    async def share_previous_practitioner_feedback(self, actor_id: str, feedback: PreviousPractitionerFeedback) -> None:
        await self.actions.share_previous_practitioner_feedback(actor_id, feedback)

    @share_previous_practitioner_feedback.validator
    def _validate_feedback(self, actor_id: str, feedback: PreviousPractitionerFeedback) -> None:
        self.actions.validate_feedback(actor_id, feedback)

    @workflow.update
    async def raise_dispute(self, actor_id: str, dispute: DisputeRaise) -> None:
        await self.actions.raise_dispute(actor_id, dispute)

    @raise_dispute.validator
    def _validate_dispute(self, actor_id: str, dispute: DisputeRaise) -> None:
        self.actions.validate_dispute(actor_id, dispute)

    # ---- who holds each role (audit_people.py) ------------------------------------------------------

    @workflow.update
    async def replace_person(self, actor_id: str, change: PersonChange) -> None:
        await self.people.replace(actor_id, change, self.finalising.dispute)

    @replace_person.validator
    def _validate_replace_person(self, actor_id: str, change: PersonChange) -> None:
        self.people.validate_replace(change)

    # ---- after the report (audit_discussion.py) -----------------------------------------------------

    @workflow.update
    async def record_findings_discussion(self, actor_id: str, discussion: FindingsDiscussion) -> None:
        await self.discussion.record(actor_id, discussion)

    @record_findings_discussion.validator
    def _validate_discussion(self, actor_id: str, discussion: FindingsDiscussion) -> None:
        self.discussion.validate_record(actor_id, discussion)

    @workflow.update
    def review_findings_discussion(self, actor_id: str, review: DiscussionReview) -> None:
        self.discussion.review(actor_id, review)

    @review_findings_discussion.validator
    def _validate_review(self, actor_id: str, review: DiscussionReview) -> None:
        self.discussion.validate_review(actor_id)

    @workflow.update
    def record_head_of_service_follow_up(self, actor_id: str, follow_up: HeadOfServiceFollowUp) -> None:
        self.discussion.record_follow_up(actor_id, follow_up)

    @record_head_of_service_follow_up.validator
    def _validate_follow_up(self, actor_id: str, follow_up: HeadOfServiceFollowUp) -> None:
        self.discussion.validate_follow_up(actor_id)
