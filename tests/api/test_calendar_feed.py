"""My deadlines as an iCalendar feed: a secret link made once (`POST /me/calendar-feed`), read
without signing in (`GET /calendar/<token>.ics`) as Outlook would, parsed back with the
`icalendar` library: each event the action, the case, the link and the deadline in London time.
Revoked or replaced, the link answers 404."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar

from api.schemas.work import WorkItem
from models.staff import StaffMember
from services.calendar_feed import calendar, vtimezone
from tests.helpers import allocate, eventually, skip_to
from tests.helpers.dates import LONDON, YEAR, at, completion_due, cycle, first_working_day

BASE = "http://localhost:8000"  # the tests' PUBLIC_BASE_URL (the settings' default)
ACTION = "Initial grading after reviewing the record"


async def new_link(api, who: str) -> str:
    r = await api.as_(who).post("/me/calendar-feed")
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"  # the answer holds the secret
    url = r.json()["url"]
    assert url.startswith(f"{BASE}/calendar/") and url.endswith(".ics")
    return urlsplit(url).path


async def read_feed(api, path: str) -> Calendar:
    r = await api.http.get(path)  # no Authorization: the token is the credential
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/calendar")
    return Calendar.from_ical(r.content)


def events(cal: Calendar) -> list:
    return list(cal.walk("VEVENT"))


def the_event(cal: Calendar, audit_id: str):
    [found] = [e for e in events(cal) if str(e["url"]).endswith(f"/app/audits/{audit_id}")]
    return found


async def test_the_feed_has_the_audits_deadline_in_london_winter_time(api, env):
    first_day = first_working_day(YEAR, 1)
    await skip_to(env, at(first_day))
    audit_id = (await allocate(api, case_ref="C-1"))["audit_id"]
    path = await new_link(api, "tm2")
    cal = await read_feed(api, path)

    assert str(cal["x-wr-calname"]) == "Case file audit deadlines"
    text = (await api.http.get(path)).text  # how often to read it again, both ways a calendar may look
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text and "X-PUBLISHED-TTL:PT1H\r\n" in text
    event = the_event(cal, audit_id)
    due = completion_due(first_day)  # 17:00 London time, in February: GMT
    assert str(event["summary"]) == f"{ACTION} – C-1"  # the case's reference, no name
    assert str(event["url"]) == f"{BASE}/app/audits/{audit_id}"
    assert f"{BASE}/app/audits/{audit_id}" in str(event["description"])
    assert event["dtend"].dt == due and event["dtend"].params["TZID"] == "Europe/London"
    assert (event["dtend"].dt.hour, event["dtend"].dt.astimezone(UTC).hour) == (17, 17)
    assert event["dtstart"].dt == due - timedelta(minutes=30)  # a half-hour block that ends at the deadline
    # The feed's own VTIMEZONE says what London's time is, winter and summer, without tz data.
    [zone] = cal.walk("VTIMEZONE")
    assert zone["tzid"] == "Europe/London"
    tz = zone.to_tz(lookup_tzid=False)
    for moment in (datetime(YEAR, 1, 15, 12), datetime(YEAR, 7, 15, 12), datetime(YEAR, 10, 30, 12), datetime(YEAR, 3, 30, 12)):
        assert moment.replace(tzinfo=tz).utcoffset() == moment.replace(tzinfo=LONDON).utcoffset(), moment

    # The same event at the next read: Outlook updates it rather than adding another.
    again = the_event(await read_feed(api, await new_link(api, "tm2")), audit_id)
    assert again["uid"] == event["uid"]


async def test_a_summer_deadline_is_in_british_summer_time_and_an_overdue_one_says_so(api, env):
    april = first_working_day(YEAR, 4)
    await skip_to(env, at(april))
    audit_id = (await allocate(api, case_ref="C-4", cycle=cycle(4)))["audit_id"]
    path = await new_link(api, "tm2")
    event = the_event(await read_feed(api, path), audit_id)
    due = completion_due(april)  # 17:00 London time in May: 16:00 UTC
    assert event["dtend"].dt == due and event["dtend"].dt.astimezone(UTC).hour == 16
    assert f"DTEND;TZID=Europe/London:{due:%Y%m%d}T170000" in (await api.http.get(path)).text

    await skip_to(env, due + timedelta(hours=1))  # the auditor's deadline has passed

    async def overdue():
        found = [e for e in events(await read_feed(api, path)) if str(e["summary"]).startswith(f"Overdue: {ACTION}")]
        return found or None

    [late] = await eventually(overdue)
    assert str(late["summary"]) == f"Overdue: {ACTION} – C-4"


async def test_a_link_revoked_or_replaced_answers_404_and_each_feed_is_its_owners(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    audit_id = (await allocate(api))["audit_id"]
    first = await new_link(api, "tm2")
    await read_feed(api, first)
    second = await new_link(api, "tm2")  # a new link: the old one stops working
    gone = await api.http.get(first)
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("text/plain")
    assert "revoked, or replaced" in gone.text
    the_event(await read_feed(api, second), audit_id)

    # Someone else's feed does not show what waits on tm2.
    theirs = await read_feed(api, await new_link(api, "sw3"))
    assert not [e for e in events(theirs) if audit_id in str(e["url"])]
    assert str(the_event(await read_feed(api, second), audit_id)["summary"]).endswith("C-100001")  # tm2's is untouched

    r = await api.as_("tm2").delete("/me/calendar-feed")
    assert r.status_code == 200 and r.json()["revoked_at"], r.text
    assert (await api.http.get(second)).status_code == 404
    again = await api.as_("tm2").delete("/me/calendar-feed")  # nothing left to revoke: said so
    assert again.status_code == 404 and "no calendar link" in again.json()["detail"]
    assert (await api.http.get("/calendar/made-up-token.ics")).status_code == 404
    assert (await api.http.post("/me/calendar-feed")).status_code == 401  # making a link needs signing in
    await read_feed(api, await new_link(api, "sw3"))  # sw3's own, made again, still works


def item(**fields) -> WorkItem:
    base = {"process": "audit", "id": "a-1", "case_ref": "C-9", "action": "initial grading", "overdue": False}
    return WorkItem(**(base | {"by_role": None, "link": "/audits/a-1"} | fields))


def test_undated_waits_are_left_out_and_a_role_wait_says_whose_it_is():
    now = datetime(YEAR, 1, 4, 9, tzinfo=UTC)
    member = StaffMember(id="piat1", name="P", email="piat1@council.example", roles=["piat"], team="piat", service_area="all")
    items = [
        item(until=None),
        item(id="a-2", until=datetime(YEAR, 2, 4, 17, tzinfo=UTC), action="quality assurance by PIAT", by_role="piat"),
        item(id="a-3", process="moderation_panel", case_ref=None, until=now - timedelta(days=1), overdue=True),
    ]
    cal = Calendar.from_ical(calendar(items, member, now, BASE, "Europe/London").to_ical())
    summaries = sorted(str(e["summary"]) for e in events(cal))
    assert summaries == ["Overdue: Initial grading – moderation panel a-3", "Quality assurance by PIAT – C-9"]
    [role] = [e for e in events(cal) if "PIAT" in str(e["summary"])]
    assert "Waiting on anyone who is piat" in str(role["description"])
    assert str(role["url"]) == f"{BASE}/app/audits/a-2"
    assert len({str(e["uid"]) for e in events(cal)}) == 2


def test_another_time_zone_is_described_from_its_tz_data():
    now = datetime(YEAR, 1, 4, 9, tzinfo=UTC)
    zone = vtimezone("Europe/Paris", [now + timedelta(days=200)], now)
    assert zone["tzid"] == "Europe/Paris"
    summer = datetime(YEAR, 7, 1, 12)
    assert summer.replace(tzinfo=zone.to_tz(lookup_tzid=False)).utcoffset() == timedelta(hours=2)
