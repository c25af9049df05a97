"""Forged form posts in a real browser (Debian's Chromium, as tests/web/test_web_browser.py drives it).

A page on another port of the same host is the same *site* as the service, so a SameSite=Strict
cookie alone goes along with its form: the auditor, signed in, opens that page, it submits a
reassignment to the service at once, and the service must refuse it and change nothing. The
same reassignment through the service's own page goes through."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.async_api import async_playwright, expect

from tests.helpers import auditor_of, free_port
from tests.helpers.browser import ARGS, CHROMIUM, Visits
from tests.helpers.served import Served, served_app

NEW_AUDITOR = "sm1"


class OtherSite:
    """A tiny server on another port of 127.0.0.1 whose one page posts a form to the service."""

    def __init__(self):
        self.html = ""
        site = self

        class Page(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                body = site.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def forged_reassignment(action: str, token: str = "") -> str:
    """What a hostile page would carry: every field of the real form but the token it cannot know
    (or, were it ever to leak, even that)."""
    return f"""<!doctype html><html lang="en"><head><title>Win a prize</title></head><body>
<form method="post" action="{action}">
  <input type="hidden" name="_csrf" value="{token}">
  <input type="hidden" name="idempotency_key" value="forged-{len(token)}">
  <input type="hidden" name="auditor_id" value="{NEW_AUDITOR}">
  <input type="hidden" name="reason" value="forged">
</form>
<script>document.forms[0].submit()</script>
</body></html>"""


@pytest.mark.timeout(300)
async def test_a_form_from_another_port_changes_nothing_and_the_real_page_still_works(
    api, audit_id, env, settings, engine, directory
):
    assert CHROMIUM.exists(), "Debian's Chromium is missing: `make browser` installs it (`make test` runs it first)"
    assert await auditor_of(api, audit_id) == "tm2"
    with Served(served_app(env, settings, engine, directory)) as served, OtherSite() as other:
        action = f"{served.url}/app/audits/{audit_id}/reassign"
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                context = await browser.new_context()
                visits = Visits(await context.new_page(), served.url)
                blocked: list[str] = []  # whatever the pages' Content-Security-Policy stopped
                visits.page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
                await visits.sign_in("tm2")
                # Chromium keeps a Secure, __Host- cookie from plain http on 127.0.0.1 (a secure context).
                session = [c for c in await context.cookies() if c["name"].endswith("qsaf_session")]
                assert [(c["name"], c["secure"], c["path"]) for c in session] == [("__Host-qsaf_session", True, "/")]

                page = visits.page
                await page.goto(f"{served.url}/app/audits/{audit_id}")
                token = await page.locator('#form-reassign input[name="_csrf"]').get_attribute("value")
                # Without the token, and with it: Chromium's Sec-Fetch-Site and Origin refuse it alone.
                for forged in (forged_reassignment(action), forged_reassignment(action, token)):
                    other.html = forged
                    await page.goto(other.url)  # it submits itself; the browser lands on the service's answer
                    await page.wait_for_url(f"{served.url}/app/**")
                    await page.wait_for_load_state()
                    assert await auditor_of(api, audit_id) == "tm2", "a form on another site reassigned the audit"
                    await expect(page.get_by_text("came from another site")).to_be_visible()
                    await visits.check()

                # The service's own page: the same reassignment goes through.
                await page.goto(f"{served.url}/app/audits/{audit_id}")
                await visits.check()
                await page.get_by_text("Other actions", exact=True).click()  # nothing waits for it: folded apart
                form = page.locator("#form-reassign")
                await form.get_by_label("New auditor").select_option(NEW_AUDITOR)
                await form.get_by_label("Reason").fill("Leave")
                await form.get_by_role("button", name="Reassign", exact=True).click()
                await page.wait_for_url(f"{served.url}/app/audits/{audit_id}?done=reassign*")  # no longer theirs to see
                assert await auditor_of(api, audit_id) == NEW_AUDITOR
                assert blocked == []

                # http://localhost is a secure context too: `make dev`'s address keeps the sign-in.
                local = Visits(await (await browser.new_context()).new_page(), served.url.replace("127.0.0.1", "localhost"))
                await local.sign_in("piat1")
                assert sorted(c["name"] for c in await local.page.context.cookies()) == [
                    "__Host-qsaf_forms",
                    "__Host-qsaf_session",
                ]
            finally:
                await browser.close()
    assert visits.violations == [], "\n".join(visits.violations)
