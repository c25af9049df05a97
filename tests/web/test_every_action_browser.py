"""The pages for the actions that were the API's alone, in Debian's Chromium, each page checked by
axe-core (tests/helpers/browser.py): PIAT reads the safety concerns and the action log, imports the
open-case list, draws a selection and confirms it; an auditor asks to self-select and shares
findings with a previous practitioner; PIAT hands the audit to another auditor and convenes a moderation panel by hand and gives its
moderation to another moderator."""

import pytest
from playwright.async_api import async_playwright, expect

from tests.helpers import allocate, skip_to
from tests.helpers.browser import ARGS, CHROMIUM, Visits
from tests.helpers.dates import YEAR, at, cycle, first_working_day
from tests.helpers.moderation import FEBRUARY, final_january_audits
from tests.helpers.safety import raise_concern
from tests.helpers.self_selection import ASK, OPEN_CASES
from tests.helpers.served import Served, served_app


@pytest.mark.timeout(300)
async def test_piat_s_lists_the_open_cases_a_selection_and_an_auditor_s_requests(api, env, settings, engine, directory):
    assert CHROMIUM.exists(), "Debian's Chromium is missing: `make browser` installs it (`make test` runs it first)"
    await skip_to(env, at(first_working_day(YEAR, 1)))
    audit_id = (await allocate(api, case_ref="C-900"))["audit_id"]
    await raise_concern(api, audit_id)
    with Served(served_app(env, settings, engine, directory)) as served:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                visits = Visits(await browser.new_page(), served.url)
                await piat_s_lists(visits, audit_id)
                drawn = await import_and_select(visits)
                confirmed = (await api.as_("piat1").get(f"/selections/{drawn}")).json()["confirmed"]
                taken = {c["case_ref"] for c in confirmed}
                await ask_and_share(visits, next(ref for ref in ("C-300", "C-301", "C-302") if ref not in taken), audit_id)
                await hand_over(visits, audit_id)
            finally:
                await browser.close()
    print("\naxe checked:", *visits.checked, "not serious:", *visits.minor or ["none"], sep="\n  ")
    assert len(visits.checked) >= 11, visits.checked
    assert visits.violations == [], "\n".join(visits.violations)


async def piat_s_lists(visits: Visits, audit_id: str) -> None:
    page = visits.page
    await visits.sign_in("piat1")
    await page.get_by_role("link", name="Safety concerns", exact=True).click()
    await visits.check()
    await visits.reload_until(f"{audit_id}-1")  # the concern's row is saved just after it answers
    await page.get_by_label("Open", exact=True).select_option("yes")
    await page.get_by_role("button", name="Show concerns").click()
    await expect(page.locator(f'a[href="/app/safety-concerns/{audit_id}-1"]')).to_have_count(1)
    await page.get_by_role("link", name="Action log", exact=True).click()
    await visits.check()
    await page.get_by_label("Audit ID", exact=True).fill(audit_id)
    await page.get_by_role("button", name="Show entries").click()
    await expect(page.get_by_text("POST /audits/{audit_id}/safety-concerns").first).to_be_visible()
    await page.get_by_label("Older than entry").fill("not a number")
    await page.get_by_role("button", name="Show entries").click()
    await expect(page.locator("#filters-before-error")).to_be_visible()  # said beside the field
    await visits.check()


async def import_and_select(visits: Visits) -> str:
    page = visits.page
    await page.get_by_role("link", name="Open cases", exact=True).click()
    await visits.check()
    await page.get_by_label("The CSV export").fill("case_ref,service_area\nC-1,safeguarding\n")
    await page.get_by_role("button", name="Import the list").click()
    await expect(page.get_by_role("alert")).to_contain_text("the header row lacks the columns")
    await visits.check()
    await page.get_by_label("The CSV export").fill(OPEN_CASES)
    await visits.submit("Import the list", "now holds 3 cases")
    await page.get_by_role("link", name="Draw a cycle's selection").click()
    await visits.check()
    await page.get_by_label("Cycle", exact=True).fill(cycle(1))
    await page.get_by_label("Cases per team").fill("1")
    await page.get_by_label("Seed (optional)").fill("7")
    await visits.submit("Draw the cases", "Drawn: review the proposal")
    drawn = page.url.split("/app/selections/")[1].split("?")[0]
    await visits.submit("Confirm and start the audits", "Confirmed")
    await expect(page.get_by_text("1 of 1 started")).to_be_visible()
    return drawn


async def ask_and_share(visits: Visits, case_ref: str, audit_id: str) -> None:
    page = visits.page
    await visits.sign_in("tm2")
    await page.get_by_role("link", name="Ask to audit a case", exact=True).click()
    await visits.check()
    await page.get_by_label("Case reference").fill(case_ref)
    await page.get_by_label("Why you ask").fill(ASK["reason"])
    await visits.submit("Ask the Head of Service", "Asked: the Head of Service")
    await page.goto(f"{visits.base}/app/audits/{audit_id}")
    await visits.check()
    await page.get_by_text("Other actions", exact=True).click()  # nothing waits for it: folded apart
    form = page.locator("#form-previous-practitioner-feedback")
    await form.get_by_label("Previous practitioner").select_option("sw2")
    await form.get_by_label("Findings on their work").fill("Visits were on time; the chronology lapsed in March")
    await visits.submit("Share the findings", "Findings shared")


async def hand_over(visits: Visits, audit_id: str) -> None:
    page = visits.page
    await visits.sign_in("piat1")
    await page.goto(f"{visits.base}/app/audits/{audit_id}")
    await page.get_by_text("Other actions", exact=True).click()  # nothing waits for it: folded apart
    form = page.locator("#form-people")
    await form.get_by_label("Role", exact=True).select_option("auditor")
    await form.get_by_label("Who takes it over").select_option("sm1")
    await form.get_by_label("Reason").fill("Long-term sickness")
    await visits.check()
    await visits.submit("Hand it over", "Role handed over")


@pytest.mark.timeout(300)
async def test_piat_convenes_a_panel_and_gives_a_moderation_through_the_pages(api, env, settings, engine, directory):
    assert CHROMIUM.exists(), "Debian's Chromium is missing: `make browser` installs it (`make test` runs it first)"
    await final_january_audits(api, env, engine, [dict(grade="good")])
    with Served(served_app(env, settings, engine, directory)) as served:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                visits = Visits(await browser.new_page(), served.url)
                page = visits.page
                await visits.sign_in("piat1")
                await page.goto(f"{served.url}/app/cycles/{FEBRUARY}")
                await visits.check()
                await page.get_by_label("Audits per service (optional)").fill("1")
                await visits.submit("Convene the panel", "Panel convened")
                await page.get_by_label("New moderator").first.select_option("slt2")
                await visits.submit("Give the moderation", "Moderation given")
            finally:
                await browser.close()
    print("\naxe checked:", *visits.checked, "not serious:", *visits.minor or ["none"], sep="\n  ")
    assert len(visits.checked) >= 4, visits.checked
    assert visits.violations == [], "\n".join(visits.violations)
