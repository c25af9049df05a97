"""Plumbing every process workflow shares, as helpers each workflow owns: its local activities
(`LocalActivities`), the council's calendar as the run recorded it (`RecordedCalendar`), its
notifications (`Notifier`) and what operators and the API see of it (`Projection`: history,
overdue steps, search attributes and the saved row); and `wait`, a wait that races a deadline.

A workflow composes them in its `__init__`, saying what is its own: the activity that saves its
row, the row and the search attributes and current details it shows, what its emails name.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, overload

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from activities.calendar import CalendarActivities
    from activities.notify import NotifyActivities
    from models.calendar import WorkingCalendar
    from models.enums import Channel, Grade
    from models.payloads import CalendarDays, HistoryEntry, Notification, Waiting

ACTIVITY_OPTIONS: dict[str, Any] = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
)
SYSTEM = "system"
T = TypeVar("T")
Arg = TypeVar("Arg")
# Every run takes one path: no `workflow.patched` until 1.0 (docs/decisions/0001-versioning.md).
LOCAL_OPTIONS: dict[str, Any] = dict(
    start_to_close_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
    # Retried in the worker for a while; past this, each retry waits on a workflow timer instead.
    local_retry_threshold=timedelta(seconds=30),
)
CALENDAR_AHEAD = timedelta(days=200)  # how far past a date the recorded calendar must reach
# An activity method taking one argument, sync or async (the worker runs either), its result unused.
Activity = Callable[[Any, Any], object]


async def wait(condition: Callable[[], bool], until: datetime | None = None, summary: str = "") -> bool:
    """Wait for `condition` until `until` (forever if None); False if the deadline passed first."""
    if until is None:
        await workflow.wait_condition(condition)
        return True
    remaining = until - workflow.now()
    if remaining <= timedelta(0):
        return condition()
    try:
        await workflow.wait_condition(condition, timeout=remaining, timeout_summary=summary)
        return True
    except TimeoutError:
        # An action that arrived in the same moment as its deadline counts as in time; were
        # it dropped here, its effects (the stage it set) would be overwritten half-done.
        return condition()


class LocalActivities:
    """A short activity (a calendar sum, a directory lookup, a row or an outbox entry written)
    runs as a local activity: in the worker, inside the workflow task that asked for it, recorded
    as one marker with its result. So an action costs the server no extra round trip, and the
    history holds no copy of what was saved. Those in flight are counted: the projection saves
    only between them (`Projection`)."""

    def __init__(self) -> None:
        self.in_flight = 0

    @overload
    async def run(self, activity: Callable[[Any, Arg], Awaitable[T]], arg: Arg, summary: str) -> T: ...

    @overload
    async def run(self, activity: Callable[[Any, Arg], T], arg: Arg, summary: str) -> T: ...

    async def run(self, activity: Callable[[Any, Any], Any], arg: Any, summary: str) -> Any:
        self.in_flight += 1
        try:
            return await workflow.execute_local_activity_method(activity, arg, summary=summary, **LOCAL_OPTIONS)
        finally:
            self.in_flight -= 1


class RecordedCalendar:
    """The council's calendar (R-CAL) as this run recorded it: one local activity the first time it
    needs a date (and again past the two years a recording holds, or for a date already past),
    then every deadline is worked out here, deterministically, with no round trip."""

    def __init__(self, activities: LocalActivities, days: CalendarDays | None = None) -> None:
        self._activities = activities
        self._calendar = WorkingCalendar.from_days(days) if days else None  # None: not recorded yet

    async def working_days(self, event_at: datetime, days: int, summary: str) -> datetime:
        return await self.on(event_at, lambda c: c.deadline_after(event_at, days))

    async def on(self, at: datetime, compute: Callable[[WorkingCalendar], T]) -> T:
        """A date of the council's calendar from `at` on, worked out here from the recorded days."""
        return compute(await self.reaching(at))

    async def reaching(self, instant: datetime, ahead: timedelta = CALENDAR_AHEAD) -> WorkingCalendar:
        """The recorded calendar, reaching `ahead` beyond `instant`."""
        if self._calendar is None or not self.covers(instant, ahead):
            return await self._record(_day_before(instant))
        return self._calendar

    async def covering(self, first: date, last: date) -> WorkingCalendar:
        """The recorded calendar holding every day from `first` to `last`, recorded again from
        `first` when it does not (a cycle further off than the two years a recording holds, or
        one already past). Where the days are held this issues no command."""
        if self._calendar is None or not self._calendar.covers(first, last - first):
            return await self._record(first - timedelta(days=1))
        return self._calendar

    def covers(self, instant: datetime, ahead: timedelta = CALENDAR_AHEAD) -> bool:
        return self._calendar is not None and self._calendar.covers(_day_before(instant), ahead)

    def known_deadline(self, event_at: datetime, days: int) -> datetime | None:
        """`working_days` when the recorded calendar already covers it, else None: worked out
        here with no command, so an email can name a step's deadline before the step that waits
        on it computes the same."""
        if self._calendar is None or not self.covers(event_at):
            return None
        return self._calendar.deadline_after(event_at, days)

    async def _record(self, since: date) -> WorkingCalendar:
        days = await self._activities.run(CalendarActivities.calendar_days, since, "the council's working days (R-CAL-1)")
        self._calendar = WorkingCalendar.from_days(days)
        return self._calendar


