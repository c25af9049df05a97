"""One audit from allocation to Mosaic, through the API, in time-skipped working days."""

from datetime import datetime

from tests.helpers import allocation, at_london, conversation, days, grading, skip_to, today


async def allocate(api, env, **overrides) -> str:
    r = await api.as_("piat1").post("/audits", json=allocation(**overrides))
    assert r.status_code == 201, r.text
    return r.json()["audit_id"]


async def complete_and_submit(api, env, audit_id, service_area="safeguarding", grade="good", overall=None, auditor="tm2"):
    r = await api.as_(auditor).put(f"/audits/{audit_id}/grading", json=grading(service_area, grade, overall))
    assert r.status_code == 200, r.text
    r = await api.as_(auditor).post(
        f"/audits/{audit_id}/practitioner-conversation", json=conversation(await today(env), service_area, grade, overall)
    )
    assert r.status_code == 200, r.text
    r = await api.as_(auditor).post(f"/audits/{audit_id}/submit")
    assert r.status_code == 200, r.text
    return r.json()


async def test_standard_audit_happy_path(api, env, sent, smtp):
    await skip_to(env, datetime(2027, 1, 4, 9, 0))  # Monday
    audit_id = await allocate(api, env)
    view = (await api.as_("piat1").get(f"/audits/{audit_id}")).json()
    assert view["stage"] == "allocated"
    assert at_london(view["deadlines"]["completion_due"]) == datetime(2027, 2, 4, 17, 0).astimezone(at_london(view["deadlines"]["completion_due"]).tzinfo)
    submitted = await complete_and_submit(api, env, audit_id)
    assert submitted["stage"] == "awaiting_qa"
    assert submitted["deadlines"]["qa_due"]

    r = await api.as_("piat1").post(f"/audits/{audit_id}/qa", json={"decision": "accept"})
    assert r.status_code == 200, r.text
    assert r.json()["stage"] == "dispute_window"

    await env.sleep(days(8))
    view = (await api.as_("piat1").get(f"/audits/{audit_id}")).json()
    assert view["stage"] == "completed", view
    channels = [(n.channel, n.recipient_ids) for n in sent(audit_id)]
    assert channels == [
        ("email", ["tm2", "tm1", "sw1"]),
        ("email", ["sw1", "tm1"]),
        ("mosaic_case_note", ["sw1", "tm1", "iro1"]),
        ("mosaic_alert", ["sw1", "tm1", "iro1"]),
    ]
    assert len(smtp.to("sw1@council.example")) == 2
