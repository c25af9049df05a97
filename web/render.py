"""Rendering the staff pages: the templates, how times and people read, and a refusal turned into
the message a person sees beside the form (the same status and words the JSON API answers with)."""

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.responses import Response

from api.errors import validation_body
from api.permissions import allowed
from web.cookies import form_token, keep_drawn_secret
from models.cycles import cycle_label
from models.staff import StaffMember
from web import words as said

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")  # autoescaped: nothing typed in runs as HTML


def london_time(value: datetime | None, timezone: str = "Europe/London") -> str:
    """ "Friday 4 December, 17:00" in the council's time zone; the year only when it is not this one."""
    if value is None:
        return "no deadline"
    zone = ZoneInfo(timezone)
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
    year = f" {local.year}" if local.year != datetime.now(zone).year else ""
    return f"{local:%A} {local.day} {local:%B}{year}, {local:%H:%M}"


def long_date(value: date | None) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}" if value else ""


def words(value) -> str:
    """An enum or code as words: `requires_improvement` reads "requires improvement"."""
    if value is None:
        return "none"
    return str(getattr(value, "value", value)).replace("_", " ")


def london_iso(value: str | None) -> str:
    return london_time(datetime.fromisoformat(value)) if value else ""


def percent(share: float | None) -> str:
    return "none yet" if share is None else f"{share:.0%}"


def plain(text: str | None) -> str:
    """A message or a timeline entry in words: no rule codes, stage values or ISO dates (web/words.py)."""
    return said.plain(text, london_time, long_date)


templates.env.filters.update(
    london=london_time, london_iso=london_iso, long_date=long_date, words=words, cycle_label=cycle_label, percent=percent
)
templates.env.filters.update(
    plain=plain, stage_words=said.stage, role_words=said.role, service_words=said.service, tool_words=said.tool
)
templates.env.filters["field_words"] = said.field


def render(request: Request, template: str, context: dict, status_code: int = 200) -> Response:
    # The signed-in person (web.session.page_actor) shows in the header and decides the nav.
    actor: StaffMember | None = context.get("actor") or getattr(request.state, "page_actor", None)
    directory = request.app.state.services.directory

    def person(staff_id: str | None) -> str:
        """A name with its staff ID, as the pages show people (the ID alone if they have left)."""
        if not staff_id:
            return "nobody"
        member = directory.get(staff_id)
        return f"{member.name} ({staff_id})" if member else staff_id

    def may(action: str) -> bool:
        """Whether the permission table lets the signed-in person do `action` at all (by role): the
        nav offers only the pages they may open."""
        return actor is not None and allowed(action, actor, None)

    base = {"person": person, "may": may, "values": {}, "field_errors": {}, "problem": None}
    fixed = {"actor": actor, "csrf_token": form_token(request)}  # every form's token (templates/_csrf.html)
    response = templates.TemplateResponse(request, template, base | context | fixed, status_code=status_code)
    keep_drawn_secret(request, response)
    return response


def see_other(url: str) -> Response:
    """After an action, the page it leads to (Post/Redirect/Get: reloading never acts twice)."""
    return RedirectResponse(url, status_code=303)


def new_key() -> str:
    """A fresh Idempotency-Key for a form drawn now (web.forms.Form.idempotency_key)."""
    return uuid.uuid4().hex


class Refusal(Exception):
    """What a person sees when an action (or a page) is refused: the status and the API's words,
    with each field's message when the content was at fault."""

    def __init__(self, status_code: int, detail: str, errors: list[dict] | None = None):
        super().__init__(detail)
        self.status_code, self.detail, self.errors = status_code, detail, errors or []

    @property
    def field_errors(self) -> dict[str, str]:
        return {e["field"]: e["message"] for e in self.errors}


async def refusal(request: Request, error: Exception) -> Refusal:
    """The refusal the JSON API would answer for `error`, by the app's own exception handlers
    (api/errors.py): one mapping of workflow refusals, timeouts and outages for both."""
    if isinstance(error, Refusal):
        return error
    if isinstance(error, ValidationError):  # a form's content, checked by the API's own models
        body = validation_body(error.errors())
        return Refusal(422, body["detail"], body["errors"])
    handler = _handler_for(request, error)
    if handler is None:
        raise error
    answer = await handler(request, error)
    body = json.loads(answer.body)
    detail = body.get("detail")
    if not isinstance(detail, str):  # FastAPI's own 422s list their errors
        body = validation_body(detail or [])
    return Refusal(answer.status_code, body["detail"], body.get("errors"))


def _handler_for(request: Request, error: Exception):
    handlers = request.app.exception_handlers  # FastAPI's own (HTTPException) and api/errors.py's
    return next((handlers[cls] for cls in type(error).__mro__ if cls in handlers), None)


def _summary(problem: Refusal) -> str:
    """The words above a refused form: the API's own, unless they only list the fields at fault,
    which the summary's links then name, each beside its field."""
    if problem.errors and problem.detail.startswith("the request was refused: "):
        return "Some of what was entered needs putting right."
    return plain(problem.detail)


def error_page(request: Request, actor: StaffMember | None, problem: Refusal) -> Response:
    """A page that could not be shown (or an action refused where there is no form to show it by)."""
    return render(
        request,
        "error.html",
        {"actor": actor, "problem": plain(problem.detail), "status": problem.status_code},
        problem.status_code,
    )


async def form_again(
    request: Request,
    actor: StaffMember,
    template: str,
    failed: str,
    form,
    error: Exception,
    page_context: Callable[[], Awaitable[dict]],
    faults: Callable[[dict], dict[str, str]] | None = None,
) -> Response:
    """A refused form's page again: the refusal above the form, each field's message beside its
    field, and the form as it was typed, shown even where the step has moved on meanwhile. Someone
    not allowed to read the page at all gets the refusal alone. `faults`: the fields at fault (given
    the page's context), by the rules the refusal came from, where the refusal names none."""
    problem = await refusal(request, error)
    try:
        context = await page_context()
    except Exception:  # noqa: BLE001 - not allowed to read it at all: the refusal alone
        return error_page(request, actor, problem)
    if not problem.errors and problem.status_code == 422 and faults is not None:
        problem.errors = [{"field": name, "message": message} for name, message in faults(context).items()]
    context |= {
        "failed": failed,
        "values": form.values(),
        "problem": _summary(problem),
        "field_errors": {name: plain(message) for name, message in problem.field_errors.items()},
        "key": form.idempotency_key() or new_key(),
    }
    if failed not in context.get("forms", []):
        context["forms"] = [*context.get("forms", []), failed]
    return render(request, template, context, problem.status_code)
