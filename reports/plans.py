"""Next year's workload, planned (`GET /plans/{year}`): per month and per auditor, the audits the
year's cycles will need, the re-audits the chains have already planned and the moderation panels'
load, with a flag where one person's month is above `PLAN_MAX_AUDITS_PER_MONTH`.

Pure: services/plans.py reads the open-case list, the `audit` and `moderation` rows and the staff
directory, and hands them here. How an expected count is shared where the framework is silent is
decision 0043: each team's expected draw split evenly among the auditors eligible for its cases.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from models.cycles import cycle_kind, cycle_label, months_before, second_activity
from models.enums import CYCLE_MONTHS, AuditKind, Role
from models.moderation import MODERATION_MONTHS
from models.selection import Candidate, eligible, kind_for
from models.staff import StaffMember

UNNAMED = ""  # a re-audit or moderation nobody can take yet: PIAT names one
EPSILON = 1e-9  # shares are sums of fractions: 4.0000000001 is not above 4


# ---- what the forecast reads ----------------------------------------------------------------------


@dataclass(frozen=True)
class TeamCases:
    """A team's open cases on the imported list, and who manages its practitioners (never their auditor)."""

    service_area: str
    team: str
    open_cases: int
    team_manager_ids: frozenset[str] = frozenset()
    # The cycle of the latest audit of each of its open cases audited in the 12 months before the
    # year: each stays out of the draw until 12 months after it (R-ALLOC-1).
    audited_before: tuple[str, ...] = ()


@dataclass(frozen=True)
class Allocated:
    """An audit of the year already allocated (not a re-audit): its cycle, auditor and team."""

    cycle: str
    auditor_id: str
    service_area: str
    team: str


@dataclass(frozen=True)
class PlannedReaudit:
    """A re-audit a chain has planned (its auditor looked up as it will be when allocated) or allocated."""

    audit_id: str
    cycle: str
    auditor_id: str | None  # None: nobody senior of the service in the directory (PIAT names one)
    service_area: str
    allocated: bool


@dataclass(frozen=True)
class Moderated:
    """A moderation a panel has drawn: its panel's month and moderator (None: unallocated)."""

    panel_cycle: str
    moderator_id: str | None


# ---- what it answers ------------------------------------------------------------------------------


class PlanCell(BaseModel):
    """One person's month: each count is audits to read that month."""

    staff_id: str  # "" for what nobody can take yet
    selection: float  # the cycle's own audits: expected (an even share) or allocated
    reaudits: int
    moderations: float
    total: float
    over: bool  # above the configured load


class PlanReaudit(BaseModel):
    audit_id: str
    auditor_id: str | None
    service_area: str
    status: str  # planned (auditor as the directory names them now) or allocated


class PlanMonth(BaseModel):
    cycle: str
    label: str
    kind: str  # the cycle's kind for every service but MASH (standard, peer, themed)
    second_activity: str  # re-audits or moderation (R-CAL-4)
    selection_basis: str  # expected (from the selection rules), allocated (the audit rows), or passed (nothing allocated)
    selection_audits: float
    reaudits: list[PlanReaudit]
    moderation_panel: bool
    moderation_basis: str | None  # expected, drawn, or passed (nothing drawn); None outside panel months
    moderations: float
    cells: list[PlanCell]  # people with any load this month, by staff ID; "" last


class PlanFlag(BaseModel):
    cycle: str
    staff_id: str
    total: float


class Plan(BaseModel):
    year: int
    generated_at: datetime
    per_team: int
    max_per_month: int
    moderation_per_service: int
    months: list[PlanMonth]
    staff_ids: list[str]  # everyone with any load in the year, by staff ID
    flags: list[PlanFlag]
    basis: list[str]  # how each figure was reached, in words


# ---- the forecast ---------------------------------------------------------------------------------


def plan(
    year: int,
    staff: list[StaffMember],
    teams: list[TeamCases],
    *,
    per_team: int,
    max_per_month: int,
    moderation_per_service: int,
    allocated: Sequence[Allocated] = (),
    reaudits: Sequence[PlannedReaudit] = (),
    moderated: Sequence[Moderated] = (),
    first_to_come: str = "",
    generated_at: datetime,
) -> Plan:
    """`first_to_come`: the current month ("YYYY-MM"); a cycle before it that allocated nothing,
    or a panel before it that drew nothing, is past and expects nothing."""
    staff = sorted(staff, key=lambda m: m.id)
    left = {(t.service_area, t.team): t.open_cases for t in teams}  # cases not yet audited this year
    months = []
    for month in CYCLE_MONTHS:
        cycle = f"{year:04d}-{month:02d}"
        load: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        mine = [a for a in allocated if a.cycle == cycle]
        basis = "passed" if cycle < first_to_come and not mine else _selection(cycle, staff, teams, left, per_team, mine, load)
        chains = sorted((r for r in reaudits if r.cycle == cycle), key=lambda r: r.audit_id)
        for r in chains:
            load[r.auditor_id or UNNAMED][1] += 1
        panel = month in MODERATION_MONTHS
        moderation_basis = (
            _moderation(cycle, staff, teams, moderation_per_service, moderated, first_to_come, load) if panel else None
        )
        cells = [_cell(who, load[who], max_per_month) for who in sorted(load, key=lambda w: (w == UNNAMED, w))]
        months.append(
            PlanMonth(
                cycle=cycle,
                label=cycle_label(cycle),
                kind=cycle_kind(cycle),
                second_activity=second_activity(cycle),
                selection_basis=basis,
                selection_audits=round(sum(c[0] for c in load.values()), 2),
                reaudits=[
                    PlanReaudit(
                        audit_id=r.audit_id,
                        auditor_id=r.auditor_id,
                        service_area=r.service_area,
                        status="allocated" if r.allocated else "planned",
                    )
                    for r in chains
                ],
                moderation_panel=panel,
                moderation_basis=moderation_basis,
                moderations=round(sum(c[2] for c in load.values()), 2),
                cells=cells,
            )
        )
    return Plan(
        year=year,
        generated_at=generated_at,
        per_team=per_team,
        max_per_month=max_per_month,
        moderation_per_service=moderation_per_service,
        months=months,
        staff_ids=sorted({c.staff_id for m in months for c in m.cells if c.staff_id != UNNAMED}),
        flags=[PlanFlag(cycle=m.cycle, staff_id=c.staff_id, total=c.total) for m in months for c in m.cells if c.over],
        basis=basis_text(per_team, max_per_month, moderation_per_service),
    )


