"""My work (`/app/`), the audits and disputes lists, and PIAT's allocation form: each reads or
acts through the service the API's route runs, so the lists are scoped exactly as `GET /audits` is."""

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import Now, Svc
from api.permissions import authorise
from api.schemas.audits import AllocationRequest
from models import pages
from models.cycles import cycle_label, is_cycle, months_before
from models.enums import AuditKind, DisputeLevel, Role, ServiceArea, Stage
from models.staff import StaffMember
from services import allocation, audits, disputes, email_preferences, my_work
from services.clock import current_month
from services.context import Services
from services.people import AUDITING_ROLES
from web import calendar_feed_pages
from web.forms import read_form
from web.render import Refusal, error_page, new_key, refusal, render, see_other
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)
# Where each kind of waiting item (services/my_work.py, `process`) is read in the pages: the pages the
# emails link to (models/pages.py) where there is one, so a row and an email lead to the same page.
PAGES: dict[str, Callable[[str], str]] = {
    "audit": pages.audit_page,
    "dispute": lambda id: f"/app/disputes/{id}",
    "safety_concern": lambda id: f"/app/safety-concerns/{id}",
    "moderation_panel": pages.moderation_panel_page,
}


@router.get("/")
async def my_work_page(request: Request, actor: PageActor, svc: Svc, now: Now) -> Response:
    await authorise("my_work", actor, svc, {})
    items = await svc.in_session(my_work.my_work, actor, now)  # soonest deadline first, as GET /me/work
    rows = [(item, _page_of(item)) for item in items]
    preferences = await svc.in_session(email_preferences.email_preferences, actor)  # the digest form's choice
    feed = await calendar_feed_pages.panel(request, actor, svc)  # "Subscribe in Outlook"
    context = {"actor": actor, "rows": rows, "email_preferences": preferences, "calendar_feed": feed}
    response = render(request, "my_work.html", context)
    calendar_feed_pages.shown_once(request, response)
    return response


def _page_of(item) -> str | None:
    page = PAGES.get(item.process)
    return page(item.id) if page else None


@router.get("/audits")
async def audits_page(
    request: Request,
    actor: PageActor,
    svc: Svc,
    cycle: str = "",
    service_area: str = "",
    stage: str = "",
    kind: str = "",
    overdue: str = "",
) -> Response:
    chosen = {"cycle": cycle, "service_area": service_area, "stage": stage, "kind": kind, "overdue": overdue}
    try:
        filters = {
            "cycle": _cycle(cycle),
            "service_area": _choice(ServiceArea, service_area, "service_area"),
            "stage": _choice(Stage, stage, "stage"),
            "kind": _choice(AuditKind, kind, "kind"),
            "overdue": {"yes": True, "no": False}.get(overdue),
        }
        await authorise("list_audits", actor, svc, {})
        rows = await svc.in_session(audits.list_audits, actor, **filters, limit=500)
    except Exception as error:  # noqa: BLE001 - a filter the list cannot take: said beside it
        problem = await refusal(request, error)
        return render(request, "audits.html", _list_context(actor, chosen, [], problem), problem.status_code)
    return render(request, "audits.html", _list_context(actor, chosen, rows))


def _list_context(actor, chosen: dict, rows: list, problem: Refusal | None = None) -> dict:
    return {
        "actor": actor,
        "failed": "filters",
        "values": chosen,
        "rows": rows,
        "service_areas": list(ServiceArea),
        "stages": list(Stage),
        "kinds": list(AuditKind),
        "problem": problem.detail if problem else None,
        "field_errors": problem.field_errors if problem else {},
    }


def _cycle(value: str) -> str | None:
    if value and not is_cycle(value):
        raise Refusal(
            422,
            f"cycle {value!r} is not an audit cycle: use YYYY-MM, any month but August or December",
            [{"field": "cycle", "message": "use YYYY-MM, e.g. 2027-01"}],
        )
    return value or None


