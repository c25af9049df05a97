"""The relay against a mail server that refuses one mailbox for now (full, greylisting): that
email waits alone with its own backoff while the others go, urgent email goes first, a deferred
email is given up after EMAIL_MAX_DEFERRALS with the PI&A Manager told, and a recipient refused
while the message was accepted for the others is recorded and never counted as sent."""

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update
from sqlmodel import Session, select

from activities.email_relay import EmailRelay
from activities.notify import NotifyActivities, OutboxMosaic
from services.audits import delivery_reason as _delivery_reason
from models.enums import Channel
from models.payloads import Notification
from models.settings import Settings
from models.tables import NotificationRecord
from tests.helpers.smtp import Inbox
from tests.helpers.dates import YEAR, at, cycle, day
from tests.helpers.email_checks import assert_plain
from worker import email_relay

# The relay's claims and the log's triggers are the database's own: both engines are tested.
pytestmark = pytest.mark.both_databases

AUDIT = f"{cycle(1)}-abc"
SENT_AT = at(day(1, 18), 17, 5)
FULL = "452 4.2.2 Mailbox full"
TM, SW = "tm1@council.example", "sw1@council.example"


class Answering(Inbox):
    """Takes mail like the suite's sink, but answers RCPT for the addresses in `answers` as told."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if answer := self.answers.get(address):
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def keys(self) -> list[str]:
        return [m["X-QSAF-Key"] for m in self.messages]


@pytest.fixture
def mailbox() -> Iterator[Answering]:
    inbox = Answering()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()
    assert_plain(inbox.messages)


@pytest.fixture
def notify(directory, engine):
    return NotifyActivities(engine, directory, OutboxMosaic())


def relay_for(settings: Settings, mailbox: Answering, **changes) -> EmailRelay:
    """The worker's relay (worker.email_relay), from its settings, delivering to `mailbox`, with
    the default longest backoff (the suite's 0.5 s would hide each email's own)."""
    return email_relay(settings.model_copy(update={"smtp_port": mailbox.port, "email_retry_max_seconds": 300} | changes))


@pytest.fixture
def relay(settings, mailbox):
    return relay_for(settings, mailbox)


def note(key: str, to=("sw1",), urgent: bool = False) -> Notification:
    return Notification(
        key=key,
        audit_id=AUDIT,
        case_ref="C-1",
        channel=Channel.EMAIL,
        recipient_ids=list(to),
        subject="January Audit",
        body=f"audit completed as part of the January {YEAR} audit cycle",
        at=SENT_AT,
        urgent=urgent,
    )


def rows(engine) -> dict[str, NotificationRecord]:
    with Session(engine) as session:
        return {r.key: r for r in session.exec(select(NotificationRecord).order_by(NotificationRecord.id))}


def backoff_passed(engine) -> None:
    with Session(engine) as session:
        session.exec(update(NotificationRecord).values(next_attempt_at=None))
        session.commit()


def test_a_full_mailbox_holds_up_only_its_own_email(notify, relay, mailbox, engine):
    mailbox.answers[TM] = FULL
    notify.send_email(note("audit-0/allocated", to=("tm1",)))  # first by id
    for n in (1, 2):
        notify.send_email(note(f"audit-{n}/allocated"))
    assert relay.deliver_due() == 2
    assert mailbox.keys() == ["audit-1/allocated", "audit-2/allocated"]
    deferred = rows(engine)["audit-0/allocated"]
    assert (deferred.delivery, deferred.attempts, deferred.deferrals) == ("pending", 1, 1)
    assert deferred.refused == {TM: FULL}
    assert "452" in deferred.last_error and "next try in 2 s" in deferred.last_error
    assert deferred.next_attempt_at > datetime.now(UTC)  # its own backoff: not due again at once
    assert relay.deliver_due() == 0 and rows(engine)["audit-0/allocated"].attempts == 1

    backoff_passed(engine)
    assert relay.deliver_due() == 0
    assert "next try in 4 s" in rows(engine)["audit-0/allocated"].last_error  # backing off on its own count
    mailbox.answers.clear()  # room again in the mailbox
    backoff_passed(engine)
    assert relay.deliver_due() == 1
    delivered = rows(engine)["audit-0/allocated"]
    assert (delivered.delivery, delivered.refused, delivered.deferrals) == ("sent", {}, 2)
    assert mailbox.keys().count("audit-0/allocated") == 1


def test_urgent_email_goes_first_in_a_round(notify, relay, mailbox):
    for n in range(3):
        notify.send_email(note(f"audit-{n}/allocated"))
    notify.send_email(note("safety-abc-1/raised", to=("tm1",), urgent=True))
    assert relay.deliver_due() == 4
    assert mailbox.keys()[0] == "safety-abc-1/raised"


def test_an_urgent_email_is_not_held_behind_a_full_mailbox(notify, relay, mailbox, engine):
    mailbox.answers[SW] = FULL
    notify.send_email(note("audit-0/report"))
    notify.send_email(note("safety-abc-1/raised", to=("tm1",), urgent=True))
    assert relay.deliver_due() == 1 and mailbox.keys() == ["safety-abc-1/raised"]
    assert rows(engine)["audit-0/report"].delivery == "pending"


def test_a_recipient_refused_for_now_while_others_took_it_gets_it_alone_later(notify, relay, mailbox, engine):
    mailbox.answers[TM] = FULL
    notify.send_email(note("audit-x/report", to=("sw1", "tm1")))
    assert relay.deliver_due() == 1
    [first] = mailbox.messages
    assert first["X-Envelope-To"] == SW
    record = rows(engine)["audit-x/report"]
    assert (record.delivery, record.refused, record.deferrals) == ("pending", {TM: FULL}, 1)
    assert "452" in _delivery_reason(record)  # why it is still pending

    mailbox.answers.clear()
    backoff_passed(engine)
    assert relay.deliver_due() == 1
    assert [m["X-Envelope-To"] for m in mailbox.messages] == [SW, TM]  # sw1 is not sent it twice
    record = rows(engine)["audit-x/report"]
    assert (record.delivery, record.refused) == ("sent", {})


def test_a_recipient_refused_for_good_while_others_took_it_is_recorded_not_counted_as_sent(notify, relay, mailbox, engine):
    mailbox.answers[TM] = "550 5.1.1 No such mailbox"
    notify.send_email(note("audit-x/report", to=("sw1", "tm1")))
    assert relay.deliver_due() == 1
    backoff_passed(engine)
    assert relay.deliver_due() == 0  # nothing left to try
    [message] = mailbox.messages
    assert message["X-Envelope-To"] == SW
    record = rows(engine)["audit-x/report"]
    assert (record.delivery, record.refused, record.deferrals) == ("sent", {TM: "550 5.1.1 No such mailbox"}, 0)
    assert "refused by the mail server" in _delivery_reason(record) and TM in _delivery_reason(record)


def test_a_deferred_email_is_given_up_after_the_cap_and_the_piat_manager_told(notify, settings, mailbox, engine):
    relay = relay_for(settings, mailbox, email_max_deferrals=3)
    mailbox.answers[TM] = FULL
    notify.send_email(note("safety-abc-1/raised", to=("tm1",), urgent=True))
    for _ in range(3):
        relay.deliver_due()
        backoff_passed(engine)
    relay.deliver_due()  # the notice
    given_up = rows(engine)["safety-abc-1/raised"]
    assert (given_up.delivery, given_up.attempts, given_up.deferrals) == ("not_delivered", 3, 3)
    assert "452" in given_up.last_error and "3 times" in given_up.last_error
    assert "452" in _delivery_reason(given_up)
    notice = rows(engine)["safety-abc-1/raised/not-delivered"]
    assert (notice.recipient_ids, notice.delivery) == (["piatmgr1"], "sent")
    assert mailbox.keys() == ["safety-abc-1/raised/not-delivered"]
    [told] = mailbox.messages
    assert told["X-Envelope-To"] == "piatmgr1@council.example"
    assert "January Audit" in told["Subject"] and "452" in told.get_content()
    backoff_passed(engine)
    assert relay.deliver_due() == 0 and len(mailbox.messages) == 1  # given up: never tried again


def test_a_notice_to_the_piat_manager_given_up_tells_nobody_else(notify, settings, mailbox, engine):
    """The PI&A Manager's own mailbox full: their notice is given up without a notice about it."""
    relay = relay_for(settings, mailbox, email_max_deferrals=1)
    mailbox.answers["piatmgr1@council.example"] = mailbox.answers[TM] = FULL
    notify.send_email(note("audit-x/report", to=("tm1",)))
    for _ in range(3):
        relay.deliver_due()
        backoff_passed(engine)
    assert {k: r.delivery for k, r in rows(engine).items()} == {
        "audit-x/report": "not_delivered",
        "audit-x/report/not-delivered": "not_delivered",
    }


def test_the_default_cap_gives_a_deferred_email_about_an_hour(settings):
    cap = Settings.model_fields["email_max_deferrals"].default
    waits = sum(min(300, 2**n) for n in range(1, cap))  # at the default EMAIL_RETRY_MAX_SECONDS
    assert timedelta(minutes=45) <= timedelta(seconds=waits) <= timedelta(hours=2)


def test_a_server_closing_the_connection_still_holds_the_round(notify, relay, mailbox, engine):
    """421: the server is going away, not one mailbox: the round waits, as when it is unreachable."""
    mailbox.answers[TM] = "421 4.3.2 Service shutting down"
    notify.send_email(note("audit-0/allocated", to=("tm1",)))
    notify.send_email(note("audit-1/allocated"))
    assert relay.deliver_due() == 0 and mailbox.messages == []
    first, second = rows(engine).values()
    assert [(r.delivery, r.attempts, r.deferrals) for r in (first, second)] == [("pending", 1, 0), ("pending", 0, 0)]
    assert first.next_attempt_at == second.next_attempt_at and "mail server unavailable" in second.last_error
