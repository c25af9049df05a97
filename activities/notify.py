"""Notifications: email through an outbox, and Mosaic case notes and alerts through an adapter.

Every send carries a key (workflow ID + step) stored under a unique constraint, so an activity
retried after a crash or timeout never records twice. An email activity only commits the message
to the outbox (`notification`, delivery `pending`); the relay (activities/email_relay.py) hands it
to SMTP and marks it `sent`. So SMTP being down never fails, or even slows, a workflow.

Sending never fails the process either: a recipient who is not in the staff directory (people
leave over the months an audit runs) is skipped and named in `reason`, and the PI&A Manager is
told once per notification so that PIAT can name someone else (`PUT /audits/{id}/people/{role}`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.email_text import EmailText
from models.calendar import WorkingCalendar
from activities.persistence import insert_once_statement
from models.email_marks import and_list, people, person
from models.enums import Channel, Role
from models.payloads import Notification
from models.staff import StaffDirectory
from models.tables import EmailPreference, MosaicOutbox, NotificationRecord

SENT, PENDING, SENDING, NOT_DELIVERED = "sent", "pending", "sending", "not_delivered"
OUTBOX_CHANNEL = "qsaf_outbox"  # PostgreSQL's NOTIFY channel: a relay in another process wakes at once
GIVEN_UP = "/not-delivered"  # the key's suffix of the PI&A Manager's notice of an email given up
NOTICES = ("/undeliverable", "/uncertain", GIVEN_UP)  # the PI&A Manager's notices: none is told of in turn


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
            kind, payload = (
                "case_note",
                {
                    # R-DIST-2: the fields of Mosaic's case-note form.
                    "title": notification.subject[:100],
                    "note_type": notification.note_type,
                    "date": f"{local:%d/%m/%Y}",
                    "time": f"{local:%H:%M}",
                    "significant_event": False,
                    "note": notification.body,
                },
            )
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


@dataclass
class Recipients:
    """Who of a notification's recipients the directory still knows."""

    reachable: list[str]
    skipped: list[str]
    named: bool  # anyone was named at all

    @property
    def reason(self) -> str | None:
        if not self.named:
            return "no one holds this role: nobody was named"
        if self.skipped:
            return f"not in the staff directory, skipped: {', '.join(self.skipped)}"
        return None


class NotifyActivities:
    def __init__(
        self,
        engine: Engine,
        directory: StaffDirectory,
        mosaic: MosaicAdapter,
        enqueued: Callable[[], None] = lambda: None,
        text: EmailText | None = None,
        calendar: WorkingCalendar | None = None,
    ):
        self.engine = engine
        self.directory = directory
        self.mosaic = mosaic
        self.enqueued = enqueued  # wakes the relay in this process, if one runs here
        self.text = text or EmailText(directory)  # words each email with names, times and a link
        self.calendar = calendar or WorkingCalendar()  # what "within a working day" means

    @activity.defn
    def send_email(self, n: Notification) -> None:
        """Commit the email to the outbox once, worded for its readers now; the relay delivers it."""
        n = self._now_or_in_the_digest(n)
        if n is None:
            return  # everyone it was for takes it in the weekly digest: nothing to send now
        recipients = self._recipients(n.recipient_ids)
        record = _record(n, recipients)
        record.subject, record.body = self.text.render(n)
        record.addresses = [self.directory.get(i).email for i in recipients.reachable]
        record.delivery = PENDING if recipients.reachable else NOT_DELIVERED
        if self._insert(record):
            self._tell_piat_manager(n, recipients)
            self.enqueued()

    @activity.defn
    def post_to_mosaic(self, n: Notification) -> None:
        if n.channel is Channel.EMAIL:
            raise ApplicationError("post_to_mosaic takes case notes and alerts", non_retryable=True)
        recipients = self._recipients(n.recipient_ids)
        # A case note stands without recipients; an alert needs someone to alert.
        delivered = n.channel is Channel.MOSAIC_CASE_NOTE or bool(recipients.reachable)
        # A case note keeps the workflow's wording; a mark in it (none is written there) would
        # still never reach the case record as brackets.
        n = n.model_copy(update={"subject": self.text.resolve(n.subject), "body": self.text.resolve(n.body)})
        record = _record(n, recipients)
        record.delivery = SENT if delivered else NOT_DELIVERED
        post = n.model_copy(update={"recipient_ids": recipients.reachable})
        # A case note is a record on the case: naming nobody is no failed delivery, a person skipped is.
        worth_telling = n.channel is not Channel.MOSAIC_CASE_NOTE or bool(recipients.skipped)
        if self._insert(record, lambda session: self.mosaic.post(session, post) if delivered else None) and worth_telling:
            self._tell_piat_manager(n, recipients)

    def _now_or_in_the_digest(self, n: Notification) -> Notification | None:
        """The email less whoever takes non-urgent emails only in the weekly digest (decision
        0044), None when that is everyone it was for: its own key still sends it once, to those
        left. A safety concern (`urgent`) and an email whose deadline falls within a working day
        go to everyone at once."""
        if n.urgent or not n.recipient_ids or (n.due is not None and n.due <= self.calendar.deadline_after(n.at, 1)):
            return n
        held = digest_only(self.engine, n.recipient_ids)
        if not held:
            return n
        left = [i for i in n.recipient_ids if i not in held]
        return n.model_copy(update={"recipient_ids": left}) if left else None

    def _recipients(self, staff_ids: list[str]) -> Recipients:
        return Recipients(
            reachable=[i for i in staff_ids if i in self.directory],
            skipped=[i for i in staff_ids if i not in self.directory],
            named=bool(staff_ids),
        )

    def _insert(self, record: NotificationRecord, also: Callable[[Session], None] = lambda session: None) -> bool:
        """Record the notification (and whatever goes with it) once; False if a retry finds it,
        or a concurrent attempt of the same activity committed it first."""
        once = insert_once_statement(self.engine.dialect.name, NotificationRecord.__table__, "key")
        with Session(self.engine) as session:
            if session.connection().execute(once, record.model_dump(exclude={"id"})).first() is None:
                return False
            also(session)
            if self.engine.dialect.name == "postgresql":
                # Delivered to listening relays as the commit lands, in other processes too.
                session.connection().execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
            session.commit()
        return True

    def _tell_piat_manager(self, n: Notification, recipients: Recipients) -> None:
        """Once per notification (its own key): someone named is not reachable."""
        if recipients.reason is None:
            return
        notice = piat_notice(
            self.text,
            Notification(
                key=f"{n.key}/undeliverable",
                audit_id=n.audit_id,
                case_ref=n.case_ref,
                channel=Channel.EMAIL,
                recipient_ids=[],
                at=n.at,
                cycle=n.cycle,
                link_path=n.link_path,
                subject=f"Could not notify everyone: case {n.case_ref}",
                body=f'The {n.channel.value.replace("_", " ")} "{self.text.resolve(n.subject)}" was not delivered to '
                f"everyone: {recipients.reason}.",
                action="if someone has left, name who takes over on the audit's page (PUT /audits/"
                f"{n.audit_id}/people/<role>), or correct the staff directory",
            ),
        )
        if self._insert(notice):
            self.enqueued()


