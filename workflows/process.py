"""Plumbing every process workflow shares: deadlines, waits, notifications, history, projection.

A process (an audit, a dispute) subclasses `Process` and says what is its own: its view, its
search attributes and its one-line current details (`_refresh`), and the activity that saves
its projection.
"""

import asyncio
from collections.abc import Callable
from typing import TypeVar
from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.calendar import CalendarActivities
    from models.calendar import WorkingCalendar
    from activities.notify import NotifyActivities
    from models.enums import Channel, Grade
    from models.pages import audit_page
    from models.payloads import HistoryEntry, Notification, Waiting

ACTIVITY_OPTIONS = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
)
SYSTEM = "system"
T = TypeVar("T")
# Every run takes one path: no `workflow.patched` until 1.0 (docs/decisions/0001-versioning.md).
LOCAL_OPTIONS = dict(
    start_to_close_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
    # Retried in the worker for a while; past this, each retry waits on a workflow timer instead.
    local_retry_threshold=timedelta(seconds=30),
)
CALENDAR_AHEAD = timedelta(days=200)  # how far past a date the recorded calendar must reach


class Process:
    audit_id: str
    case_ref: str

    def _init_process(self) -> None:
        self.history: list[HistoryEntry] = []
        self.overdue_steps: list[str] = []
        self._version = self._saved = 0
        self._search_attributes: dict[str, object] = {}
        self._in_flight = 0  # this run's local activities not yet answered (`_activity`)
        self._attributes_due: dict[str, tuple[object, object]] = {}  # name: (key, value) not yet upserted
        self._closing = False  # `_finish` saves the last row itself
        self._calendar: WorkingCalendar | None = None  # the council's days, once recorded

    # ---- to be said by each process ----------------------------------------------------------

    def _view(self):
        raise NotImplementedError

    def _refresh(self) -> None:
        """Search attributes and current details after a change."""
        raise NotImplementedError

    # ---- waiting ---------------------------------------------------------------------------------

    async def _wait(self, condition: Callable[[], bool], until: datetime | None = None, summary: str = "") -> bool:
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

    async def _working_days(self, event_at: datetime, days: int, summary: str) -> datetime:
        return await self._on_calendar(event_at, lambda c: c.deadline_after(event_at, days))

    async def _on_calendar(self, at: datetime, compute: Callable[[WorkingCalendar], T]) -> T:
        """A date of the council's calendar (R-CAL) from `at` on, worked out here from the recorded days."""
        return compute(await self._calendar_from(at))

    async def _calendar_from(self, instant: datetime, ahead: timedelta = CALENDAR_AHEAD) -> WorkingCalendar:
        """The council's calendar as this run recorded it, reaching `ahead` beyond `instant`: one
        local activity the first time (and again past the two years it records), then every
        deadline is worked out here, deterministically, with no round trip."""
        if not self._calendar_covers(instant, ahead):
            days = await self._activity(CalendarActivities.calendar_days, _day_before(instant), "the council's working days (R-CAL-1)")
            self._calendar = WorkingCalendar.from_days(days)
        return self._calendar

    async def _calendar_covering(self, first: date, last: date) -> WorkingCalendar:
        """The recorded calendar holding every day from `first` to `last`, recorded again from
        `first` when it does not (a cycle further off than the two years a recording holds, or
        one already past). Where the days are held this issues no command."""
        if self._calendar is None or not self._calendar.covers(first, last - first):
            days = await self._activity(CalendarActivities.calendar_days, first - timedelta(days=1), "the council's working days (R-CAL-1)")
            self._calendar = WorkingCalendar.from_days(days)
        return self._calendar

    def _calendar_covers(self, instant: datetime, ahead: timedelta = CALENDAR_AHEAD) -> bool:
        return self._calendar is not None and self._calendar.covers(_day_before(instant), ahead)

    def _known_deadline(self, event_at: datetime, days: int) -> datetime | None:
        """`_working_days` when the recorded calendar already covers it, else None: worked out
        here with no command, so an email can name a step's deadline before the step that waits
        on it computes the same."""
        if not self._calendar_covers(event_at):
            return None
        return self._calendar.deadline_after(event_at, days)

    async def _activity(self, activity, arg, summary: str):
        """A short activity (a calendar sum, a directory lookup, a row or an outbox entry
        written) runs as a local activity: in the worker, inside the workflow task that asked
        for it, recorded as one marker with its result. So an action costs the server no extra
        round trip, and the history holds no copy of what was saved."""
        self._in_flight += 1
        try:
            return await workflow.execute_local_activity_method(activity, arg, summary=summary, **LOCAL_OPTIONS)
        finally:
            self._in_flight -= 1

    async def _answer(self) -> None:
        """Once the projection holds the change too, so the API's lists agree with its answer.
        The update itself answers with nothing: the API reads the view the row now holds (or by
        query), which costs the history nothing, where a view in every update's outcome grew it
        with every action."""
        version = self._version
        await workflow.wait_condition(lambda: self._saved >= version)

    # ---- telling people --------------------------------------------------------------------------

    async def _email(self, step: str, to: list[str | None], subject: str, body: str, *, action: str,
                     action_for: list[str | None] | None = None, due: datetime | None = None, urgent: bool = False) -> None:
        """An email to staff: `body` says what happened, `action` what is needed ("" nothing: for
        information) of `action_for` (None: every recipient) and `due` by when. IDs and instants
        only (`person()`, `at()` in the text); the activity words it with names, London times, the
        case, the cycle and the page's link (activities/email_text.py)."""
        cycle, link_path = self._email_about()
        extra = {"urgent": True} if urgent else {}
        await self._send(NotifyActivities.send_email, Channel.EMAIL, step, to, subject, body, action=action,
                         action_for=None if action_for is None else unique(action_for), due=due, cycle=cycle,
                         link_path=link_path, **extra)

    def _email_about(self) -> tuple[str | None, str | None]:
        """The cycle an email names and the page it links to: its audit's, unless a process says."""
        return None, audit_page(self.audit_id)

    async def _post(self, channel: Channel, step: str, to: list[str | None], subject: str, body: str, **extra) -> None:
        await self._send(NotifyActivities.post_to_mosaic, channel, step, to, subject, body, **extra)

    async def _send(self, activity, channel: Channel, step: str, to: list[str | None], subject: str, body: str, **extra) -> None:
        """`step` names the send within this workflow: with the workflow ID it is the idempotency key."""
        notification = Notification(
            key=f"{workflow.info().workflow_id}/{step}",
            audit_id=self.audit_id,
            case_ref=self.case_ref,
            channel=channel,
            recipient_ids=unique(to),
            subject=subject,
            body=body,
            at=workflow.now(),
            **extra,
        )
        await self._activity(activity, notification, f"{channel.value}: {step}")

    # ---- state, history and what operators see ---------------------------------------------------

    async def _project(self, save_row, summary: str) -> None:
        """Keep the API's projection current: save the row whenever the view changed, once the
        step has settled, so a step's several changes cost one save and one search-attribute
        upsert (`_finish` saves the last)."""
        while True:
            await workflow.wait_condition(self._unsaved)
            await asyncio.sleep(0)  # a bare yield (no timer): what woke with this finishes its step first
            if not self._unsaved():
                continue
            self._upsert_due_attributes()
            if self._saved < self._version:
                await self._save(save_row, summary)

    async def _save(self, save_row, summary: str) -> None:
        """The whole view at every save: the row goes by local activity, whose input the history
        never holds, and the API answers a staff action from the row instead of asking the workflow."""
        version = self._version
        await self._activity(save_row, self._row(whole=True), summary)
        self._saved = version

    def _unsaved(self) -> bool:
        """A change not yet saved, once no local activity is in flight (the step's next change
        would follow it) and not while `_finish` saves the last row."""
        pending = self._saved < self._version or bool(self._attributes_due)
        return pending and self._in_flight == 0 and not self._closing

    async def _finish(self, projector: asyncio.Task, save_row) -> None:
        """Before the run returns: every update answered, the row current, and the whole final view
        saved once, for the API to show after the history is gone."""
        await self._save_last(save_row)
        projector.cancel()

    async def _save_last(self, save_row) -> None:
        """The last change and the whole final view in one save: the projector stands down. An
        update still running when the run ends is answered by another save once it settles."""
        self._closing = True
        while True:
            await workflow.wait_condition(lambda: self._in_flight == 0)  # a save or a step under way lands first
            self._upsert_due_attributes()
            await self._save(save_row, "save the final view")
            await workflow.wait_condition(lambda: workflow.all_handlers_finished() or self._saved < self._version)
            if self._saved == self._version and workflow.all_handlers_finished():
                return

    def _row(self, whole: bool):
        raise NotImplementedError

    def _mark_overdue(self, step: str) -> None:
        if step not in self.overdue_steps:
            self.overdue_steps.append(step)
            self._record(SYSTEM, f"{step} deadline passed")

    def _clear_overdue(self, step: str) -> None:
        if step in self.overdue_steps:
            self.overdue_steps.remove(step)
            self._changed()

    def _record(self, actor_id: str, action: str, detail: str = "") -> None:
        self.history.append(HistoryEntry(at=workflow.now(), actor_id=actor_id, action=action, detail=detail))
        self._changed()

    def _changed(self) -> None:
        """Every change: refresh what operators see, and schedule a projection save."""
        self._version += 1
        self._refresh()

    def _upsert(self, attributes: dict) -> None:
        """Upsert the search attributes whose value changed (None unsets one), with the
        projection save, once the step has settled."""
        changed = {k.name: (k, v) for k, v in attributes.items() if self._search_attributes.get(k.name) != v}
        self._search_attributes.update({name: v for name, (_, v) in changed.items()})
        self._attributes_due.update(changed)

    def _upsert_due_attributes(self) -> None:
        if self._attributes_due:
            workflow.upsert_search_attributes(
                [k.value_set(v) if v is not None else k.value_unset() for k, v in self._attributes_due.values()])
            self._attributes_due.clear()


def _day_before(instant: datetime):
    return instant.date() - timedelta(days=1)  # UTC; London's date is this one or the next


def unique(ids: list[str | None]) -> list[str]:
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
