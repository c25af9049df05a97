"""A dispute's recorded steps (R-DISP-2..9, withdrawal), each a Workflow Update of
`DisputeWorkflow`: each validator refuses a wrong person, a step not yet due or one already taken
(the ladder's owners by role), and the handler stores the step for the run (workflows/dispute.py)
to act on."""

from datetime import date, timedelta

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.enums import DisputeStep
    from models.errors import forbidden, invalid, out_of_order
    from models.disputes import StepRecord, Withdrawal
    from models.payloads import Regrade
    from models.rules import check_graded_domains

from workflows.dispute_state import DisputeState
from workflows.process import Projection


class DisputeActions:
    def __init__(self, state: DisputeState, projection: Projection) -> None:
        self.state, self._projection = state, projection

    async def store(self, step: DisputeStep, actor_id: str, payload: BaseModel) -> None:
        """Record a step, then answer once the run has moved on: the next step's deadline is set,
        or the dispute has ended."""
        s = self.state
        s.payloads[step] = payload
        s.records[step] = StepRecord(step=step, at=workflow.now(), by=actor_id, record=payload.model_dump(mode="json"))
        self._projection.record(actor_id, f"{step.value.replace('_', ' ')} recorded")
        await workflow.wait_condition(lambda: s.outcome is not None or s.reached not in (None, step))
        await self._projection.answer()

    def expect(self, step: DisputeStep, actor_id: str) -> None:
        """Right step, right person."""
        s = self.state
        self._require_open()
        if s.step is not step or step in s.records:
            raise out_of_order(
                f"the dispute is waiting for the {s.step.value.replace('_', ' ')}, not the {step.value.replace('_', ' ')}"
            )
        if actor_id not in s.owners:
            raise forbidden(f"the {step.value.replace('_', ' ')} is recorded by {' or '.join(s.owners)}")

    def expect_held(self, step: DisputeStep, actor_id: str, held_on: date) -> None:
        """A step held on a day: between the dispute and today."""
        self.expect(step, actor_id)
        raised = self.state.raised_at.date()
        if not raised <= held_on <= (workflow.now() + timedelta(hours=1)).date():
            raise invalid(f"held_on must be between the dispute ({raised}) and today")

    def expect_regrade(self, step: DisputeStep, actor_id: str, regrade: Regrade | None, outcome: str = "resolved") -> None:
        """A step that may carry a regrade: only a resolved one, grading every domain once."""
        self.expect(step, actor_id)
        if regrade is None:
            return
        if outcome != "resolved":
            raise invalid("only a resolved dispute carries a regrade")
        domains = self.state.dispute.domains
        if sorted(g.domain for g in regrade.domains) != sorted(domains):
            raise invalid(f"a regrade grades every domain of the audit tool once: {domains}")
        if regrade.overall.grade is None:
            raise invalid("a regrade needs the overall grade")
        check_graded_domains(regrade.domains)  # it replaces the report's grading: it holds what one must

    def withdraw(self, actor_id: str, withdrawal: Withdrawal) -> None:
        self.state.withdrawal = withdrawal
        self._projection.record(actor_id, "dispute withdrawn", withdrawal.reason)

    def validate_withdraw(self, actor_id: str) -> None:
        s = self.state
        self._require_open()
        if s.step in s.records:  # recorded, and the ladder not yet moved on from it
            raise out_of_order(
                f"the {s.step.value.replace('_', ' ')} has just been recorded and the dispute is "
                "moving on: withdraw it, if it is still open, once it waits for its next step"
            )
        if actor_id != s.dispute.raised_by:
            raise forbidden(f"only {s.dispute.raised_by}, who raised the dispute, can withdraw it")

    def _require_open(self) -> None:
        if self.state.outcome is not None or self.state.withdrawal is not None:
            raise out_of_order("the dispute has ended")
