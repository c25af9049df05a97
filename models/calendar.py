"""The council's working days (R-CAL-1, R-CAL-2) and the audit's own dates (R-AUD-1, R-AUD-2).

Pure arithmetic, safe inside workflows: Monday to Friday less England & Wales bank holidays (the
`holidays` library) and the council's closure days. Every function takes the instant it starts
from; nothing here reads the system clock. A workflow records the days once (the activity
`activities.calendar.CalendarActivities.calendar_days`) and works out its deadlines with
`WorkingCalendar.from_days`, so a holiday-library upgrade or a new closure day never changes the
deadlines of a run already under way. Changing this arithmetic changes what running workflows
compute: see docs/decisions/0001-versioning.md.
"""

from collections.abc import Container, Iterable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta
from temporalio.exceptions import ApplicationError

from models.cycles import REAUDIT_MONTHS
from models.payloads import AllocationSchedule, CalendarDays, ReauditSchedule

if TYPE_CHECKING:
    from models.settings import Settings


RECORDED_MONTHS = 24  # the span of days a workflow records at once
# A recorded calendar asked of a day it does not hold: the workflow records the days around it
# first (`workflows.process.RecordedCalendar.covering`), so this names a bug, never retried.
OUTSIDE_RECORDED_CALENDAR = "OutsideRecordedCalendar"


class WorkingCalendar:
    """Monday to Friday, less England & Wales bank holidays and the council's closure days."""

    def __init__(
        self,
        timezone: str = "Europe/London",
        working_day_ends: time = time(17, 0),
        closure_days: Iterable[date] = (),
        working_day_starts: time = time(9, 0),
    ):
        self.timezone, self.tz = timezone, ZoneInfo(timezone)
        self.working_day_starts = working_day_starts
        self.working_day_ends = working_day_ends
        self.closure_days = frozenset(closure_days)
        self._bank_holidays: Container[date] = holidays.country_holidays("GB", subdiv="ENG")
        self._span: tuple[date, date] | None = None  # a recorded calendar knows only its own days

    @classmethod
    def from_days(cls, days: CalendarDays) -> "WorkingCalendar":
        """The calendar a workflow recorded: its closed days are all there is to know (no holiday
        library is read, so nothing outside the history decides a date)."""
        calendar = cls.__new__(cls)
        calendar.timezone, calendar.tz = days.timezone, ZoneInfo(days.timezone)
        calendar.working_day_starts, calendar.working_day_ends = days.working_day_starts, days.working_day_ends
        calendar.closure_days, calendar._bank_holidays = frozenset(days.closed), frozenset()
        calendar._span = (days.first, days.last)
        return calendar

    def days(self, first: date, months: int = RECORDED_MONTHS) -> CalendarDays:
        """The facts a workflow records: every bank holiday and closure day from `first` on."""
        last = first + relativedelta(months=months)
        closed = [first + timedelta(n) for n in range((last - first).days + 1)]
        closed = [d for d in closed if d.weekday() < 5 and not self.is_working_day(d)]
        return CalendarDays(
            first=first,
            last=last,
            closed=closed,
            timezone=self.timezone,
            working_day_starts=self.working_day_starts,
            working_day_ends=self.working_day_ends,
        )

    def covers(self, day: date, ahead: timedelta) -> bool:
        """Whether the recorded days reach from `day` to `ahead` beyond it (always, unrecorded)."""
        return self._span is None or self._span[0] <= day and day + ahead <= self._span[1]

    def is_working_day(self, day: date) -> bool:
        if self._span and not self._span[0] <= day <= self._span[1]:
            raise ApplicationError(
                f"{day} is outside the recorded calendar ({self._span[0]} to {self._span[1]})",
                type=OUTSIDE_RECORDED_CALENDAR,
                non_retryable=True,
            )
        return day.weekday() < 5 and day not in self._bank_holidays and day not in self.closure_days

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def end_of(self, day: date) -> datetime:
        """17:00 London time on `day`, as an aware datetime."""
        return datetime.combine(day, self.working_day_ends, tzinfo=self.tz)

    def add_working_days(self, day: date, n: int) -> date:
        """The Nth working day after `day`; `day` itself does not count (R-CAL-2)."""
        while n > 0:
            day += timedelta(days=1)
            n -= self.is_working_day(day)
        return day

    def working_day_on_or_before(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def deadline_after(self, event_at: datetime, working_days: int) -> datetime:
        """'Within N working days of E': end of the Nth working day after E's day (R-CAL-2)."""
        return self.end_of(self.add_working_days(self.local_date(event_at), working_days))

    def allocation_schedule(self, allocated_at: datetime, involvement_start: date) -> AllocationSchedule:
        allocated_on = self.local_date(allocated_at)
        # R-AUD-1: one calendar month; Decision: a non-working day moves back to the last working day.
        due_on = self.working_day_on_or_before(allocated_on + relativedelta(months=1))
        # R-AUD-2: the six months before the audit date, or from CSC involvement if later.
        period_start = max(allocated_on - relativedelta(months=6), involvement_start)
        return AllocationSchedule(completion_due=self.end_of(due_on), period_start=period_start, period_end=allocated_on)

    def first_working_day(self, year: int, month: int) -> date:
        day = date(year, month, 1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def reaudit_schedule(self, final_at: datetime) -> ReauditSchedule:
        """R-RE-1: the first cycle holding re-audits that starts at least a month after `final_at`."""
        earliest = self.local_date(final_at) + relativedelta(months=1)
        month = earliest.replace(day=1)
        while True:
            if month.month in REAUDIT_MONTHS and (start := self.first_working_day(month.year, month.month)) >= earliest:
                allocate_at = datetime.combine(start, self.working_day_starts, tzinfo=self.tz)
                return ReauditSchedule(cycle=f"{month:%Y-%m}", allocate_at=allocate_at)
            month += relativedelta(months=1)

    def cycle_start(self, cycle: str) -> datetime:
        """The start of the first working day of a cycle's month (R-CAL-3): a bank holiday or a
        weekend on the 1st moves it on."""
        start = self.first_working_day(int(cycle[:4]), int(cycle[5:]))
        return datetime.combine(start, self.working_day_starts, tzinfo=self.tz)

    def cycle_end(self, cycle: str) -> datetime:
        """End of the last working day of a cycle's month (R-CAL-3)."""
        first = date.fromisoformat(f"{cycle}-01")
        return self.end_of(self.working_day_on_or_before(first + relativedelta(months=1, days=-1)))


def calendar_for(settings: "Settings") -> WorkingCalendar:
    """The council's calendar as its settings (`models.settings.Settings`) describe it."""
    return WorkingCalendar(settings.timezone, settings.working_day_ends, settings.closure_days, settings.working_day_starts)
