"""Audit cycles (R-CAL-3, R-CAL-4): pure date logic, safe inside workflows."""

import re
from datetime import date

from models.enums import CYCLE_MONTHS

CYCLE_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# R-CAL-4: which kind of audit each cycle holds. MASH audits run every cycle (R-KIND-4).
STANDARD_MONTHS = (1, 2, 4, 7, 9, 11)
PEER_MONTHS = (3, 6)
THEMED_MONTHS = (5, 10)
# Re-audits run in every cycle but the moderation months, February, June and October [2.2].
REAUDIT_MONTHS = (1, 3, 4, 5, 7, 9, 11)
MODERATION_MONTHS = (2, 6, 10)  # R-MOD-1: SLT's moderation panel instead


def cycle_kind(cycle: str) -> str:
    """The kind of audit a cycle holds for every service but MASH (R-CAL-4)."""
    month = int(cycle[5:])
    return "peer" if month in PEER_MONTHS else "themed" if month in THEMED_MONTHS else "standard"


def second_activity(cycle: str) -> str:
    """R-CAL-4: what the cycle holds beside its audits."""
    return "moderation" if int(cycle[5:]) in MODERATION_MONTHS else "re-audits"


def months_before(cycle: str, months: int) -> str:
    year, month = divmod(int(cycle[:4]) * 12 + int(cycle[5:]) - 1 - months, 12)
    return f"{year:04d}-{month + 1:02d}"


def cycle_holds(cycle: str, kind: str, service_area: str) -> bool:
    month = int(cycle[5:])
    if kind == "peer":
        return month in PEER_MONTHS
    if kind == "themed":
        return month in THEMED_MONTHS
    return service_area == "mash" or month in STANDARD_MONTHS


def is_cycle(cycle: str) -> bool:
    """A "YYYY-MM" string naming a month that holds an audit cycle (not August or December)."""
    return bool(CYCLE_PATTERN.match(cycle)) and int(cycle[5:]) in CYCLE_MONTHS


def next_cycle(cycle: str) -> str:
    """The cycle after `cycle`, skipping August and December (R-CAL-3)."""
    year, month = int(cycle[:4]), int(cycle[5:])
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if month in CYCLE_MONTHS:
            return f"{year:04d}-{month:02d}"


def month_of(instant: date) -> str:
    """The "YYYY-MM" month an instant falls in (its own time zone; a workflow's is UTC, which
    differs from London's month only in the first hour of a summer month)."""
    return f"{instant:%Y-%m}"


def cycle_label(cycle: str) -> str:
    """ "2026-11" -> "November 2026"."""
    return f"{MONTH_NAMES[int(cycle[5:]) - 1]} {cycle[:4]}"


def cycle_month(cycle: str) -> str:
    return MONTH_NAMES[int(cycle[5:]) - 1]
