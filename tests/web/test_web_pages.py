"""The staff pages (web/) in-process: signing in, the same permission rules and refusals as the
API, forms that keep what was typed. tests/web/test_web_browser.py drives them in a real browser."""

import re

from tests.helpers.dates import INVOLVED_SINCE, YEAR, at, completion_due, cycle, first_working_day
from tests.helpers import allocate, eventually, skip_to
from tests.helpers.web import SESSION, grading_form, pages


async def test_pages_need_a_sign_in_and_the_root_leads_to_them(api):
    r = await pages(api).get("/app/audits")
    assert r.status_code == 303 and r.headers["location"] == "/app/sign-in?next=/app/audits"
    r = await api.http.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/app/"
    r = await pages(api, "nobody-at-all").get("/app/")  # a cookie naming no one is no sign-in
    assert r.status_code == 303 and r.headers["location"].startswith("/app/sign-in")


async def test_signing_in_sets_a_strict_http_only_cookie_from_the_staff_directory(api):
    r = await api.http.get("/app/sign-in?next=/app/audits")
    assert r.status_code == 200 and 'lang="en"' in r.text
    assert "Jordan Manager (tm2)" in r.text and 'value="/app/audits"' in r.text  # dev mode lists the directory
    anyone = pages(api)
    r = await anyone.post("/app/sign-in", {"staff_id": "tm2", "next": "/app/audits"})
    assert r.status_code == 303 and r.headers["location"] == "/app/audits"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(f"{SESSION}="))
    assert cookie.startswith(f"{SESSION}=dev-tm2;") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/;" in cookie and "Secure" in cookie  # `__Host-`: this host only, https (or localhost) only
    r = await anyone.post("/app/sign-in", {"staff_id": "tm2", "next": "https://elsewhere.example/"})
    assert r.headers["location"] == "/app/"  # never sent to another site
    r = await anyone.post("/app/sign-in", {"staff_id": "nobody-at-all", "next": "/app/"})
    assert r.status_code == 401 and "names no one in the staff directory" in r.text
    r = await pages(api, "tm2").post("/app/sign-out", {})
    assert r.status_code == 303 and f'{SESSION}=""' in r.headers["set-cookie"]


async def test_the_api_still_takes_only_the_bearer_token(api):
    r = await api.http.get("/audits", headers={"Cookie": f"{SESSION}=dev-piat1"})
    assert r.status_code == 401
    assert (await api.as_("piat1").get("/audits")).status_code == 200
    assert "/app/" not in str((await api.as_("piat1").get("/openapi.json")).json()["paths"])  # pages stay out of the API's schema


async def test_the_audit_page_offers_each_person_only_what_they_may_do_now(api, audit_id):
    auditor = await pages(api, "tm2").get(f"/app/audits/{audit_id}")
    assert auditor.status_code == 200, auditor.text
    assert "Record the initial grading" in auditor.text and "Reassign the audit" in auditor.text
    assert "Submit for quality assurance</button>" not in auditor.text  # not graded yet
    due = completion_due(first_working_day(YEAR, 1))  # R-AUD-1: a month after the fixture's allocation
    assert re.search(rf"by {due:%A} {due.day} {due:%B}( {due.year})?, 17:00", auditor.text)  # London time, in words
    practitioner = await pages(api, "sw1").get(f"/app/audits/{audit_id}")
    assert practitioner.status_code == 200 and "Nothing on this audit waits on you now." in practitioner.text
    piat = await pages(api, "piat1").get(f"/app/audits/{audit_id}")
    assert "Hand a role over" in piat.text and "Record the initial grading" not in piat.text
    outsider = await pages(api, "sw3").get(f"/app/audits/{audit_id}")
    assert outsider.status_code == 403 and "may do this" in outsider.text


async def test_a_refused_form_comes_back_with_the_reason_beside_it_and_nothing_lost(api, audit_id):
    tm2 = pages(api, "tm2")
    # The API's model refuses it (no overall rationale): 422, the field named, the rest as typed.
    r = await tm2.post(f"/app/audits/{audit_id}/grading", grading_form(**{"overall.rationale": ""}))
    assert r.status_code == 422, r.text
    assert 'id="grading-overall-rationale-error"' in r.text and "Field required" in r.text
    assert "evidence for Assessment and analysis</textarea>" in r.text and 'value="Update the chronology"' in r.text
    # The workflow refuses it (a graded domain without a rationale): its words, the form kept.
    r = await tm2.post(f"/app/audits/{audit_id}/grading", grading_form(**{"domains.1.rationale": ""}))
    assert r.status_code == 422 and "a graded domain needs a rationale" in r.text
    # Someone else may not: refused as the API refuses, before the workflow.
    r = await pages(api, "sw1").post(f"/app/audits/{audit_id}/grading", grading_form())
    assert r.status_code == 403 and "only its auditor may do this" in r.text
    r = await tm2.post(f"/app/audits/{audit_id}/grading", grading_form())
    assert r.status_code == 303 and r.headers["location"] == f"/app/audits/{audit_id}?done=grading#top"
    page = await tm2.get(r.headers["location"].split("#")[0])
    assert "Initial grading recorded." in page.text and "Waiting for the practitioner conversation" in page.text
    log = (await api.as_("piat1").get("/action-log", params={"audit_id": audit_id})).json()["entries"]
    acted = [(e["route"], e["actor_id"], e["status"]) for e in log if e["method"] == "POST"]  # newest first
    assert acted[:2] == [("/app/audits/{audit_id}/{form_name}", "tm2", 303), ("/app/audits/{audit_id}/{form_name}", "sw1", 403)]


