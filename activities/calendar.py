"""The calendar's activity: the council's days, for a workflow to record once and work every
deadline out from (`models.calendar.WorkingCalendar` does the arithmetic)."""

from datetime import date

from temporalio import activity

from models.calendar import WorkingCalendar
from models.payloads import CalendarDays


class CalendarActivities:
    def __init__(self, calendar: WorkingCalendar):
        self.calendar = calendar

    @activity.defn
    async def calendar_days(self, first: date) -> CalendarDays:
        return self.calendar.days(first)
