"""The action log's page (`/app/action-log`, PIAT): who did or read what, when, newest first, a
page at a time, filtered as `GET /action-log` is (an audit, a member of staff), through the service
that route runs. An older page is a link carrying the filters and `before`."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import Svc
from api.permissions import authorise
from models.limits import MAX_ROW_ID
from services import action_log
from web.render import Refusal, error_page, refusal, render
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)
PAGE = 100
BOUNDS = {"audit_id": 80, "actor_id": 64}  # the API's own bounds on the filters


@router.get("/action-log")
async def action_log_page(
    request: Request, actor: PageActor, svc: Svc, audit_id: str = "", actor_id: str = "", before: str = ""
) -> Response:
    chosen = {"audit_id": audit_id.strip(), "actor_id": actor_id.strip(), "before": before.strip()}
    try:
        await authorise("read_action_log", actor, svc, {})
    except Exception as error:  # noqa: BLE001 - PIAT only: the others are told who may
        return error_page(request, actor, await refusal(request, error))
    try:
        filters = _filters(chosen)
        page = await svc.in_session(action_log.read_action_log, **filters, limit=PAGE)
    except Exception as error:  # noqa: BLE001 - a filter the log cannot take: said beside it
        problem = await refusal(request, error)
        context = {"entries": [], "next_before": None, "problem": problem.detail, "field_errors": problem.field_errors}
        return render(request, "action_log.html", {"failed": "filters", "values": chosen} | context, problem.status_code)
    context = {"entries": page.entries, "next_before": page.next_before}
    return render(request, "action_log.html", {"failed": "filters", "values": chosen} | context)


def _filters(chosen: dict[str, str]) -> dict:
    errors = [
        {"field": name, "message": f"at most {most} characters"} for name, most in BOUNDS.items() if len(chosen[name]) > most
    ]
    before = None
    if chosen["before"]:
        if chosen["before"].isdigit() and 1 <= int(chosen["before"]) <= MAX_ROW_ID:
            before = int(chosen["before"])
        else:
            errors.append({"field": "before", "message": "an entry's number, e.g. 1200"})
    if errors:
        raise Refusal(422, "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)
    return {"audit_id": chosen["audit_id"] or None, "actor_id": chosen["actor_id"] or None, "before": before}
