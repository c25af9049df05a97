"""My work's email preference form in a real browser (tests/helpers/browser.py), checked by axe."""

import pytest
from playwright.async_api import async_playwright

from tests.helpers.browser import ARGS, CHROMIUM, Visits
from tests.helpers.served import Served, served_app


@pytest.mark.timeout(300)
async def test_choosing_the_weekly_digest_on_my_work(env, client, settings, engine, directory):
    assert CHROMIUM.exists(), "Debian's Chromium is missing: `make browser` installs it (`make test` runs it first)"
    with Served(served_app(env, settings, engine, directory)) as served:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                visits = Visits(await browser.new_page(), served.url)
                await visits.sign_in("sw1")  # My work, with the form, checked
                await visits.page.get_by_label("Only in my weekly digest").check()
                await visits.submit("Save email preference", "only in your weekly digest")
                assert await visits.page.get_by_label("Only in my weekly digest").is_checked()
            finally:
                await browser.close()
    assert any(where.startswith("/app/") for where in visits.checked), visits.checked
    assert visits.violations == [], "\n".join(visits.violations)
