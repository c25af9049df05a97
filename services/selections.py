"""Selecting a cycle's cases from the imported open-case list and allocating them at once
(R-ALLOC-1, R-KIND-1..4, R-CAL-4).

`POST /cycles/{cycle}/selections` proposes: `per_team` cases from each team of the services the
cycle covers, drawn with a recorded seed (the same seed on the same list gives the same cases),
skipping cases audited in the last 12 months or already allocated, each with an eligible auditor
balancing everyone's open audits. PIAT adjusts and confirms: every audit starts at once, and a
second confirmation starts nothing new."""

import asyncio
import secrets
import uuid
from datetime import datetime

from sqlmodel import Session, func, select

from api.schemas.audits import AllocationRequest
from api.schemas.year import Confirmation, Confirmed, ProposedAllocation, SelectionOut, SelectionRequest
from models.cycles import cycle_holds, cycle_kind, is_cycle, months_before
from models.enums import AuditKind, Stage
from models.selection import Candidate, choose, propose
from models.staff import StaffDirectory, StaffMember
from models.tables import AuditRecord, CycleRecord, OpenCase, Selection
from services.allocation import Projected, check_allocation, projected_in_cycle, refuse_projected_duplicate, start_audit
from services.clock import check_plannable
from services.context import Services
from services.errors import Refused

SELECTED_REQUEST = "select:{selection_id}"  # the memo entry naming the confirmation that started an audit


def propose_selection(
    session: Session, svc: Services, actor: StaffMember, cycle: str, body: SelectionRequest, now: datetime
) -> SelectionOut:
    if not is_cycle(cycle):
        raise Refused(422, f"cycle {cycle!r} is not an audit cycle: YYYY-MM, any month but August or December")
    check_plannable(cycle, now, svc.settings)
    kind = AuditKind(cycle_kind(cycle))
    theme = _theme(session, cycle, body.theme)
    if (kind is AuditKind.THEMED) != bool(theme):
        raise Refused(
            422,
            "theme: a themed cycle's selection needs its theme (set it with PUT /cycles/{cycle}/theme, "
            "or give it here), and only a themed cycle's (R-KIND-3)",
        )
    seed = body.seed if body.seed is not None else secrets.randbelow(2**31)
    candidates = _candidates(session, cycle, kind)
    open_audits = dict(
        session.exec(
            select(AuditRecord.auditor_id, func.count())
            .where(AuditRecord.stage != Stage.COMPLETED.value)
            .group_by(AuditRecord.auditor_id)
        ).all()
    )
    proposal = propose(choose(candidates, body.per_team, seed), kind, *_people(svc.directory, candidates), open_audits)
    record = Selection(
        selection_id=f"{cycle}-{uuid.uuid4().hex[:8]}",
        cycle=cycle,
        per_team=body.per_team,
        seed=seed,
        theme=theme,
        created_by=actor.id,
        created_at=now,
        proposal=[ProposedAllocation(**p.__dict__).model_dump(mode="json") for p in proposal],
    )
    session.add(record)
    session.commit()
    return _out(record)


def _people(directory: StaffDirectory, candidates: list[Candidate]) -> tuple[list[StaffMember], dict[str, str | None]]:
    """Who may be proposed as an auditor (everyone, by ID), and each candidate practitioner's Team Manager."""
    team_managers = {
        c.practitioner_id: (tm.id if (tm := directory.team_manager_of(c.practitioner_id)) else None) for c in candidates
    }
    return sorted(directory.everyone(), key=lambda m: m.id), team_managers


def _theme(session: Session, cycle: str, given: str | None) -> str | None:
    """The topic given, else the one PIAT set for the cycle."""
    if given and given.strip():
        return given.strip()
    row = session.get(CycleRecord, cycle)
    return row.theme if row else None


def _candidates(session: Session, cycle: str, kind: AuditKind) -> list[Candidate]:
    """The open cases of the services this cycle covers, less those audited in the last 12 months
    (this cycle's allocations included)."""
    recent = set(session.exec(select(AuditRecord.case_ref).where(AuditRecord.cycle > months_before(cycle, 12))))
    return [
        Candidate(c.case_ref, c.service_area, c.practitioner_id, c.team)
        for c in session.exec(select(OpenCase))
        if c.case_ref not in recent and cycle_holds(cycle, "standard" if c.service_area == "mash" else kind.value, c.service_area)
    ]


