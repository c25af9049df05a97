"""Each person's deadlines as an iCalendar feed (RFC 5545) that Outlook, or any calendar, can
subscribe to: what "My work" lists (services/my_work.py), one event a waiting item with a
deadline, at a secret link of their own. The link's token is its only credential: only its
SHA-256 is kept (`calendar_feeds`), it is shown once, when made, and making a new one or revoking
it stops the old one at once (docs/decisions/, "calendar feed")."""

import hashlib
import secrets
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vDuration, vRecur
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.expression import Update
from sqlmodel import Session, col, select

from api.schemas.calendar_feed import CalendarFeedLink
from api.schemas.work import WorkItem
from models import pages
from models.staff import StaffDirectory, StaffMember
from models.tables import CalendarFeed
from services.errors import Refused
from services.my_work import my_work

FEED_PATH = "/calendar/{token}.ics"
CALENDAR_NAME = "Case file audit deadlines"
PRODID = "-//Quality Standards Audit Framework (Children)//Deadlines//EN"
# How often a calendar should read the feed again: a hint (Outlook keeps its own schedule, hours apart).
REFRESH = timedelta(hours=1)
# An event is a half-hour block that ends at the deadline: RFC 5545 wants an event's end after
# its start, and a block shows in a day's view where an instant is a hairline.
BLOCK = timedelta(minutes=30)
NOT_FOUND = (
    "No calendar feed at this link: it was revoked, or replaced by a newer link. "
    "Get a new link on your My work page (/app/) and subscribe to that one."
)
# The staff page of each kind of waiting item (services/my_work.py `process`), as the My work page
# links them (web/list_pages.PAGES): the pages the emails link to where there is one.
PAGES = {
    "audit": pages.audit_page,
    "dispute": lambda id: f"/app/disputes/{id}",
    "safety_concern": lambda id: f"/app/safety-concerns/{id}",
    "moderation_panel": pages.moderation_panel_page,
    "self_selection": pages.self_selection_page,
}


LIVE = col(CalendarFeed.revoked_at).is_(None)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + FEED_PATH.format(token=token)


def new_feed(session: Session, actor: StaffMember, now: datetime, base_url: str) -> CalendarFeedLink:
    """A new secret link for `actor`, answered this once; their old one, if any, stops working."""
    token = secrets.token_urlsafe(32)
    session.exec(_revoke(actor, now))
    session.add(CalendarFeed(staff_id=actor.id, token_hash=token_hash(token), created_at=now))
    try:
        session.commit()
    except IntegrityError:  # another request made one for them in between (one live link a person)
        session.rollback()
        raise Refused(409, "a new calendar link was made for you at this very moment: ask again for one") from None
    return CalendarFeedLink(url=feed_url(base_url, token), token=token, created_at=now)


def revoke_feed(session: Session, actor: StaffMember, now: datetime) -> None:
    """`actor`'s link stops working; a calendar subscribed to it gets 404 from then on."""
    revoked = session.exec(_revoke(actor, now)).rowcount
    session.commit()
    if not revoked:
        raise Refused(404, "you have no calendar link to revoke: nothing was changed")


def _revoke(actor: StaffMember, now: datetime) -> Update:
    return update(CalendarFeed).where(col(CalendarFeed.staff_id) == actor.id, LIVE).values(revoked_at=now)


def live_feed_made(session: Session, actor: StaffMember) -> datetime | None:
    """When `actor`'s live link was made (None: they have none). The link itself cannot be shown again."""
    row = session.exec(select(CalendarFeed).where(col(CalendarFeed.staff_id) == actor.id, LIVE)).first()
    return _utc(row.created_at) if row else None


def is_live(session: Session, token: str) -> bool:
    return _owner(session, token) is not None


def _owner(session: Session, token: str) -> str | None:
    return session.exec(select(CalendarFeed.staff_id).where(col(CalendarFeed.token_hash) == token_hash(token), LIVE)).first()


def feed(session: Session, token: str, directory: StaffDirectory, now: datetime, base_url: str, timezone: str) -> bytes:
    """The iCalendar text of the feed `token` opens: 404 for a token unknown, revoked or replaced,
    or of someone no longer in the staff directory."""
    staff_id = _owner(session, token)
    member = directory.get(staff_id) if staff_id else None
    if member is None:
        raise Refused(404, NOT_FOUND)
    return bytes(calendar(my_work(session, member, now), member, now, base_url, timezone).to_ical())


