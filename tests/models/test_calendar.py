"""The working-day calendar (R-CAL-1, R-CAL-2) and the audit's own dates (R-AUD-1, R-AUD-2)."""

import json
from datetime import date, datetime, timedelta, UTC

import pytest
from dateutil.relativedelta import relativedelta
from temporalio.exceptions import ApplicationError

from models.calendar import OUTSIDE_RECORDED_CALENDAR, WorkingCalendar
from models.cycles import cycle_holds, is_cycle, next_cycle
from tests import helpers
from tests.helpers import dates
from tests.helpers import LONDON

calendar = WorkingCalendar()


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.mark.parametrize(
    "event, days, due",
    [
        (london(2027, 1, 11, 10), 1, london(2027, 1, 12, 17)),  # Monday -> Tuesday
        (london(2027, 1, 15, 16), 1, london(2027, 1, 18, 17)),  # Friday -> Monday
        (london(2027, 1, 16, 12), 1, london(2027, 1, 18, 17)),  # Saturday: the day of E does not count
        (london(2027, 1, 11, 18), 3, london(2027, 1, 14, 17)),  # after hours: still counts from that day
        (london(2027, 3, 25, 9), 1, london(2027, 3, 30, 17)),  # Good Friday and Easter Monday skipped
        (london(2026, 12, 23, 9), 2, london(2026, 12, 29, 17)),  # Christmas and Boxing Day (substitute 28th)
        (london(2027, 3, 26, 9), 5, london(2027, 4, 5, 17)),  # across the BST change
    ],
)
def test_within_n_working_days(event, days, due):
    assert calendar.deadline_after(event, days) == due


def test_closure_days_are_not_working_days():
    closed = WorkingCalendar(closure_days=[date(2027, 1, 12)])
    assert closed.deadline_after(london(2027, 1, 11, 10), 1) == london(2027, 1, 13, 17)


def test_deadline_is_the_end_of_the_working_day_in_london_whatever_the_input_zone():
    due = calendar.deadline_after(datetime(2027, 6, 7, 23, 30, tzinfo=UTC), 1)  # 00:30 BST on 8 June
    assert due == london(2027, 6, 9, 17)


def test_completion_is_one_calendar_month_moved_back_to_a_working_day():
    # Allocated Friday 26 February 2027: 26 March is Good Friday, so Thursday 25 March.
    schedule = calendar.allocation_schedule(london(2027, 2, 26, 10), date(2020, 1, 1))
    assert schedule.completion_due == london(2027, 3, 25, 17)
    # 31 January + 1 month is 28 February 2027, a Sunday: Friday 26 February.
    assert calendar.allocation_schedule(london(2027, 1, 31, 10), date(2020, 1, 1)).completion_due == london(2027, 2, 26, 17)


def test_audit_period_is_six_months_or_from_involvement():
    six_months = calendar.allocation_schedule(london(2027, 1, 11, 10), date(2020, 1, 1))
    assert (six_months.period_start, six_months.period_end) == (date(2026, 7, 11), date(2027, 1, 11))
    later = calendar.allocation_schedule(london(2027, 1, 11, 10), date(2026, 10, 1))
    assert later.period_start == date(2026, 10, 1)


def test_cycles():
    assert [next_cycle(c) for c in ("2026-11", "2027-07", "2027-01")] == ["2027-01", "2027-09", "2027-02"]
    assert calendar.cycle_end("2027-05") == london(2027, 5, 28, 17)  # 31 May is a bank holiday
    assert not is_cycle("2027-08") and not is_cycle("2027-12") and not is_cycle("2027-1") and is_cycle("2027-10")
    assert cycle_holds("2027-03", "peer", "safeguarding") and not cycle_holds("2027-03", "standard", "safeguarding")
    assert cycle_holds("2027-03", "standard", "mash")  # MASH audits every cycle
    assert cycle_holds("2027-05", "themed", "send") and not cycle_holds("2027-05", "peer", "send")


