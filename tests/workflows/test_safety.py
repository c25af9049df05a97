"""Safety concerns (R-SAFE-1, R-SAFE-2): raised by whoever audits the case, at any stage; the Team
Manager told at once, marked urgent; the Head of Service after 2 hours of clock time without an
acknowledgement, the Assistant Director 2 hours later, day or night, weekends included."""

from datetime import timedelta

from tests.helpers.dates import YEAR, at, first_working_day, weekday_on_or_after
from tests.helpers import allocate, at_london, audit_to_report, days, eventually, mail_to, search_attributes, skip_to, view
from tests.helpers.safety import CONCERN, raise_concern, urgent_emails

START = at(first_working_day(YEAR, 1))
SATURDAY = weekday_on_or_after(START.date(), 5)  # January's first weekend after the working days begin
FRIDAY, SUNDAY = SATURDAY - timedelta(days=1), SATURDAY + timedelta(days=1)  # a working day; the night after


async def test_acknowledged_within_the_hour(api, env, client, sent, smtp):
    await skip_to(env, at(FRIDAY))
    audit_id = (await allocate(api))["audit_id"]
    concern = await raise_concern(api, audit_id)
    assert concern["concern_id"] == f"{audit_id}-1" and concern["open"] and concern["told"] == ["tm1"]
    # 2 clock hours after raising (the test server's clock runs on between the skip and the raise)
    assert deadline_of(concern) - at_london(concern["raised_at"]) == timedelta(hours=2)
    assert abs(deadline_of(concern) - at(FRIDAY, 11)) < timedelta(minutes=1)
    await mail_to(smtp, "tm1@council.example", 2)  # the allocation, then the concern
    [message] = [m for m in smtp.to("tm1@council.example") if m["Subject"].startswith("URGENT")]
    assert message["Importance"] == "High" and "no strategy discussion" in message.get_content()
    attributes = await search_attributes(client, f"safety-{audit_id}-1")
    assert (attributes["SafetyConcernOpen"], attributes["Escalation"]) == (True, "none")

    await env.sleep(timedelta(minutes=40))
    r = await api.as_("tm1").post(f"/safety-concerns/{audit_id}-1/acknowledge", json={"action_taken": "Strategy discussion held"})
    assert r.status_code == 200, r.text
    assert (r.json()["open"], r.json()["acknowledged_by"]) == (False, "tm1")
    await env.sleep(timedelta(hours=5))
    assert urgent_emails(sent, audit_id) == [(["tm1"], "raised")]  # nobody else was troubled
    acknowledged = [n for n in sent(audit_id) if n.subject.startswith("Safety concern acknowledged")]
    assert [n.recipient_ids for n in acknowledged] == [["tm2", "tm1"]]
    assert (await search_attributes(client, f"safety-{audit_id}-1"))["SafetyConcernOpen"] is False
    r = await api.as_("tm1").post(f"/safety-concerns/{audit_id}-1/acknowledge", json={"action_taken": "again"})
    assert r.status_code == 409


