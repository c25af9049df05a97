"""The weekly digest: one email a person of everything waiting on them (the `waiting` table, as
`GET /me/work` reads it), soonest deadline first, the overdue marked, each with its page's link.
Run by `DigestWorkflow` (workflows/digest.py), which the worker's `weekly-digest` Schedule starts.

Each digest goes through the outbox under the key `digest/<ISO week>/<staff id>`, the week London's
at the run's instant: a retried activity, or the week's run started again, finds the key taken
and sends nothing more, so each person has one digest a week at most.

It is also what a person who chose digest-only (`email_preferences`, `PUT /me/email-preferences`)
reads instead of the non-urgent emails activities/notify.py holds back from them."""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text as sql
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from activities.email_text import EmailText
from activities.notify import OUTBOX_CHANNEL, PENDING
from activities.persistence import insert_once_statement
from api.schemas.work import WorkItem
from models import pages
from models.email_marks import RULE_CODE, without_rule_codes
from models.enums import Channel
from models.payloads import Notification
from models.staff import StaffDirectory
from models.tables import NotificationRecord
from services.my_work import my_work

# Each waiting item's page, where its email would link (models/pages.py).
PAGES: dict[str, Callable[[str], str]] = {
    "audit": pages.audit_page,
    "dispute": lambda id: f"/app/disputes/{id}",
    "safety_concern": lambda id: f"/app/safety-concerns/{id}",
    "moderation_panel": pages.moderation_panel_page,
    "self_selection": pages.self_selection_page,
}
ROLE_NAMES = {"piat": "PIAT", "piat_manager": "the PI&A Manager", "psw": "the PSW", "slt_moderator": "an SLT moderator"}


def iso_week(now: datetime, text: EmailText) -> str:
    """ "2027-W02": the ISO week of `now` in the council's time zone."""
    year, week, _ = now.astimezone(text.tz).isocalendar()
    return f"{year}-W{week:02d}"


def digest_key(week: str, staff_id: str) -> str:
    return f"digest/{week}/{staff_id}"


class DigestActivities:
    def __init__(
        self,
        engine: Engine,
        directory: StaffDirectory,
        text: EmailText | None = None,
        enqueued: Callable[[], None] = lambda: None,
    ):
        self.engine = engine
        self.directory = directory
        self.text = text or EmailText(directory)
        self.enqueued = enqueued  # wakes the relay in this process, if one runs here

    @activity.defn
    def send_digests(self, now: datetime) -> int:
        """Queue this week's digest for each person with something waiting; how many were new."""
        week = iso_week(now, self.text)
        with Session(self.engine) as session:
            waiting = {m.id: items for m in self.directory.everyone() if (items := my_work(session, m, now))}
        queued = sum(self._queue(self._digest(week, staff_id, items, now)) for staff_id, items in sorted(waiting.items()))
        if queued:
            self.enqueued()
        return queued

    def _digest(self, week: str, staff_id: str, items: list[WorkItem], now: datetime) -> NotificationRecord:
        overdue = sum(i.overdue for i in items)
        things = f"{len(items)} thing{'s' if len(items) > 1 else ''} waiting on you"
        n = Notification(
            key=digest_key(week, staff_id),
            audit_id=f"digest-{week}",
            channel=Channel.EMAIL,
            recipient_ids=[staff_id],
            subject=f"Your weekly digest: {things}" + (f", {overdue} overdue" if overdue else ""),
            body=self._body(items),
            at=now,
        )
        subject, body = self.text.render(n)
        return NotificationRecord(
            key=n.key,
            audit_id=n.audit_id,
            channel=n.channel.value,
            recipient_ids=n.recipient_ids,
            addresses=[self.directory.get(staff_id).email],
            subject=subject[:200],
            body=body,
            at=now,
            delivery=PENDING,
        )

    def _body(self, items: list[WorkItem]) -> str:
        lines = ["Everything waiting on you, soonest deadline first:"]
        for number, item in enumerate(items, 1):
            action = RULE_CODE.sub("", without_rule_codes(item.action)).strip()
            case = f", case {item.case_ref}" if item.case_ref else ""
            who = f" (for anyone who is {ROLE_NAMES.get(item.by_role, item.by_role.replace('_', ' '))})" if item.by_role else ""
            lines.append("")
            lines.append(f"{number}. {'OVERDUE: ' if item.overdue else ''}{action[:1].upper()}{action[1:]}{case}{who}")
            lines.append(
                f"   By: {self.text.when(item.until)}{' (overdue)' if item.overdue else ''}"
                if item.until
                else "   No deadline set"
            )
            if page := PAGES.get(item.process):
                lines.append(f"   Open it: {self.text.base_url}{page(item.id)}")
        lines += [
            "",
            f"The same list is on My work: {self.text.base_url}/app/",
            "On that page you can choose to have the emails that ask nothing urgent of you only in this digest; "
            "safety concerns and deadlines within a working day are always emailed at once.",
        ]
        return "\n".join(lines)

    def _queue(self, record: NotificationRecord) -> bool:
        """Into the outbox once: False when this week's digest for them is there already."""
        once = insert_once_statement(self.engine.dialect.name, NotificationRecord.__table__, "key")
        with Session(self.engine) as session:
            if session.connection().execute(once, record.model_dump(exclude={"id"})).first() is None:
                return False
            if self.engine.dialect.name == "postgresql":
                session.connection().execute(sql(f"NOTIFY {OUTBOX_CHANNEL}"))
            session.commit()
        return True
