"""The projections the API lists, filters and reads: audits, disputes, safety concerns, cycles,
self-selection requests."""

import functools

from sqlalchemy import Table, bindparam, delete, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from models.cycle_views import CycleRow
from models.payloads import Waiting
from models.projections import AuditRow, DisputeRow, Projection
from models.safety import SafetyConcernRow
from models.self_selection import SelfSelectionRow
from models.tables import (
    AuditRecord,
    CycleRecord,
    DisputeRecord,
    SafetyConcernRecord,
    SelfSelectionRecord,
    WaitingRecord,
)


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

    @activity.defn
    def save_self_selection_row(self, row: SelfSelectionRow) -> None:
        self._upsert(SelfSelectionRecord, "request_id", row, "self_selection")

    def _upsert(self, table, key: str, row: Projection, process: str) -> None:
        """The row and its waits in one transaction, as prepared Core statements: no read of the
        row first, no ORM unit of work (together an eighth of the worker's time in `make bench`)."""
        columns = row.columns()
        values = columns | {"view": row.view or {}, "view_current": row.view is not None}
        with Session(self.engine) as session:
            statement = upsert_statement(self.engine.dialect.name, table.__table__, key, tuple(values), row.view is not None)
            session.connection().execute(statement, values)
            replace_waits(session, process, columns[key], columns.get("case_ref"), row.waits, columns.get("overdue", False))
            session.commit()


@functools.cache
def upsert_statement(dialect: str, table: Table, key: str, names: tuple[str, ...], with_view: bool):
    """INSERT … ON CONFLICT (key) UPDATE, built once per table and shape: SQLite in development,
    PostgreSQL in production. Without a view (a run that saves it first and last only) the row
    keeps the one it has; a new row is never without one."""
    insert = dialect_insert(dialect, table).values({name: bindparam(name, type_=table.c[name].type) for name in names})
    kept = {key} | (set() if with_view else {"view"})
    return insert.on_conflict_do_update(
        index_elements=[key], set_={name: insert.excluded[name] for name in names if name not in kept}
    )


@functools.cache
def insert_once_statement(dialect: str, table: Table, key: str):
    """INSERT … ON CONFLICT (key) DO NOTHING RETURNING key, built once: a retried activity's second
    insert returns no row, and of two concurrent attempts one inserts, without a read first. (The
    returned row, not the row count: psycopg reports -1 rows for it.)"""
    return dialect_insert(dialect, table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])


def dialect_insert(dialect: str, table: Table):
    """The dialect's INSERT, which takes ON CONFLICT: SQLite in development, PostgreSQL in production."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


WAITING = WaitingRecord.__table__


def replace_waits(
    session: Session, process: str, process_id: str, case_ref: str | None, waits: list[Waiting], overdue: bool = False
) -> None:
    """What the process waits for now, in the same transaction as its row: one row per person,
    or one for the role when anyone holding it may act."""
    connection = session.connection()
    connection.execute(delete(WAITING).where(WAITING.c.process == process, WAITING.c.process_id == process_id))
    rows = [
        dict(
            process=process,
            process_id=process_id,
            case_ref=case_ref,
            action=wait.action,
            staff_id=staff_id,
            role=None if staff_id else wait.from_role,
            until=wait.until,
            overdue=overdue,
        )
        for wait in waits
        for staff_id in wait.from_staff_ids or [None]
        if staff_id or wait.from_role
    ]
    if rows:
        connection.execute(insert(WAITING), rows)
