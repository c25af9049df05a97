"""One dispute's state: the ladder's step and its deadlines, what each step recorded, who holds
each role, and how it ended. Plain data and what follows from it; the workflow
(workflows/dispute.py) owns it."""

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.disputes import LEVEL_OF_STEP, DisputeInput, StepRecord, Withdrawal
    from models.enums import DisputeLevel, DisputeStep
    from models.payloads import DisputeOutcome

from workflows.process import unique


@dataclass
class DisputeState:
    dispute: DisputeInput
    raised_at: datetime
    people: dict[str, str | None]  # who holds each role, by the role's name
    step: DisputeStep = DisputeStep.MEETING
    pinned: set[str] = field(default_factory=set)  # roles PIAT named on the audit: the directory no longer decides them
    owner_roles: tuple[str, ...] = ()  # who records the step waited on
    handovers: int = 0
    deadlines: dict[DisputeStep, datetime] = field(default_factory=dict)
    records: dict[DisputeStep, StepRecord] = field(default_factory=dict)
    payloads: dict[DisputeStep, BaseModel] = field(default_factory=dict)
    withdrawal: Withdrawal | None = None
    outcome: DisputeOutcome | None = None
    reached: DisputeStep | None = None  # the step whose deadline the run now waits on

    @classmethod
    def raised_with(cls, dispute: DisputeInput, at: datetime) -> "DisputeState":
        return cls(
            dispute=dispute,
            raised_at=at,
            people={
                "practitioner": dispute.practitioner_id,
                "team_manager": dispute.team_manager_id,
                "auditor": dispute.auditor_id,
                "head_of_service": dispute.head_of_service_id,
                "piat": dispute.piat_id,
                "piat_manager": dispute.piat_manager_id,
                "psw": dispute.psw_id,
                "cd_quality_standards": dispute.corporate_director_quality_standards_id,
                "cd_csc": dispute.corporate_director_csc_id,
            },
        )

    @property
    def owners(self) -> list[str]:
        """Who records the step waited on, as the roles are held now."""
        return self.ids(*self.owner_roles)

    def ids(self, *roles: str) -> list[str]:
        return unique([self.people.get(role) for role in roles])

    @property
    def level(self) -> DisputeLevel:
        return LEVEL_OF_STEP.get(self.step, self.outcome.level if self.outcome else DisputeLevel.INFORMAL)
