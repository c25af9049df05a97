"""Notifications against a real SQLite file and a real local SMTP server."""

from datetime import datetime

import pytest
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError

from activities.notify import NotifyActivities, OutboxMosaic
from models.enums import Channel
from models.payloads import Notification
from models.tables import MosaicOutbox
from tests.helpers import LONDON


@pytest.fixture
def notify(settings, directory, engine):
    return NotifyActivities(engine, directory, settings.smtp_host, settings.smtp_port, "qsaf@council.example", OutboxMosaic())


def note(key: str, channel=Channel.EMAIL, to=("sw1", "tm1")) -> Notification:
    return Notification(
        key=key,
        audit_id="2027-01-abc",
        case_ref="C-1",
        channel=channel,
        recipient_ids=list(to),
        subject="January Audit",
        body="audit completed as part of the January 2027 audit cycle",
        at=datetime(2027, 1, 18, 17, 5, tzinfo=LONDON),
    )


def test_a_retried_email_is_sent_once(notify, smtp, sent):
    notify.send_email(note("audit-x/report"))
    notify.send_email(note("audit-x/report"))  # the activity retried after a lost acknowledgement
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "sw1@council.example, tm1@council.example"
    assert message["Message-ID"] == "<audit-x.report@qsaf.council.example>"
    assert [n.delivered for n in sent("2027-01-abc")] == [True]


def test_an_unknown_recipient_fails_without_retry(notify, smtp):
    with pytest.raises(ApplicationError) as refused:
        notify.send_email(note("audit-x/unknown", to=("ghost",)))
    assert refused.value.non_retryable and "ghost" in refused.value.message
    assert smtp.messages == []


def test_mosaic_case_note_lands_in_the_outbox_once_with_the_framework_fields(notify, engine, sent):
    notify.post_to_mosaic(note("audit-x/mosaic-case-note", Channel.MOSAIC_CASE_NOTE, ("sw1", "tm1", "iro1")))
    notify.post_to_mosaic(note("audit-x/mosaic-case-note", Channel.MOSAIC_CASE_NOTE, ("sw1", "tm1", "iro1")))
    with Session(engine) as session:
        [row] = session.exec(select(MosaicOutbox)).all()
    assert row.kind == "case_note" and row.case_ref == "C-1" and row.drained_at is None
    assert row.payload == {  # R-DIST-2
        "title": "January Audit",
        "note_type": "Quality Assurance",
        "date": "18/01/2027",
        "time": "17:05",
        "significant_event": False,
        "note": "audit completed as part of the January 2027 audit cycle",
        "alert_recipient_ids": ["sw1", "tm1", "iro1"],
    }
    assert [n.channel for n in sent("2027-01-abc")] == ["mosaic_case_note"]
