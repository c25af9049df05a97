"""An audit's emails end to end, on the time-skipping server in the suite's year: what the staff's
mailboxes received, worded as activities/email_text.py words it (the wording's own cases, with
hand-worked dates and no clock, are in tests/activities/test_email_text.py)."""

from datetime import datetime

import pytest

from tests.helpers import dates
from tests.helpers.dates import YEAR
from tests.helpers import allocate, at_london, complete, mail_to, qa, skip_to, submit, view


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"public_base_url": "https://audits.council.example"})


async def test_an_audits_emails_say_who_what_by_when_and_where(api, env, smtp):
    """A July (summer time) audit to its report: the real SMTP server's messages greet by name,
    name the case and cycle, say what is needed by when in London time and link to the audit."""
    monday = dates.a_working_week(YEAR, 7)
    await skip_to(env, dates.at(monday))
    audit_id = (await allocate(api, cycle=dates.cycle(7), case_ref="C-7"))["audit_id"]
    [allocated] = await mail_to(smtp, "tm2@council.example")
    body = allocated.get_content().replace("\r\n", "\n")  # SMTP lines end CRLF
    assert body.startswith(
        f"Dear Jordan Manager, Taylor Manager and Sam Worker,\n\nThis email is about case C-7 in the July {YEAR} audit cycle."
    )
    assert "allocated to Jordan Manager." in body and "Practitioner: Sam Worker. Team Manager: Taylor Manager." in body
    assert "What is needed from Jordan Manager: complete the audit" in body
    assert f"By: {spoken(dates.completion_due(monday))}\nTaylor Manager and Sam Worker: this is for your information." in body
    assert f"Open the audit: https://audits.council.example/app/audits/{audit_id}" in body

    await complete(api, env, audit_id)
    await submit(api, audit_id)
    await qa(api, audit_id)  # accepted on the Monday: the window closes 5 working days on
    [_, report] = await mail_to(smtp, "sw1@council.example", 2)
    body = report.get_content().replace("\r\n", "\n")
    assert report["Subject"] == f"Audit report: case C-7 (July {YEAR})"
    assert body.startswith("Dear Sam Worker and Taylor Manager,") and "Auditor: Jordan Manager." in body
    plan_due = dates.day(3, 1)
    assert f"owner Sam Worker, by {plan_due:%A} {plan_due.day} {plan_due:%B %Y}" in body  # the improvement plan, by name
    assert "What is needed from you: read the report; if you disagree with the grading, raise a dispute" in body
    window_closes = dates.deadline_after(monday, 5)
    assert f"By: {spoken(window_closes)}" in body  # BST: 16:00 UTC, said as 17:00
    v = await view(api, audit_id)
    assert at_london(v["deadlines"]["dispute_window_closes"]) == window_closes  # the email's is the window's


def spoken(deadline: datetime) -> str:
    """A deadline as the emails say it, worked out here: "Thursday 5 August 2027, 17:00"."""
    return f"{deadline:%A} {deadline.day} {deadline:%B %Y}, {deadline:%H:%M}"
