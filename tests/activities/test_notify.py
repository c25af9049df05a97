"""Notifications against a real SQLite file and a real local SMTP server: the email outbox and its
relay, recipients who have left, and the mail server down or refusing."""

import os
import subprocess
import sys
from datetime import timedelta

import asyncio

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update
from sqlmodel import Session, select

from activities.email_relay import EmailRelay
from activities.notify import NotifyActivities, OutboxMosaic
from models.enums import Channel
from models.payloads import Notification
from models.tables import MosaicOutbox, NotificationRecord
from models.settings import ROOT
from tests.helpers.dates import YEAR, at, cycle, day
from tests.helpers import eventually

# The relay's claims and the log's triggers are the database's own: both engines are tested.
pytestmark = pytest.mark.both_databases

AUDIT = f"{cycle(1)}-abc"  # an audit of the suite's January cycle
SENT_AT = at(day(1, 18), 17, 5)


@pytest.fixture
def notify(directory, engine):
    return NotifyActivities(engine, directory, OutboxMosaic())


@pytest.fixture
def relay(settings, engine, directory):
    return EmailRelay(engine, directory, settings.smtp_host, settings.smtp_port, "qsaf@council.example")


def note(key: str, channel=Channel.EMAIL, to=("sw1", "tm1")) -> Notification:
    return Notification(
        key=key,
        audit_id=AUDIT,
        case_ref="C-1",
        channel=channel,
        recipient_ids=list(to),
        subject="January Audit",
        body=f"audit completed as part of the January {YEAR} audit cycle",
        at=SENT_AT,
    )


def by_key(sent) -> dict:
    return {n.key: n for n in sent(AUDIT)}


def test_a_retried_email_is_queued_once_and_sent_once(notify, relay, smtp, sent):
    notify.send_email(note("audit-x/report"))
    notify.send_email(note("audit-x/report"))  # the activity retried after a lost acknowledgement
    assert [n.delivery for n in sent(AUDIT)] == ["pending"]  # committed; the relay sends
    assert relay.deliver_due() == 1 and relay.deliver_due() == 0
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "sw1@council.example, tm1@council.example"
    assert message["Message-ID"] == "<audit-x.report@qsaf.council.example>"
    assert message["X-QSAF-Key"] == "audit-x/report"
    [record] = sent(AUDIT)
    assert (record.delivery, record.reason, record.attempts) == ("sent", None, 1)


def test_an_email_arrives_as_written_whatever_its_length_and_characters(notify, relay, smtp):
    """Lines end CRLF on the wire (a bare LF made a long email one over-long line the server
    refused), and a subject or body beyond ASCII arrives as written."""
    body = "\n".join(" ".join([f"Paragraph {n}: the audit’s findings – what is needed, by when."] * 3) for n in range(40))
    notify.send_email(note("audit-x/report").model_copy(update={"subject": "Audit report – case C-1 ✓", "body": body}))
    assert relay.deliver_due() == 1
    [message] = smtp.messages
    assert message["Subject"] == "Audit report – case C-1 ✓"
    assert body in message.get_content().replace("\r\n", "\n")  # between the greeting and the sign-off


def test_a_round_delivers_every_due_email_over_one_connection(notify, relay, smtp, sent):
    """A month's allocation queues hundreds of emails at once: one connection for the round, not
    a connection (and its greeting and goodbye) for each."""
    for n in range(5):
        notify.send_email(note(f"audit-{n}/allocated"))
    assert relay.deliver_due() == 5
    assert [n.delivery for n in sent(AUDIT)] == ["sent"] * 5
    assert len({m["X-Peer"] for m in smtp.messages}) == 1


def test_someone_who_left_is_skipped_and_the_piat_manager_told_once(notify, relay, smtp, sent):
    notify.send_email(note("audit-x/report", to=("sw1", "gone1")))
    notify.send_email(note("audit-x/report", to=("sw1", "gone1")))  # retried: still told once
    relay.deliver_due()
    sent_ = by_key(sent)
    assert sent_["audit-x/report"].delivery == "sent"
    assert sent_["audit-x/report"].reason == "not in the staff directory, skipped: gone1"
    notice = sent_["audit-x/report/undeliverable"]
    assert notice.recipient_ids == ["piatmgr1"] and "gone1" in notice.body
    assert f"PUT /audits/{AUDIT}/people/" in notice.body
    assert sorted(m["X-Envelope-To"] for m in smtp.messages) == ["piatmgr1@council.example", "sw1@council.example"]


def test_nobody_to_tell_is_recorded_not_raised(notify, relay, smtp, sent):
    notify.send_email(note("audit-x/next-level", to=()))  # a level with no owner
    relay.deliver_due()
    sent_ = by_key(sent)
    assert (sent_["audit-x/next-level"].delivery, sent_["audit-x/next-level"].reason) == (
        "not_delivered",
        "no one holds this role: nobody was named",
    )
    assert sent_["audit-x/next-level/undeliverable"].delivery == "sent"
    assert [m["X-Envelope-To"] for m in smtp.messages] == ["piatmgr1@council.example"]


