"""Retention: what the app database holds past its retention goes, weekly (workflows/retention.py,
the worker's `retention-purge` Schedule) or when an operator runs `python -m scripts.purge`.

- Emails, Mosaic case notes and alerts (`notification`): the subject and body, which name the
  child's case, are blanked; the row stays, so delivery counts and who was told when still add up.
  An email still pending is never touched: the relay would send it blank.
- The action log: rows are deleted, up to the app's setting and never past the retention the
  database itself holds (`retention_floor`, migrations/versions/0019_retention.py), which its
  triggers enforce. On PostgreSQL the app's role cannot delete from the log: it calls
  `purge_action_log`, which runs as the owner and deletes only such rows.

Each run leaves its counts in `purged`, one row per table, for the reports."""

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import Connection, delete, func, insert, or_, select, text, update
from sqlalchemy.engine import Engine
from temporalio import activity

from models.settings import Settings
from models.tables import ActionLogEntry, NotificationRecord, Purged, RetentionFloor


class RetentionPolicy(BaseModel):
    notification_days: int
    action_log_days: int

    @classmethod
    def of(cls, settings: Settings) -> "RetentionPolicy":
        return cls(notification_days=settings.retention_notification_days, action_log_days=settings.retention_action_log_days)


class PurgeCount(BaseModel):
    table_name: str
    before: datetime  # what was older than this went (or would go)
    rows: int


def purge(engine: Engine, policy: RetentionPolicy, now: datetime, dry_run: bool = False) -> list[PurgeCount]:
    """Blank or delete what is past its retention at `now`, in one transaction; with `dry_run`,
    only count it (nothing changes, nothing is recorded)."""
    with engine.begin() as connection:
        counts = [
            _notifications(connection, now - timedelta(days=policy.notification_days), dry_run),
            _action_log(connection, now - timedelta(days=policy.action_log_days), dry_run),
        ]
        if not dry_run:
            connection.execute(insert(Purged.__table__), [{"at": now, **count.model_dump()} for count in counts])
    return counts


N = NotificationRecord.__table__.c


def _notifications(connection: Connection, before: datetime, dry_run: bool) -> PurgeCount:
    # Sent, or given up on (`not_delivered`, no sent_at): counted from when it was recorded.
    past = [N.delivery != "pending", func.coalesce(N.sent_at, N.at) < before, or_(N.subject != "", N.body != "")]
    if dry_run:
        rows = connection.execute(select(func.count()).where(*past)).scalar_one()
    else:
        rows = connection.execute(update(NotificationRecord.__table__).where(*past).values(subject="", body="")).rowcount
    return PurgeCount(table_name="notification", before=before, rows=rows)


A = ActionLogEntry.__table__.c


def _action_log(connection: Connection, before: datetime, dry_run: bool) -> PurgeCount:
    before = min(before, _floor(connection))
    if dry_run:
        rows = connection.execute(select(func.count()).where(A.at < before)).scalar_one()
    elif connection.dialect.name == "postgresql":
        rows = connection.execute(text("SELECT purge_action_log(:before)"), {"before": before}).scalar_one()
    else:  # SQLite's trigger lets these rows, and only rows past the floor, be deleted
        rows = connection.execute(delete(ActionLogEntry.__table__).where(A.at < before)).rowcount
    return PurgeCount(table_name="action_log", before=before, rows=rows)


def _floor(connection: Connection) -> datetime:
    """The newest instant the database lets the log be purged to, by its own clock (its triggers
    compare with that clock, not the app's)."""
    days = connection.execute(select(RetentionFloor.days).where(RetentionFloor.table_name == "action_log")).scalar_one()
    now = connection.execute(select(func.current_timestamp())).scalar_one()
    if isinstance(now, str):  # SQLite: 'YYYY-MM-DD HH:MM:SS', UTC
        now = datetime.fromisoformat(now)
    return (now if now.tzinfo else now.replace(tzinfo=UTC)) - timedelta(days=days)


class RetentionActivities:
    def __init__(self, engine: Engine, policy: RetentionPolicy):
        self.engine, self.policy = engine, policy

    @activity.defn
    def purge_past_retention(self, now: datetime) -> list[PurgeCount]:
        """Safe to retry: what was blanked or deleted is not counted again."""
        return purge(self.engine, self.policy, now)
