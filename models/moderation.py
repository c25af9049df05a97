"""Moderation panels (R-MOD-1..4): what crosses the panel workflow's boundary, and the pure draw.

In each moderation month (February, June, October) a panel of SLT moderators re-reads audits
drawn at random from the four months before, records whether it agrees with each grading and
gives the auditor written feedback. The draw here is pure: the same seed on the same audits and
the same moderators gives the same panel.
"""

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from models.cycles import months_before
from models.enums import Grade
from models.limits import DomainName, Items, RequiredText, StaffId
from models.payloads import HistoryEntry, Waiting
from models.projections import Projection

MODERATION_MONTHS = (2, 6, 10)  # R-MOD-1
SOURCE_MONTHS = 4  # Decision: audits of the four calendar months before the panel's month


def is_moderation_month(cycle: str) -> bool:
    return len(cycle) == 7 and cycle[4] == "-" and cycle[5:].isdigit() and int(cycle[5:]) in MODERATION_MONTHS


def source_cycles(panel_cycle: str) -> list[str]:
    """The months whose audits a panel draws from, oldest first: for 2027-02, 2026-10 .. 2027-01
    (August and December hold no cycle, so they simply add nothing)."""
    return [months_before(panel_cycle, n) for n in range(SOURCE_MONTHS, 0, -1)]


def moderation_id(panel_cycle: str, number: int) -> str:
    return f"{panel_cycle}-m{number:02d}"


def panel_of(moderation: str) -> str:
    """`2027-02-m03` -> `2027-02`, the panel (workflow `moderation-2027-02`) that holds it."""
    return moderation.rsplit("-m", 1)[0]


# ---- the draw (R-MOD-2): pure ---------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A final audit as the `audit` table lists it."""

    audit_id: str
    service_area: str
    auditor_id: str


def eligible(panel_cycle: str, cycle: str, overall_grade: str | None) -> bool:
    """Final and graded, from the four months before the panel. Peer audits are never graded
    (R-KIND-2), so they fall out here; MASH audits and re-audits are graded and stay in."""
    return overall_grade is not None and cycle in source_cycles(panel_cycle)


def draw(candidates: list[Candidate], per_service: int, seed: int) -> list[Candidate]:
    """`per_service` audits of every service area that has any (all of them when it has fewer):
    services and audits in a fixed order, then one generator seeded once for the whole draw, so
    the same seed on the same audits draws the same ones."""
    rng = random.Random(seed)
    by_service: dict[str, list[Candidate]] = defaultdict(list)
    for c in sorted(candidates, key=lambda c: (c.service_area, c.audit_id)):
        by_service[c.service_area].append(c)
    return [
        c for service in sorted(by_service) for c in rng.sample(by_service[service], min(per_service, len(by_service[service])))
    ]


def allocate(drawn: list[Candidate], moderators: list[str]) -> list[tuple[Candidate, str | None]]:
    """Round robin over the moderators (sorted by ID), never an audit's own auditor: each audit
    goes to the next moderator in turn who did not audit it; None when nobody can moderate it."""
    order = sorted(moderators)
    turn, allocated = 0, []
    for audit in drawn:
        chosen = None
        for step in range(len(order)):
            index = (turn + step) % len(order)
            if order[index] != audit.auditor_id:
                chosen, turn = order[index], index + 1
                break
        allocated.append((audit, chosen))
    return allocated


# ---- what the workflow is given and finds ----------------------------------------------------------


class ModerationPolicy(BaseModel):
    """R-MOD-3 "one working month". Decision: 20 working days (`MODERATION_DAYS`)."""

    moderation_days: int = 20


class ModerationPanelInput(BaseModel):
    """Started by the cycle workflow when a moderation month's cycle opens, or by PIAT by hand."""

    cycle: str  # the moderation month, "YYYY-MM"
    per_service: int = Field(default=2, ge=1, le=50)
    seed: int | None = None  # None: chosen by the workflow (workflow.random()) and recorded
    policy: ModerationPolicy | None = None  # None: the settings in force when the panel opens


class DrawRequest(BaseModel):
    cycle: str
    per_service: int
    seed: int


class GradePair(BaseModel):
    domain: str
    grade: Grade | None  # None: not applicable


class DrawnAudit(BaseModel):
    """An audit drawn, with its final grading (after QA and any dispute, R-REP-2)."""

    audit_id: str
    case_ref: str
    service_area: str
    kind: str
    cycle: str
    auditor_id: str
    domains: list[GradePair]
    overall_grade: Grade
    moderator_id: str | None
    practitioner_id: str | None = None  # None in draws recorded before it was kept


class Draw(BaseModel):
    audits: list[DrawnAudit]
    candidates: int  # how many final audits the draw was made from
    moderator_ids: list[str]
    piat_ids: list[str]  # who is told for PIAT: the PI&A Manager, else PIAT
    policy: ModerationPolicy


# ---- the moderator's record (R-MOD-3, R-MOD-4) --------------------------------------------------------


class Agreement(BaseModel):
    agree: bool
    moderated_grade: Grade | None = Field(default=None, description="the moderator's grade, only when they disagree")

    @model_validator(mode="after")
    def _grade_only_when_disagreeing(self) -> "Agreement":
        if not self.agree and self.moderated_grade is None:
            raise ValueError("moderated_grade is required when you disagree: give the grade you would award")
        if self.agree and self.moderated_grade is not None:
            raise ValueError("moderated_grade only when you disagree (agree is true)")
        return self

    def standing(self, original: Grade) -> Grade:
        """The grade that stands: `original` when the moderator agrees, else theirs (which the
        validator requires exactly when they disagree)."""
        return self.moderated_grade or original


