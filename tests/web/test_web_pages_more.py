"""The pages the emails link to beyond an audit's (models/pages.py), in-process: a moderation panel
with the moderator's record, a cycle and the year's cycles with PIAT's theme, a self-selection
request with the Head of Service's decision. Each for the right people, a 403 page for others,
and refusals shown beside the form with what was typed kept."""

import re
from datetime import timedelta

from models import pages as linked
from tests.helpers.dates import YEAR, at, cycle, cycle_closes, day, deadline_after, first_working_day
from tests.helpers import allocation, eventually, london, skip_to
from tests.helpers.cycles import start_cycle
from tests.helpers.moderation import FEBRUARY, PANEL_DAY, PANEL_PAGE, a_panel
from tests.helpers.self_selection import ask
from tests.helpers.web import pages
from web.list_pages import PAGES

MODERATION = f"{FEBRUARY}-m01"


def in_words(d) -> str:
    """A date as the pages write it, the year left optional: "Monday 1 March( 2027)?" as a pattern."""
    return rf"{d:%A} {d.day} {d:%B}( {d.year})?"


def moderation_form(moderation: dict, key: str = "mod-1", **changes) -> dict:
    """The moderation form as a browser sends it, agreeing with every grade."""
    form = {
        "idempotency_key": key,
        "overall.agree": "true",
        "overall.moderated_grade": "",
        "feedback": "Sound analysis; the plan needs dates.",
        "met_auditor_on": PANEL_DAY.isoformat(),
    }
    for i, d in enumerate(moderation["domains"]):
        form |= {f"domains.{i}.domain": d["domain"], f"domains.{i}.agree": "true", f"domains.{i}.moderated_grade": ""}
    return form | changes


async def test_my_work_and_the_emails_link_to_pages_that_exist(settings):
    """Each page an email or My work links to is a page route: without a sign-in it leads to the
    sign-in page and back (a missing route would be a 404)."""
    import httpx

    from api.deps import Services
    from api.main import create_app

    app = create_app(Services(settings=settings, client=None, engine=None, directory=None))
    links = [
        linked.audit_page(f"{cycle(1)}-std-0123456789"),
        linked.moderation_panel_page(FEBRUARY),
        linked.cycle_page(cycle(5)),
        linked.self_selection_page(f"{cycle(1)}-std-0123456789-by-tm2"),
    ]
    links += [page("some-id") for page in PAGES.values()]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        for link in links:
            r = await http.get(link)
            assert (r.status_code, r.headers.get("location")) == (303, f"/app/sign-in?next={link}"), link
    assert PAGES["moderation_panel"](FEBRUARY) == linked.moderation_panel_page(FEBRUARY) == PANEL_PAGE