async def confirm_selection(
    svc: Services, actor: StaffMember, selection_id: str, body: Confirmation, now: datetime
) -> SelectionOut:
    """Every allocation starts, checked as `POST /audits` checks it; one that cannot is listed
    with its reason. The answer comes once every audit's workflow has started: each then tells
    its people and sets its deadlines on its own, as the audit's page shows. Confirming again
    starts nothing new, so a confirmation cut short is finished by sending it again."""
    record, cases, projected = await svc.in_session(_proposed, selection_id)
    proposed = {p["case_ref"] for p in record.proposal}
    if strays := [a.case_ref for a in body.allocations if a.case_ref not in proposed]:
        raise Refused(422, f"not in this selection's proposal: {strays[:10]}")
    confirmed = await _allocate_all(svc, actor, record, body.allocations, cases, projected, now)
    return await svc.in_session(_confirmed, selection_id, confirmed)


def _proposed(session: Session, selection_id: str) -> tuple[Selection, dict[str, OpenCase], dict[tuple[str, str], Projected]]:
    """The selection, the open cases its proposal names, and the audits the list already holds
    for them in its cycle."""
    record = _get(session, selection_id)
    proposed = {p["case_ref"] for p in record.proposal}
    cases = {c.case_ref: c for c in session.exec(select(OpenCase).where(OpenCase.case_ref.in_(proposed)))}
    return record, cases, projected_in_cycle(session, record.cycle, proposed)


def _confirmed(session: Session, selection_id: str, confirmed: list[Confirmed]) -> SelectionOut:
    record = _get(session, selection_id)
    record.confirmed = [c.model_dump() for c in confirmed]
    session.add(record)
    session.commit()
    return _out(record)


async def _allocate_all(
    svc: Services,
    actor,
    record: Selection,
    allocations: list[ProposedAllocation],
    cases: dict[str, OpenCase],
    projected: dict[tuple[str, str], Projected],
    now: datetime,
) -> list[Confirmed]:
    """A month's audits started side by side, `allocation_concurrency` at a time: one after
    another, 300 would keep the request open for a minute. All are waited for before an error
    (Temporal unreachable) is raised, so none runs on unseen after the answer."""
    gate = asyncio.Semaphore(svc.settings.allocation_concurrency)

    async def one(chosen: ProposedAllocation) -> Confirmed:
        async with gate:
            existing = projected.get((chosen.case_ref, chosen.kind.value), [])
            return await _allocate(svc, actor, record, chosen, cases.get(chosen.case_ref), existing, now)

    results = await asyncio.gather(*(one(a) for a in allocations), return_exceptions=True)
    if errors := [r for r in results if isinstance(r, BaseException)]:
        raise errors[0]
    return results


async def _allocate(
    svc: Services,
    actor,
    record: Selection,
    chosen: ProposedAllocation,
    case: OpenCase | None,
    existing: Projected,
    now: datetime,
) -> Confirmed:
    if case is None:
        return Confirmed(case_ref=chosen.case_ref, refused="no longer on the open-case list")
    if chosen.auditor_id is None:
        return Confirmed(case_ref=chosen.case_ref, refused="no auditor named")
    request = AllocationRequest(
        case_ref=case.case_ref,
        service_area=case.service_area,
        kind=chosen.kind,
        cycle=record.cycle,
        auditor_id=chosen.auditor_id,
        practitioner_id=case.practitioner_id,
        involvement_start=case.involvement_start,
        cp_chair_or_iro_id=case.cp_chair_or_iro_id,
        theme=record.theme if chosen.kind is AuditKind.THEMED else None,
    )
    try:
        audit = check_allocation(request, actor, svc, now)
        # The case's ID settles most duplicates; the rows hold the rest (an audit allocated under
        # an ID of another form, before IDs were keyed, say).
        await refuse_projected_duplicate(svc, audit, existing)
        await start_audit(svc, audit, SELECTED_REQUEST.format(selection_id=record.selection_id))
    except Refused as refused:  # a rule of the framework, or the case allocated otherwise
        return Confirmed(case_ref=chosen.case_ref, refused=str(refused.detail)[:200])
    return Confirmed(case_ref=chosen.case_ref, audit_id=audit.audit_id)


def get_selection(session: Session, selection_id: str) -> SelectionOut:
    return _out(_get(session, selection_id))


def _get(session: Session, selection_id: str) -> Selection:
    record = session.get(Selection, selection_id)
    if record is None:
        raise Refused(404, f"no selection {selection_id}")
    return record


def _out(record: Selection) -> SelectionOut:
    return SelectionOut(
        selection_id=record.selection_id,
        cycle=record.cycle,
        per_team=record.per_team,
        seed=record.seed,
        theme=record.theme,
        proposal=record.proposal,
        confirmed=record.confirmed,
    )
