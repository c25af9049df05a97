"""`GET /me/work`: everything waiting on me, across audits, disputes, safety concerns, moderation
panels and self-selection requests, soonest deadline first. Read from the `waiting` table, which
each process rewrites with its row whenever it changes."""

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import Session, or_, select

from api.clock import Now
from api.deps import Actor, Svc
from api.permissions import permit
from models.tables import WaitingRecord

router = APIRouter(tags=["my work"])

# Where each process is read in the API (its page, in time).
LINKS = {"audit": "/audits/{id}", "dispute": "/disputes/{id}", "safety_concern": "/safety-concerns/{id}",
         "moderation_panel": "/moderation-panels/{id}", "self_selection": "/self-selection-requests/{id}"}


class WorkItem(BaseModel):
    process: str  # audit, dispute, safety_concern, moderation_panel, self_selection
    id: str
    case_ref: str | None
    action: str
    until: datetime | None
    overdue: bool  # past `until`, or a step of the process is overdue
    by_role: str | None  # waiting on anyone holding this role (e.g. PIAT's quality assurance)
    link: str


@router.get("/me/work", response_model=list[WorkItem], dependencies=[permit("my_work")])
def my_work(actor: Actor, svc: Svc, now: Now) -> list[WorkItem]:
    """What waits on me by name, or on a role I hold; soonest deadline first, the undated last."""
    roles = list(actor.roles)
    with Session(svc.engine) as session:
        rows = session.exec(select(WaitingRecord).where(
            or_(WaitingRecord.staff_id == actor.id, WaitingRecord.role.in_(roles)))).all()
    items = [_item(row, now) for row in rows]
    return sorted(items, key=lambda i: (i.until is None, i.until or now, i.process, i.id))


def _item(row: WaitingRecord, now: datetime) -> WorkItem:
    until = row.until.replace(tzinfo=UTC) if row.until and row.until.tzinfo is None else row.until  # SQLite: naive UTC
    return WorkItem(process=row.process, id=row.process_id, case_ref=row.case_ref, action=row.action, until=until,
                    overdue=row.overdue or bool(until and until < now), by_role=row.role,
                    link=LINKS[row.process].format(id=row.process_id))
