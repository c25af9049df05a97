"""The rows the API lists and filters (activities/persistence.py): each process's columns and its
whole view at every change (`Projection`)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from models.disputes import DisputeView
from models.payloads import AuditView, Waiting
from reports.facts import facts_of


class Projection(BaseModel):
    """A process's row for the API's lists: its columns at every change, and its whole view too.
    A run saves its row by local activity, whose input the history never holds, so the API
    answers a staff action with the view saved before the update answered, not by query. Runs
    begun before that (the `lean-steps` patch) saved by activity, their input recorded at each
    save: they save the whole view only first and last (the row's `view_current` says which),
    as a whole view at every change grew their history with the square of the audit's age."""

    view: dict[str, Any] | None = None  # the whole view, JSON-ready, when it is saved
    # What the process waits for now, and from whom: the `waiting` table, `GET /me/work`.
    waits: list[Waiting] = []

    def columns(self) -> dict[str, Any]:
        return self.model_dump(exclude={"view", "waits"})


class AuditRow(Projection):
    audit_id: str
    case_ref: str
    cycle: str
    service_area: str
    kind: str
    stage: str
    auditor_id: str
    practitioner_id: str
    team_manager_id: str
    head_of_service_id: str | None = None
    cp_chair_or_iro_id: str | None = None
    overall_grade: str | None
    overdue: bool
    completion_due: datetime | None
    reaudit_round: int
    follows_audit_id: str | None
    chain_id: str
    escalation: str
    carried_into_cycle: str | None = None
    reaudit_cycle: str | None = None
    updated_at: datetime
    facts: dict[str, Any] | None = None  # what the reports count (reports/facts.py), current at every save
    final_at: datetime | None = None  # when the grading became final (on Mosaic): the moderation draw counts from it

    @classmethod
    def of(cls, v: AuditView, whole: bool) -> "AuditRow":
        return cls(
            audit_id=v.audit_id,
            case_ref=v.case_ref,
            cycle=v.cycle,
            service_area=v.service_area.value,
            kind=v.kind.value,
            stage=v.stage.value,
            auditor_id=v.auditor_id,
            practitioner_id=v.practitioner_id,
            team_manager_id=v.team_manager_id,
            head_of_service_id=v.head_of_service_id,
            cp_chair_or_iro_id=v.cp_chair_or_iro_id,
            overdue=v.overdue,
            completion_due=v.deadlines.completion_due,
            overall_grade=v.final_overall_grade.value if v.final_overall_grade else None,
            reaudit_round=v.reaudit_round,
            follows_audit_id=v.follows_audit_id,
            chain_id=v.chain_id,
            escalation=v.escalation.value,
            carried_into_cycle=v.carried_into_cycle,
            reaudit_cycle=v.reaudit.cycle if v.reaudit and v.reaudit.status == "planned" else None,
            updated_at=v.history[-1].at if v.history else v.allocated_at,
            facts=facts_of(v).model_dump(mode="json"),
            final_at=v.final_at,
            view=v.model_dump(mode="json") if whole else None,
        )


class DisputeRow(Projection):
    dispute_id: str
    audit_id: str
    level: str
    step: str
    status: str
    overdue: bool
    raised_by: str
    updated_at: datetime

    @classmethod
    def of(cls, v: DisputeView, whole: bool) -> "DisputeRow":
        return cls(
            dispute_id=v.dispute_id,
            audit_id=v.audit_id,
            level=v.level.value,
            step=v.step.value,
            status=v.outcome.status if v.outcome else "open",
            overdue=v.overdue,
            raised_by=v.raised_by,
            updated_at=v.history[-1].at if v.history else v.raised_at,
            view=v.model_dump(mode="json") if whole else None,
        )
