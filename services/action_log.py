"""Reading the action log (who did or read what, when; api/action_log.py appends to it)."""

from sqlmodel import Session, select

from api.schemas.work import ActionLogPage
from models.tables import ActionLogEntry


def read_action_log(
    session: Session, *, audit_id: str | None = None, actor_id: str | None = None, before: int | None = None, limit: int = 100
) -> ActionLogPage:
    """Newest first, a page of `limit` entries older than `before`."""
    query = select(ActionLogEntry)
    for column, value in ((ActionLogEntry.audit_id, audit_id), (ActionLogEntry.actor_id, actor_id)):
        if value is not None:
            query = query.where(column == value)
    if before is not None:
        query = query.where(ActionLogEntry.id < before)
    entries = list(session.exec(query.order_by(ActionLogEntry.id.desc()).limit(limit)))
    return ActionLogPage(entries=entries, next_before=entries[-1].id if len(entries) == limit else None)
