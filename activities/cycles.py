"""A cycle's activities: starting it, what it opened with, and its non-completion report (R-QA-4)."""

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from models.cycle_audits import cycle_audits, non_completion, overdue_incomplete
from models.cycle_views import CycleInput, CycleOpening, ServiceNonCompletion
from models.cycles import cycle_label
from models.moderation import ModerationPanelInput
from models.enums import Role
from models.staff import StaffDirectory


class NonCompletionRequest(BaseModel):
    cycle: str
    at: datetime


class CycleActivities:
    def __init__(self, engine: Engine, directory: StaffDirectory):
        self.engine, self.directory = engine, directory

    @activity.defn
    def cycle_opening(self, cycle: str) -> CycleOpening:
        with Session(self.engine) as session:
            held = cycle_audits(session, cycle)
        return CycleOpening(
            allocated=len(held.allocated), reaudits_due=len(held.reaudits_due), carried_over=len(held.carried_over)
        )

    @activity.defn
    def non_completion_report(self, req: NonCompletionRequest) -> list[ServiceNonCompletion]:
        """Sent to each service's Heads of Service as the directory names them now; with the
        cycle's own audits, every other cycle's still incomplete past its deadline."""
        heads: dict[str, list[str]] = {}
        for member in self.directory.with_role(Role.HEAD_OF_SERVICE):
            heads.setdefault(member.service_area, []).append(member.id)
        with Session(self.engine) as session:
            held, overdue = cycle_audits(session, req.cycle), overdue_incomplete(session, req.at)
        piat_managers = [m.id for m in self.directory.with_role(Role.PIAT_MANAGER)]
        return non_completion(held, req.at, heads, piat_managers, overdue)


class CycleStarts:
    """Starting a cycle (and, in a moderation month, its panel) through the client rather than as
    a child workflow: each outlives what started it (the Schedule's run, the cycle), and an
    abandoned child that ends after its parent holds the time-skipping test server's clock."""

    def __init__(self, client: Client, task_queue: str):
        self.client, self.task_queue = client, task_queue

    @activity.defn
    async def start_cycle(self, cycle: CycleInput) -> bool:
        """False if it was already running (PIAT set its theme early, or a retry)."""
        return await self._start("CycleWorkflow", cycle, f"cycle-{cycle.cycle}", f"the {cycle_label(cycle.cycle)} audit cycle")

    @activity.defn
    async def start_moderation_panel(self, panel: ModerationPanelInput) -> bool:
        """R-MOD-1; False if PIAT already started it by hand."""
        return await self._start(
            "ModerationPanelWorkflow", panel, f"moderation-{panel.cycle}", f"moderation panel, {cycle_label(panel.cycle)}"
        )

    async def _start(self, workflow: str, arg: BaseModel, workflow_id: str, summary: str) -> bool:
        try:
            await self.client.start_workflow(
                workflow,
                arg,
                id=workflow_id,
                task_queue=self.task_queue,
                static_summary=summary,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )  # once, ever
        except WorkflowAlreadyStartedError:
            return False
        return True
