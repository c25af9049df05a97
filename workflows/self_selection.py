"""Self-selection (R-ALLOC-2, Appendix C): an auditor asks to audit a case of their choosing, in
exceptional circumstances, and the Head of Service of that service agrees before the audit starts.

`self-selection-<request id>`: the Head of Service is emailed and answers within 5 working days.
Approval starts the audit (its own workflow, which outlives this one); a refusal, or no answer in
time, leaves the case unallocated and tells the auditor (Decision).
"""

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.persistence import PersistenceActivities
    from models import search_attributes as sa
    from models.cycles import cycle_label
    from models.email_marks import at, person
    from models.errors import forbidden, out_of_order
    from models.pages import audit_page, self_selection_page
    from models.payloads import Waiting
    from models.self_selection import SelfSelectionDecision, SelfSelectionInput, SelfSelectionRow, SelfSelectionView

from workflows.audit import AuditWorkflow
from workflows.process import SYSTEM, LocalActivities, Notifier, Projection, RecordedCalendar, details, wait


@workflow.defn
class SelfSelectionWorkflow:
    @workflow.init
    def __init__(self, request: SelfSelectionInput) -> None:
        self.request, self.audit_id, self.case_ref = request, request.audit.audit_id, request.audit.case_ref
        self.activities = LocalActivities()
        self.calendar = RecordedCalendar(self.activities)
        self.notifier = Notifier(self.activities, self.audit_id, self.case_ref, self._email_about)
        self.projection = Projection(
            self.activities,
            PersistenceActivities.save_self_selection_row,
            "save self-selection projection",
            self._row,
            self._refresh,
        )
        self.requested_at = workflow.now()
        self.status = "awaiting_decision"
        self.due: datetime | None = None
        self.decision: SelfSelectionDecision | None = None
        self.decided_by: str | None = None
        self.started_audit_id: str | None = None
        self._asked = False

    @workflow.run
    async def run(self, request: SelfSelectionInput) -> SelfSelectionView:
        a = request.audit
        self.projection.start()
        self.projection.record(a.auditor_id, "self-selection requested", request.reason)
        self.due = await self.calendar.working_days(
            self.requested_at, a.policy.self_selection_decision_days, "decision due (R-ALLOC-2)"
        )
        self.projection.changed()
        await self.notifier.email(
            "asked",
            [request.head_of_service_id],
            f"Self-selection request: case {a.case_ref}",
            f"{person(a.auditor_id)} asks to audit case {a.case_ref} (a {a.kind.value} audit in the "
            f"{cycle_label(a.cycle)} cycle; practitioner {person(a.practitioner_id)}) in exceptional "
            f"circumstances:\n{request.reason}\nWithout an answer by then the case stays unallocated.",
            action="approve or refuse the request",
            due=self.due,
        )
        self._asked = True
        await wait(lambda: self.decision is not None, self.due, "Head of Service's decision (R-ALLOC-2)")
        if self.decision is None:
            await self._close("unanswered", f"No decision was made by {at(self.due)}, so the case stays unallocated.")
        elif self.decision.approve:
            await self._start_audit()
        else:
            await self._close(
                "refused",
                f"{person(self.decided_by)} refused your request: "
                f"{self.decision.comment or 'no comment'}\nThe case stays unallocated.",
            )
        await self.projection.finish()
        return self._view()

    async def _start_audit(self) -> None:
        """The audit runs on its own (it outlives this request), under the case's usual ID."""
        a = self.request.audit.model_copy(update={"allocated_by": self.decided_by})
        try:
            await workflow.start_child_workflow(
                AuditWorkflow.run,
                a,
                id=f"audit-{a.audit_id}",
                parent_close_policy=ParentClosePolicy.ABANDON,
                search_attributes=sa.at_allocation(a),
                static_summary=f"self-selected {a.kind.value} audit, cycle {a.cycle}",
                task_timeout=a.policy.task_timeout,
            )
        except WorkflowAlreadyStartedError:
            await self._close("not_allocated", "Approved, but the case already has this audit in this cycle.")
            return
        self.started_audit_id = a.audit_id
        await self._close(
            "approved",
            f"{person(self.decided_by)} approved your request: the audit is allocated to you. "
            "Its allocation email says what is due and by when.",
        )

    async def _close(self, status: str, message: str) -> None:
        self.status = status
        self.projection.record(SYSTEM, f"self-selection {status}")
        a = self.request.audit
        await self.notifier.email(
            status, [a.auditor_id], f"Self-selection {status.replace('_', ' ')}: case {a.case_ref}", message, action=""
        )

    def _email_about(self) -> tuple[str, str]:
        """The request's page until it started an audit, then the audit's."""
        a = self.request.audit
        page = audit_page(self.started_audit_id) if self.started_audit_id else self_selection_page(self.request.request_id)
        return a.cycle, page

    # ---- the decision (a Workflow Update) ----------------------------------------------------

    @workflow.update
    async def decide(self, actor_id: str, decision: SelfSelectionDecision) -> None:
        self.decision, self.decided_by = decision, actor_id
        self.projection.record(actor_id, "approved" if decision.approve else "refused", decision.comment)
        await workflow.wait_condition(lambda: self.status != "awaiting_decision")  # answer with the outcome
        await self.projection.answer()

    @decide.validator
    def _validate_decide(self, actor_id: str, decision: SelfSelectionDecision) -> None:
        if actor_id != self.request.head_of_service_id:
            raise forbidden("only the Head of Service of the case's service decides this request")
        if self.decision is not None or self.status != "awaiting_decision":
            raise out_of_order(f"this request is already {self.status.replace('_', ' ')}")

    @workflow.update
    async def asked(self) -> None:
        """Answers once the Head of Service has been emailed, so a 201 means they are asked."""
        await workflow.wait_condition(lambda: self._asked)
        await self.projection.answer()

    @workflow.query
    def view(self) -> SelfSelectionView:
        return self._view()

    # ---- what operators and the API see -------------------------------------------------------

    def _waiting(self) -> Waiting | None:
        if self.status != "awaiting_decision":
            return None
        return Waiting(
            action="the Head of Service's decision (R-ALLOC-2)",
            from_staff_ids=[i for i in [self.request.head_of_service_id] if i],
            until=self.due,
        )

    def _refresh(self) -> None:
        workflow.set_current_details(details(self.status, self._waiting(), self.projection.overdue_steps))

    def _row(self, whole: bool) -> SelfSelectionRow:
        return SelfSelectionRow.of(self._view(), whole)

    def _view(self) -> SelfSelectionView:
        r, a = self.request, self.request.audit
        return SelfSelectionView(
            request_id=r.request_id,
            requested_by=a.auditor_id,
            requested_at=self.requested_at,
            case_ref=a.case_ref,
            cycle=a.cycle,
            kind=a.kind,
            reason=r.reason,
            head_of_service_id=r.head_of_service_id,
            status=self.status,
            due=self.due,
            decided_by=self.decided_by,
            decision=self.decision,
            audit_id=self.started_audit_id,
            history=list(self.projection.history),
        )
