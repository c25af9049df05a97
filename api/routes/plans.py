"""`/plans`: a year's workload, planned (decision 0043): per month and auditor, the audits the
cycles will need, the re-audits the chains planned and the moderation panels' load, with the
months above `PLAN_MAX_AUDITS_PER_MONTH` flagged; as JSON, or as CSV (`/plans/{year}.csv`).

For senior leaders. The page (web/plan_pages.py) calls `services.plans.plan_for` as these do."""

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.deps import Now, Svc
from api.permissions import permit
from api.schemas.plans import PlanOut
from reports.plans_csv import plan_csv
from services.plans import plan_for

router = APIRouter(prefix="/plans", tags=["plans"])

YearPath = Annotated[str, Path(max_length=8, description="a calendar year, e.g. 2027: this year or the next")]
PerTeamQuery = Annotated[
    int | None, Query(ge=1, le=50, description="cases a cycle not yet selected draws from each team (PLAN_CASES_PER_TEAM)")
]


@router.get(
    "/{year}.csv",
    response_class=Response,
    dependencies=[permit("get_plan_csv")],
    responses={
        200: {"content": {"text/csv": {}}, "description": "one person's month a line: month, staff_id, counts, over_limit"}
    },
)
def get_plan_csv(year: YearPath, svc: Svc, now: Now, per_team: PerTeamQuery = None) -> Response:
    return csv_response(plan_for(svc, year, now, per_team))


def csv_response(plan: PlanOut) -> Response:
    """The plan as a CSV file to download (the page's download too)."""
    return Response(
        plan_csv(plan),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="qsaf-plan-{plan.year}.csv"'},
    )


@router.get("/{year}", response_model=PlanOut, dependencies=[permit("get_plan")])
def get_plan(year: YearPath, svc: Svc, now: Now, per_team: PerTeamQuery = None) -> PlanOut:
    """Each cycle month of `year`: its kind, the audits its selection is expected to draw (or has
    allocated), the re-audits planned or allocated in it, a moderation panel's load, and each
    person's total, flagged above the configured load. A year outside this one and the next is 422."""
    return plan_for(svc, year, now, per_team)
