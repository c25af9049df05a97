"""The email relay: delivers the outbox's pending emails over SMTP and marks each one sent.

It runs beside each worker (worker.py). Workflows never wait for it: an email activity commits
the message and returns, so an SMTP server down for hours only delays mail, retried with backoff.

Never twice. A relay claims a message before it talks to SMTP (`sending`, with a lease), so two
relays never send the same one, and records `sent` the moment the server accepts the message,
before it even says goodbye. A relay that dies inside that conversation leaves the message
`sending`; when the lease runs out nobody can know whether the server took it (SMTP has no way to
ask), so it is not sent again: it is marked `not_delivered` as uncertain, and the PI&A Manager is
asked to check with the recipient. A worker killed anywhere else sends nothing twice either: the
activity's retry finds its key in the outbox.

One mailbox never holds up the rest. A temporary refusal of one email (4xx: a full mailbox,
greylisting) is that email's alone: it waits on its own backoff while the round goes on, is tried
again for the recipients it was refused for (never for those who have it), and after
`max_deferrals` is given up (`not_delivered` unless someone else has it) and the PI&A Manager
told. Only a server that cannot be reached or is closing the connection (421) holds the round,
and counts no deferral. Urgent email goes first in each round.
"""

import asyncio
import logging
import smtplib
import threading
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.mime.text import MIMEText
from email.policy import compat32

from sqlalchemy import Row, func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, or_, select

from activities.email_text import EmailText
from activities.notify import NOT_DELIVERED, NOTICES, OUTBOX_CHANNEL, PENDING, SENDING, SENT, deferred_notice, uncertain_notice
from models.staff import StaffDirectory
from models.tables import NotificationRecord

log = logging.getLogger("qsaf.relay")
SMTP_COMPAT32 = compat32.clone(linesep="\r\n")  # lines end CRLF on the wire, as SMTP requires
CLAIMED = ("id", "key", "addresses", "subject", "body", "urgent", "attempts", "refused", "deferrals")  # what a send needs
ROUND = 500  # messages per connection: then the relay looks again (and retries fall due)
CLOSING = 421  # the server is going away: the connection's failure, not one message's
UNCERTAIN = "uncertain: the relay stopped while the mail server was taking it; not sent again, so as never to send twice"


