"""What a new member of staff meets on the pages: a refusal that points at the field to put right,
addresses that answer a reload or a bookmark with a page, only what the process waits for under
"What you can do now", and the council's words, not the code's (stage values, role keys, rule
codes, ISO dates)."""

import re

from fastapi.routing import APIRoute

from api.main import create_app
from tests.helpers import audit_to_report, complete, submit
from tests.helpers.dates import YEAR
from tests.helpers.disputes import meeting, raise_dispute, summary
from tests.helpers.web import grading_form, pages

RULE_CODE = re.compile(r"\bR-[A-Z]+-\d")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def section(html: str, start: str, end: str) -> str:
    """The part of a page from the heading `start` to the heading `end`."""
    return html.split(f">{start}</h2>", 1)[1].split(f">{end}</h2>", 1)[0]


def page_routes(routes, methods=frozenset({"POST"})) -> list[str]:
    """Every route under /app/ taking one of `methods`, through included routers at any depth."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)  # an included router, as FastAPI keeps it
        if inner is not None:
            found += page_routes(inner.routes, methods)
        elif isinstance(route, APIRoute) and route.path.startswith("/app/") and route.methods & methods:
            found.append(route.path)
    return found


async def test_a_refused_grading_names_the_field_at_fault_beside_it_and_in_the_summary(api, audit_id):
    # The workflow refuses it (a graded domain without a rationale), naming no field: the page does.
    r = await pages(api, "tm2").post(f"/app/audits/{audit_id}/grading", grading_form(**{"domains.1.rationale": ""}))
    assert r.status_code == 422 and "a graded domain needs a rationale" in r.text
    assert 'href="#grading-domains-1-rationale"' in r.text  # the summary links to the field
    assert 'id="grading-domains-1-rationale-error"' in r.text  # the message beside it
    assert re.search(
        r'<textarea[^>]*id="grading-domains-1-rationale"[^>]*aria-describedby="grading-domains-1-rationale-error"', r.text
    )
    # The API's model refuses it: the summary names the field in words, not by its path.
    r = await pages(api, "tm2").post(f"/app/audits/{audit_id}/grading", grading_form(**{"overall.rationale": ""}))
    assert 'href="#grading-overall-rationale"' in r.text and "overall.rationale:" not in r.text


async def test_every_address_a_form_posts_to_answers_a_get_with_a_page(api, audit_id):
    posted = page_routes(create_app().routes)
    assert "/app/audits/{audit_id}/{form_name}" in posted and "/app/sign-out" in posted
    piat = pages(api, "piat1")
    for path in posted:
        url = re.sub(r"\{[a-z_]+\}", lambda m: audit_id if m.group(0) == "{audit_id}" else "grading", path)
        r = await piat.get(url)
        if r.status_code in (302, 303, 307):
            r = await piat.get(r.headers["location"].split("#")[0])
        assert r.status_code != 405 and r.headers["content-type"].startswith("text/html"), (path, r.status_code, r.text[:200])
    r = await piat.get("/app/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and "no such page" in r.text
    assert (await api.as_("piat1").get("/no-such-route")).json() == {"detail": "Not Found"}  # the API's stay JSON


async def test_what_you_can_do_now_lists_only_what_the_process_waits_for(api, audit_id):
    auditor = (await pages(api, "tm2").get(f"/app/audits/{audit_id}")).text
    now, other = auditor.split(">What you can do now</h2>", 1)[1].split("Other actions</summary>", 1)
    assert "Record the initial grading" in now and "Reassign the audit" not in now
    assert "Reassign the audit" in other.split("</details>")[0] and "<details" in now  # apart, folded away
    piat = (await pages(api, "piat1").get(f"/app/audits/{audit_id}")).text
    assert "Nothing on this audit waits on you now." in piat and "Hand a role over" in piat
    await pages(api, "tm2").post(f"/app/audits/{audit_id}/grading", grading_form())
    graded = (await pages(api, "tm2").get(f"/app/audits/{audit_id}")).text
    now, other = graded.split(">What you can do now</h2>", 1)[1].split("Other actions</summary>", 1)
    assert "Record the practitioner conversation" in now and "Record the initial grading" not in now  # a correction now
    assert "Record the initial grading" in other
    # A refused "other" form comes back unfolded, its message showing.
    r = await pages(api, "piat1").post(f"/app/audits/{audit_id}/reassign", {"idempotency_key": "r1", "reason": "x"})
    assert r.status_code == 422 and re.search(r"<details[^>]*\bopen\b[^>]*>\s*<summary[^>]*>Other actions", r.text)


async def test_the_audit_page_speaks_in_words_not_codes(api, env, audit_id):
    refused = await pages(api, "tm2").post(f"/app/audits/{audit_id}/submit", {"idempotency_key": "s0"})
    assert refused.status_code == 409 and "while the audit is allocated" not in refused.text
    assert "while the audit is waiting for the initial grading" in refused.text
    await complete(api, env, audit_id)
    await submit(api, audit_id)
    page = (await pages(api, "piat1").get(f"/app/audits/{audit_id}")).text
    assert "Waiting for quality assurance" in page and "awaiting qa" not in page
    assert "the audit team (PIAT)" in page and "anyone who is" not in page
    assert f"January {YEAR}" in page and f"{YEAR}-01<" not in page and f"cycle {YEAR}-01" not in page
    assert not RULE_CODE.search(page), RULE_CODE.search(page)
    assert not ISO_DATE.search(section(page, "Timeline", "Notifications"))
    deadlines = section(page, "Deadlines", "The report")
    assert re.search(r"Completion</td>\s*<td[^>]*>[^<]*<br><strong[^>]*>Done</strong>", deadlines)  # submitted in time
    work = (await pages(api, "piat1").get("/app/")).text
    assert "anyone who is" not in work and "the audit team (PIAT)" in work
    listed = (await pages(api, "piat1").get("/app/audits")).text
    assert re.search(rf">January {YEAR}</", listed) and ">Waiting for quality assurance</" in listed


async def test_the_report_comes_before_the_dispute_form_and_the_window_is_open_to_them(api, env):
    audit_id = await audit_to_report(api, env, "good")
    page = (await pages(api, "sw1").get(f"/app/audits/{audit_id}")).text
    assert page.index(">The report</h2>") < page.index("Dispute the grading")
    assert "The report: the final grading" in page
    assert "open to you until" in page and "waits on" not in page
    deadlines = section(page, "Deadlines", "The report")
    assert deadlines.count(">Done</strong>") == 2  # completion and quality assurance, both met
    work = (await pages(api, "sw1").get("/app/")).text
    assert "open to you until" in work


async def test_people_are_chosen_by_name_not_typed_as_ids(api, env, audit_id):
    page = (await pages(api, "tm2").get(f"/app/audits/{audit_id}")).text
    owner = re.search(
        r'<select[^>]*id="grading-improvement-plan-0-owner-id"[^>]*name="improvement_plan.0.owner_id".*?</select>', page, re.S
    )
    assert owner and re.search(r'<option[^>]*value="sw1"[^>]*>[^<]*\(sw1\)</option>', owner.group(0))
    await pages(api, "tm2").post(f"/app/audits/{audit_id}/grading", grading_form())
    page = (await pages(api, "tm2").get(f"/app/audits/{audit_id}")).text
    attendees = re.search(r'<fieldset[^>]*id="conversation-attendees".*?</fieldset>', page, re.S)
    assert attendees and 'name="attendees"' in attendees.group(0) and "staff IDs, separated by commas" not in page
    assert re.search(r'<input[^>]*type="checkbox"[^>]*name="attendees" value="sw1"[^>]*checked', attendees.group(0))


async def test_the_dispute_page_offers_apart_what_nothing_waits_for_and_marks_steps_done(api, env):
    audit_id = await audit_to_report(api, env, "good")
    await raise_dispute(api, audit_id)
    raiser = (await pages(api, "sw1").get(f"/app/disputes/{audit_id}")).text
    assert "Nothing on this dispute waits on you now." in raiser
    assert "Withdraw the dispute" in raiser.split("Other actions</summary>", 1)[1]
    manager = (await pages(api, "tm1").get(f"/app/disputes/{audit_id}")).text
    assert re.search(r'<fieldset[^>]*id="meeting-attendees"', manager) and "separated by commas" not in manager
    await meeting(api, env, audit_id)
    await summary(api, audit_id, "resolved")
    page = (await pages(api, "tm2").get(f"/app/disputes/{audit_id}")).text
    assert "Record the amended final grading" in page and not RULE_CODE.search(page)
    assert re.search(r"Meeting</td>\s*<td[^>]*>[^<]*<br><strong[^>]*>Done</strong>", page)


async def test_the_allocation_form_names_no_rule_and_says_send(api):
    page = (await pages(api, "piat1").get("/app/allocate")).text
    assert not RULE_CODE.search(page) and re.search(r'<option[^>]*value="send"[^>]*>SEND</option>', page)


async def test_my_work_names_the_case_not_the_audits_internal_id(api, audit_id):
    """An audit's ID is a keyed hash of its case (for the workflow and the logs): staff know the
    case by its reference, which My work shows beside each item."""
    work = (await pages(api, "tm2").get("/app/")).text
    shown = re.sub(r'href="[^"]*"', "", work)  # links carry the ID in their address, not in what they say
    assert "C-100001" in shown and audit_id not in shown


async def test_the_allocation_form_offers_the_open_cycles_by_name(api):
    """The cycle is chosen, as the emails name it ("January 2027"), among those open now: never
    August or December, never more than the months ahead an allocation may take."""
    page = (await pages(api, "piat1").get("/app/allocate")).text
    offered = re.findall(r'<option value="(\d{4}-\d{2})"[^>]*>([^<]+)</option>', page)
    assert (f"{YEAR}-01", f"January {YEAR}") in offered
    assert all(not month.endswith(("-08", "-12")) for month, _ in offered) and 9 <= len(offered) <= 11