@pytest.mark.parametrize(
    "final, cycle, allocated",
    [
        (london(2027, 1, 11, 17), "2027-03", london(2027, 3, 1, 9)),  # February is a moderation month
        (london(2027, 7, 8, 17), "2027-09", london(2027, 9, 1, 9)),  # no cycle in August
        (london(2027, 3, 8, 17), "2027-05", london(2027, 5, 4, 9)),  # April starts too soon; 3 May is a bank holiday
        (london(2027, 5, 20, 17), "2027-07", london(2027, 7, 1, 9)),  # June: moderation
        (london(2027, 10, 29, 12), "2028-01", london(2028, 1, 4, 9)),  # none in December; New Year (observed 3rd)
        (london(2027, 2, 26, 17), "2027-04", london(2027, 4, 1, 9)),  # 1 April is a month after 26 February
    ],
)
def test_reaudit_goes_to_the_first_reaudit_cycle_a_month_on(final, cycle, allocated):
    schedule = calendar.reaudit_schedule(final)
    assert (schedule.cycle, schedule.allocate_at) == (cycle, allocated)


def test_a_recorded_calendar_gives_the_same_dates_as_the_live_one():
    """What a workflow records once (`calendar_days`) is all it needs: every deadline, audit date,
    cycle and re-audit schedule over two years comes out as the live calendar says."""
    live = WorkingCalendar(closure_days=[date(2027, 1, 12)])
    recorded = WorkingCalendar.from_days(live.days(date(2026, 12, 1)))
    assert date(2027, 1, 12) in recorded.closure_days and date(2026, 12, 25) in recorded.closure_days
    for n in range(0, 400, 3):
        at = datetime(2026, 12, 1, 16, 30, tzinfo=LONDON) + timedelta(days=n)
        for days in (1, 3, 5, 20):
            assert recorded.deadline_after(at, days) == live.deadline_after(at, days)
        assert recorded.allocation_schedule(at, date(2026, 1, 1)) == live.allocation_schedule(at, date(2026, 1, 1))
        assert recorded.reaudit_schedule(at) == live.reaudit_schedule(at)
    assert [recorded.cycle_start(c) for c in ("2027-01", "2027-05")] == [live.cycle_start(c) for c in ("2027-01", "2027-05")]


def test_a_recorded_calendar_refuses_a_day_it_does_not_hold():
    recorded = WorkingCalendar.from_days(WorkingCalendar().days(date(2027, 1, 1), months=1))
    assert recorded.covers(date(2027, 1, 10), timedelta(days=20)) and not recorded.covers(date(2027, 1, 10), timedelta(days=40))
    # Non-retryable: asked inside a workflow, it fails what asked for it, never a task retried forever.
    with pytest.raises(ApplicationError, match="outside the recorded calendar") as refused:
        recorded.deadline_after(datetime(2027, 1, 29, 9, tzinfo=LONDON), 5)
    assert refused.value.non_retryable and refused.value.type == OUTSIDE_RECORDED_CALENDAR


async def test_an_audit_records_the_councils_days_with_its_start(api, env, client, settings):
    """The API sends the closed days with the audit's start, so its first step records them with
    no local activity of its own, and its deadlines follow the days the API sent: a closure day
    the API knows moves the completion deadline (the worker, started before it, does not know it)."""
    # A January day whose month-on and the day before that are both working days.
    allocated_on = dates.first_working_day(dates.YEAR, 1)
    month_on = allocated_on + relativedelta(months=1)
    while not (dates.is_working_day(month_on) and dates.is_working_day(month_on - timedelta(1))):
        allocated_on = dates.working_days_after(allocated_on, 1)
        month_on = allocated_on + relativedelta(months=1)
    settings.closure_days = [month_on]  # read by the API at its first allocation
    await helpers.skip_to(env, dates.at(allocated_on))
    allocated = await helpers.allocate(api)
    history = await client.get_workflow_handle(f"audit-{allocated['audit_id']}").fetch_history()
    local_activities = [
        json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)["activity_type"]
        for e in history.events
        if e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]
    assert local_activities == ["send_email", "save_audit_row"]
    # One calendar month on is closed: the working day before it (R-AUD-1).
    assert helpers.deadline(allocated, "completion_due") == dates.end_of(month_on - timedelta(1))