class Notifier:
    """Emails to staff and Mosaic posts about one process, each sent once: `step` names the send
    within the workflow, and with the workflow ID it is the idempotency key."""

    def __init__(
        self, activities: LocalActivities, audit_id: str, case_ref: str | None, about: Callable[[], tuple[str | None, str | None]]
    ) -> None:
        self._activities = activities
        self._audit_id, self._case_ref = audit_id, case_ref
        self._about = about  # the cycle its emails name and the page they link to

    async def email(
        self,
        step: str,
        to: Sequence[str | None],
        subject: str,
        body: str,
        *,
        action: str,
        action_for: Sequence[str | None] | None = None,
        due: datetime | None = None,
        urgent: bool = False,
    ) -> None:
        """An email to staff: `body` says what happened, `action` what is needed ("" nothing: for
        information) of `action_for` (None: every recipient) and `due` by when. IDs and instants
        only (`person()`, `at()` in the text); the activity words it with names, London times, the
        case, the cycle and the page's link (activities/email_text.py)."""
        cycle, link_path = self._about()
        extra: dict[str, Any] = {"urgent": True} if urgent else {}
        await self.send(
            NotifyActivities.send_email,
            Channel.EMAIL,
            step,
            to,
            subject,
            body,
            action=action,
            action_for=None if action_for is None else unique(action_for),
            due=due,
            cycle=cycle,
            link_path=link_path,
            **extra,
        )

    async def post(self, channel: Channel, step: str, to: Sequence[str | None], subject: str, body: str, **extra: Any) -> None:
        await self.send(NotifyActivities.post_to_mosaic, channel, step, to, subject, body, **extra)

    async def send(
        self, activity: Activity, channel: Channel, step: str, to: Sequence[str | None], subject: str, body: str, **extra: Any
    ) -> None:
        notification = Notification(
            key=f"{workflow.info().workflow_id}/{step}",
            audit_id=self._audit_id,
            case_ref=self._case_ref,
            channel=channel,
            recipient_ids=unique(to),
            subject=subject,
            body=body,
            at=workflow.now(),
            **extra,
        )
        await self._activities.run(activity, notification, f"{channel.value}: {step}")


