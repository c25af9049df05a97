"""The calendar's activities: the council's days for a workflow to record, and (for runs that
ask) single deadlines. The arithmetic itself is `models.calendar.WorkingCalendar`."""

from datetime import date, datetime

from temporalio import activity

from models.calendar import WorkingCalendar
from models.payloads import (
    AllocationSchedule, AllocationScheduleRequest, CalendarDays, ReauditSchedule, WorkingDaysRequest,
)


class CalendarActivities:
    def __init__(self, calendar: WorkingCalendar):
        self.calendar = calendar

    @activity.defn
    async def allocation_schedule(self, req: AllocationScheduleRequest) -> AllocationSchedule:
        return self.calendar.allocation_schedule(req.allocated_at, req.involvement_start)

    @activity.defn
    async def working_day_deadline(self, req: WorkingDaysRequest) -> datetime:
        return self.calendar.deadline_after(req.event_at, req.working_days)

    @activity.defn
    async def cycle_deadline(self, cycle: str) -> datetime:
        return self.calendar.cycle_end(cycle)

    @activity.defn
    async def calendar_days(self, first: date) -> CalendarDays:
        return self.calendar.days(first)

    @activity.defn
    async def reaudit_schedule(self, final_at: datetime) -> ReauditSchedule:
        return self.calendar.reaudit_schedule(final_at)
