"""An audit not accepted (R-QA-3) goes through quality assurance again in the cycle it is carried
into: a QA return or a QA SLA breach there is a new event, and its email must reach its readers.
Each pass of QA counted its rounds from 1, so the second pass's emails took the keys of the
first pass's and the outbox, which takes each key once, dropped them."""

from datetime import timedelta

from models.email_marks import long_time
from tests.helpers.dates import LONDON, YEAR, a_working_week, at, cycle, deadline_after
from tests.helpers import allocate, complete, deadline, eventually, qa, skip_to, submit, view
from tests.helpers.replay import replayer

# A Monday that starts five working days in January.
MONDAY = a_working_week(YEAR, 1)


def _body(message) -> str:
    return message.get_content().replace("\r\n", "\n")  # SMTP lines end CRLF


async def _arrived(smtp, address: str, subject: str, count: int) -> list:
    """The messages to `address` whose subject starts with `subject`, once `count` have arrived
    (the relay delivers just after each send), or those there are after a short wait."""

    def found():
        return [m for m in smtp.to(address) if m["Subject"].startswith(subject)]

    return await eventually(lambda: len(found()) >= count and found()) or found()


async def _not_accepted(api, env, audit_id, breach: bool = False) -> None:
    """Submitted (late for QA if `breach`), returned, and the amendment missed: carried over."""
    await complete(api, env, audit_id)
    submitted = await submit(api, audit_id)
    if breach:
        await skip_to(env, deadline(submitted, "qa_due") + timedelta(minutes=5))
    returned = await qa(api, audit_id, "return", details="Rationale too thin")
    await skip_to(env, deadline(returned, "revision_due") + timedelta(minutes=1))
    v = await view(api, audit_id)
    assert (v["stage"], v["carried_into_cycle"]) == ("not_accepted", cycle(2))


async def test_a_second_qa_return_after_not_accepted_reaches_the_auditor_with_its_deadline(api, env, client, settings, smtp):
    await skip_to(env, at(MONDAY))
    audit_id = (await allocate(api))["audit_id"]
    await _not_accepted(api, env, audit_id)
    [first] = await _arrived(smtp, "tm2@council.example", "Audit returned for revision", 1)

    await complete(api, env, audit_id)  # amended for February's cycle
    await submit(api, audit_id)
    returned_at = await env.get_current_time()
    again = await qa(api, audit_id, "return", details="The plan's owners are missing", discussion_offered=True)
    due = deadline_after(returned_at, 4)
    assert deadline(again, "revision_due") == due

    returns = await _arrived(smtp, "tm2@council.example", "Audit returned for revision", 2)
    assert returns[0] is first and len(returns) == 2
    body = _body(returns[1])
    assert "The plan's owners are missing" in body and f"By: {long_time(due.astimezone(LONDON))}" in body

    # The run replays as recorded.
    history = await client.get_workflow_handle(f"audit-{audit_id}").fetch_history()
    await replayer(settings).replay_workflow(history)


async def test_a_second_qa_sla_breach_after_not_accepted_is_emailed(api, env, smtp):
    await skip_to(env, at(MONDAY))
    audit_id = (await allocate(api))["audit_id"]
    await _not_accepted(api, env, audit_id, breach=True)
    assert len(await _arrived(smtp, "piatmgr1@council.example", "QA overdue", 1)) == 1

    await complete(api, env, audit_id)
    submitted = await submit(api, audit_id)
    qa_due = deadline_after(await env.get_current_time(), 1)
    assert deadline(submitted, "qa_due") == qa_due
    await skip_to(env, qa_due + timedelta(minutes=5))
    assert (await view(api, audit_id))["overdue_steps"] == ["qa"]

    found = await _arrived(smtp, "piatmgr1@council.example", "QA overdue", 2)
    assert len(found) == 2
    assert f"due to be quality assured by {long_time(qa_due.astimezone(LONDON))}" in _body(found[1])
