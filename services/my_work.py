"""Everything waiting on a member of staff, across audits, disputes, safety concerns, moderation
panels and self-selection requests, soonest deadline first. Read from the `waiting` table, which
each process rewrites with its row whenever it changes."""

from datetime import UTC, datetime

from sqlmodel import Session, or_, select

from api.schemas.work import WorkItem
from models.staff import StaffMember
from models.tables import WaitingRecord

# Where each process is read in the API (its page, in time).
LINKS = {
    "audit": "/audits/{id}",
    "dispute": "/disputes/{id}",
    "safety_concern": "/safety-concerns/{id}",
    "moderation_panel": "/moderation-panels/{id}",
    "self_selection": "/self-selection-requests/{id}",
}


def my_work(session: Session, actor: StaffMember, now: datetime) -> list[WorkItem]:
    """What waits on `actor` by name, or on a role they hold; soonest deadline first, the undated last."""
    rows = session.exec(
        select(WaitingRecord).where(or_(WaitingRecord.staff_id == actor.id, WaitingRecord.role.in_(list(actor.roles))))
    ).all()
    items = [_item(row, now) for row in rows]
    return sorted(items, key=lambda i: (i.until is None, i.until or now, i.process, i.id))


def _item(row: WaitingRecord, now: datetime) -> WorkItem:
    until = row.until.replace(tzinfo=UTC) if row.until and row.until.tzinfo is None else row.until  # SQLite: naive UTC
    return WorkItem(
        process=row.process,
        id=row.process_id,
        case_ref=row.case_ref,
        action=row.action,
        until=until,
        overdue=row.overdue or bool(until and until < now),
        by_role=row.role,
        link=LINKS[row.process].format(id=row.process_id),
    )
