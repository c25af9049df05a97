"""The pages for the actions that were the API's alone, in-process: the safety concerns list, the
action log, the open-case list and its import, a selection drawn, reviewed and confirmed, asking to
self-select, a moderation panel convened by hand and a moderation given to another moderator,
findings shared with a previous practitioner and a role handed over. Each for the right people
only, each refusal beside its form with what was typed kept, each as the API's route does it."""

import re

from tests.helpers.dates import YEAR, at, cycle, first_working_day
from tests.helpers import eventually, skip_to
from tests.helpers.moderation import FEBRUARY, PANEL_PAGE, final_january_audits
from tests.helpers.safety import raise_concern
from tests.helpers.self_selection import ASK, OPEN_CASES, import_cases
from tests.helpers.web import pages

SELECTION = re.compile(r"^/app/selections/([^?#]+)\?done=drawn#top$")


async def test_the_safety_concerns_list_is_scoped_and_filtered_as_the_api_s(api, audit_id):
    concern = await raise_concern(api, audit_id)
    link = f'href="/app/safety-concerns/{concern["concern_id"]}"'

    async def listed():  # the concern's row is saved just after it answers
        return link in (await pages(api, "piat1").get("/app/safety-concerns")).text

    assert await eventually(listed)
    assert link in (await pages(api, "tm2").get("/app/safety-concerns")).text  # who raised it
    others = await pages(api, "sw3").get("/app/safety-concerns")
    assert others.status_code == 200 and link not in others.text and "0 safety concerns" in others.text
    assert link not in (await pages(api, "piat1").get("/app/safety-concerns?open=no")).text  # none acknowledged yet
    mine = await pages(api, "piat1").get(f"/app/safety-concerns?open=yes&audit_id={audit_id}")
    assert link in mine.text and 'href="/app/safety-concerns"' in mine.text  # in the navigation
    bad = await pages(api, "piat1").get(f"/app/safety-concerns?audit_id={'x' * 81}")
    assert bad.status_code == 422 and 'id="filters-audit-id-error"' in bad.text


async def test_the_action_log_for_piat_filtered_a_page_at_a_time(api, audit_id):
    assert (await api.as_("tm2").put(f"/audits/{audit_id}/grading", json={})).status_code == 422
    everything = await pages(api, "piat1").get("/app/action-log")
    assert everything.status_code == 200 and "POST /audits</td>" in everything.text
    log = await pages(api, "piat1").get(f"/app/action-log?audit_id={audit_id}")
    assert "PUT /audits/{audit_id}/grading" in log.text and "422 refused" in log.text and "POST /audits</td>" not in log.text
    assert f'href="/app/audits/{audit_id}"' in log.text
    assert 'href="/app/action-log"' in log.text  # in PIAT's navigation
    assert 'href="/app/action-log"' not in (await pages(api, "tm1").get("/app/")).text
    refused = await pages(api, "tm1").get("/app/action-log")
    assert refused.status_code == 403 and "only PIAT may do this" in refused.text
    nobody = await pages(api, "piat1").get("/app/action-log?actor_id=sw3")
    assert "0 entries" in nobody.text
    bad = await pages(api, "piat1").get("/app/action-log?before=abc&actor_id=piat1")
    assert bad.status_code == 422 and 'id="filters-before-error"' in bad.text and 'value="abc"' in bad.text