def _choice(enum, value: str, field: str):
    if not value:
        return None
    try:
        return enum(value)
    except ValueError:
        raise Refusal(422, f"{field}: choose one of the list", [{"field": field, "message": "choose one of the list"}]) from None


@router.get("/disputes")
async def disputes_page(
    request: Request, actor: PageActor, svc: Svc, level: str = "", overdue: str = "", open_only: str = ""
) -> Response:
    chosen = {"level": level, "overdue": overdue, "open_only": open_only}
    try:
        filters = {
            "level": _choice(DisputeLevel, level, "level"),
            "overdue": {"yes": True, "no": False}.get(overdue),
            "open_only": bool(open_only),
        }
        await authorise("list_disputes", actor, svc, {})
        rows = await svc.in_session(disputes.list_disputes, **filters)
    except Exception as error:  # noqa: BLE001 - e.g. 403: the list is for senior leaders and Corporate Directors
        problem = await refusal(request, error)
        if problem.status_code == 403:
            return error_page(request, actor, problem)
        context = {
            "actor": actor,
            "failed": "filters",
            "values": chosen,
            "rows": [],
            "levels": list(DisputeLevel),
            "problem": problem.detail,
            "field_errors": problem.field_errors,
        }
        return render(request, "disputes.html", context, problem.status_code)
    context = {"actor": actor, "failed": "filters", "values": chosen, "rows": rows, "levels": list(DisputeLevel)}
    return render(request, "disputes.html", context)


# ---- allocation (PIAT) ----------------------------------------------------------------------


@router.get("/allocate")
async def allocate_page(request: Request, actor: PageActor, svc: Svc, now: Now) -> Response:
    try:  # the form only for those who may allocate; others are told who may
        await authorise("allocate_audit", actor, svc, {})
    except Exception as error:  # noqa: BLE001
        return error_page(request, actor, await refusal(request, error))
    return render(request, "allocate.html", _allocate_context(svc, actor, now))


@router.post("/allocate")
async def allocate(request: Request, actor: PageActor, svc: Svc, now: Now) -> Response:
    form = await read_form(request)
    try:
        body = AllocationRequest.model_validate(form.body())
        await authorise("allocate_audit", actor, svc, {})
        view = await allocation.allocate_audit(svc, actor, body, form.idempotency_key(), now)
    except Exception as error:  # noqa: BLE001 - the form comes back as typed, with the reason
        problem = await refusal(request, error)
        context = _allocate_context(svc, actor, now) | {
            "values": form.values(),
            "problem": problem.detail,
            "field_errors": problem.field_errors,
            "key": form.idempotency_key() or new_key(),
            "failed": "allocate",
        }
        return render(request, "allocate.html", context, problem.status_code)
    return see_other(f"/app/audits/{view.audit_id}?done=allocated")


def _open_cycles(first: str, ahead: int) -> list[tuple[str, str]]:
    """The cycles an allocation may name now (`check_plannable`), by the names the emails use."""
    months = (months_before(first, -n) for n in range(ahead + 1))
    return [(month, cycle_label(month)) for month in months if is_cycle(month)]


def _allocate_context(svc: Services, actor: StaffMember, now: datetime) -> dict:
    everyone = sorted(svc.directory.everyone(), key=lambda m: m.id)
    this_month = current_month(now, svc.settings)
    return {
        "actor": actor,
        "key": new_key(),
        "failed": None,
        "values": {},
        "this_month": this_month,
        "cycle_options": _open_cycles(this_month, svc.settings.cycles_ahead_months),
        "today": now.astimezone(svc.calendar.tz).date().isoformat(),
        "service_areas": list(ServiceArea),
        "kinds": [k for k in AuditKind if k is not AuditKind.REAUDIT],
        "auditors": [m for m in everyone if any(m.has(r) for r in AUDITING_ROLES + (Role.PRACTITIONER,))],
        "practitioners": [m for m in everyone if m.has(Role.PRACTITIONER)],
        "chairs": [m for m in everyone if m.has(Role.IRO) or m.has(Role.CP_CHAIR)],
    }
