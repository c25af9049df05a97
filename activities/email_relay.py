"""The email relay: delivers the outbox's pending emails over SMTP and marks each one sent.

It runs beside the worker (worker.py). Workflows never wait for it: an email activity commits the
message and returns, so an SMTP server down for hours only delays mail, retried with backoff.

Exactly once, as far as SMTP allows: a message is marked `sent` in the same moment the server
accepts it; a relay killed between the server's acceptance and that commit sends it again on
restart with the same Message-ID (SMTP has no way to ask whether a message arrived), which the
council's mail system can use to drop the duplicate. A worker killed at any other point sends
nothing twice: the activity's retry finds its key in the outbox.
"""

import asyncio
import logging
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.engine import Engine
from sqlmodel import Session, or_, select

from activities.notify import NOT_DELIVERED, PENDING, SENT
from models.tables import NotificationRecord

log = logging.getLogger("qsaf.relay")


class EmailRelay:
    def __init__(self, engine: Engine, smtp_host: str, smtp_port: int, sender: str,
                 retry_max: timedelta = timedelta(minutes=5), poll: timedelta = timedelta(seconds=5)):
        self.engine = engine
        self.smtp_host, self.smtp_port, self.sender = smtp_host, smtp_port, sender
        self.retry_max, self.poll = retry_max, poll
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called from activity threads after they commit an email: deliver it now."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Deliver until cancelled: on each wake-up, and every `poll` for retries that fall due."""
        self._loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            try:
                await asyncio.to_thread(self.deliver_due)
            except Exception:  # noqa: BLE001 - the database may be briefly locked; try again next round
                log.exception("email relay round failed")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll.total_seconds())
            except TimeoutError:
                pass

    def deliver_due(self) -> int:
        """Send every pending email whose time has come; the number sent."""
        now = datetime.now(UTC)
        with Session(self.engine) as session:
            due = session.exec(
                select(NotificationRecord)
                .where(NotificationRecord.delivery == PENDING)
                .where(or_(NotificationRecord.next_attempt_at.is_(None), NotificationRecord.next_attempt_at <= now))
                .order_by(NotificationRecord.id)
                .limit(100)
            ).all()
            sent = 0
            for record in due:
                outcome = self._deliver(record)
                session.add(record)
                session.commit()  # at once: the acceptance is recorded before the next message goes
                if outcome is None:
                    break  # the server is unreachable: the rest wait for the next round
                sent += outcome
        return sent

    def _deliver(self, record: NotificationRecord) -> bool | None:
        """True: accepted; False: refused for good; None: the server could not be reached."""
        record.attempts += 1
        try:
            with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=30) as smtp:
                smtp.send_message(self._message(record))
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as refused:
            if _permanent(refused):
                record.delivery, record.last_error = NOT_DELIVERED, f"refused by the mail server: {_code(refused)}"
                log.warning("email %s refused by the mail server (%s)", record.key, _code(refused))
                return False
            return self._retry_later(record, f"mail server deferred it: {_code(refused)}")
        except (OSError, smtplib.SMTPException) as error:
            return self._retry_later(record, f"mail server unavailable ({type(error).__name__})")
        record.delivery, record.sent_at, record.next_attempt_at = SENT, datetime.now(UTC), None
        return True

    def _retry_later(self, record: NotificationRecord, why: str) -> None:
        """Back off exponentially up to `retry_max`; the outbox keeps the message meanwhile."""
        wait = min(self.retry_max, timedelta(seconds=2 ** min(record.attempts, 20)))
        record.next_attempt_at = datetime.now(UTC) + wait
        record.last_error = f"{why}; attempt {record.attempts}, next try in {int(wait.total_seconds())} s"
        log.info("email %s: %s", record.key, record.last_error)
        return None

    def _message(self, record: NotificationRecord) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(record.addresses)
        message["Subject"] = record.subject
        # A stable Message-ID lets mail systems drop the rare duplicate of an unrecorded acceptance.
        message["Message-ID"] = f"<{record.key.replace('/', '.')}@qsaf.council.example>"
        message["X-QSAF-Key"] = record.key
        message.set_content(record.body)
        return message


def _permanent(error: smtplib.SMTPException) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return getattr(error, "smtp_code", 0) >= 500


def _code(error: smtplib.SMTPException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return ", ".join(str(code) for code, _ in error.recipients.values())
    return str(getattr(error, "smtp_code", "?"))
