"""The open-case list's page (`/app/cases`, PIAT): the cases PIAT imported from Mosaic, filtered as
`GET /cases` is (service, team), and the import form, which posts the CSV export's text to
`/app/cases` and runs the service `POST /cases/import` runs (services/cases.py checks each
row; one bad row refuses the whole file, each bad row listed beside the form)."""

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import Now, Svc
from api.permissions import allowed, authorise
from models.enums import ServiceArea
from models.staff import StaffMember
from services import cases
from web.forms import read_form
from web.render import Refusal, error_page, new_key, refusal, render, see_other
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)
LIMIT = 1000  # the API's default page


@router.get("/cases")
async def cases_page(
    request: Request, actor: PageActor, svc: Svc, service_area: str = "", team: str = "", imported: str = "", ignored: str = ""
) -> Response:
    chosen = {"service_area": service_area, "team": team.strip()}
    try:
        await authorise("list_cases", actor, svc, {})
    except Exception as error:  # noqa: BLE001 - PIAT only: the others are told who may
        return error_page(request, actor, await refusal(request, error))
    notice = _imported(imported, ignored)
    try:
        area, team_named = _area(service_area), _team(chosen["team"])
        rows = await svc.in_session(cases.list_cases, service_area=area, team=team_named, limit=LIMIT)
    except Exception as error:  # noqa: BLE001 - a filter the list cannot take: said beside it
        problem = await refusal(request, error)
        context = _context(actor, chosen, []) | {"problem": problem.detail, "field_errors": problem.field_errors}
        return render(request, "cases.html", context, problem.status_code)
    return render(request, "cases.html", _context(actor, chosen, rows) | {"notice": notice})


@router.post("/cases")
async def import_cases(request: Request, actor: PageActor, svc: Svc, now: Now) -> Response:
    form = await read_form(request)
    try:
        await authorise("import_cases", actor, svc, {})
        text = form.get("csv")
        if not text.strip():
            raise Refusal(
                422, "csv: paste the open-case list's CSV export", [{"field": "csv", "message": "paste the CSV export"}]
            )
        result = await svc.in_session(cases.import_cases, svc.directory, text.encode(), now)
    except Exception as error:  # noqa: BLE001 - the form comes back as pasted, with every bad row
        problem = await refusal(request, error)
        if problem.status_code == 403:
            return error_page(request, actor, problem)
        rows = await svc.in_session(cases.list_cases, limit=LIMIT)
        context = _context(actor, {}, rows) | {
            "failed": "import",
            "values": form.values(),
            "problem": problem.detail,
            "field_errors": problem.field_errors,
            "refused_rows": getattr(error, "more", {}).get("refused", []),
            "key": form.idempotency_key() or new_key(),
        }
        return render(request, "cases.html", context, problem.status_code)
    query = {"imported": result.imported} | ({"ignored": ",".join(result.ignored_columns)} if result.ignored_columns else {})
    return see_other(f"/app/cases?{urlencode(query)}#top")


def _context(actor: StaffMember, chosen: dict, rows: list) -> dict:
    return {
        "rows": rows,
        "failed": "filters",
        "values": chosen,
        "service_areas": list(ServiceArea),
        "columns": cases.COLUMNS,
        "key": new_key(),
        "refused_rows": [],
        "may_import": allowed("import_cases", actor, None),
        "may_select": allowed("propose_selection", actor, None),
        "limit": LIMIT,
    }


def _imported(imported: str, ignored: str) -> str | None:
    if not imported.isdigit():
        return None
    said = f"Imported: the open-case list now holds {imported} case{'' if imported == '1' else 's'}."
    return said + (f" Columns not read (never kept): {ignored[:500]}." if ignored else "")


def _area(value: str) -> ServiceArea | None:
    if not value:
        return None
    try:
        return ServiceArea(value)
    except ValueError:
        raise Refusal(
            422, "service_area: choose one of the list", [{"field": "service_area", "message": "choose one of the list"}]
        ) from None


def _team(value: str) -> str | None:
    if len(value) > 100:  # the API's bound on the filter
        raise Refusal(422, "team: at most 100 characters", [{"field": "team", "message": "at most 100 characters"}])
    return value or None