async def test_a_double_click_records_once(api, audit_id):
    tm2 = pages(api, "tm2")
    for _ in range(2):
        r = await tm2.post(f"/app/audits/{audit_id}/grading", grading_form(key="same-click"))
        assert r.status_code == 303
    view = (await api.as_("piat1").get(f"/audits/{audit_id}")).json()
    assert [h["action"] for h in view["history"]].count("initial grading recorded") == 1


async def test_my_work_and_the_lists_are_scoped_as_the_api_is(api, audit_id):
    work = await pages(api, "tm2").get("/app/")
    assert f'href="/app/audits/{audit_id}"' in work.text and "C-100001" in work.text
    assert (await pages(api, "sw3").get("/app/audits")).text.count(f"/app/audits/{audit_id}") == 0
    listed = await pages(api, "piat1").get(f"/app/audits?cycle={cycle(1)}&stage=allocated&overdue=no")
    assert listed.text.count(f'href="/app/audits/{audit_id}"') == 1
    bad = await pages(api, "piat1").get(f"/app/audits?cycle={cycle(8)}")
    assert bad.status_code == 422 and "not an audit cycle" in bad.text
    assert (await pages(api, "piat1").get("/app/disputes")).status_code == 200
    refused = await pages(api, "sw1").get("/app/disputes")
    assert refused.status_code == 403 and "only PIAT" in refused.text


async def test_allocation_through_the_form(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    form = {
        "idempotency_key": "alloc-1",
        "case_ref": "C-300001",
        "service_area": "safeguarding",
        "kind": "standard",
        "cycle": cycle(1),
        "auditor_id": "tm2",
        "practitioner_id": "sw1",
        "involvement_start": INVOLVED_SINCE.isoformat(),
        "cp_chair_or_iro_id": "",
        "theme": "",
    }
    assert (await pages(api, "tm1").get("/app/allocate")).status_code == 403
    r = await pages(api, "piat1").post("/app/allocate", form | {"auditor_id": "tm1"})  # the practitioner's own TM
    assert r.status_code == 422 and "must not be the practitioner or their own Team Manager" in r.text
    assert 'value="C-300001"' in r.text
    r = await pages(api, "piat1").post("/app/allocate", form)
    assert r.status_code == 303, r.text
    assert re.fullmatch(rf"/app/audits/{cycle(1)}-std-[0-9a-f]{{10}}\?done=allocated", r.headers["location"])


async def test_static_files_are_served_by_the_app(api):
    r = await api.http.get("/app/static/site.css")
    assert r.status_code == 200 and "link-button" in r.text


async def test_a_safety_concern_raised_and_acknowledged_through_the_pages(api, audit_id):
    form = {"idempotency_key": "concern-1", "description": "", "immediate_action_needed": "false"}
    r = await pages(api, "tm2").post(f"/app/audits/{audit_id}/safety-concern", form)
    assert r.status_code == 422 and 'id="safety-concern-description-error"' in r.text
    r = await pages(api, "tm2").post(f"/app/audits/{audit_id}/safety-concern", form | {"description": "Bruising seen"})
    assert r.status_code == 303 and r.headers["location"] == f"/app/safety-concerns/{audit_id}-1?done=raised"

    async def listed():  # each process rewrites what it waits for just after it answers
        return f'href="/app/safety-concerns/{audit_id}-1"' in (await pages(api, "tm1").get("/app/")).text

    assert await eventually(listed)
    page = await pages(api, "tm1").get(f"/app/safety-concerns/{audit_id}-1")
    assert "Acknowledge the concern" in page.text and "Bruising seen" in page.text
    assert "Acknowledge the concern" not in (await pages(api, "tm2").get(f"/app/safety-concerns/{audit_id}-1")).text
    r = await pages(api, "tm1").post(
        f"/app/safety-concerns/{audit_id}-1/acknowledge", {"idempotency_key": "ack-1", "action_taken": "Visited the child today"}
    )
    assert r.status_code == 303
    page = await pages(api, "tm1").get(r.headers["location"].split("#")[0])
    assert "Acknowledgement recorded." in page.text and "Acknowledged by" in page.text


async def test_a_peer_audit_is_not_graded_on_its_form(api, env):
    await skip_to(env, at(first_working_day(YEAR, 3)))  # as March's cycle opens
    audit_id = (await allocate(api, kind="peer", cycle=cycle(3), auditor_id="sw3", cp_chair_or_iro_id=None))["audit_id"]
    page = await pages(api, "sw3").get(f"/app/audits/{audit_id}")
    assert "Record the initial grading" in page.text and 'id="grading-domains-0-rationale"' in page.text
    assert 'id="grading-domains-0-grade"' not in page.text and 'id="grading-overall-grade"' not in page.text
    assert ">Findings</label>" in page.text
