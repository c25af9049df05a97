"""The monthly, quarterly and annual reports (R-REP-1), worked out from rows. Pure: the API reads
the rows (reports/rows.py) and hands them here as `AuditLine`s, `DisputeLine`s and the
`moderation` table's rows.

Only final gradings count (R-REP-2): an audit's grades are counted once it is on Mosaic, after
QA acceptance, the dispute window and any dispute's outcome (a regrade replaces the auditor's).
An audit belongs to the period holding its cycle (the month it was allocated for; a re-audit's
own cycle); one not accepted and carried into a later cycle (R-QA-3) stays in its first one.
The process figures (completion, QA, discussions) count every audit of the period, final or not.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from statistics import median
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

from models.agreement import judgements_of_rows, summarise
from models.cycles import cycle_label
from models.enums import BELOW_GOOD, DisputeLevel, Grade
from models.moderation import ModerationResults
from reports.periods import Period

if TYPE_CHECKING:
    from models.tables import ModerationRecord

ORDER = [g.value for g in Grade]  # best first
GOOD_OR_BETTER = {Grade.OUTSTANDING.value, Grade.GOOD.value}
DISPUTE_STATUSES = ("open", "resolved", "unresolved", "withdrawn")


# ---- what the computation reads -------------------------------------------------------------------


@dataclass(frozen=True)
class AuditLine:
    """One audit as a report counts it (built from its `audit` row and facts by reports/rows.py)."""

    audit_id: str
    cycle: str
    service_area: str
    kind: str
    team: str
    overall: str | None = None  # the final overall grade; None until final, and always for peer audits
    domains: dict[str, str | None] = field(default_factory=dict)  # final grades by domain (None: n/a)
    reaudit_round: int = 0
    previous_overall: str | None = None  # a re-audit: the final grade of the audit it follows
    final: bool = False
    submitted: bool = False
    submitted_late: bool = False
    qa_returns: int = 0
    not_accepted: int = 0
    discussion_due: datetime | None = None
    discussion_recorded_at: datetime | None = None
    discussion_escalated: bool = False
    days_to_final: int | None = None  # London calendar days from allocation to final; None: not final, or not known


@dataclass(frozen=True)
class DisputeLine:
    audit_id: str
    service_area: str
    level: str  # the highest level it reached (R-DISP)
    status: str  # open, resolved, unresolved, withdrawn
    regraded: bool = False


# ---- what a report holds --------------------------------------------------------------------------


class GradeCounts(BaseModel):
    outstanding: int = 0
    good: int = 0
    requires_improvement: int = 0
    inadequate: int = 0
    graded: int = 0
    good_or_better: float | None = None  # share of the graded; None when nothing is graded

    @classmethod
    def of(cls, grades: Iterable[str | None]) -> "GradeCounts":
        counted = Counter(g for g in grades if g is not None)
        graded = sum(counted.values())
        share = (counted["outstanding"] + counted["good"]) / graded if graded else None
        return cls(**{g: counted[g] for g in ORDER}, graded=graded, good_or_better=_round(share))

    def good_or_better_share(self) -> float:
        """`good_or_better` of counts that hold gradings (it is None only when they hold none)."""
        if self.good_or_better is None:
            raise ValueError("no gradings, so no share of Good or better")
        return self.good_or_better


class GradeDistribution(BaseModel):
    overall: GradeCounts
    by_domain: dict[str, GradeCounts]
    by_service: dict[str, GradeCounts]
    by_team: dict[str, GradeCounts]


class TrendPoint(BaseModel):
    label: str  # a cycle (2027-03) or an earlier period (2026)
    title: str
    audits: int
    final: int
    grades: GradeCounts
    median_days_to_final: float | None = None  # of its final audits, from allocation (days, as `Completion`'s)


class Completion(BaseModel):
    audits: int
    submitted: int
    on_time: int  # first submitted by the completion deadline (R-AUD-1)
    late: int
    not_submitted: int
    on_time_share: float | None  # of all the period's audits
    returned_by_qa: int  # audits returned at least once (R-QA-2)
    qa_returns: int  # returns in all
    not_accepted: int  # audits not accepted at least once (R-QA-3)
    # Days, not working days: the reports read rows only, with no council calendar. Of the final
    # audits whose row knows when they became final (rows saved before migration 0017 do not).
    median_days_to_final: float | None = None


class Discussions(BaseModel):
    required: int  # R-DISC-1, R-DISC-2
    recorded: int
    on_time: int  # recorded by its due time
    late: int
    awaited: int  # not recorded yet
    escalated_to_head_of_service: int  # R-DISC-3
    on_time_share: float | None  # of those due


class Reaudits(BaseModel):
    final: int  # final, graded re-audits of the period
    improved: int  # better than the audit it follows
    unchanged: int
    worse: int
    closed: int  # Good or better: the chain ends (R-RE-1)
    second_reaudit_required: int  # a 1st re-audit still below Good (R-RE-3)
    escalated: int  # a 2nd re-audit still below Good: HoS, AD and Director (R-RE-5)
    escalated_by_service: dict[str, int]


class DisputeFigures(BaseModel):
    raised: int
    by_level: dict[str, dict[str, int]]  # level -> status -> count
    by_status: dict[str, int]
    regraded: int  # the final grading changed by the dispute


class ModerationFigures(BaseModel):
    panels: list[str]  # the moderation months (R-MOD-1) in the period
    drawn: int
    recorded: int
    overdue: int
    results: ModerationResults  # agreement and linearly weighted kappa (models/agreement.py)


class Section(BaseModel):
    heading: str
    paragraphs: list[str]


class Report(BaseModel):
    kind: str
    period: str
    title: str
    cycles: list[str]
    scope: str  # "all services" or the one service a Head of Service reads
    generated_at: datetime
    empty: bool
    message: str
    audits: int
    final: int
    not_yet_final: int
    grades: GradeDistribution
    trend: list[TrendPoint]  # each cycle of the period
    previous_periods: list[TrendPoint]  # the annual report: the years before
    completion: Completion
    discussions: Discussions
    reaudits: Reaudits
    disputes: DisputeFigures
    moderation: ModerationFigures
    sections: list[Section]  # the text, from the figures (reports/text.py)


# ---- the computation ------------------------------------------------------------------------------


def build(
    period: Period,
    lines: Iterable[AuditLine],
    disputes: Iterable[DisputeLine],
    moderations: Iterable["ModerationRecord"],
    generated_at: datetime,
    scope: str = "all services",
    previous: dict[Period, list[AuditLine]] | None = None,
) -> Report:
    """The report of `period` from its rows. Lines of other cycles, disputes about other audits
    and moderations of panels outside the period are left out here, whatever the caller passed."""
    from reports.text import sections  # the text reads the figures this module defines

    ours = [line for line in lines if line.cycle in period.cycles]
    ids = {line.audit_id for line in ours}
    moderated = [m for m in moderations if m.panel_cycle in period.months]
    final = [line for line in ours if line.final]
    report = Report(
        kind=period.kind,
        period=period.label,
        title=period.title,
        cycles=list(period.cycles),
        scope=scope,
        generated_at=generated_at,
        empty=not ours and not moderated,
        message=_message(period, ours, final),
        audits=len(ours),
        final=len(final),
        not_yet_final=len(ours) - len(final),
        grades=distribution(final),
        trend=trend(period, ours),
        previous_periods=[_point(p.label, p.title, ls) for p, ls in sorted((previous or {}).items(), key=lambda kv: kv[0].label)],
        completion=completion(ours),
        discussions=discussions(ours),
        reaudits=reaudits(final),
        disputes=dispute_figures(d for d in disputes if d.audit_id in ids),
        moderation=moderation_figures(moderated),
        sections=[],
    )
    return report.model_copy(update={"sections": sections(report)})


def _message(period: Period, ours: list[AuditLine], final: list[AuditLine]) -> str:
    if not ours:
        return f"No audits were allocated for the cycles of {period.title}: there are no gradings to report."
    if not final:
        return (
            f"None of the {len(ours)} audits of {period.title} is final yet: only final gradings count "
            "(after QA and any dispute, R-REP-2), so no grades are shown."
        )
    return f"{len(final)} of the {len(ours)} audits of {period.title} are final; only their gradings count (R-REP-2)."


def distribution(final: list[AuditLine]) -> GradeDistribution:
    by_domain: dict[str, list[str | None]] = defaultdict(list)
    for line in final:
        for domain, grade in line.domains.items():
            by_domain[domain].append(grade)
    return GradeDistribution(
        overall=GradeCounts.of(line.overall for line in final),
        by_domain={d: GradeCounts.of(g) for d, g in sorted(by_domain.items()) if any(g)},
        by_service=_grouped(final, lambda line: line.service_area),
        by_team=_grouped(final, lambda line: line.team),
    )


def _grouped(final: list[AuditLine], key: Callable[[AuditLine], str]) -> dict[str, GradeCounts]:
    groups: dict[str, list[str | None]] = defaultdict(list)
    for line in final:
        groups[key(line)].append(line.overall)
    # A group of peer audits only has nothing graded: it is left out rather than shown empty.
    return {k: GradeCounts.of(g) for k, g in sorted(groups.items()) if any(g)}


def trend(period: Period, ours: list[AuditLine]) -> list[TrendPoint]:
    return [_point(c, cycle_label(c), [line for line in ours if line.cycle == c]) for c in period.cycles]


def _point(label: str, title: str, lines: list[AuditLine]) -> TrendPoint:
    final = [line for line in lines if line.final]
    return TrendPoint(
        label=label,
        title=title,
        audits=len(lines),
        final=len(final),
        grades=GradeCounts.of(line.overall for line in final),
        median_days_to_final=median_days_to_final(final),
    )


def median_days_to_final(lines: list[AuditLine]) -> float | None:
    days = [line.days_to_final for line in lines if line.final and line.days_to_final is not None]
    return float(median(days)) if days else None


def completion(ours: list[AuditLine]) -> Completion:
    submitted = [line for line in ours if line.submitted]
    on_time = sum(not line.submitted_late for line in submitted)
    return Completion(
        audits=len(ours),
        submitted=len(submitted),
        on_time=on_time,
        late=len(submitted) - on_time,
        not_submitted=len(ours) - len(submitted),
        on_time_share=_share(on_time, len(ours)),
        returned_by_qa=sum(line.qa_returns > 0 for line in ours),
        qa_returns=sum(line.qa_returns for line in ours),
        not_accepted=sum(line.not_accepted > 0 for line in ours),
        median_days_to_final=median_days_to_final(ours),
    )


def discussions(ours: list[AuditLine]) -> Discussions:
    due = [line for line in ours if line.discussion_due is not None]
    recorded = [line for line in due if line.discussion_recorded_at is not None]
    on_time = sum(_recorded_on_time(line) for line in recorded)
    return Discussions(
        required=len(due),
        recorded=len(recorded),
        on_time=on_time,
        late=len(recorded) - on_time,
        awaited=len(due) - len(recorded),
        escalated_to_head_of_service=sum(line.discussion_escalated for line in due),
        on_time_share=_share(on_time, len(due)),
    )


def _recorded_on_time(line: AuditLine) -> bool:
    recorded, due = line.discussion_recorded_at, line.discussion_due
    return recorded is not None and due is not None and recorded <= due


def reaudits(final: list[AuditLine]) -> Reaudits:
    graded = [line for line in final if line.reaudit_round and line.overall]
    compared = [
        (ORDER.index(line.overall), ORDER.index(line.previous_overall))
        for line in graded
        if line.overall and line.previous_overall
    ]
    escalated = [line for line in graded if line.reaudit_round >= 2 and line.overall in BELOW_GOOD]
    return Reaudits(
        final=len(graded),
        improved=sum(now < before for now, before in compared),  # ORDER is best first
        unchanged=sum(now == before for now, before in compared),
        worse=sum(now > before for now, before in compared),
        closed=sum(line.overall in GOOD_OR_BETTER for line in graded),
        second_reaudit_required=sum(line.reaudit_round == 1 and line.overall in BELOW_GOOD for line in graded),
        escalated=len(escalated),
        escalated_by_service=dict(sorted(Counter(line.service_area for line in escalated).items())),
    )


def dispute_figures(disputes: Iterable[DisputeLine]) -> DisputeFigures:
    disputes = list(disputes)
    by_level = {level.value: {s: 0 for s in DISPUTE_STATUSES} for level in DisputeLevel}
    for d in disputes:
        by_level.setdefault(d.level, {s: 0 for s in DISPUTE_STATUSES})[d.status] += 1
    return DisputeFigures(
        raised=len(disputes),
        by_level=by_level,
        by_status={s: sum(d.status == s for d in disputes) for s in DISPUTE_STATUSES},
        regraded=sum(d.regraded for d in disputes),
    )


def moderation_figures(rows: list["ModerationRecord"]) -> ModerationFigures:
    """`rows`: the `moderation` table's rows of the period's panels (R-MOD-4)."""
    return ModerationFigures(
        panels=sorted({r.panel_cycle for r in rows}),
        drawn=len(rows),
        recorded=sum(r.recorded_at is not None for r in rows),
        overdue=sum(bool(r.overdue) for r in rows),
        results=summarise(judgements_of_rows(rows)),
    )


def _share(part: int, whole: int) -> float | None:
    return _round(part / whole) if whole else None


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
