"""Choosing a cycle's cases and proposing their auditors (R-ALLOC-1, R-KIND-1..4): pure, so the
same seed on the same case list and the same staff gives the same proposal."""

import random
from collections import defaultdict
from dataclasses import dataclass

from models.enums import AuditKind, Role, ServiceArea
from models.staff import StaffMember

MASH_AUDITOR_SERVICES = {"mash", "safeguarding", "quality_assurance"}  # R-KIND-4: Safeguarding & QA


@dataclass(frozen=True)
class Candidate:
    case_ref: str
    service_area: str
    practitioner_id: str
    team: str


@dataclass(frozen=True)
class Proposed:
    case_ref: str
    kind: AuditKind
    auditor_id: str | None  # None: nobody eligible is free of a conflict; PIAT names one


def kind_for(service_area: str, cycle_kind: AuditKind) -> AuditKind:
    """MASH audits are standard audits every cycle (R-KIND-4); the rest take the cycle's kind."""
    return AuditKind.STANDARD if service_area == ServiceArea.MASH.value else cycle_kind


def choose(candidates: list[Candidate], per_team: int, seed: int) -> list[Candidate]:
    """`per_team` cases from each team, drawn reproducibly: teams and cases in a fixed order, then
    one random generator seeded once for the whole draw."""
    rng = random.Random(seed)
    by_team: dict[str, list[Candidate]] = defaultdict(list)
    for c in sorted(candidates, key=lambda c: (c.team, c.case_ref)):
        by_team[c.team].append(c)
    return [c for team in sorted(by_team) for c in rng.sample(by_team[team], min(per_team, len(by_team[team])))]


def eligible(member: StaffMember, case: Candidate, kind: AuditKind, team_manager_id: str | None) -> bool:
    """R-KIND-1, -2, -4, and independence: never the practitioner, never their own Team Manager."""
    if member.id in (case.practitioner_id, team_manager_id):
        return False
    if case.service_area == ServiceArea.MASH.value:
        return member.has(Role.SENIOR_MANAGER) and member.service_area in MASH_AUDITOR_SERVICES
    if kind is AuditKind.PEER:  # a practitioner of another team: not a colleague under the same manager
        return member.has(Role.PRACTITIONER) and member.team != case.team
    return any(member.has(r) for r in (Role.TEAM_MANAGER, Role.CP_CHAIR, Role.IRO, Role.PIAT))


def propose(
    chosen: list[Candidate],
    cycle_kind: AuditKind,
    staff: list[StaffMember],
    team_managers: dict[str, str | None],
    open_audits: dict[str, int],
) -> list[Proposed]:
    """For each case the eligible auditor with the fewest open audits (counting this proposal's),
    the first by staff ID on a tie."""
    load = dict(open_audits)
    proposal = []
    for case in chosen:
        kind = kind_for(case.service_area, cycle_kind)
        pool = [m for m in staff if eligible(m, case, kind, team_managers.get(case.practitioner_id))]
        auditor = min(pool, key=lambda m: (load.get(m.id, 0), m.id), default=None)
        if auditor:
            load[auditor.id] = load.get(auditor.id, 0) + 1
        proposal.append(Proposed(case.case_ref, kind, auditor.id if auditor else None))
    return proposal
