"""`/cases`: the open-case list PIAT imports from Mosaic, from which cycles select (R-ALLOC-1);
services/cases.py checks each row."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import Actor, IdempotencyKey, Now, SessionDep, Svc
from api.permissions import permit
from api.schemas.year import CaseOut, ImportResult
from models.enums import ServiceArea
from services import cases

router = APIRouter(prefix="/cases", tags=["cases"])


@router.post(
    "/import",
    response_model=ImportResult,
    dependencies=[permit("import_cases")],
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_cases(request: Request, actor: Actor, svc: Svc, key: IdempotencyKey, now: Now) -> ImportResult:
    """The CSV export of open cases, with a header row naming at least the five columns. An import
    replaces the list, so sending it again (with or without the same key) changes nothing."""
    return await svc.in_session(cases.import_cases, svc.directory, await request.body(), now)


@router.get("", response_model=list[CaseOut], dependencies=[permit("list_cases")])
def list_cases(
    actor: Actor,
    session: SessionDep,
    service_area: ServiceArea | None = None,
    team: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[CaseOut]:
    return cases.list_cases(session, service_area=service_area, team=team, limit=limit)
