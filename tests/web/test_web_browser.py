"""The staff pages in a real browser: Debian's Chromium (/usr/bin/chromium, installed by
`make browser`, which `make test` runs first), driven by Playwright, never Playwright's own
download. One audit goes from allocation to a dispute's first step through the pages alone,
each person signing in in turn; axe-core (bundled by axe-playwright-python, nothing fetched)
checks every page visited and finds no serious or critical violation."""

import re

import pytest
from playwright.async_api import async_playwright, expect

from models.audit_tools import tool_for
from models.enums import ServiceArea
from tests.helpers.dates import INVOLVED_SINCE, YEAR, a_working_week, at, completion_due, cycle, day
from tests.helpers import skip_to
from tests.helpers.browser import ARGS, CHROMIUM, Visits
from tests.helpers.moderation import PANEL_DAY, PANEL_PAGE, a_panel
from tests.helpers.self_selection import ask
from tests.helpers.served import Served, served_app

# A Monday in January with five working days after it: the first audit's dates are all of this week.
MONDAY = a_working_week(YEAR, 1)


@pytest.mark.timeout(300)
async def test_an_audit_from_allocation_to_a_dispute_through_the_pages_alone(env, client, settings, engine, directory):
    assert CHROMIUM.exists(), "Debian's Chromium is missing: `make browser` installs it (`make test` runs it first)"
    await skip_to(env, at(MONDAY))  # a Monday; the audit's dates below are of this week
    with Served(served_app(env, settings, engine, directory)) as served:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                visits = Visits(await browser.new_page(), served.url)
                audit_id = await allocate(visits)
                await grade_and_submit(visits, audit_id)
                await accept(visits, audit_id)
                await raise_dispute(visits, audit_id)
                await record_the_meeting(visits, audit_id)
            finally:
                await browser.close()
    print("\naxe checked:", *visits.checked, "not serious:", *visits.minor or ["none"], sep="\n  ")
    assert len(visits.checked) >= 12, visits.checked
    assert visits.violations == [], "\n".join(visits.violations)


async def allocate(visits: Visits) -> str:
    page = visits.page
    await visits.sign_in("piat1")
    await page.get_by_role("link", name="Allocate an audit").click()
    await visits.check()
    await page.get_by_label("Case reference").fill("C-200001")
    await page.get_by_label("Service", exact=True).select_option("safeguarding")
    await page.get_by_label("Kind of audit").select_option("standard")
    await page.get_by_label("Cycle").select_option(cycle(1))
    await page.get_by_label("Auditor").select_option("tm2")
    await page.get_by_label("Practitioner").select_option("sw1")
    await page.get_by_label("Start of Children's Social Care involvement").fill(INVOLVED_SINCE.isoformat())
    await page.get_by_label("CP Chair or IRO (optional)").select_option("iro1")
    await visits.submit("Allocate", "Audit allocated")
    due = completion_due(MONDAY)  # R-AUD-1: a month after allocation
    await expect(page.get_by_text(f"{due:%A} {due.day} {due:%B %Y}, 17:00").first).to_be_visible()  # due, in London time
    return re.search(r"/app/audits/([^?#]+)", page.url).group(1)


async def grade_and_submit(visits: Visits, audit_id: str) -> None:
    page = visits.page
    await visits.sign_in("tm2")
    await visits.follow_until(f"/app/audits/{audit_id}")  # My work: the grading waits on the auditor
    domains = tool_for(ServiceArea.SAFEGUARDING).domains
    for domain in domains:
        group = page.locator("#form-grading fieldset").filter(has=page.get_by_text(domain.name, exact=True))
        await group.get_by_label("Grade").select_option("good")
        await group.get_by_label("Rationale").fill(f"Evidence seen for {domain.name}")
    await page.get_by_label("Overall grade").select_option("good")
    await page.get_by_label("Overall rationale").first.fill("Good work throughout")
    plan = page.locator("#form-grading fieldset").filter(has_text="Action 1")
    await plan.get_by_label("What will be done").fill("Update the chronology")
    await plan.get_by_label("Owner").select_option("sw1")  # chosen by name, sent as the staff ID
    await plan.get_by_label("Due on").fill(day(3, 1).isoformat())
    await visits.submit("Record the initial grading", "Initial grading recorded")

    conversation = page.locator("#form-conversation")  # its grading comes filled from the initial one
    await conversation.get_by_label("Date of the conversation").fill(MONDAY.isoformat())
    await conversation.get_by_label("What was discussed and learnt").fill("Reflected on strengths and gaps")
    await visits.submit("Record the conversation", "Practitioner conversation and final grading recorded")
    await visits.submit("Submit for quality assurance", "Submitted for quality assurance")
    await expect(page.get_by_text("Waiting for quality assurance", exact=True)).to_be_visible()


