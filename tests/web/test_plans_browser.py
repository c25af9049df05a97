"""The workload plan's page in a real browser (Debian's Chromium, as tests/web/test_web_browser.py
drives it): a senior leader opens next year's plan, with a month over the limit, from the signed-in
pages; axe-core finds no serious or critical violation, and the CSV link is the page's own."""

from datetime import UTC, datetime

import pytest
from playwright.async_api import async_playwright, expect
from sqlmodel import Session

from models.tables import OpenCase
from tests.helpers.browser import ARGS, CHROMIUM, Visits
from tests.helpers.dates import INVOLVED_SINCE, YEAR
from tests.helpers.served import Served, served_app


def open_cases(engine, count: int) -> None:
    with Session(engine) as session:
        session.add_all(
            OpenCase(
                case_ref=f"C-8{n:02d}",
                service_area="safeguarding",
                practitioner_id="sw1",
                team="Safeguarding Team 1",
                involvement_start=INVOLVED_SINCE,
                imported_at=datetime(YEAR - 1, 12, 1, tzinfo=UTC),
            )
            for n in range(count)
        )
        session.commit()


@pytest.mark.timeout(180)
async def test_the_plan_page_passes_axe_with_a_month_over_the_limit(env, settings, engine, directory):
    assert CHROMIUM.exists(), "Debian's Chromium is missing: `make browser` installs it (`make test` runs it first)"
    settings.plan_max_audits_per_month = 2
    open_cases(engine, 12)  # January draws all 12 among Team 1's 4 eligible auditors: 3 each
    with Served(served_app(env, settings, engine, directory)) as served:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                visits = Visits(await browser.new_page(), served.url)
                await visits.sign_in("piatmgr1")
                await visits.page.get_by_role("link", name="Workload plan").click()  # next year's
                await expect(visits.page).to_have_url(f"{served.url}/app/plans/{YEAR}")
                await visits.check()
                await visits.page.goto(f"{served.url}/app/plans/{YEAR}?per_team=12")
                await expect(visits.page.get_by_role("heading", name=f"Workload plan, {YEAR}")).to_be_visible()
                await expect(visits.page.get_by_role("cell", name="3 — over the limit").first).to_be_visible()
                await visits.check()
                link = visits.page.get_by_role("link", name="the plan as CSV")
                assert await link.get_attribute("href") == f"/app/plans/{YEAR}.csv?per_team=12"
            finally:
                await browser.close()
    assert visits.checked, "axe checked no page"
    assert visits.violations == [], "\n".join(visits.violations)
