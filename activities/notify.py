"""Notifications: email over SMTP, and Mosaic case notes and alerts through an adapter.

Every send carries a key (workflow ID + step) stored under a unique constraint, so an activity
retried after a crash or timeout never sends twice.
"""

import smtplib
from email.message import EmailMessage
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.enums import Channel
from models.payloads import Notification
from models.staff import StaffDirectory
from models.tables import MosaicOutbox, NotificationRecord


class MosaicAdapter(Protocol):
    """The port to the case record system. `session` commits with the notification record."""

    def post(self, session: Session, notification: Notification) -> None: ...


class OutboxMosaic:
    """Default adapter: writes case notes and alerts to `mosaic_outbox` for an integration to drain."""

    def __init__(self, timezone: str = "Europe/London"):
        self.tz = ZoneInfo(timezone)

    def post(self, session: Session, notification: Notification) -> None:
        local = notification.at.astimezone(self.tz)
        if notification.channel is Channel.MOSAIC_CASE_NOTE:
            kind, payload = "case_note", {
                # R-DIST-2: the fields of Mosaic's case-note form.
                "title": notification.subject[:100],
                "note_type": notification.note_type,
                "date": f"{local:%d/%m/%Y}",
                "time": f"{local:%H:%M}",
                "significant_event": False,
                "note": notification.body,
            }
        else:
            kind, payload = "alert", {"title": notification.subject, "text": notification.body}
        payload["alert_recipient_ids"] = notification.recipient_ids
        session.add(
            MosaicOutbox(
                key=notification.key,
                case_ref=notification.case_ref or "",
                kind=kind,
                payload=payload,
                created_at=notification.at,
            )
        )


class NotifyActivities:
    def __init__(
        self,
        engine: Engine,
        directory: StaffDirectory,
        smtp_host: str,
        smtp_port: int,
        sender: str,
        mosaic: MosaicAdapter,
    ):
        self.engine = engine
        self.directory = directory
        self.smtp_host, self.smtp_port, self.sender = smtp_host, smtp_port, sender
        self.mosaic = mosaic

    @activity.defn
    def send_email(self, n: Notification) -> None:
        addresses = self._addresses(n.recipient_ids)
        with Session(self.engine) as session:
            record = session.exec(select(NotificationRecord).where(NotificationRecord.key == n.key)).first()
            if record and record.delivered:
                return  # a retry after the send succeeded
            if record is None:
                record = _record(n)
                session.add(record)
                session.commit()
            message = EmailMessage()
            message["From"] = self.sender
            message["To"] = ", ".join(addresses)
            message["Subject"] = n.subject
            # A stable Message-ID lets mail systems drop the rare duplicate of an unacknowledged send.
            message["Message-ID"] = f"<{n.key.replace('/', '.')}@qsaf.council.example>"
            message["X-QSAF-Key"] = n.key
            message.set_content(n.body)
            with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=30) as smtp:
                smtp.send_message(message)
            record.delivered = True
            session.add(record)
            session.commit()

    @activity.defn
    def post_to_mosaic(self, n: Notification) -> None:
        if n.channel is Channel.EMAIL:
            raise ApplicationError("post_to_mosaic takes case notes and alerts", non_retryable=True)
        self._addresses(n.recipient_ids)  # every alert recipient must be a known member of staff
        with Session(self.engine) as session:
            if session.exec(select(NotificationRecord.id).where(NotificationRecord.key == n.key)).first():
                return
            record = _record(n)
            record.delivered = True
            session.add(record)
            self.mosaic.post(session, n)
            session.commit()

    def _addresses(self, staff_ids: list[str]) -> list[str]:
        unknown = [i for i in staff_ids if i not in self.directory]
        if unknown or not staff_ids:
            raise ApplicationError(f"no such staff to notify: {unknown or 'none named'}", non_retryable=True)
        return [self.directory.get(i).email for i in staff_ids]


def _record(n: Notification) -> NotificationRecord:
    return NotificationRecord(
        key=n.key,
        audit_id=n.audit_id,
        channel=n.channel.value,
        recipient_ids=n.recipient_ids,
        subject=n.subject,
        body=n.body,
        at=n.at,
    )
