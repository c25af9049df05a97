"""A re-audit works its deadlines out on the council's calendar as it stands when the re-audit
starts (R-CAL-1), not on the days its first audit recorded months before."""

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta

from tests.helpers.dates import YEAR, at, cycle, cycle_opens, end_of, first_working_day, working_day_on_or_before
from tests.helpers import audit_to_report, deadline, discuss_and_accept, skip_to, view

JANUARY = first_working_day(YEAR, 1)
# An audit reported in January is re-audited as March's cycle opens (February moderates, R-RE-1).
REAUDIT_ON = first_working_day(YEAR, 3)
# The re-audit's completion deadline on the calendar its first audit recorded (R-AUD-1) ...
DUE_ON = working_day_on_or_before(REAUDIT_ON + relativedelta(months=1))


@pytest.fixture
def settings(settings):
    """... is a closure day the council added later: the worker, started after it was added, knows it."""
    settings.closure_days = [DUE_ON]
    return settings


async def test_a_reaudit_deadline_on_a_closure_day_added_since_its_audit_moves(api, env, client, settings):
    settings.closure_days = []  # the API allocates the first audit before the closure day was added
    await skip_to(env, at(JANUARY))
    audit_id = await audit_to_report(api, env, "inadequate")
    settings.closure_days = [DUE_ON]
    await discuss_and_accept(api, env, audit_id)

    await skip_to(env, cycle_opens(3) + timedelta(minutes=5))
    parent = await view(api, audit_id)
    assert parent["stage"] == "reaudit_in_progress" and parent["reaudit"]["cycle"] == cycle(3)
    reaudit = await view(api, f"{audit_id}-r1")
    # The closed day moves the deadline back to the working day before it.
    assert deadline(reaudit, "completion_due") == end_of(working_day_on_or_before(DUE_ON - timedelta(days=1)))