class Projection:
    """What operators and the API see of a process: its history, its overdue steps, its search
    attributes and its row in the app database (saved by `save_row`), kept current as it changes."""

    def __init__(
        self,
        activities: LocalActivities,
        save_row: Activity,
        summary: str,
        row: Callable[[bool], BaseModel],
        refresh: Callable[[], None],
    ) -> None:
        self._activities, self._save_row, self._summary = activities, save_row, summary
        self._row = row  # the row to save (with the whole view, or not)
        self._refresh = refresh  # search attributes and current details after a change
        self.history: list[HistoryEntry] = []
        self.overdue_steps: list[str] = []
        self._version = self._saved = 0
        self._search_attributes: dict[str, object] = {}
        self._attributes_due: dict[str, tuple[Any, object]] = {}  # name: (key, value) not yet upserted
        self._closing = False  # `finish` saves the last row itself
        self._projector: asyncio.Task[None] | None = None

    # ---- changes ---------------------------------------------------------------------------------

    def changed(self) -> None:
        """Every change: refresh what operators see, and schedule a save."""
        self._version += 1
        self._refresh()

    def record(self, actor_id: str, action: str, detail: str = "") -> None:
        self.history.append(HistoryEntry(at=workflow.now(), actor_id=actor_id, action=action, detail=detail))
        self.changed()

    def mark_overdue(self, step: str) -> None:
        if step not in self.overdue_steps:
            self.overdue_steps.append(step)
            self.record(SYSTEM, f"{step} deadline passed")

    def clear_overdue(self, step: str) -> None:
        if step in self.overdue_steps:
            self.overdue_steps.remove(step)
            self.changed()

    def upsert(self, attributes: dict[Any, Any]) -> None:
        """Upsert the search attributes whose value changed (None unsets one), with the save, once
        the step has settled."""
        changed = {k.name: (k, v) for k, v in attributes.items() if self._search_attributes.get(k.name) != v}
        self._search_attributes.update({name: v for name, (_, v) in changed.items()})
        self._attributes_due.update(changed)

    # ---- saving ----------------------------------------------------------------------------------

    def start(self) -> None:
        """From the run's start: save the row whenever the view changed, once the step has
        settled, so a step's several changes cost one save and one search-attribute upsert."""
        self._projector = asyncio.create_task(self._keep_current())

    async def answer(self) -> None:
        """Once the row holds the change too, so the API's lists agree with its answer. An update
        answers with nothing: the API reads the view the row now holds (or by query), which costs
        the history nothing, where a view in every update's outcome grew it with every action."""
        version = self._version
        await workflow.wait_condition(lambda: self._saved >= version)

    async def finish(self) -> None:
        """Before the run returns: the last change and the whole final view in one save, every
        update answered; the projector stands down. An update still running when the run ends is
        answered by another save once it settles."""
        self._closing = True
        while True:
            await workflow.wait_condition(lambda: self._activities.in_flight == 0)  # a save or a step under way lands first
            self._upsert_due_attributes()
            await self._save("save the final view")
            await workflow.wait_condition(lambda: workflow.all_handlers_finished() or self._saved < self._version)
            if self._saved == self._version and workflow.all_handlers_finished():
                break
        if self._projector is not None:
            self._projector.cancel()

    async def _keep_current(self) -> None:
        while True:
            await workflow.wait_condition(self._unsaved)
            await asyncio.sleep(0)  # a bare yield (no timer): what woke with this finishes its step first
            if not self._unsaved():
                continue
            self._upsert_due_attributes()
            if self._saved < self._version:
                await self._save(self._summary)

    async def _save(self, summary: str) -> None:
        """The whole view at every save: the row goes by local activity, whose input the history
        never holds, and the API answers a staff action from the row instead of asking the workflow."""
        version = self._version
        await self._activities.run(self._save_row, self._row(True), summary)
        self._saved = version

    def _unsaved(self) -> bool:
        """A change not yet saved, once no local activity is in flight (the step's next change
        would follow it) and not while `finish` saves the last row."""
        pending = self._saved < self._version or bool(self._attributes_due)
        return pending and self._activities.in_flight == 0 and not self._closing

    def _upsert_due_attributes(self) -> None:
        if self._attributes_due:
            workflow.upsert_search_attributes(
                [k.value_set(v) if v is not None else k.value_unset() for k, v in self._attributes_due.values()]
            )
            self._attributes_due.clear()


def _day_before(instant: datetime) -> date:
    return instant.date() - timedelta(days=1)  # UTC; London's date is this one or the next


def unique(ids: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(i for i in ids if i))


def grade_text(grade: Grade | None) -> str:
    return grade.value.replace("_", " ") if grade else "not graded"


def when(instant: datetime | None) -> str:
    return f"{instant:%A %d %B %Y %H:%M}" if instant else "(not set)"


def details(state: str, waiting: Waiting | None, overdue: list[str]) -> str:
    """The one Markdown line the Web UI shows as a workflow's current details."""
    text = f"**{state}**"
    if waiting:
        who = ", ".join(waiting.from_staff_ids) or waiting.from_role or "-"
        text += f": waiting for {waiting.action} from `{who}`"
        if waiting.until:
            text += f" until {when(waiting.until)}"
    if overdue:
        text += f" — **overdue**: {', '.join(overdue)}"
    return text
