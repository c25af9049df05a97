"""The projections that `GET /audits` and `GET /disputes` list and filter."""

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from models.payloads import AuditView, DisputeView
from models.tables import AuditRecord, DisputeRecord


class PersistenceActivities:
    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn
    def save_audit_snapshot(self, view: AuditView) -> None:
        """Upsert the audit's row. Idempotent: the last snapshot wins."""
        record = AuditRecord(
            audit_id=view.audit_id,
            case_ref=view.case_ref,
            cycle=view.cycle,
            service_area=view.service_area.value,
            kind=view.kind.value,
            stage=view.stage.value,
            auditor_id=view.auditor_id,
            practitioner_id=view.practitioner_id,
            team_manager_id=view.team_manager_id,
            overall_grade=view.final_overall_grade.value if view.final_overall_grade else None,
            overdue=view.overdue,
            completion_due=view.deadlines.completion_due,
            reaudit_round=view.reaudit_round,
            follows_audit_id=view.follows_audit_id,
            chain_id=view.chain_id,
            escalation=view.escalation.value,
            updated_at=view.history[-1].at if view.history else view.allocated_at,
            view=view.model_dump(mode="json"),
        )
        self._upsert(record)

    @activity.defn
    def save_dispute_snapshot(self, view: DisputeView) -> None:
        self._upsert(
            DisputeRecord(
                dispute_id=view.dispute_id,
                audit_id=view.audit_id,
                level=view.level.value,
                step=view.step.value,
                status=view.outcome.status if view.outcome else "open",
                overdue=view.overdue,
                raised_by=view.raised_by,
                updated_at=view.history[-1].at if view.history else view.raised_at,
                view=view.model_dump(mode="json"),
            )
        )

    def _upsert(self, record) -> None:
        with Session(self.engine) as session:
            session.merge(record)
            session.commit()