async def test_a_moderator_records_a_moderation_through_the_panel_s_page(api, env, engine):
    moderation = await a_panel(api, env, engine)
    slt1 = pages(api, "slt1")
    page = await slt1.get(PANEL_PAGE)
    assert page.status_code == 200, page.text
    assert f"Moderation panel, {PANEL_DAY:%B %Y}" in page.text and f"Record moderation {MODERATION}: case C-100001" in page.text
    due = deadline_after(PANEL_DAY, 20)  # R-MOD-3: 20 working days after the panel opened
    assert re.search(rf"{in_words(due)}, 17:00", page.text)  # due, in London time
    assert f'id="record-{MODERATION}-domains-0-agree-1"' in page.text  # a labelled choice per domain
    assert "/app/audits/" not in page.text  # moderators do not read the audits' own pages
    work = await eventually(lambda: _listed(slt1))
    assert f'href="{PANEL_PAGE}"' in work

    piat = await pages(api, "piat1").get(PANEL_PAGE)
    assert piat.status_code == 200 and "Nothing on this panel waits on you now." in piat.text
    assert f'href="/app/audits/{moderation["audit_id"]}"' in piat.text
    assert "Record moderation" not in (await pages(api, "slt2").get(PANEL_PAGE)).text  # not theirs
    outsider = await pages(api, "tm1").get(PANEL_PAGE)
    assert outsider.status_code == 403 and "may do this" in outsider.text

    # The API's model refuses it (disagreeing without a grade): beside the overall grade, the rest kept.
    r = await slt1.post(f"{PANEL_PAGE}/{MODERATION}", moderation_form(moderation, **{"overall.agree": "false"}))
    assert r.status_code == 422, r.text
    assert f'id="record-{MODERATION}-overall-error"' in r.text and "moderated_grade is required" in r.text
    assert "the plan needs dates.</textarea>" in r.text and f'value="{PANEL_DAY.isoformat()}"' in r.text
    # The workflow refuses it (a meeting in the future) and another moderator: their words.
    r = await slt1.post(f"{PANEL_PAGE}/{MODERATION}", moderation_form(moderation, met_auditor_on=day(12, 1).isoformat()))
    assert r.status_code == 422 and "not in the future" in r.text
    r = await pages(api, "slt2").post(f"{PANEL_PAGE}/{MODERATION}", moderation_form(moderation, key="mod-2"))
    assert r.status_code == 403 and "only the moderator it is allocated to" in r.text

    r = await slt1.post(f"{PANEL_PAGE}/{MODERATION}", moderation_form(moderation))
    assert r.status_code == 303 and r.headers["location"] == f"{PANEL_PAGE}?done=recorded#top"
    page = await slt1.get(r.headers["location"].split("#")[0])
    assert "Moderation recorded" in page.text and "Record moderation" not in page.text
    assert "good (agreed;" in page.text and "nothing: every moderation is recorded" in page.text
    assert (await api.as_("piat1").get(f"/moderation-panels/{FEBRUARY}")).json()["moderations"][0]["recorded"]


async def _listed(member) -> str | None:
    text = (await member.get("/app/")).text
    return text if "/app/moderation-panels/" in text else None


async def test_the_year_s_cycles_and_piat_sets_a_theme_through_the_cycle_s_page(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))  # in the year, May's cycle still ahead (a theme is set before it)
    may, april = cycle(5), cycle(4)
    may_opens = first_working_day(YEAR, 5)
    year = await pages(api, "tm1").get(f"/app/cycles?year={YEAR}")
    assert year.status_code == 200 and year.text.count("<tr>") == 11  # the header and ten cycles
    assert (
        'href="/app/cycles"' in year.text
        and f"May {YEAR}" in year.text
        and f"{may_opens:%A} {may_opens.day} {may_opens:%B %Y}" in year.text
    )
    assert f'href="/app/cycles/{may}"' not in year.text  # a cycle's own page is for senior leaders and HoS
    assert f'href="/app/cycles/{may}"' in (await pages(api, "piat1").get(f"/app/cycles?year={YEAR}")).text
    bad = await pages(api, "tm1").get("/app/cycles?year=20x7")
    assert bad.status_code == 422 and 'id="year-year-error"' in bad.text and 'value="20x7"' in bad.text
    assert (await pages(api, "tm1").get("/app/cycles?year=1999")).status_code == 422

    assert (await pages(api, "tm1").get(f"/app/cycles/{may}")).status_code == 403
    hos = await pages(api, "hos1").get(f"/app/cycles/{may}")
    assert hos.status_code == 200 and f"May {YEAR} audit cycle" in hos.text and "Set the theme" not in hos.text
    piat = pages(api, "piat1")
    assert "Set the theme" in (await piat.get(f"/app/cycles/{may}")).text
    r = await piat.post(f"/app/cycles/{may}/theme", {"idempotency_key": "t1", "theme": " "})
    assert r.status_code == 422 and 'id="theme-theme-error"' in r.text
    r = await piat.post(f"/app/cycles/{april}/theme", {"idempotency_key": "t2", "theme": "Neglect"})
    assert r.status_code == 422 and "not a themed cycle" in r.text and 'value="Neglect"' in r.text
    r = await pages(api, "hos1").post(f"/app/cycles/{may}/theme", {"idempotency_key": "t3", "theme": "Neglect"})
    assert r.status_code == 403 and "only PIAT may do this" in r.text
    r = await piat.post(f"/app/cycles/{may}/theme", {"idempotency_key": "t4", "theme": "Neglect"})
    assert r.status_code == 303 and r.headers["location"] == f"/app/cycles/{may}?done=theme#top"
    page = await piat.get(f"/app/cycles/{may}?done=theme")
    assert "Theme set" in page.text and re.search(r"<dd[^>]*>Neglect</dd>", page.text) and "planned" in page.text
    assert "Neglect" in (await pages(api, "tm1").get(f"/app/cycles?year={YEAR}")).text


