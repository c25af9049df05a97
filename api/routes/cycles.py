"""`/cycles`: the audit year as it runs (R-CAL-3, R-CAL-4), each cycle's audits, its theme
(R-KIND-3) and its non-completion report (R-QA-4)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import Actor, IdempotencyKey, Now, SessionDep, Svc
from api.permissions import permit
from api.schemas.year import CycleDetail, CycleSummary, NonCompletionReport, ThemeChangeRequest
from services import cycles

router = APIRouter(prefix="/cycles", tags=["cycles"])
CyclePath = Annotated[str, Path(max_length=7, description="YYYY-MM, any month but August or December")]
Year = Annotated[int, Query(ge=2000, le=2100)]


@router.get("", response_model=list[CycleSummary], dependencies=[permit("list_cycles")])
def list_cycles(session: SessionDep, svc: Svc, actor: Actor, year: Year) -> list[CycleSummary]:
    """The year's ten cycles, month by month."""
    return cycles.list_cycles(session, svc.settings, year)


@router.get("/{cycle}", response_model=CycleDetail, dependencies=[permit("get_cycle")])
async def get_cycle(cycle: CyclePath, svc: Svc, actor: Actor) -> CycleDetail:
    return await cycles.get_cycle(svc, cycle)


@router.put("/{cycle}/theme", response_model=CycleDetail, dependencies=[permit("set_cycle_theme")])
async def set_cycle_theme(
    cycle: CyclePath, body: ThemeChangeRequest, svc: Svc, actor: Actor, key: IdempotencyKey, now: Now
) -> CycleDetail:
    """R-KIND-3: the topic of a themed cycle. Set ahead of the month, it starts the cycle's
    workflow early (it waits for its first working day) so the topic is kept durably."""
    return await cycles.set_cycle_theme(svc, actor, cycle, body, key, now)


@router.get("/{cycle}/non-completion", response_model=NonCompletionReport, dependencies=[permit("get_non_completion")])
async def get_non_completion(cycle: CyclePath, svc: Svc, actor: Actor) -> NonCompletionReport:
    """R-QA-4, as sent at the cycle's close. A Head of Service sees their own service's section."""
    return await cycles.get_non_completion(svc, actor, cycle)
