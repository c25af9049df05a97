"""What no email to staff may hold: a rule code (R-QA-2: for the history and the logs), a staff ID
where a name belongs, or a mark the activity failed to word. Checked on every message any test's
SMTP server received (tests/conftest.py's `smtp`, and the fault suite's)."""

import re
import tomllib
from email.message import Message

from models.email_marks import RULE_CODE
from models.settings import ROOT

STAFF_IDS = [row["id"] for row in tomllib.loads((ROOT / "data" / "staff.dev.toml").read_text())["staff"]]
# Where an ID is all there is: someone no longer in the directory, as the email says.
LEFT = re.compile(r"\S+ \(no longer in the staff directory\)|skipped: [^\n]*")
LINK = re.compile(r"https?://\S+")


def problems(message: Message) -> list[str]:
    text = f"{message['Subject']}\n{message.get_content()}"
    found = [f"rule code {code}" for code in RULE_CODE.findall(text)]
    found += ["an unworded mark" for _ in re.findall("[⟦⟧]", text)][:1]
    words = LINK.sub("", LEFT.sub("", text))
    found += [f"staff ID {i}" for i in STAFF_IDS if re.search(rf"(?<![\w@.-]){re.escape(i)}(?![\w@-])", words)]
    return found


def assert_plain(messages: list[Message]) -> None:
    bad = {m["X-QSAF-Key"]: p for m in messages if (p := problems(m))}
    assert not bad, f"emails to staff with what does not belong there: {bad}"