class DomainAgreement(Agreement):
    domain: DomainName


class ModeratorChange(BaseModel):
    """`PUT /moderation-panels/{cycle}/moderations/{audit_id}/moderator`."""

    moderator_id: StaffId = Field(description="an SLT moderator who neither audited nor was audited in it")


def may_moderate(moderator_id: str, auditor_id: str, practitioner_id: str | None) -> bool:
    """R-MOD-2 as the draw allocates: never an audit's own auditor, nor the practitioner audited."""
    return moderator_id not in (auditor_id, practitioner_id)


class ModerationFindings(BaseModel):
    """`POST /moderations/{id}/record`: the moderation template."""

    domains: Items[DomainAgreement] = Field(min_length=1, description="every domain of the audit, once")
    overall: Agreement
    feedback: RequiredText = Field(description="written feedback to the auditor (R-MOD-4)")
    met_auditor_on: date = Field(description="when the moderator met the auditor (R-MOD-3)")


class Moderation(BaseModel):
    moderation_id: str
    audit_id: str
    case_ref: str
    service_area: str
    cycle: str  # the audit's cycle
    auditor_id: str
    moderator_id: str | None
    domains: list[GradePair]  # the audit's final grading
    overall_grade: Grade
    due: datetime | None = None
    recorded_at: datetime | None = None
    findings: ModerationFindings | None = None
    overdue: bool = False  # the due time passed before it was recorded
    reminded: bool = False
    practitioner_id: str | None = None
    handovers: int = 0  # times PIAT gave it to another moderator: each handover's emails have their own key

    @property
    def recorded(self) -> bool:
        return self.findings is not None

    def moderated_overall(self) -> Grade | None:
        return self.findings.overall.standing(self.overall_grade) if self.findings else None


class KappaResult(BaseModel):
    value: float | None  # None: no audits, or no variation in the grades (chance explains all)
    weights: Literal["linear"] = "linear"
    audits: int  # how many moderated audits it rests on


class ModerationResults(BaseModel):
    """For the quarterly report (R-MOD-4): see models/agreement.py."""

    moderated: int
    overall_agreement: float | None
    agreement_by_domain: dict[str, float]
    agreement_by_service: dict[str, float]
    grade_changes: list[dict[str, Any]]  # [{"from": grade, "to": grade, "count": n}] of the overall grade
    kappa: KappaResult


class ModerationSummary(BaseModel):
    """One moderation as the panel shows its progress."""

    moderation_id: str
    audit_id: str
    case_ref: str
    service_area: str
    auditor_id: str
    moderator_id: str | None
    due: datetime | None
    recorded: bool
    recorded_at: datetime | None
    overdue: bool  # not recorded, and the due time has passed
    late: bool  # recorded after the due time
    overall_grade: Grade
    moderated_overall_grade: Grade | None
    overall_agreed: bool | None
    domains_agreed: int | None
    domains: list[GradePair]  # the audit's final domain grades, for the moderator to weigh


class ModerationPanelView(BaseModel):
    cycle: str
    status: Literal["drawing", "moderating", "completed"]
    seed: int
    per_service: int
    source_cycles: list[str]
    opened_at: datetime
    due: datetime | None
    policy: ModerationPolicy | None
    candidates: int
    service_areas: list[str]
    moderator_ids: list[str]
    unallocated: list[str]  # audits nobody could moderate (every moderator audited them)
    overdue: bool
    waiting_for: Waiting | None
    moderations: list[ModerationSummary]
    results: ModerationResults
    history: list[HistoryEntry]


# ---- the projection (the quarterly report's rows) -----------------------------------------------------


class ModerationRow(BaseModel):
    moderation_id: str
    panel_cycle: str
    audit_id: str
    case_ref: str
    audit_cycle: str
    service_area: str
    auditor_id: str
    moderator_id: str | None
    due: datetime | None
    recorded_at: datetime | None
    overdue: bool
    original_overall: str
    moderated_overall: str | None
    overall_agreed: bool | None
    domains: list[dict[str, Any]]  # [{domain, original, moderated, agreed}] once recorded, else originals

    @classmethod
    def of(cls, panel_cycle: str, m: Moderation) -> "ModerationRow":
        f = m.findings
        by_domain = {d.domain: d for d in f.domains} if f else {}
        domains = []
        for pair in m.domains:
            said = by_domain.get(pair.domain)
            moderated = (pair.grade if said.agree else said.moderated_grade) if said else None
            domains.append(
                {"domain": pair.domain, "original": pair.grade, "moderated": moderated, "agreed": said.agree if said else None}
            )
        moderated_overall = m.moderated_overall()
        return cls(
            moderation_id=m.moderation_id,
            panel_cycle=panel_cycle,
            audit_id=m.audit_id,
            case_ref=m.case_ref,
            audit_cycle=m.cycle,
            service_area=m.service_area,
            auditor_id=m.auditor_id,
            moderator_id=m.moderator_id,
            due=m.due,
            recorded_at=m.recorded_at,
            overdue=m.overdue,
            original_overall=m.overall_grade.value,
            moderated_overall=moderated_overall.value if moderated_overall else None,
            overall_agreed=f.overall.agree if f else None,
            domains=[{k: (v.value if isinstance(v, Grade) else v) for k, v in d.items()} for d in domains],
        )


class ModerationPanelRow(Projection):
    cycle: str
    status: str
    seed: int
    per_service: int
    opened_at: datetime
    due: datetime | None
    overdue: bool
    updated_at: datetime
    moderations: list[ModerationRow] = []

    def columns(self) -> dict[str, Any]:
        return self.model_dump(exclude={"view", "moderations", "waits"})
