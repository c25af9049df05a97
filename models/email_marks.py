"""Marks a workflow writes into an email where the reader needs a person's name or a London time.

Workflows hold staff IDs and UTC instants only: a name in a workflow payload would sit in
Temporal's history for as long as the audit runs (and a name changes), and workflow code reads no
time zone. So the text says `person("tm1")` and `at(deadline)`, and the email activity
(activities/email_text.py) puts the name and the London time in their place when it sends.
Pure and deterministic: safe in workflow code.
"""

import re
from datetime import date, datetime

# Brackets nobody types, so text people wrote (a rationale, QA's points) is never taken for a mark.
PERSON = re.compile(r"⟦person:([^⟦⟧\s]{1,64})⟧")
TIME = re.compile(r"⟦time:([0-9T:+.\-]{19,40})⟧")
# The framework's rule numbers ("R-QA-2", "R-DISP-5..7"): for the history and the logs, not for staff.
RULE_CODE = re.compile(r"\bR-[A-Z]+-\d+(?:\.\.\d+)?\b")


def person(staff_id: str | None) -> str:
    """Someone named in an email: their name at send time."""
    return f"⟦person:{staff_id}⟧" if staff_id else "nobody (the role is not held)"


def people(staff_ids: list[str]) -> str:
    """Several people: "A, B and C"."""
    return and_list([person(i) for i in staff_ids]) or "nobody"


def at(instant: datetime | None) -> str:
    """A moment: London time at send time, e.g. "Friday 4 December 2026, 17:00"."""
    return f"⟦time:{instant.isoformat()}⟧" if instant else "(no date set)"


def long_date(day: date) -> str:
    """ "Friday 4 December 2026": a date as people write it (no leading zero, no time zone)."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def long_time(local: datetime) -> str:
    """ "Friday 4 December 2026, 17:00", of an instant already in the reader's time zone."""
    return f"{long_date(local.date())}, {local:%H:%M}"


def without_rule_codes(text: str) -> str:
    """`text` less its "(R-RE-3)"-style references, for a sentence written for the history."""
    return re.sub(r"\s*\((?:R-[A-Z]+-[0-9.]+(?:,\s*)?)+\)", "", text)


def and_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
