"""The service's one clock, and the cycles it lets staff plan.

Every "now" the API reads (allocation's current cycle, a report's current period, the calendar it
hands an audit, a page's current month, the action log's time) comes from `Services.clock`, an
async callable: the system's time in service, the Temporal test server's in the tests, so an API
check and a skipped clock never disagree."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


from models.cycles import cycle_label, month_of, months_before
from models.settings import Settings
from services.errors import Refused

Clock = Callable[[], Awaitable[datetime]]


async def system_clock() -> datetime:
    return datetime.now(UTC)


def current_month(now: datetime, settings: Settings) -> str:
    """The council's month ("YYYY-MM") at `now`, in its own time zone."""
    return month_of(now.astimezone(ZoneInfo(settings.timezone)))


def check_plannable(cycle: str, now: datetime, settings: Settings, *, passed_ok: bool = False) -> None:
    """Allocations and selections are for the current month's cycle up to `cycles_ahead_months`
    ahead: a cycle beyond that is a typing slip (2072 for 2027), and a workflow started for it
    would wait years on dates no calendar records yet. Themes and moderation panels are bounded
    ahead only (`passed_ok`): for a cycle that has passed, its workflow says what it allows."""
    first = current_month(now, settings)
    last = months_before(first, -settings.cycles_ahead_months)
    window = f"{cycle_label(first)} ({first}) to {cycle_label(last)} ({last})"
    if cycle < first and not passed_ok:  # R-QA-3 carries late work forward; nothing goes backwards (its deadlines would be past)
        raise Refused(422, f"the {cycle} cycle has passed: the cycles open now are {window}")
    if cycle > last:
        raise Refused(422, f"cycle {cycle} is too far ahead: the cycles open now are {window}")