def digest_only(engine: Engine, staff_ids: list[str]) -> set[str]:
    """Who of these takes non-urgent emails only in the weekly digest (`email_preferences`)."""
    with Session(engine) as session:
        query = select(EmailPreference.staff_id).where(col(EmailPreference.staff_id).in_(staff_ids), EmailPreference.digest_only)
        return set(session.exec(query).all())


def piat_notice(text: EmailText, notice: Notification) -> NotificationRecord:
    """An email, ready for the outbox, to whoever hears that someone could not be told: the PI&A
    Manager, else PIAT (with nobody there either it is recorded as not delivered)."""
    managers = text.directory.with_role(Role.PIAT_MANAGER) or text.directory.with_role(Role.PIAT)
    notice = notice.model_copy(update={"recipient_ids": [m.id for m in managers]})
    subject, body = text.render(notice)
    return NotificationRecord(
        key=notice.key,
        audit_id=notice.audit_id,
        channel=Channel.EMAIL.value,
        recipient_ids=notice.recipient_ids,
        addresses=[m.email for m in managers],
        subject=subject[:200],
        body=body,
        at=notice.at,
        delivery=PENDING if managers else NOT_DELIVERED,
        reason=None if managers else "no PI&A Manager or PIAT in the directory",
    )


def uncertain_notice(text: EmailText, record: NotificationRecord) -> NotificationRecord:
    """To the PI&A Manager: an email may or may not have arrived (the relay stopped while the mail
    server was taking it); it is not sent again, so somebody asks."""
    return piat_notice(
        text,
        Notification(
            key=f"{record.key}/uncertain",
            audit_id=record.audit_id,
            channel=Channel.EMAIL,
            recipient_ids=[],
            at=record.at,
            subject=f"Please check an email reached them: {record.subject}",
            body=f'The email "{record.subject}" to {people(record.recipient_ids)} may or may not have arrived: the '
            "service stopped while the mail server was taking it. It is not sent again, so that nobody receives it twice.",
            action=f"check with {people(record.recipient_ids)} that it arrived",
        ),
    )


def deferred_notice(text: EmailText, record: NotificationRecord, refused: dict[str, str]) -> NotificationRecord:
    """To the PI&A Manager: the mail server kept deferring an email for some of its recipients
    (a full mailbox, say) until the relay gave up; somebody tells them another way."""
    by_address = {m.email: m.id for i in record.recipient_ids if (m := text.directory.get(i))}
    who = and_list([person(by_address[a]) if a in by_address else a for a in refused])  # an address if they left
    answers = "; ".join(sorted(set(refused.values())))
    urgent = " It was marked urgent (a safety concern)." if record.urgent else ""
    return piat_notice(
        text,
        Notification(
            key=f"{record.key}{GIVEN_UP}",
            audit_id=record.audit_id,
            channel=Channel.EMAIL,
            recipient_ids=[],
            at=record.at,
            subject=f"Email not delivered: {record.subject}",
            body=f'The email "{record.subject}" did not reach {who}: the mail server deferred it '
            f'{record.deferrals} times ("{answers}") and it is not tried again.{urgent}',
            action=f"tell {who} what it said another way, and ask them to make room in their mailbox if it is full",
        ),
    )


def _record(n: Notification, recipients: Recipients) -> NotificationRecord:
    return NotificationRecord(
        key=n.key,
        audit_id=n.audit_id,
        channel=n.channel.value,
        recipient_ids=n.recipient_ids,
        subject=n.subject,
        body=n.body,
        at=n.at,
        reason=recipients.reason,
        urgent=n.urgent,
    )
