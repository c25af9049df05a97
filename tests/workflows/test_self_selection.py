"""Self-selection (R-ALLOC-2): exceptional, agreed by the Head of Service of the case's service
before the audit starts; a refusal or no answer in 5 working days leaves it unallocated."""

from tests.helpers.dates import YEAR, at, deadline_after, first_working_day
from tests.helpers import days, emails, eventually, skip_to
from tests.helpers.self_selection import ASK, ask, import_cases
from tests.helpers.web import pages

START = at(first_working_day(YEAR, 1))  # 09:00 on the January cycle's first working day (4 January in 2027)


def told(sent, request: dict) -> list:
    return [(to, subject.split(":")[0]) for to, subject in emails(sent, request["request_id"].split("-by-")[0], "Self-selection")]


async def test_approved_the_audit_starts_with_the_asker_as_auditor(api, env, client, sent):
    await skip_to(env, START)
    request = await ask(api)
    assert (request["status"], request["head_of_service_id"]) == ("awaiting_decision", "hos1")
    assert told(sent, request) == [(["hos1"], "Self-selection request")]
    r = await api.as_("hos1").post(f"/self-selection-requests/{request['request_id']}/decision", json={"approve": True})
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["status"] == "approved" and decided["audit_id"]
    audit = (await api.as_("piat1").get(f"/audits/{decided['audit_id']}")).json()
    assert (audit["auditor_id"], audit["case_ref"], audit["stage"]) == ("tm2", "C-300", "allocated")
    assert [h["actor_id"] for h in audit["history"]][:1] == ["hos1"]  # allocated by the Head of Service's approval
    # The audit runs on its own and emails its people as it starts: just after the answer.
    allocated = await eventually(lambda: emails(sent, decided["audit_id"], "Audit allocated"))
    assert allocated[0][0] == ["tm2", "tm1", "sw1"]
    assert told(sent, request)[-1] == (["tm2"], "Self-selection approved")


async def test_refused_or_unanswered_it_stays_unallocated_and_the_auditor_is_told(api, env, client, sent):
    await skip_to(env, START)
    refused = await ask(api)
    r = await api.as_("hos1").post(
        f"/self-selection-requests/{refused['request_id']}/decision", json={"approve": False, "comment": "PIAT will allocate it"}
    )
    assert r.json()["status"] == "refused" and r.json()["audit_id"] is None
    assert told(sent, refused)[-1] == (["tm2"], "Self-selection refused")
    assert (await api.as_("piat1").get("/audits")).json() == []

    unanswered = await ask(api, case_ref="C-301")
    assert unanswered["due"].startswith(f"{deadline_after(START, 5):%Y-%m-%dT%H:%M}")  # 5 working days
    await env.sleep(days(8))
    r = await api.as_("piat1").get(f"/self-selection-requests/{unanswered['request_id']}")
    assert r.json()["status"] == "unanswered"
    assert told(sent, unanswered)[-1] == (["tm2"], "Self-selection unanswered")
    r = await api.as_("hos1").post(f"/self-selection-requests/{unanswered['request_id']}/decision", json={"approve": True})
    assert r.status_code == 409 and "ended" in r.json()["detail"]  # too late


async def test_asking_again_after_a_refusal_is_a_new_request_the_head_of_service_is_told_of(api, env, sent):
    await skip_to(env, START)
    refused = await ask(api)
    r = await api.as_("hos1").post(f"/self-selection-requests/{refused['request_id']}/decision", json={"approve": False})
    assert r.json()["status"] == "refused"
    again = await ask(api)  # with more to say, say
    assert again["request_id"] != refused["request_id"] and again["status"] == "awaiting_decision"
    assert [t for t in told(sent, again) if t == (["hos1"], "Self-selection request")] == [
        (["hos1"], "Self-selection request")
    ] * 2
    r = await api.as_("hos1").post(f"/self-selection-requests/{again['request_id']}/decision", json={"approve": True})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    await ask(api, status=409)  # approved: the case has its audit now


async def test_only_someone_who_may_audit_it_asks_and_only_its_head_of_service_decides(api, env, client):
    await skip_to(env, START)
    await import_cases(api)
    r = await api.as_("sw2").post("/self-selection-requests", json=ASK)
    assert r.status_code == 422 and "cannot carry out a standard audit" in r.text
    r = await api.as_("tm1").post("/self-selection-requests", json=ASK)
    assert r.status_code == 422 and "own Team Manager" in r.text
    request = await ask(api)
    await ask(api, status=409)  # asked already
    decide = f"/self-selection-requests/{request['request_id']}/decision"
    assert (await api.as_("sw1").post(decide, json={"approve": True})).status_code == 403
    assert (await api.as_("psw1").post(decide, json={"approve": True})).status_code == 403  # another service's HoS
    assert (await api.as_("hos1").post(decide, json={"approve": True})).status_code == 200
    assert (await api.as_("hos1").post(decide, json={"approve": False})).status_code == 409


async def test_the_one_who_asked_reads_their_request_and_no_other_auditor_does(api, env, client):
    """Their emails link to the request's page: the asker may read it; another auditor may not."""
    await skip_to(env, START)
    request = await ask(api)  # asked by tm2
    url = f"/self-selection-requests/{request['request_id']}"
    r = await api.as_("tm2").get(url)
    assert r.status_code == 200 and r.json()["requested_by"] == "tm2"
    r = await api.as_("sm1").get(url)
    assert r.status_code == 403 and "who asked" in r.json()["detail"]
    assert (await api.as_("hos1").get(url)).status_code == 200
    page = await pages(api, "tm2").get(f"/app{url}")  # the page their emails link to
    assert page.status_code == 200 and "Self-selection" in page.text