async def test_piat_imports_the_open_case_list_through_its_page(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    piat = pages(api, "piat1")
    bad = OPEN_CASES + "C-BAD,nowhere,sw1,2020-01-01,\n"
    r = await piat.post("/app/cases", {"idempotency_key": "i1", "csv": bad})
    assert r.status_code == 422 and "1 rows refused; nothing was imported" in r.text
    assert "<td>5</td><td>service_area must be one of" in r.text and "C-BAD,nowhere" in r.text  # the line, and what was pasted
    r = await piat.post("/app/cases", {"idempotency_key": "i2", "csv": " "})
    assert r.status_code == 422 and 'id="import-csv-error"' in r.text
    assert (await pages(api, "tm1").post("/app/cases", {"idempotency_key": "i3", "csv": OPEN_CASES})).status_code == 403
    with_name = OPEN_CASES.replace("cp_chair_or_iro_id\n", "cp_chair_or_iro_id,child_name\n", 1)
    r = await piat.post("/app/cases", {"idempotency_key": "i4", "csv": with_name})
    assert r.status_code == 303 and r.headers["location"] == "/app/cases?imported=3&ignored=child_name#top"
    page = await piat.get("/app/cases?imported=3&ignored=child_name")
    assert "now holds 3 cases" in page.text and "child_name" in page.text and "<td>C-301</td>" in page.text
    filtered = await piat.get("/app/cases?service_area=mash")
    assert "0 open cases" in filtered.text
    assert (await piat.get("/app/cases?service_area=nowhere")).status_code == 422
    assert (await pages(api, "tm1").get("/app/cases")).status_code == 403


async def test_a_selection_drawn_reviewed_and_confirmed_through_the_pages(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    await import_cases(api)
    piat = pages(api, "piat1")
    assert 'value="' + cycle(1) + '"' in (await piat.get("/app/selections")).text  # this month's cycle, filled in
    r = await piat.post("/app/selections", {"idempotency_key": "s1", "cycle": cycle(1), "per_team": "0", "seed": "7"})
    assert r.status_code == 422 and 'id="draw-per-team-error"' in r.text and 'value="7"' in r.text
    r = await piat.post("/app/selections", {"idempotency_key": "s2", "cycle": cycle(8), "per_team": "1"})
    assert r.status_code == 422 and "not an audit cycle" in r.text
    assert (
        await pages(api, "tm1").post("/app/selections", {"idempotency_key": "s3", "cycle": cycle(1), "per_team": "1"})
    ).status_code == 403
    r = await piat.post("/app/selections", {"idempotency_key": "s4", "cycle": cycle(1), "per_team": "2", "seed": "7"})
    assert r.status_code == 303, r.text
    selection_id = SELECTION.match(r.headers["location"]).group(1)
    page = await piat.get(f"/app/selections/{selection_id}?done=drawn")
    assert "Drawn: review the proposal" in page.text and "seed 7" in page.text
    drawn = (await api.as_("piat1").get(f"/selections/{selection_id}")).json()["proposal"]
    assert len(drawn) == 2 and all(f'value="{p["case_ref"]}"' in page.text for p in drawn)

    kept, left_out = drawn
    form = {"idempotency_key": "c1"}
    for i, p in enumerate(drawn):
        form |= {
            f"allocations.{i}.case_ref": p["case_ref"],
            f"allocations.{i}.kind": p["kind"],
            f"allocations.{i}.auditor_id": "tm2",
        }
    form["allocations.0.include"] = "yes"  # the second left out
    r = await piat.post(f"/app/selections/{selection_id}/confirm", form | {"allocations.0.kind": "nonsense"})
    assert r.status_code == 422 and "allocations.0.kind" in r.text
    r = await piat.post(f"/app/selections/{selection_id}/confirm", form)
    assert r.status_code == 303 and r.headers["location"] == f"/app/selections/{selection_id}?done=confirmed#top"
    page = await piat.get(f"/app/selections/{selection_id}?done=confirmed")
    assert "1 of 1 started" in page.text and "Confirm again" in page.text
    confirmed = (await api.as_("piat1").get(f"/selections/{selection_id}")).json()["confirmed"]
    assert [c["case_ref"] for c in confirmed] == [
        kept["case_ref"]
    ] and f'href="/app/audits/{confirmed[0]["audit_id"]}"' in page.text
    r = await piat.post(f"/app/selections/{selection_id}/confirm", form | {"idempotency_key": "c2"})  # again: nothing new
    assert r.status_code == 303
    assert (await api.as_("piat1").get(f"/selections/{selection_id}")).json()["confirmed"] == confirmed
    assert (await pages(api, "tm1").get(f"/app/selections/{selection_id}")).status_code == 403
    assert left_out["case_ref"] not in {c["case_ref"] for c in confirmed}


async def test_an_auditor_asks_to_self_select_through_the_form(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    await import_cases(api)
    tm2 = pages(api, "tm2")
    page = await tm2.get("/app/self-selection-requests/new")
    assert page.status_code == 200 and 'href="/app/self-selection-requests/new"' in page.text
    form = {"idempotency_key": "a1"} | ASK
    r = await tm2.post("/app/self-selection-requests/new", form | {"reason": " "})
    assert r.status_code == 422 and 'id="ask-reason-error"' in r.text and 'value="C-300"' in r.text
    r = await tm2.post("/app/self-selection-requests/new", form | {"case_ref": "C-999"})
    assert r.status_code == 422 and "not on the open-case list" in r.text
    r = await tm2.post("/app/self-selection-requests/new", form)
    assert r.status_code == 303, r.text
    url = r.headers["location"].split("?")[0]
    page = await tm2.get(url + "?done=asked")
    assert "Asked: the Head of Service" in page.text and "I supervised the previous worker" in page.text
    r = await tm2.post("/app/self-selection-requests/new", form | {"idempotency_key": "a2"})
    assert r.status_code == 409 and "already asked" in r.text and "I supervised the previous worker" in r.text


async def test_piat_convenes_a_panel_by_hand_and_gives_a_moderation_to_another_moderator(api, env, engine):
    [audit_id] = await final_january_audits(api, env, engine, [dict(grade="good")])
    piat = pages(api, "piat1")
    page = await piat.get(f"/app/cycles/{FEBRUARY}")
    assert "Convene the panel" in page.text
    assert "Convene the panel" not in (await pages(api, "hos1").get(f"/app/cycles/{FEBRUARY}")).text
    r = await piat.post(f"/app/cycles/{FEBRUARY}/moderation-panel", {"idempotency_key": "p1", "per_service": "99"})
    assert r.status_code == 422 and 'id="moderation-panel-per-service-error"' in r.text and 'value="99"' in r.text
    r = await pages(api, "hos1").post(f"/app/cycles/{FEBRUARY}/moderation-panel", {"idempotency_key": "p2"})
    assert r.status_code == 403
    r = await piat.post(f"/app/cycles/{FEBRUARY}/moderation-panel", {"idempotency_key": "p3", "per_service": "1", "seed": "1"})
    assert r.status_code == 303 and r.headers["location"] == f"{PANEL_PAGE}?done=started#top"
    page = await piat.get(f"{PANEL_PAGE}?done=started")
    assert "Panel convened" in page.text and "Give the moderation" in page.text
    r = await piat.post(f"/app/cycles/{FEBRUARY}/moderation-panel", {"idempotency_key": "p4"})
    assert r.status_code == 409 and "already exists" in r.text  # one panel a month

    give = f"{PANEL_PAGE}/give"
    assert "Give the moderation" not in (await pages(api, "slt1").get(PANEL_PAGE)).text
    r = await piat.post(give, {"idempotency_key": "g1", "audit_id": audit_id, "moderator_id": "tm1"})
    assert r.status_code == 422 and "not an SLT moderator" in r.text
    assert (
        await pages(api, "slt2").post(give, {"idempotency_key": "g2", "audit_id": audit_id, "moderator_id": "slt2"})
    ).status_code == 403
    r = await piat.post(give, {"idempotency_key": "g3", "audit_id": audit_id, "moderator_id": "slt2"})
    assert r.status_code == 303 and r.headers["location"] == f"{PANEL_PAGE}?done=given#top"
    [moderation] = (await api.as_("piat1").get(f"/moderation-panels/{FEBRUARY}")).json()["moderations"]
    assert moderation["moderator_id"] == "slt2"
    assert "Record moderation" in (await pages(api, "slt2").get(PANEL_PAGE)).text


async def test_findings_shared_with_a_previous_practitioner_and_a_role_handed_over(api, audit_id):
    tm2 = pages(api, "tm2")
    assert "Share findings with a previous practitioner" in (await tm2.get(f"/app/audits/{audit_id}")).text
    assert "Share findings with a previous practitioner" not in (await pages(api, "sw1").get(f"/app/audits/{audit_id}")).text
    url = f"/app/audits/{audit_id}/previous-practitioner-feedback"
    r = await tm2.post(url, {"idempotency_key": "f1", "staff_id": "sw2", "findings": ""})
    assert r.status_code == 422 and 'id="previous-practitioner-feedback-findings-error"' in r.text
    r = await pages(api, "sw1").post(url, {"idempotency_key": "f2", "staff_id": "sw2", "findings": "Visits were on time"})
    assert r.status_code == 403
    r = await tm2.post(url, {"idempotency_key": "f3", "staff_id": "sw2", "findings": "Visits were on time"})
    assert r.status_code == 303 and r.headers["location"] == f"/app/audits/{audit_id}?done=previous-practitioner-feedback#top"
    assert "Findings shared" in (await tm2.get(f"/app/audits/{audit_id}?done=previous-practitioner-feedback")).text

    people = f"/app/audits/{audit_id}/people"
    r = await pages(api, "piat1").post(people, {"idempotency_key": "h1", "role": "auditor", "staff_id": "tm1", "reason": ""})
    assert r.status_code == 422 and 'id="people-reason-error"' in r.text
    r = await pages(api, "piat1").post(
        people, {"idempotency_key": "h2", "role": "auditor", "staff_id": "sm1", "reason": "Long-term sickness"}
    )
    assert r.status_code == 303
    assert (await api.as_("piat1").get(f"/audits/{audit_id}")).json()["auditor_id"] == "sm1"
