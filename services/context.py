"""What every service function is handed: the settings, the Temporal client, the app database's
engine, the staff directory and the clock. The API makes one at start (api/main.py), the tests
their own."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from models.calendar import WorkingCalendar, calendar_for
from models.payloads import CalendarDays
from models.settings import Settings
from models.staff import StaffDirectory
from services.clock import Clock, system_clock
from temporal_client import workflow_id_key

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    client: Client
    engine: Engine
    directory: StaffDirectory
    clock: Clock = system_clock  # every "now" the service reads (services/clock.py)
    _days: CalendarDays | None = field(default=None, init=False, repr=False)

    @cached_property
    def calendar(self) -> WorkingCalendar:
        return calendar_for(self.settings)

    @cached_property
    def workflow_id_key(self) -> bytes | None:
        """The key audit IDs are made with (services/allocation.py), read once."""
        return workflow_id_key(self.settings)

    def recorded_days(self, now: datetime) -> CalendarDays:
        """The council's closed days from the day before `now` (UTC) on, as an audit records them with its
        start (`AuditInput.calendar`); worked out once a day, as a month's confirmation starts
        hundreds of audits. Yesterday, as a workflow records from the day before its instant:
        London's date is UTC's or the next."""
        first = now.astimezone(UTC).date() - timedelta(days=1)
        if self._days is None or self._days.first != first:
            self._days = self.calendar.days(first)
        return self._days

    async def in_session(self, work: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`work` with a session of its own, in the thread pool: a database read or write never blocks
        the event loop (what a plain `def` route with `SessionDep` gets from FastAPI)."""

        def run() -> T:
            with Session(self.engine) as session:
                return work(session, *args, **kwargs)

        return await run_in_threadpool(run)