async def test_a_cycle_s_page_lists_its_audits_and_its_non_completion_report(api, env, client, settings):
    await skip_to(env, london(YEAR, 1, 1, 6))  # the 1st, as the Schedule's starter runs: the cycle not yet open
    await start_cycle(client, settings, cycle(1))
    late = await api.as_("piat1").post("/audits", json=_allocation())
    assert late.status_code == 201, late.text
    audit_id = late.json()["audit_id"]

    async def listed():  # the audit's row is saved just after it answers
        text = (await pages(api, "hos1").get(f"/app/cycles/{cycle(1)}")).text
        return text if f'href="/app/audits/{audit_id}"' in text else None

    page = await eventually(listed)
    assert page, "the cycle's page did not list the audit"
    closes = cycle_closes(1)  # 17:00 on January's last working day
    assert f"it is made when the cycle closes, {closes:%A} {closes.day} {closes:%B %Y} 17:00" in page
    await skip_to(env, closes + timedelta(minutes=1))
    page = await pages(api, "hos1").get(f"/app/cycles/{cycle(1)}")
    assert "Non-completion report" in page.text and "Not complete when the cycle closed, safeguarding" in page.text
    assert "closed" in page.text and "cycle closed" in page.text  # its status and its timeline


def _allocation() -> dict:
    return allocation(auditor_id="piat1")


async def test_a_head_of_service_decides_a_self_selection_request_through_its_page(api, env, client):
    asked_on = first_working_day(YEAR, 1)
    await skip_to(env, at(asked_on))
    request = await ask(api)
    url = linked.self_selection_page(request["request_id"])
    hos = pages(api, "hos1")
    page = await hos.get(url)
    assert page.status_code == 200, page.text
    assert "Decide on the request" in page.text and "I supervised the previous worker" in page.text
    assert "Jordan Manager (tm2)" in page.text and re.search(
        rf"{in_words(deadline_after(asked_on, 5))}, 17:00", page.text
    )  # R-ALLOC-2: 5 working days
    other = await pages(api, "psw1").get(url)  # a senior leader, not the Head of Service it waits on
    assert other.status_code == 200 and "Nothing on this request waits on you now." in other.text
    assert (await pages(api, "sw1").get(url)).status_code == 403

    r = await hos.post(f"{url}/decision", {"idempotency_key": "d1", "comment": "Agreed: you know the case"})
    assert r.status_code == 422 and 'id="decision-approve-error"' in r.text
    assert "Agreed: you know the case</textarea>" in r.text  # what was typed stays
    r = await hos.post(f"{url}/decision", {"idempotency_key": "d2", "approve": "true", "comment": "Agreed"})
    assert r.status_code == 303 and r.headers["location"] == f"{url}?done=decision#top"
    page = await hos.get(f"{url}?done=decision")
    assert "Approved: the audit has started" in page.text and "Nothing on this request waits on you now." in page.text
    audit_id = (await api.as_("piat1").get(f"/self-selection-requests/{request['request_id']}")).json()["audit_id"]
    assert f'href="/app/audits/{audit_id}"' in page.text
    r = await hos.post(f"{url}/decision", {"idempotency_key": "d3", "approve": "false"})
    assert r.status_code == 409 and "Record the decision" in r.text  # too late: said beside the form
