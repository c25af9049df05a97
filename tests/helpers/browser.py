"""The staff pages in a real browser: Debian's Chromium (/usr/bin/chromium, installed by
`make browser`) driven by Playwright, each page it lands on checked by axe-core."""

import asyncio
import re
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium tries Google's hosts, which this machine refuses.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BLOCKING = {"serious", "critical"}


class Visits:
    """The browser's page, checked by axe-core each time it lands somewhere new."""

    def __init__(self, page: Page, base: str):
        self.page, self.base, self.axe = page, base, Axe()
        self.checked: list[str] = []
        self.seen: set[str] = set()
        self.minor: list[str] = []
        self.violations: list[str] = []

    async def check(self) -> None:
        """axe-core on the page as it is now; once per page and set of forms (the same page seen
        again by the next person is the same markup), as axe takes a second or so a page here."""
        forms = await self.page.locator("section.action-form").evaluate_all("sections => sections.map(s => s.id)")
        where = self.page.url.removeprefix(self.base)
        key = f"{urlsplit(where).path} {' '.join(forms)}"
        if key in self.seen:
            return
        self.seen.add(key)
        results = (await self.axe.run(self.page)).response
        self.checked.append(where)
        self.minor += [f"{where}: {v['id']} ({v['impact']})" for v in results["violations"] if v["impact"] not in BLOCKING]
        self.violations += [
            f"{where}: {v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results["violations"]
            if v["impact"] in BLOCKING
        ]

    async def sign_in(self, staff_id: str) -> None:
        page = self.page
        if await page.get_by_role("button", name="Sign out").count():
            await page.get_by_role("button", name="Sign out").click()
        else:
            await page.goto(f"{self.base}/app/")  # not signed in: sent to the sign-in page
        await expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
        await self.check()
        await page.get_by_role("button", name=re.compile(rf"\({staff_id}\)")).click()
        await expect(page.get_by_role("heading", name="My work")).to_be_visible()
        await expect(page.get_by_text(f"({staff_id})").first).to_be_visible()
        await self.check()

    async def submit(self, button: str, notice: str) -> None:
        await self.page.get_by_role("button", name=button, exact=True).click()
        await expect(self.page.get_by_role("status")).to_contain_text(notice)
        await self.check()

    async def follow_until(self, href: str, attempts: int = 50) -> None:
        """Click the link once the list shows it (each process writes what it waits for just after
        it answers); reload meanwhile."""
        for _ in range(attempts):
            link = self.page.locator(f'a[href="{href}"]').first
            if await link.count():
                await link.click()
                await self.check()
                return
            await asyncio.sleep(0.2)
            await self.page.reload()
        raise AssertionError(f"no link to {href} on {self.page.url}")

    async def reload_until(self, text: str, attempts: int = 50) -> None:
        for _ in range(attempts):
            if await self.page.get_by_text(text, exact=True).count():
                return
            await asyncio.sleep(0.2)
            await self.page.reload()
        raise AssertionError(f"{text!r} never appeared on {self.page.url}")