def _selection(
    cycle: str,
    staff: list[StaffMember],
    teams: list[TeamCases],
    left: dict[tuple[str, str], int],
    per_team: int,
    allocated: list[Allocated],
    load: dict[str, list[float]],
) -> str:
    """The cycle's own audits into `load`: those allocated when the rows hold any for the cycle
    (its selection is confirmed), else `per_team` of each team's cases not yet audited this year,
    shared evenly among the auditors eligible for them. Either way the cases drawn leave `left`:
    a case audited in the last 12 months is not drawn again (R-ALLOC-1), and a year's cycles all
    fall within 12 months of each other."""
    if allocated:
        for a in allocated:
            load[a.auditor_id][0] += 1
            key = (a.service_area, a.team)
            left[key] = max(0, left.get(key, 0) - 1)
        return "allocated"
    kind = AuditKind(cycle_kind(cycle))
    for t in teams:
        still_out = sum(1 for audited in t.audited_before if audited > months_before(cycle, 12))
        drawn = min(per_team, max(0, left[(t.service_area, t.team)] - still_out))
        if drawn == 0:
            continue
        left[(t.service_area, t.team)] -= drawn
        pool = eligible_auditors(staff, t, kind_for(t.service_area, kind))
        for member in pool:
            load[member.id][0] += drawn / len(pool)
        if not pool:
            load[UNNAMED][0] += drawn
    return "expected"


def eligible_auditors(staff: list[StaffMember], team: TeamCases, kind: AuditKind) -> list[StaffMember]:
    """Who the selection could propose for a case of `team` (models/selection.eligible): never a
    manager of its practitioners; the practitioner themself is never an auditor of their own case,
    and for a peer audit nobody of the same team is, so leaving them out here changes nothing."""
    case = Candidate(case_ref="", service_area=team.service_area, practitioner_id="", team=team.team)
    return [m for m in staff if m.id not in team.team_manager_ids and eligible(m, case, kind, None)]


def _moderation(
    cycle: str,
    staff: list[StaffMember],
    teams: list[TeamCases],
    per_service: int,
    moderated: Sequence[Moderated],
    first_to_come: str,
    load: dict[str, list[float]],
) -> str:
    """A panel month's moderations into `load`: the panel's own when it has drawn, else
    `per_service` audits of every service with open cases, shared evenly among the SLT moderators."""
    drawn = [m for m in moderated if m.panel_cycle == cycle]
    if drawn:
        for d in drawn:
            load[d.moderator_id or UNNAMED][2] += 1
        return "drawn"
    if cycle < first_to_come:
        return "passed"
    expected = per_service * len({t.service_area for t in teams if t.open_cases})
    moderators = [m for m in staff if m.has(Role.SLT_MODERATOR)]
    for member in moderators:
        load[member.id][2] += expected / len(moderators)
    if expected and not moderators:
        load[UNNAMED][2] += expected
    return "expected"


def _cell(staff_id: str, counts: list[float], limit: int) -> PlanCell:
    selection, reaudits, moderations = counts
    total = selection + reaudits + moderations
    return PlanCell(
        staff_id=staff_id,
        selection=round(selection, 2),
        reaudits=int(reaudits),
        moderations=round(moderations, 2),
        total=round(total, 2),
        over=staff_id != UNNAMED and total > limit + EPSILON,
    )


def basis_text(per_team: int, max_per_month: int, per_service: int) -> list[str]:
    return [
        f"A cycle to come and not yet selected draws {per_team} open cases from each team (fewer where the team has "
        "fewer not audited in the 12 months before), each team's share split evenly among the auditors eligible for "
        "its cases; a cycle with audits allocated counts those, auditor by auditor; a past cycle that allocated "
        "nothing counts nothing.",
        "A planned re-audit counts for the senior manager of the practitioner's service the directory names now "
        "(the Head of Service first), as it will be allocated; an allocated one for its auditor.",
        f"A moderation month's panel draws {per_service} audits of each service with open cases, split evenly "
        "among the SLT moderators, until it has drawn; then its own moderations count.",
        f"A month is flagged when one person's total is above {max_per_month}.",
    ]