async def accept(visits: Visits, audit_id: str) -> None:
    page = visits.page
    await visits.sign_in("piat1")
    await visits.follow_until(f"/app/audits/{audit_id}")  # My work: QA waits on PIAT
    await page.get_by_label("Accept the report").check()
    await visits.submit("Record the decision", "Quality assurance recorded")
    await page.get_by_role("link", name="Audits", exact=True).click()
    await visits.check()
    await page.get_by_label("Stage").select_option("dispute_window")
    await page.get_by_role("button", name="Show audits").click()
    await visits.check()
    await expect(page.locator(f'a[href="/app/audits/{audit_id}"]')).to_have_count(1)
    await page.get_by_role("link", name="Disputes", exact=True).click()
    await visits.check()


async def raise_dispute(visits: Visits, audit_id: str) -> None:
    page = visits.page
    await visits.sign_in("sw1")
    await page.get_by_role("link", name="Audits", exact=True).click()
    await visits.check()
    await visits.follow_until(f"/app/audits/{audit_id}")
    await visits.reload_until("Dispute the grading")  # once the report is out: the dispute window
    await page.get_by_label("The overall grade").check()
    await page.get_by_label("Why, against the audit grading criteria").fill("The plan was reviewed on time")
    await page.get_by_label("Evidence of the work done").fill("Review minutes of 2 December")
    await visits.submit("Raise the dispute", "Dispute raised")


async def record_the_meeting(visits: Visits, audit_id: str) -> None:
    page = visits.page
    await visits.sign_in("tm1")
    await visits.follow_until(f"/app/disputes/{audit_id}")  # My work: the meeting waits on the TM
    meeting = page.locator("#form-meeting")
    await meeting.get_by_label("Date of the meeting").fill(MONDAY.isoformat())
    for attendee in ("Sam Worker (sw1)", "Jordan Manager (tm2)"):  # the audit's people, ticked already
        await expect(meeting.get_by_label(attendee, exact=True)).to_be_checked()
    await meeting.get_by_label("Notes of the meeting").fill("Talked it through")
    await visits.submit("Record the meeting", "Meeting recorded")
    await expect(page.locator("dl.summary dd").nth(1)).to_have_text("summary")  # the step it waits on next


@pytest.mark.timeout(300)
async def test_the_panel_self_selection_and_cycle_pages_through_their_forms(api, env, client, settings, engine, directory):
    """The pages the emails link to beyond an audit's, each with its form, checked by axe: a
    moderator records a moderation, a Head of Service approves a self-selection, PIAT sets a theme."""
    assert CHROMIUM.exists(), "Debian's Chromium is missing: `make browser` installs it (`make test` runs it first)"
    moderation = await a_panel(api, env, engine)  # February's panel: one moderation, slt1's
    request = await ask(api, cycle=cycle(2), case_ref="C-300")
    with Served(served_app(env, settings, engine, directory)) as served:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                visits = Visits(await browser.new_page(), served.url)
                await moderate(visits, moderation)
                await decide_self_selection(visits, request["request_id"])
                await set_a_theme(visits)
            finally:
                await browser.close()
    print("\naxe checked:", *visits.checked, "not serious:", *visits.minor or ["none"], sep="\n  ")
    assert len(visits.checked) >= 8, visits.checked
    assert visits.violations == [], "\n".join(visits.violations)


async def moderate(visits: Visits, moderation: dict) -> None:
    page = visits.page
    await visits.sign_in("slt1")
    await visits.follow_until(PANEL_PAGE)  # My work: the moderation waits on them
    form = page.locator(f"#form-record-{moderation['moderation_id']}")
    for choice in await form.get_by_role("radio", name="Agree", exact=True).all():
        await choice.check()
    await form.get_by_label("Written feedback to the auditor").fill("Sound analysis; the plan needs dates.")
    await form.get_by_label("Date you met the auditor").fill(PANEL_DAY.isoformat())  # the day the panel opened
    await visits.submit("Record the moderation", "Moderation recorded")


async def decide_self_selection(visits: Visits, request_id: str) -> None:
    page = visits.page
    await visits.sign_in("hos1")
    await page.goto(f"{visits.base}/app/self-selection-requests/{request_id}")  # the link in their email
    await visits.check()
    await page.get_by_label("Approve", exact=True).check()
    await page.get_by_label("Comment for the auditor (optional)").fill("Agreed: you know the case")
    await visits.submit("Record the decision", "Approved")


async def set_a_theme(visits: Visits) -> None:
    page = visits.page
    await visits.sign_in("piat1")
    await page.get_by_role("link", name="Cycles", exact=True).click()  # this year's, by the API's clock
    await page.get_by_label("Year", exact=True).fill(str(YEAR))
    await page.get_by_role("button", name="Show the year").click()
    await visits.check()
    await page.get_by_role("link", name=f"May {YEAR}", exact=True).click()
    await visits.check()
    await page.get_by_label("Theme", exact=True).fill("Neglect")
    await visits.submit("Set the theme", "Theme set")
