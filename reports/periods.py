"""The periods a report covers (R-REP-1): a month (`2027-03`), a quarter (`2027-Q1`) or a year
(`2027`). Pure.

Decision: quarters and years are calendar ones. The framework counts its ten cycles "per
calendar year" (R-CAL-3) and names no financial year, so a year's report holds January to
November's cycles and a quarter three calendar months (Q3 holds only July and September)."""

import re
from dataclasses import dataclass

from models.cycles import MONTH_NAMES
from models.enums import CYCLE_MONTHS

KINDS = ("monthly", "quarterly", "annual")
EXAMPLES = {"monthly": "2027-03", "quarterly": "2027-Q1", "annual": "2027"}
PATTERNS = {
    "monthly": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarterly": re.compile(r"^(\d{4})-[Qq]([1-4])$"),
    "annual": re.compile(r"^(\d{4})$"),
}
FIRST_YEAR, LAST_YEAR = 2000, 2100


class PeriodError(ValueError):
    """A period a person typed that names no report: the message says what to type instead."""


@dataclass(frozen=True)
class Period:
    kind: str
    label: str  # as written in URLs: 2027-03, 2027-Q1, 2027
    title: str  # for people: March 2027, January to March 2027, 2027
    months: tuple[str, ...]  # every "YYYY-MM" the period spans

    @property
    def cycles(self) -> tuple[str, ...]:
        """The months that hold an audit cycle (none in August or December, R-CAL-3)."""
        return tuple(m for m in self.months if int(m[5:]) in CYCLE_MONTHS)

    @property
    def year(self) -> int:
        return int(self.months[0][:4])

    def previous(self) -> "Period":
        """The period of the same kind just before (the annual report's earlier years)."""
        if self.kind == "annual":
            return parse("annual", str(self.year - 1))
        # Step back by the period's own length from its first month (months counted from year 0).
        year, month = divmod(self.year * 12 + int(self.months[0][5:]) - 1 - len(self.months), 12)
        if self.kind == "quarterly":
            return parse("quarterly", f"{year:04d}-Q{month // 3 + 1}")
        return _month(year, month + 1)  # August and December too: a month, even with no cycle


def parse(kind: str, text: str) -> Period:
    """`kind` is one of KINDS; `text` as a person typed it. PeriodError says what would do."""
    if kind not in KINDS:
        raise PeriodError(f"no {kind!r} report: choose monthly, quarterly or annual")
    match = PATTERNS[kind].match((text or "").strip())
    if not match:
        raise PeriodError(f"period must look like {EXAMPLES[kind]} for a {kind} report (you sent {text[:20]!r})")
    year = int(match.group(1))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    if kind == "annual":
        return Period("annual", f"{year}", f"{year}", tuple(f"{year}-{m:02d}" for m in range(1, 13)))
    if kind == "quarterly":
        quarter = int(match.group(2))
        months = tuple(f"{year}-{m:02d}" for m in range(3 * quarter - 2, 3 * quarter + 1))
        title = f"{MONTH_NAMES[3 * quarter - 3]} to {MONTH_NAMES[3 * quarter - 1]} {year}"
        return Period("quarterly", f"{year}-Q{quarter}", title, months)
    month = int(match.group(2))
    if not 1 <= month <= 12:
        raise PeriodError(f"period must look like {EXAMPLES[kind]}: the month is 01 to 12")
    if month not in CYCLE_MONTHS:
        raise PeriodError(
            f"{MONTH_NAMES[month - 1]} holds no audit cycle (R-CAL-3): choose another month, e.g. {year}-{month - 1:02d}"
        )
    return _month(year, month)


def _month(year: int, month: int) -> Period:
    label = f"{year:04d}-{month:02d}"
    return Period("monthly", label, f"{MONTH_NAMES[month - 1]} {year}", (label,))