def test_mail_server_down_keeps_the_email_pending_then_sends_it_once(notify, settings, engine, directory, smtp, sent):
    down = EmailRelay(engine, directory, "127.0.0.1", _closed_port(), "qsaf@council.example")
    notify.send_email(note("audit-x/report"))
    assert down.deliver_due() == 0 and down.deliver_due() == 0  # the second round waits for its backoff
    [record] = sent(AUDIT)
    assert (record.delivery, record.attempts) == ("pending", 1)
    assert "mail server unavailable" in record.last_error and record.next_attempt_at is not None
    with Session(engine) as session:  # the backoff has passed
        record.next_attempt_at = None
        session.add(record)
        session.commit()
    up = EmailRelay(engine, directory, settings.smtp_host, settings.smtp_port, "qsaf@council.example")
    assert up.deliver_due() == 1
    assert [n.delivery for n in sent(AUDIT)] == ["sent"] and len(smtp.messages) == 1


def test_mail_server_down_the_rest_of_the_round_waits_with_the_first_uncounted(notify, settings, engine, directory, smtp, sent):
    """When the server cannot be reached, the emails of the round it never offered wait as long
    as the one it failed on, with its reason, and no attempt counted; none is claimed ahead."""
    down = EmailRelay(engine, directory, "127.0.0.1", _closed_port(), "qsaf@council.example")
    for n in range(3):
        notify.send_email(note(f"audit-{n}/allocated"))
    assert down.deliver_due() == 0 and down.deliver_due() == 0  # the second round: all wait
    records = sent(AUDIT)
    assert [(r.delivery, r.attempts) for r in records] == [("pending", 1), ("pending", 0), ("pending", 0)]
    assert len({(r.next_attempt_at, r.last_error) for r in records}) == 1 and records[0].next_attempt_at is not None
    assert "mail server unavailable" in records[0].last_error
    with Session(engine) as session:  # the backoff has passed
        session.exec(update(NotificationRecord).values(next_attempt_at=None))
        session.commit()
    up = EmailRelay(engine, directory, settings.smtp_host, settings.smtp_port, "qsaf@council.example")
    assert up.deliver_due() == 3 and len(smtp.messages) == 3
    assert len({m["X-Peer"] for m in smtp.messages}) == 1


def test_a_mail_server_refusal_is_recorded_as_not_delivered(notify, engine, directory, sent):
    class Refusing:
        async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
            return "550 no such mailbox"

    controller = Controller(Refusing(), hostname="127.0.0.1", port=_closed_port())
    controller.start()
    try:
        notify.send_email(note("audit-x/report"))
        EmailRelay(engine, directory, "127.0.0.1", controller.port, "qsaf@council.example").deliver_due()
    finally:
        controller.stop()
    [record] = sent(AUDIT)
    assert (record.delivery, record.last_error) == ("not_delivered", "refused by the mail server: 550, 550")


def test_a_message_two_relays_see_is_sent_by_one(notify, relay, settings, engine, directory, smtp, sent):
    notify.send_email(note("audit-x/report"))
    other = EmailRelay(engine, directory, settings.smtp_host, settings.smtp_port, "qsaf@council.example")
    last = relay._last_due()
    assert other._last_due() == last  # both see it pending
    assert relay._claim_next(last) is not None and other._claim_next(last) is None  # one takes it
    assert other.deliver_due() == 0 and len(smtp.messages) == 0


def test_a_send_interrupted_mid_conversation_is_never_repeated_and_a_person_checks(notify, engine, directory, smtp, sent):
    """The relay died between claiming the message and recording the server's answer: nobody can
    know whether it arrived, so it is not sent again; the PI&A Manager is asked to check."""
    relay = EmailRelay(engine, directory, "127.0.0.1", smtp.port, "qsaf@council.example", lease=timedelta(0))
    notify.send_email(note("audit-x/report"))
    assert relay._claim_next(relay._last_due()) is not None  # ... and the process is killed here
    relay.deliver_due()  # a relay after the lease ran out
    sent_ = by_key(sent)
    assert (sent_["audit-x/report"].delivery, sent_["audit-x/report"].last_error.split(":")[0]) == ("not_delivered", "uncertain")
    assert [m["X-QSAF-Key"] for m in smtp.messages] == ["audit-x/report/uncertain"]
    assert smtp.messages[0]["X-Envelope-To"] == "piatmgr1@council.example"