async def test_escalated_at_two_hours_to_the_head_of_service_and_at_four_to_the_assistant_director(api, env, client, sent):
    await skip_to(env, at(FRIDAY))
    audit_id = (await allocate(api))["audit_id"]
    await skip_to(env, at(SATURDAY, 22, 30))  # a Saturday night: clock time, not working days
    await raise_concern(api, audit_id)
    concern = f"/safety-concerns/{audit_id}-1"

    await skip_to(env, at(SUNDAY, 0, 29))  # 1 h 59 m
    assert urgent_emails(sent, audit_id) == [(["tm1"], "raised")]
    assert (await api.as_("piat1").get(concern)).json()["escalation"] == "none"
    await skip_to(env, at(SUNDAY, 0, 31))  # 2 h
    assert urgent_emails(sent, audit_id)[1:] == [(["hos1"], "escalated-head_of_service")]
    v = (await api.as_("piat1").get(concern)).json()
    assert (v["escalation"], v["told"]) == ("head_of_service", ["tm1", "hos1"])
    assert (await search_attributes(client, f"safety-{audit_id}-1"))["Escalation"] == "head_of_service"

    await skip_to(env, at(SUNDAY, 2, 29))  # 3 h 59 m
    assert len(urgent_emails(sent, audit_id)) == 2
    await skip_to(env, at(SUNDAY, 2, 31))  # 4 h
    assert urgent_emails(sent, audit_id)[2:] == [(["ad1"], "escalated-assistant_director")]
    to_hos, to_ad = [
        n.body for n in sent(audit_id) if n.key.endswith(("escalated-head_of_service", "escalated-assistant_director"))
    ]
    assert f"By: Sunday {SUNDAY.day} {SUNDAY:%B %Y}, 02:30" in to_hos and "the Assistant Director is told" in to_hos
    assert "Nobody further is told" in to_ad  # nobody after the AD
    await env.sleep(timedelta(hours=3))
    v = (await api.as_("piat1").get(concern)).json()
    assert (v["escalation"], v["open"], v["overdue"]) == ("assistant_director", True, True)  # stays open, overdue
    listed = await eventually(lambda: _open_listed(api))
    assert [c["concern_id"] for c in listed] == [f"{audit_id}-1"]

    assert (await api.as_("sw1").post(f"{concern}/acknowledge", json={"action_taken": "x"})).status_code == 403
    r = await api.as_("hos1").post(f"{concern}/acknowledge", json={"action_taken": "Child seen by duty social worker"})
    assert r.status_code == 200 and r.json()["acknowledged_by"] == "hos1" and not r.json()["overdue"]
    timeline = [h["action"] for h in r.json()["history"]]
    assert timeline == [
        "safety concern raised",
        "not acknowledged: escalated to the Head of Service",
        "not acknowledged: escalated to the Assistant Director",
        "acknowledgement deadline passed",
        "safety concern acknowledged",
    ]


async def _open_listed(api):
    rows = (await api.as_("piat1").get("/safety-concerns", params={"open": "true"})).json()
    return rows if rows and rows[0]["overdue"] else None


async def test_raised_on_a_completed_audit_and_twice_on_one_audit(api, env, client, sent):
    await skip_to(env, START)
    audit_id = await audit_to_report(api, env, "good")
    await env.sleep(days(10))
    assert (await view(api, audit_id))["stage"] == "completed"
    first = await raise_concern(api, audit_id)
    second = await raise_concern(api, audit_id, body=CONCERN | {"immediate_action_needed": False})
    assert (first["concern_id"], second["concern_id"]) == (f"{audit_id}-1", f"{audit_id}-2")
    assert (await view(api, audit_id))["stage"] == "completed"  # the audit neither waits nor changes
    rows = await eventually(lambda: _listed(api, audit_id, 2))
    assert sorted(r["concern_id"] for r in rows) == [f"{audit_id}-1", f"{audit_id}-2"]


async def _listed(api, audit_id, count):
    rows = (await api.as_("tm1").get("/safety-concerns", params={"audit_id": audit_id})).json()
    return rows if len(rows) == count else None


async def test_raised_only_by_whoever_audits_it_and_with_a_description(api, env):
    await skip_to(env, START)
    audit_id = (await allocate(api))["audit_id"]
    for outsider in ("sw1", "tm1", "piat1"):
        r = await api.as_(outsider).post(f"/audits/{audit_id}/safety-concerns", json=CONCERN)
        assert r.status_code == 403 and "tm2" not in r.text  # nothing said of who is involved
    r = await api.as_("tm2").post(f"/audits/{audit_id}/safety-concerns", json={"immediate_action_needed": True})
    assert r.status_code == 422 and "description" in r.text
    r = await api.as_("tm2").post(f"/audits/{audit_id}/safety-concerns", json=CONCERN | {"description": ""})
    assert r.status_code == 422
    assert (await api.as_("piat1").get("/safety-concerns")).json() == []
    r = await api.as_("sw2").get(f"/safety-concerns/{audit_id}-1")
    assert r.status_code == 403
    assert (await api.as_("piat1").get(f"/safety-concerns/{audit_id}-1")).status_code == 404


def deadline_of(concern: dict):
    return at_london(concern["waiting_for"]["until"])
