"""What an email to staff says, worded when it is queued from what the workflow sent.

A workflow sends staff IDs, UTC instants and what is needed as data (`Notification`: `action`,
`action_for`, `due`, `cycle`, `link_path`, and marks in its text: models/email_marks.py). This
turns them into an email a person can act on:

    Dear Sam Worker and Tina Manager,

    This email is about case C-1 in the March 2027 audit cycle.

    <what happened: the workflow's text, with names and London times in place of its marks>

    What is needed from Sam Worker: raise a dispute if you disagree with the grading
    By: Friday 4 December 2026, 17:00
    Tina Manager: this is for your information.

    Open the audit: http://localhost:8000/app/audits/2027-03-standard-1a2b3c4d

Names come from the staff directory as it is at that moment; a workflow never holds them. One
email goes to all of a notification's recipients, each greeted by name (docs/decisions.md).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from models.cycles import cycle_label
from models.email_marks import PERSON, TIME, and_list, long_time
from models.payloads import Notification
from models.staff import StaffDirectory

LINK_LABELS = {
    "audits": "Open the audit",
    "moderation-panels": "Open the moderation panel",
    "cycles": "Open the cycle",
    "self-selection-requests": "Open the request",
}
SIGNATURE = "Quality Standards Audit Framework (Children): this email was sent by the audit service."
DEFAULT_BASE_URL = "http://localhost:8000"


class EmailText:
    def __init__(self, directory: StaffDirectory, public_base_url: str = DEFAULT_BASE_URL, timezone: str = "Europe/London"):
        self.directory = directory
        self.base_url = public_base_url.rstrip("/")
        self.tz = ZoneInfo(timezone)

    def render(self, n: Notification) -> tuple[str, str]:
        """The subject and body its recipients read."""
        readers = [i for i in n.recipient_ids if i in self.directory]
        parts = [
            self._greeting(readers),
            self._about(n),
            self.resolve(n.body).strip(),
            self._needed(n, readers),
            self._link(n.link_path),
            SIGNATURE,
        ]
        return self.resolve(n.subject), "\n\n".join(p for p in parts if p)

    def resolve(self, text: str) -> str:
        """Names and London times in place of the workflow's marks."""
        text = PERSON.sub(lambda m: self.name(m.group(1)), text)
        return TIME.sub(lambda m: self._time(m.group(1), m.group(0)), text)

    def name(self, staff_id: str) -> str:
        member = self.directory.get(staff_id)
        # Someone who has left has no name here any more: the ID is all that is known of them.
        return member.name if member else f"{staff_id} (no longer in the staff directory)"

    def when(self, instant: datetime) -> str:
        return long_time(instant.astimezone(self.tz))

    def _time(self, iso: str, mark: str) -> str:
        try:
            return self.when(datetime.fromisoformat(iso))
        except ValueError:
            return mark  # not a time after all: left as written, never a failed send

    def _greeting(self, readers: list[str]) -> str:
        return f"Dear {self._names(readers)}," if readers else "Hello,"

    def _names(self, staff_ids: list[str]) -> str:
        return and_list([self.name(i) for i in staff_ids])

    @staticmethod
    def _about(n: Notification) -> str:
        cycle = f"the {cycle_label(n.cycle)} audit cycle" if n.cycle else ""
        about = " in ".join(p for p in (f"case {n.case_ref}" if n.case_ref else "", cycle) if p)
        return f"This email is about {about}." if about else ""

    def _needed(self, n: Notification, readers: list[str]) -> str:
        """What the readers must do and by when; who of them only reads it, when some must act."""
        if n.action is None:
            return ""  # sent before emails said it apart: its own text says what is needed
        actors = readers if n.action_for is None else n.action_for
        if not n.action or not actors:
            return "Nothing is needed from you: this is for your information."
        others = [r for r in readers if r not in actors]
        lines = [f"What is needed from {self._names(actors) if others else 'you'}: {self.resolve(n.action).rstrip('.')}."]
        if n.due:
            lines.append(f"By: {self.when(n.due)}")
        if others:
            lines.append(f"{self._names(others)}: this is for your information.")
        return "\n".join(lines)

    def _link(self, path: str | None) -> str:
        if not path:
            return ""
        label = LINK_LABELS.get(path.strip("/").split("/")[1] if path.count("/") >= 2 else "", "Open it")
        return f"{label}: {self.base_url}{path}"
