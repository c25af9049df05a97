"""Digest-only: a person who chose it (`PUT /me/email-preferences`) is left out of the emails
that ask nothing urgent of them, never out of a safety concern's or one whose deadline is within
a working day (decision 0044)."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from activities.notify import NotifyActivities, OutboxMosaic
from models.enums import Channel
from models.payloads import Notification
from models.tables import NotificationRecord
from tests.helpers.dates import YEAR, a_working_week, at, cycle, end_of

MONDAY = a_working_week(YEAR, 2)  # a February Monday with a working week after it
DAY = timedelta(days=1)


def note(key: str, to: list[str], **values) -> Notification:
    sent = at(MONDAY, 10)
    return Notification(
        key=key,
        audit_id=f"{cycle(2)}-abc",
        case_ref="C-1",
        channel=Channel.EMAIL,
        recipient_ids=to,
        subject="Report distributed",
        body="The report has been distributed.",
        at=sent,
        cycle=cycle(2),
        action="raise a dispute if you disagree with the grading",
        due=end_of(MONDAY + 5 * DAY),
        link_path=f"/app/audits/{cycle(2)}-abc",
    ).model_copy(update=values)


@pytest.mark.both_databases
async def test_digest_only_takes_a_reader_off_a_non_urgent_email_but_not_off_an_urgent_one(env, api, engine, directory):
    sw1 = api.as_("sw1")
    assert (await sw1.get("/me/email-preferences")).json() == {"digest_only": False, "updated_at": None}
    refused = await sw1.put("/me/email-preferences", json={"digest_only": "sometimes"})
    assert refused.status_code == 422
    assert (await sw1.put("/me/email-preferences", json={"digest_only": True})).json()["digest_only"] is True
    assert (await sw1.get("/me/email-preferences")).json()["digest_only"] is True
    assert (await api.as_("tm1").get("/me/email-preferences")).json()["digest_only"] is False  # one's own only

    notify = NotifyActivities(engine, directory, OutboxMosaic())
    notify.send_email(note("both", ["sw1", "tm1"]))  # to tm1 alone
    notify.send_email(note("theirs", ["sw1"]))  # to nobody now: the digest will carry it
    notify.send_email(note("safety", ["sw1"], urgent=True, subject="Safety concern raised"))
    notify.send_email(note("tomorrow", ["sw1"], due=end_of(MONDAY + DAY)))  # within a working day
    with Session(engine) as session:
        queued = {n.key: n for n in session.exec(select(NotificationRecord))}
    assert set(queued) == {"both", "safety", "tomorrow"}
    assert queued["both"].recipient_ids == ["tm1"] and queued["both"].addresses == ["tm1@council.example"]
    assert queued["both"].body.startswith(f"Dear {directory.get('tm1').name},")
    assert queued["safety"].recipient_ids == ["sw1"] and queued["tomorrow"].recipient_ids == ["sw1"]

    # Back to every email at once: the next one reaches them.
    assert (await sw1.put("/me/email-preferences", json={"digest_only": False})).json()["digest_only"] is False
    notify.send_email(note("again", ["sw1"]))
    with Session(engine) as session:
        assert session.exec(select(NotificationRecord).where(NotificationRecord.key == "again")).one().recipient_ids == ["sw1"]
