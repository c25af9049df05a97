"""Calling the JSON API's own route functions from a page, as the signed-in person.

A page never re-implements a rule: it runs the permission table's check (`authorise`, what the
API's `permit` runs) and then the very function the API route runs, with the same arguments."""

import inspect
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.deps import Services
from api.permissions import authorise
from models.staff import StaffMember


def svc_of(request: Request) -> Services:
    return request.app.state.services


async def call_route(request: Request, route: Callable, actor: StaffMember, params: dict | None = None,
                     **given: Any) -> Any:
    """`route` (an API route function, named by its operation ID) as `actor` would call it over
    HTTP: 403 unless the permission table allows them, then the route with the arguments it names
    (`params` are its path parameters; `given` its body, key and query)."""
    svc = svc_of(request)
    params = params or {}
    # As api.permissions.permit does: the view read for the check is the route's to reuse.
    request.state.audit = await authorise(route.__name__, actor, svc, params)
    wanted = inspect.signature(route).parameters
    now = {"now": await svc.clock()} if "now" in wanted else {}  # api.clock.Now, as FastAPI resolves it
    available = {"request": request, "actor": actor, "svc": svc, "key": None} | now | params | given
    result = route(**{name: value for name, value in available.items() if name in wanted})
    return await result if inspect.isawaitable(result) else result


def new_key() -> str:
    """A fresh Idempotency-Key for a form drawn now (web.forms.Form.idempotency_key)."""
    return uuid.uuid4().hex


def see_other(url: str) -> Response:
    """After an action, the page it leads to (Post/Redirect/Get: reloading never acts twice)."""
    return RedirectResponse(url, status_code=303)
