"""My work's "Subscribe in Outlook" section in a real browser (tests/helpers/browser.py), checked
by axe: the link got, shown once, read as a calendar would, then stopped."""

from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from tests.helpers.browser import ARGS, CHROMIUM, Visits
from tests.helpers.served import Served, served_app


@pytest.mark.timeout(300)
async def test_getting_and_stopping_a_calendar_link_on_my_work(env, client, settings, engine, directory):
    assert CHROMIUM.exists(), "Debian's Chromium is missing: `make browser` installs it (`make test` runs it first)"
    with Served(served_app(env, settings, engine, directory)) as served:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                visits = Visits(await browser.new_page(), served.url)
                await visits.sign_in("sw1")
                await visits.submit("Get my calendar link", "shown only this once")
                url = await visits.page.get_by_label("Your calendar link").input_value()
                async with httpx.AsyncClient() as http:  # as Outlook reads it: no sign-in
                    feed = await http.get(served.url + urlsplit(url).path)
                    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
                    await visits.page.reload()
                    await expect(visits.page.get_by_label("Your calendar link")).to_have_count(0)  # shown once
                    await visits.submit("Stop my calendar link", "no longer works")
                    assert (await http.get(served.url + urlsplit(url).path)).status_code == 404
            finally:
                await browser.close()
    assert any(where.startswith("/app/") for where in visits.checked), visits.checked
    assert visits.violations == [], "\n".join(visits.violations)