def calendar(items: list[WorkItem], member: StaffMember, now: datetime, base_url: str, timezone: str) -> Calendar:
    """One VEVENT per waiting item with a deadline (an undated wait has no place in a calendar)."""
    zone = ZoneInfo(timezone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", CALENDAR_NAME)
    cal.add("x-wr-caldesc", "What waits on you in the case file audits, at each deadline. Read-only: act on the service's pages.")
    cal.add("x-wr-timezone", timezone)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))  # an X- property: said as a duration, not left to guess
    dated = [item for item in items if item.until is not None]
    cal.add_component(vtimezone(timezone, [_utc(i.until) for i in dated if i.until], now))
    host = urlsplit(base_url).hostname or "qsaf"
    for item in dated:
        cal.add_component(event(item, member, now, base_url, zone, host))
    return cal


def event(item: WorkItem, member: StaffMember, now: datetime, base_url: str, zone: ZoneInfo, host: str) -> Event:
    assert item.until is not None
    due = _utc(item.until).astimezone(zone)
    link = base_url.rstrip("/") + _page(item)
    what = item.action[:1].upper() + item.action[1:]
    about = item.case_ref or f"{item.process.replace('_', ' ')} {item.id}"  # the case's reference only: never a name
    overdue = "Overdue: " if item.overdue else ""
    whose = f"anyone who is {item.by_role.replace('_', ' ')}" if item.by_role else "you"
    ev = Event()
    ev.add("uid", f"{uid(item, member)}@{host}")
    ev.add("dtstamp", now.astimezone(UTC))
    ev.add("dtstart", due - BLOCK)
    ev.add("dtend", due)
    ev.add("summary", f"{overdue}{what} – {about}")
    ev.add(
        "description",
        f"{overdue}{what} for {about}, due {due:%A} {due.day} {due:%B %Y} at {due:%H:%M}.\nWaiting on {whose}.\nOpen it: {link}",
    )
    ev.add("url", link)
    ev.add("transp", "TRANSPARENT")  # a deadline, not a meeting: it leaves the person free
    ev.add("categories", ["Overdue"] if item.overdue else ["Deadline"])
    return ev


def uid(item: WorkItem, member: StaffMember) -> str:
    """The same for the same process, action and person at every read, so a calendar updates the
    event when its deadline moves instead of adding another; a hash, so it names nobody."""
    return hashlib.sha256(f"{item.process}\n{item.id}\n{item.action}\n{member.id}".encode()).hexdigest()[:32]


def _page(item: WorkItem) -> str:
    page = PAGES.get(item.process)
    return page(item.id) if page else "/app/"


def vtimezone(timezone: str, dues: list[datetime], now: datetime) -> Timezone:
    """London's rules as Outlook writes them (a yearly rule each way, good for any year); another
    zone from its tz data, over the years the events span."""
    if timezone == "Europe/London":
        return LONDON
    first = min([now, *dues]).date() - timedelta(days=1)
    last = max([now, *dues]).date() + timedelta(days=366)
    return Timezone.from_tzid(timezone, first_date=date(first.year, 1, 1), last_date=last)


def _london() -> Timezone:
    tz = Timezone()
    tz.add("tzid", "Europe/London")
    summer = TimezoneDaylight()  # from 01:00 GMT on the last Sunday of March
    summer.add("dtstart", datetime(1601, 3, 25, 1))
    summer.add("rrule", vRecur(freq="YEARLY", bymonth=3, byday="-1SU"))
    summer.add("tzoffsetfrom", timedelta(0))
    summer.add("tzoffsetto", timedelta(hours=1))
    summer.add("tzname", "BST")
    winter = TimezoneStandard()  # from 02:00 BST on the last Sunday of October
    winter.add("dtstart", datetime(1601, 10, 28, 2))
    winter.add("rrule", vRecur(freq="YEARLY", bymonth=10, byday="-1SU"))
    winter.add("tzoffsetfrom", timedelta(hours=1))
    winter.add("tzoffsetto", timedelta(0))
    winter.add("tzname", "GMT")
    tz.add_component(winter)
    tz.add_component(summer)
    return tz


LONDON = _london()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value  # SQLite: naive UTC
