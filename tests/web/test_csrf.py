"""No forged form posts on the staff pages, in-process: every POST under /app, sign-in included,
carries its page's token and, where the browser says where it comes from, comes from the service
itself; the cookies are `__Host-` ones; the pages carry headers that keep them out of frames and
other sites' scripts. tests/web/test_csrf_browser.py tries a forged form in Chromium."""

import re
from pathlib import Path

from tests.helpers import auditor_of
from tests.helpers.web import FORMS, SESSION, Pages, form_token, pages

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
REFUSED = "came from another site"


def reassignment(key: str) -> dict:
    return {"idempotency_key": key, "auditor_id": "sm1", "reason": "Leave"}


async def test_a_form_without_its_page_s_token_is_refused_and_changes_nothing(api, audit_id):
    tm2 = pages(api, "tm2")
    url = f"/app/audits/{audit_id}/reassign"
    others = await pages(api, "sw1").get(f"/app/audits/{audit_id}")  # a token, but of another sign-in
    for token in (None, "", "0" * 64, "é" * 10, form_token(others.text)):
        form = reassignment("forged") | ({} if token is None else {"_csrf": token})
        r = await tm2.http.post(url, data=form, headers=tm2.headers)
        assert r.status_code == 403, (token, r.text)
        assert REFUSED in r.text and "reload the page and try again" in r.text
        assert "set-cookie" not in r.headers or SESSION not in r.headers["set-cookie"]
    no_cookie = {"Cookie": f"{SESSION}=dev-tm2"}  # the token right for a forms cookie not sent
    r = await tm2.http.post(url, data=reassignment("forged") | {"_csrf": await tm2.token()}, headers=no_cookie)
    assert r.status_code == 403
    assert await auditor_of(api, audit_id) == "tm2"
    r = await tm2.post(url, reassignment("real"))  # the token as the page drew it
    assert r.status_code == 303, r.text
    assert await auditor_of(api, audit_id) == "sm1"


async def test_a_browser_s_word_that_a_form_came_from_elsewhere_refuses_it_even_with_the_token(api, audit_id):
    tm2 = pages(api, "tm2")
    url = f"/app/audits/{audit_id}/reassign"
    token = await tm2.token()
    for headers in (
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://127.0.0.1:8001"},
        {"Origin": "http://test:8443"},
        {"Origin": "null"},
        {"Origin": "https://test"},  # another scheme is another origin
        {"Sec-Fetch-Site": "same-origin", "Origin": "https://sibling.council.gov.uk"},
    ):
        r = await tm2.http.post(url, data=reassignment("forged") | {"_csrf": token}, headers=tm2.headers | headers)
        assert r.status_code == 403 and REFUSED in r.text, headers
    assert await auditor_of(api, audit_id) == "tm2"
    # The service's own: the origin the request was sent to, or PUBLIC_BASE_URL's (behind a proxy).
    for i, headers in enumerate(
        (
            {"Sec-Fetch-Site": "same-origin", "Origin": "http://test"},
            {"Origin": "http://localhost:8000"},
            {"Sec-Fetch-Site": "none"},
        )
    ):
        r = await tm2.http.post(url, data=reassignment(f"real-{i}") | {"_csrf": token}, headers=tm2.headers | headers)
        assert REFUSED not in r.text, headers  # past the check: the first reassigns, the rest meet the rules
        assert r.status_code == 303 if i == 0 else "may do this" in r.text, (headers, r.status_code)
    assert await auditor_of(api, audit_id) == "sm1"


async def test_signing_in_and_out_need_the_form_s_token_too(api):
    anyone = Pages(api.http, None)
    r = await api.http.post("/app/sign-in", data={"staff_id": "tm2", "next": "/app/audits"})  # no cookie, no token
    assert r.status_code == 403 and REFUSED in r.text and SESSION not in r.headers.get("set-cookie", "")
    page = await api.http.get("/app/sign-in")  # a first visit: the forms cookie comes with the page
    cookie = next(c for c in page.headers.get_list("set-cookie") if c.startswith(f"{FORMS}="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "Path=/;" in cookie and "SameSite=strict" in cookie
    assert "Domain" not in cookie
    r = await anyone.post("/app/sign-in", {"staff_id": "tm2", "next": "/app/audits"}, headers={"Origin": "http://test"})
    assert r.status_code == 303 and r.headers["location"] == "/app/audits"
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(f"{SESSION}="))
    assert session.startswith(f"{SESSION}=dev-tm2;") and "HttpOnly" in session and "Secure" in session
    assert "Path=/;" in session and "Domain" not in session and "SameSite=strict" in session
    assert any(c.startswith(f"{FORMS}=") for c in cookies)  # a new forms cookie with each sign-in
    tm2 = pages(api, "tm2")
    r = await tm2.http.post("/app/sign-out", headers=tm2.headers)
    assert r.status_code == 403
    r = await tm2.post("/app/sign-out", {})
    assert r.status_code == 303 and f'{SESSION}=""' in r.headers["set-cookie"]


async def test_every_post_form_carries_the_token_and_no_template_runs_inline_code():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        posts = len(re.findall(r'<form method="post"', text))
        assert text.count('{% include "_csrf.html" %}') == posts, template.name
        # The CSP allows none: a script only from the app's own files (base.html's), never inline.
        own_scripts = re.sub(r'<script type="module" src="/app/static/[^"]+"></script>', "", text)
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", own_scripts), template.name


async def test_pages_carry_headers_that_keep_them_out_of_frames_and_other_sites(api):
    for url in ("/app/sign-in", "/app/", "/app/static/site.css"):
        r = await pages(api, "tm2").get(url)
        csp = r.headers["content-security-policy"]
        for directive in ("default-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"):
            assert directive in csp, (url, csp)
        assert "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "same-origin"
        assert r.headers["x-frame-options"] == "DENY"
    docs = await api.http.get("/docs")  # the API's docs pages load their own inline set-up: left as they were
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers
