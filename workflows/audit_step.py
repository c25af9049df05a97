"""What every part of an audit's process works with: the audit's state and the helpers its
workflow owns (`AuditHelpers`), and the changes every part makes (`AuditStep`)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.enums import Escalation, Stage
    from models.rules import AMENDING

from workflows.audit_people import People
from workflows.audit_state import AuditState
from workflows.process import Notifier, Projection, RecordedCalendar, wait

ESCALATION_ORDER = list(Escalation)


@dataclass(frozen=True)
class AuditHelpers:
    calendar: RecordedCalendar
    notifier: Notifier
    projection: Projection
    people: People


class AuditStep:
    """A part of the audit's process (its report, the findings discussion, the finalising, the
    re-audits): the state it changes and the helpers it works through."""

    def __init__(self, state: AuditState, helpers: AuditHelpers) -> None:
        self.state = state
        self.calendar, self.notifier = helpers.calendar, helpers.notifier
        self.projection, self.people = helpers.projection, helpers.people

    def move(self, stage: Stage) -> None:
        self.state.stage = stage
        self.projection.changed()

    def amend_or_move(self, stage: Stage) -> None:
        """During revisions the stage stays; elsewhere the report moves forward."""
        if self.state.stage in AMENDING:
            self.state.amended = True
            self.projection.changed()
        else:
            self.move(stage)

    def escalate(self, level: Escalation) -> None:
        if ESCALATION_ORDER.index(level) > ESCALATION_ORDER.index(self.state.escalation):
            self.state.escalation = level
            self.projection.changed()

    async def report_wait(self, condition: Callable[[], bool], until: datetime | None = None, summary: str = "") -> bool:
        """A wait of the report's own path: the updates that move it (submit, QA) answer once the run
        reaches the next such wait, so their answer carries the deadline it has just computed."""
        self.state.settled = self.state.requested
        return await wait(condition, until, summary)