def test_mosaic_case_note_lands_in_the_outbox_once_with_the_framework_fields(notify, engine, sent):
    notify.post_to_mosaic(note("audit-x/mosaic-case-note", Channel.MOSAIC_CASE_NOTE, ("sw1", "tm1", "iro1")))
    notify.post_to_mosaic(note("audit-x/mosaic-case-note", Channel.MOSAIC_CASE_NOTE, ("sw1", "tm1", "iro1")))
    with Session(engine) as session:
        [row] = session.exec(select(MosaicOutbox)).all()
    assert row.kind == "case_note" and row.case_ref == "C-1" and row.drained_at is None
    assert row.payload == {  # R-DIST-2
        "title": "January Audit",
        "note_type": "Quality Assurance",
        "date": f"18/01/{YEAR}",
        "time": "17:05",
        "significant_event": False,
        "note": f"audit completed as part of the January {YEAR} audit cycle",
        "alert_recipient_ids": ["sw1", "tm1", "iro1"],
    }
    assert [(n.channel, n.delivery) for n in sent(AUDIT)] == [("mosaic_case_note", "sent")]


def test_a_mosaic_alert_skips_whoever_left(notify, engine, sent):
    notify.post_to_mosaic(note("audit-x/mosaic-alert", Channel.MOSAIC_ALERT, ("sw1", "gone1")))
    with Session(engine) as session:
        [row] = session.exec(select(MosaicOutbox)).all()
    assert row.payload["alert_recipient_ids"] == ["sw1"]
    assert by_key(sent)["audit-x/mosaic-alert"].reason == "not in the staff directory, skipped: gone1"
    assert "audit-x/mosaic-alert/undeliverable" in by_key(sent)


def test_a_case_note_that_names_nobody_troubles_nobody(notify, sent):
    """A case note is a record on the case, not a message: naming nobody is not a failed delivery
    (a moderation's feedback note emailed the PI&A Manager "could not notify everyone" each time)."""
    notify.post_to_mosaic(note("audit-x/moderation-note", Channel.MOSAIC_CASE_NOTE, ()))
    assert list(by_key(sent)) == ["audit-x/moderation-note"]
    assert by_key(sent)["audit-x/moderation-note"].delivery == "sent"


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_the_relay_delivers_as_a_process_of_its_own(notify, settings, smtp, sent, tmp_path):
    """`python worker.py --relay`, as `make dev` and docker-compose run it beside a worker with
    `WORKER_EMAIL_RELAY=false`: what another process queued, no wake-up reaches it, so it finds
    the email by polling, and delivers it once."""
    env = os.environ | {
        "DATABASE_URL": settings.database_url,
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": str(settings.smtp_port),
        "STAFF_DIRECTORY": str(settings.staff_directory),
        "EMAIL_RELAY_POLL_SECONDS": "0.2",
    }
    with open(tmp_path / "relay.log", "wb") as log:
        relay = subprocess.Popen([sys.executable, "worker.py", "--relay"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        notify.send_email(note("audit-x/report"))
        delivered = lambda: [n.delivery for n in sent(AUDIT)] == ["sent"]  # noqa: E731
        assert await eventually(delivered, attempts=300), (tmp_path / "relay.log").read_text()
        assert len(smtp.messages) == 1 and smtp.messages[0]["X-QSAF-Key"] == "audit-x/report"
    finally:
        relay.terminate()
        assert relay.wait(15) == 0  # SIGTERM: it finishes its round and leaves


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_a_relay_takes_the_next_message_while_another_is_claiming_one(notify, relay, engine):
    """`FOR UPDATE SKIP LOCKED`: relays side by side take different messages, none waits on another."""
    notify.send_email(note("audit-x/first"))
    notify.send_email(note("audit-x/second"))
    table = NotificationRecord.__table__
    with engine.connect() as other_relay, other_relay.begin():  # mid-claim of the first, its row locked
        first = other_relay.execute(select(table.c.id).order_by(table.c.id).limit(1).with_for_update()).scalar()
        claimed = relay._claim_next(relay._last_due())
        assert claimed is not None and claimed.id != first and claimed.key == "audit-x/second"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_on_postgresql_a_relay_in_another_process_is_woken_by_the_commit_not_its_poll(
    notify, settings, engine, directory, smtp
):
    """`LISTEN`/`NOTIFY`: the activity that queues an email cannot wake a relay in another process
    directly; PostgreSQL does, as the commit lands. Here the relay's poll is a minute away."""
    relay = EmailRelay(
        engine, directory, settings.smtp_host, settings.smtp_port, "qsaf@council.example", poll=timedelta(minutes=1)
    )
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.5)  # listening, its first round done with nothing to send
        assert smtp.messages == []
        await asyncio.to_thread(notify.send_email, note("audit-x/woken"))  # no in-process wake-up: `notify` has none
        assert await eventually(lambda: smtp.messages, attempts=50), "not delivered before the relay's next poll"
        assert smtp.messages[0]["X-QSAF-Key"] == "audit-x/woken"
    finally:
        running.cancel()