class EmailRelay:
    def __init__(
        self,
        engine: Engine,
        directory: StaffDirectory,
        smtp_host: str,
        smtp_port: int,
        sender: str,
        retry_max: timedelta = timedelta(minutes=5),
        poll: timedelta = timedelta(seconds=5),
        lease: timedelta = timedelta(minutes=2),
        max_deferrals: int = 20,
        text: EmailText | None = None,
    ):
        self.engine, self.directory = engine, directory
        self.text = text or EmailText(directory)  # words the PI&A Manager's notice of an uncertain send
        self.smtp_host, self.smtp_port, self.sender = smtp_host, smtp_port, sender
        self.retry_max, self.poll, self.lease = retry_max, poll, lease  # lease > the SMTP timeout (30 s)
        self.max_deferrals = max_deferrals  # temporary refusals of one email before it is given up
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._stopping = threading.Event()  # read by the round's thread before each claim

    def stop(self) -> None:
        """Take no new email: the one being handed to the mail server is finished and recorded
        (cut off, it could only be marked uncertain), then `run` returns. Called on the loop."""
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """Called from activity threads after they commit an email: deliver it now."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Deliver until stopped (or cancelled): on each wake-up, and every `poll` for retries that fall due."""
        self._loop = asyncio.get_running_loop()
        listener = asyncio.create_task(self._listen()) if self.engine.dialect.name == "postgresql" else None
        try:
            await self._deliver_until_stopped()
        finally:
            if listener:
                listener.cancel()

    async def _listen(self) -> None:
        """On PostgreSQL, wake on the NOTIFY each queued email's commit sends (activities/notify.py),
        so a relay in a process of its own delivers at once instead of at its next poll. Losing
        the connection costs only that: the poll still finds everything, and it reconnects."""
        import psycopg

        conninfo = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
                    self._wake.set()  # anything queued while it was not listening
                    async for _ in connection.notifies():
                        self._wake.set()
            except psycopg.Error as error:
                log.warning("email relay not listening for new emails (%s); polling meanwhile", type(error).__name__)
                await asyncio.sleep(self.poll.total_seconds())

    async def _deliver_until_stopped(self) -> None:
        while not self._stopping.is_set():
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
        """Send every pending email whose time has come, over one connection (a month's
        allocation queues hundreds at once), a safety concern first; the number sent. Each
        message is claimed just before it is offered, never a batch ahead: a relay killed
        mid-round leaves one message uncertain, not every message it had claimed."""
        self._give_up_interrupted()
        sent, smtp, last = 0, None, self._last_due()
        try:
            for _ in range(ROUND if last is not None else 0):
                if self._stopping.is_set():
                    break  # the rest stay pending, for this relay's successor or another relay
                record = self._claim_next(last)
                if record is None:
                    break  # nothing more is due (or every due one is another relay's)
                smtp = smtp or self._connect(record)
                outcome = self._deliver(smtp, record) if smtp else None
                if outcome is None:  # the server is unreachable: the rest wait as long as this one
                    self._postpone(like=record.id)
                    break
                sent += outcome
        finally:
            if smtp:
                _quit(smtp)
        return sent

    def _last_due(self) -> int | None:
        """The newest message due as the round begins: the round is the messages due then (those
        queued during it are the next round's, which their wake-up starts at once)."""
        table = NotificationRecord.__table__
        with self.engine.connect() as connection:
            return connection.execute(
                select(func.max(table.c.id)).where(table.c.delivery == PENDING, _due(table, datetime.now(UTC)))
            ).scalar()

    def _claim_next(self, last: int) -> Row | None:
        """Take the next due message (up to `last`) for this relay, and read what sending it
        needs, in one statement. On PostgreSQL the pick skips rows another relay is claiming
        (`FOR UPDATE SKIP LOCKED`), so relays side by side take different messages instead of
        queueing on one; on SQLite writers take turns anyway. Either way a message is claimed by
        one relay only: the update takes it only while it is still pending."""
        table, now = NotificationRecord.__table__, datetime.now(UTC)
        next_due = (
            select(table.c.id)
            .where(table.c.delivery == PENDING, table.c.id <= last, _due(table, now))
            .order_by(table.c.urgent.desc(), table.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        with self.engine.begin() as connection:
            return connection.execute(
                update(table)
                .where(table.c.id == next_due, table.c.delivery == PENDING)
                .values(delivery=SENDING, next_attempt_at=now + self.lease, attempts=table.c.attempts + 1)
                .returning(*(table.c[name] for name in CLAIMED))
            ).first()

    def _connect(self, record: Row) -> smtplib.SMTP | None:
        """The round's connection; None (the claimed message put back for later) if unreachable."""
        try:
            return smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=30)
        except OSError as error:
            return self._retry_later(record, f"mail server unavailable ({type(error).__name__})")

    def _deliver(self, smtp: smtplib.SMTP, record: Row) -> bool | None:
        """True: the server took it, for one recipient at least; False: it refused or deferred this
        email alone (smtplib resets the conversation, so the round goes on); None: the server could
        not be reached or is closing the connection, so the round stops."""
        to = _still_to(record)
        try:
            refused = smtp.sendmail(self.sender, to, self._message(record))  # whom it refused while taking it
        except smtplib.SMTPRecipientsRefused as error:
            refused = error.recipients
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            refused = dict.fromkeys(to, (error.smtp_code, error.smtp_error))  # the email itself, for all of them
        except (OSError, smtplib.SMTPException) as error:
            return self._retry_later(record, f"mail server unavailable ({type(error).__name__})")
        if any(code == CLOSING for code, _ in refused.values()):
            return self._retry_later(record, f"mail server unavailable (closing the connection: {CLOSING})")
        return self._answered(record, to, {address: _answer(*reply) for address, reply in refused.items()})

    def _answered(self, record: Row, to: list[str], answers: dict[str, str]) -> bool:
        """Record the server's answer for each of `to` the moment it is given (before goodbye):
        whom it took, and each refusal kept until a later try is taken."""
        refused = {a: why for a, why in record.refused.items() if a not in to} | answers
        took = len(answers) < len(to)
        deferred = {a: why for a, why in answers.items() if not _permanent(why)}
        values = {"refused": refused} | ({"sent_at": datetime.now(UTC)} if took else {})
        if deferred and record.deferrals + 1 < self.max_deferrals:
            self._retry_later(
                record,
                f"mail server deferred it: {_codes(deferred)}",
                deferral=record.deferrals + 1,
                deferrals=record.deferrals + 1,
                **values,
            )
        elif deferred:
            self._give_up(record, deferred, **values)
        else:
            if answers:
                log.warning("email %s refused by the mail server (%s)", record.key, _codes(answers))
            if refused:
                values["last_error"] = f"refused by the mail server: {_codes(refused)}"
            self._settle(record, _outcome(record, refused), **values)
        return took

    def _retry_later(self, record: Row, why: str, deferral: int | None = None, **values) -> None:
        """Back off exponentially up to `retry_max`, on the round's attempts at an unreachable server
        or on this email's own deferrals; the outbox keeps the email meanwhile."""
        tries, counted = (
            (record.attempts, f"attempt {record.attempts}")
            if deferral is None
            else (deferral, f"deferral {deferral} of {self.max_deferrals}")
        )
        wait = min(self.retry_max, timedelta(seconds=2 ** min(tries, 20)))
        error = f"{why}; {counted}, next try in {int(wait.total_seconds())} s"
        log.info("email %s: %s", record.key, error)
        self._settle(record, PENDING, last_error=error, next_attempt_at=datetime.now(UTC) + wait, **values)
        return None

    def _give_up(self, record: Row, deferred: dict[str, str], **values) -> None:
        """Deferred `max_deferrals` times: not tried again, and the PI&A Manager told, so somebody
        reaches the recipients another way (of their own notices nobody else can be told)."""
        why = f"the mail server deferred it {record.deferrals + 1} times ({_codes(deferred)}), so it is not tried again"
        log.warning("email %s: %s", record.key, why)
        with Session(self.engine) as session:
            row = session.get(NotificationRecord, record.id)
            row.sqlmodel_update(
                {
                    "delivery": _outcome(record, values["refused"]),
                    "deferrals": record.deferrals + 1,
                    "last_error": why,
                    "next_attempt_at": None,
                }
                | values
            )
            session.add(row)
            if not row.key.endswith(NOTICES):
                session.add(deferred_notice(self.text, row, deferred))
            session.commit()

    def _postpone(self, like: int) -> None:
        """Pending emails due but not offered to an unreachable server: they wait until the failed
        one's next try, with its reason, and no attempt counted."""
        table = NotificationRecord.__table__
        failed = select(table.c.next_attempt_at, table.c.last_error).where(table.c.id == like).subquery()
        with self.engine.begin() as connection:
            connection.execute(
                update(table)
                .where(table.c.delivery == PENDING, _due(table, datetime.now(UTC)))
                .values(
                    next_attempt_at=select(failed.c.next_attempt_at).scalar_subquery(),
                    last_error=select(failed.c.last_error).scalar_subquery(),
                )
            )

    def _settle(self, record: Row, delivery: str, **values) -> None:
        table = NotificationRecord.__table__
        with self.engine.begin() as connection:
            connection.execute(
                update(table).where(table.c.id == record.id).values(delivery=delivery, **({"next_attempt_at": None} | values))
            )

    def _give_up_interrupted(self) -> None:
        """Messages whose relay died while sending them: never sent twice; a person checks."""
        now = datetime.now(UTC)
        with Session(self.engine) as session:
            interrupted = session.exec(
                select(NotificationRecord).where(NotificationRecord.delivery == SENDING, NotificationRecord.next_attempt_at < now)
            ).all()
            for record in interrupted:
                record.delivery, record.next_attempt_at, record.last_error = NOT_DELIVERED, None, UNCERTAIN
                session.add(record)
                session.add(uncertain_notice(self.text, record))
                log.warning("email %s: %s", record.key, UNCERTAIN)
            session.commit()

    def _message(self, record: Row) -> bytes:
        """The email as the mail server takes it. Built with the standard library's compat32 API
        (MIMEText, Header): the modern EmailMessage parses each header it is given, which made
        building each email nearly half of the relay's processor time in a bulk allocation."""
        message = MIMEText(record.body, "plain", "utf-8", policy=SMTP_COMPAT32)
        message["From"] = self.sender
        message["To"] = ", ".join(record.addresses)
        message["Subject"] = record.subject if record.subject.isascii() else Header(record.subject, "utf-8")
        message["Message-ID"] = f"<{record.key.replace('/', '.')}@qsaf.council.example>"
        message["X-QSAF-Key"] = record.key
        if record.urgent:  # a safety concern: flagged in every common mail client
            message["Importance"], message["X-Priority"] = "High", "1 (Highest)"
        return message.as_bytes()


def _due(table, now: datetime):
    """A pending message's time has come: never tried, or its next try is not in the future."""
    return or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= now)


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()  # the message's fate is already recorded


def _still_to(record: Row) -> list[str]:
    """Whom the email is still for: all its addresses until the server has refused any, then
    those it deferred (whoever it took has the email; whoever it refused for good never will)."""
    if not record.refused:
        return list(record.addresses)
    return [a for a in record.addresses if a in record.refused and not _permanent(record.refused[a])]


def _outcome(record: Row, refused: dict[str, str]) -> str:
    """Sent if it reached anyone (those refused are recorded, as someone skipped is), else not delivered."""
    return SENT if any(a not in refused for a in record.addresses) else NOT_DELIVERED


def _answer(code: int, text: bytes | str) -> str:
    """The server's refusal as kept: "452 4.2.2 Mailbox full"."""
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(text.split())}"[:200]


def _permanent(answer: str) -> bool:
    return answer[:1] == "5"


def _codes(answers: dict[str, str]) -> str:
    return ", ".join(answer.split(" ", 1)[0] for answer in answers.values())
