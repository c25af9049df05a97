"""The projections the API lists and filters: audits, disputes, safety concerns, cycles."""

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from models.cycle_views import CycleRow
from models.disputes import DisputeView
from models.payloads import AuditView, Waiting
from models.projections import AuditRow, DisputeRow, Projection
from models.safety import SafetyConcernRow
from models.tables import AuditRecord, CycleRecord, DisputeRecord, SafetyConcernRecord, WaitingRecord


class PersistenceActivities:
    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn
    def save_audit_row(self, row: AuditRow) -> None:
        """Upsert the audit's row. Idempotent: the last save wins."""
        self._upsert(AuditRecord, "audit_id", row, "audit")

    @activity.defn
    def save_dispute_row(self, row: DisputeRow) -> None:
        self._upsert(DisputeRecord, "dispute_id", row, "dispute")

    @activity.defn
    def save_safety_concern_row(self, row: SafetyConcernRow) -> None:
        self._upsert(SafetyConcernRecord, "concern_id", row, "safety_concern")

    @activity.defn
    def save_cycle_row(self, row: CycleRow) -> None:
        self._upsert(CycleRecord, "cycle", row, "cycle")

    # Runs started before rows were saved column by column send their whole view each time.

    @activity.defn
    def save_audit_snapshot(self, view: AuditView) -> None:
        self.save_audit_row(AuditRow.of(view, whole=True))

    @activity.defn
    def save_dispute_snapshot(self, view: DisputeView) -> None:
        self.save_dispute_row(DisputeRow.of(view, whole=True))

    def _upsert(self, table, key: str, row: Projection, process: str) -> None:
        """One INSERT … ON CONFLICT UPDATE of the row and its waits, in one transaction: no read
        of the row first (the ORM's read before each write was an eighth of the worker's time)."""
        columns = row.columns()
        changed = columns | ({"view": row.view, "view_current": True} if row.view is not None else {"view_current": False})
        statement = upsert(self.engine, table).values({"view": {}} | changed)  # a row is never without a view
        with Session(self.engine) as session:
            session.exec(statement.on_conflict_do_update(index_elements=[key], set_=changed))
            replace_waits(session, process, columns[key], columns.get("case_ref"), row.waits, columns.get("overdue", False))
            session.commit()


def upsert(engine: Engine, table):
    """The dialect's INSERT that takes ON CONFLICT: SQLite in development, PostgreSQL in production."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    return insert(table)


def replace_waits(session: Session, process: str, process_id: str, case_ref: str | None, waits: list[Waiting],
                  overdue: bool = False) -> None:
    """What the process waits for now, in the same transaction as its row: one row per person,
    or one for the role when anyone holding it may act."""
    session.exec(delete(WaitingRecord).where(WaitingRecord.process == process, WaitingRecord.process_id == process_id))
    for wait in waits:
        for staff_id in wait.from_staff_ids or [None]:
            if staff_id or wait.from_role:
                session.add(WaitingRecord(process=process, process_id=process_id, case_ref=case_ref, action=wait.action,
                                          staff_id=staff_id, role=None if staff_id else wait.from_role, until=wait.until,
                                          overdue=overdue))
