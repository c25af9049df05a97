"""The dates the time-skipping tests work in, chosen when the suite runs, and their expected deadlines.

The test server starts at the machine's time and only moves forward, so a scenario written for a
fixed year expires once the clock passes it. Every time-skipping test therefore works in `YEAR`,
next year by the council's clock: its January has not begun, and its January cycle is at most 12
months ahead, as the API allows. `tests/conftest.py`'s `env` fixture checks that its server has
not passed the January cycle's opening (a run crossing midnight on 31 December keeps the year it
began with, whose first working day is the 2nd at the earliest).

Expected deadlines are worked out here, with the `holidays` library's England list, never with
`activities/calendar.py`: a bug there shows as a disagreement instead of being copied into the
expectation. Hand-worked dates of particular years (Easter 2027, say) stay in the pure calendar
tests, which need no clock.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

LONDON = ZoneInfo("Europe/London")
YEAR = datetime.now(LONDON).year + 1
# A case involved with since before any day the suite runs: the API refuses an involvement to come.
INVOLVED_SINCE = date(YEAR - 2, 3, 1)
_ENGLAND = holidays.country_holidays("GB", subdiv="ENG", years=range(YEAR - 1, YEAR + 6))


def cycle(month: int, year: int = YEAR) -> str:
    """The cycle `YYYY-MM` of `month` in `year` (the suite's year unless said)."""
    return f"{year}-{month:02d}"


def day(month: int, dom: int, year: int = YEAR) -> date:
    return date(year, month, dom)


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def at(d: date, hour: int = 9, minute: int = 0) -> datetime:
    """`d` at a London wall-clock time (09:00 unless said)."""
    return datetime.combine(d, time(hour, minute), tzinfo=LONDON)


def end_of(d: date) -> datetime:
    """17:00 London time on `d`: when a working day, and a deadline on it, ends (R-CAL-2)."""
    return at(d, 17)


def bank_holiday(name: str, year: int = YEAR) -> date:
    """The England bank holiday whose name contains `name` ("Good Friday", "Spring Bank")."""
    found = [d for d, n in _ENGLAND.items() if d.year == year and name.lower() in n.lower()]
    assert len(found) == 1, f"{name!r} names {found} in {year}"
    return found[0]


def is_working_day(d: date, closed: Iterable[date] = ()) -> bool:
    return d.weekday() < 5 and d not in _ENGLAND and d not in set(closed)


def working_days_after(d: date, n: int, closed: Iterable[date] = ()) -> date:
    """The Nth working day after `d`; `d` itself does not count."""
    closed = set(closed)
    while n > 0:
        d += timedelta(days=1)
        n -= is_working_day(d, closed)
    return d


def working_days_before(d: date, n: int) -> date:
    """The Nth working day before `d`."""
    while n > 0:
        d -= timedelta(days=1)
        n -= is_working_day(d)
    return d


def deadline_after(event: datetime | date, n: int, closed: Iterable[date] = ()) -> datetime:
    """'Within N working days of the event': the end of the Nth working day after its London day."""
    d = event.astimezone(LONDON).date() if isinstance(event, datetime) else event
    return end_of(working_days_after(d, n, closed))


def working_day_on_or_before(d: date) -> date:
    while not is_working_day(d):
        d -= timedelta(days=1)
    return d


def working_day_on_or_after(d: date) -> date:
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def first_working_day(year: int, month: int) -> date:
    return working_day_on_or_after(date(year, month, 1))


def last_working_day(year: int, month: int) -> date:
    return working_day_on_or_before(date(year, month, 1) + relativedelta(months=1, days=-1))


def nth_working_day(year: int, month: int, n: int) -> date:
    """The Nth working day of a month (the first is n=1)."""
    return working_days_after(first_working_day(year, month), n - 1)


def weekday_on_or_after(d: date, weekday: int) -> date:
    """The first `weekday` (Monday 0 … Sunday 6) on or after `d`, whatever it is."""
    return d + timedelta(days=(weekday - d.weekday()) % 7)


def a_working_week(year: int, month: int) -> date:
    """The Monday of the month's first week with no bank holiday (five working days in a row)."""
    monday = weekday_on_or_after(date(year, month, 1), 0)
    while not all(is_working_day(monday + timedelta(n)) for n in range(5)):
        monday += timedelta(days=7)
    return monday


def completion_due(allocated_on: date) -> datetime:
    """R-AUD-1: one calendar month after allocation, back to a working day if it is not one."""
    return end_of(working_day_on_or_before(allocated_on + relativedelta(months=1)))


def cycle_opens(month: int, year: int = YEAR) -> datetime:
    """A cycle opens at the start (09:00) of its month's first working day (R-CAL-3)."""
    return at(first_working_day(year, month))


def cycle_closes(month: int, year: int = YEAR) -> datetime:
    """… and closes at the end (17:00) of its last working day."""
    return end_of(last_working_day(year, month))


REAUDIT_MONTHS = (1, 3, 4, 5, 7, 9, 11)  # the cycles holding re-audits; the others moderate or hold none


def reaudit_allocated(final_on: date) -> datetime:
    """R-RE-1: a re-audit is allocated as the first re-audit cycle opens at least a month after its
    audit became final."""
    earliest = final_on + relativedelta(months=1)
    month = earliest.replace(day=1)
    while month.month not in REAUDIT_MONTHS or first_working_day(month.year, month.month) < earliest:
        month += relativedelta(months=1)
    return cycle_opens(month.month, month.year)
