"""My work's "Subscribe in Outlook" section: a link got through the same service as
`POST /me/calendar-feed`, shown on the page the form leads to and never again, replaced and
revoked by forms that carry the CSRF token (Post/Redirect/Get)."""

import re
from urllib.parse import urlsplit

from tests.helpers.web import pages

SHOWN = "__Host-qsaf_calendar_link"  # web/calendar_feed_pages.py
LINK = re.compile(r'id="calendar-feed-url" readonly value="(http://localhost:8000/calendar/[A-Za-z0-9_-]+\.ics)"')


async def test_the_link_is_shown_once_then_replaced_and_revoked(api):
    sw1 = pages(api, "sw1")
    page = (await sw1.get("/app/")).text
    assert "Subscribe in Outlook" in page and "Get my calendar link" in page and "You have a calendar link" not in page
    await sw1.token("/app/")  # the forms are on My work

    made = await sw1.post("/app/calendar-feed", {})
    assert made.status_code == 303 and made.headers["location"] == "/app/?done=calendar-link#calendar-feed"
    [cookie] = [c for c in made.headers.get_list("set-cookie") if c.startswith(SHOWN)]
    assert all(part in cookie.lower() for part in ("httponly", "secure", "samesite=strict", "max-age=300", "path=/"))
    token = cookie.split(";")[0].split("=", 1)[1]
    shown = await api.http.get("/app/?done=calendar-link", headers={"Cookie": f"{sw1.headers['Cookie']}; {SHOWN}={token}"})
    [url] = LINK.findall(shown.text)
    assert url.endswith(f"/{token}.ics") and shown.headers["cache-control"] == "no-store"
    assert any(c.startswith(f'{SHOWN}=""') for c in shown.headers.get_list("set-cookie"))  # cleared: shown once
    assert 'href="webcal://localhost:8000/calendar/' in shown.text
    feed = await api.http.get(urlsplit(url).path)
    assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")

    again = (await sw1.get("/app/?done=calendar-link")).text  # a reload: the link is gone from the page
    assert not LINK.search(again) and "was shown once" in again
    assert "You have a calendar link, made" in again and "Replace my calendar link" in again

    replaced = await sw1.post("/app/calendar-feed", {})
    assert replaced.status_code == 303
    assert (await api.http.get(urlsplit(url).path)).status_code == 404  # the old link stops working

    revoked = await sw1.post("/app/calendar-feed/revoke", {})
    assert revoked.status_code == 303 and revoked.headers["location"] == "/app/?done=calendar-revoked#calendar-feed"
    page = (await sw1.get("/app/?done=calendar-revoked")).text
    assert "Your calendar link no longer works" in page and "Get my calendar link" in page
    assert (await api.as_("sw1").delete("/me/calendar-feed")).status_code == 404  # nothing live left

    twice = await sw1.post("/app/calendar-feed/revoke", {})  # e.g. from a second tab
    assert twice.status_code == 404 and "no calendar link to revoke" in twice.text


async def test_a_link_shown_after_it_was_replaced_elsewhere_is_not_shown(api):
    sw1 = pages(api, "sw1")
    await sw1.token("/app/")
    made = await sw1.post("/app/calendar-feed", {})
    [cookie] = [c for c in made.headers.get_list("set-cookie") if c.startswith(SHOWN)]
    token = cookie.split(";")[0].split("=", 1)[1]
    assert (await api.as_("sw1").post("/me/calendar-feed")).status_code == 201  # a newer one, by the API
    stale = await api.http.get("/app/?done=calendar-link", headers={"Cookie": f"{sw1.headers['Cookie']}; {SHOWN}={token}"})
    assert not LINK.search(stale.text)


async def test_the_forms_need_the_pages_token(api):
    r = await api.http.post("/app/calendar-feed", data={}, headers=pages(api, "sw1").headers)
    assert r.status_code == 403
    assert (await api.as_("sw1").delete("/me/calendar-feed")).status_code == 404  # nothing was made
