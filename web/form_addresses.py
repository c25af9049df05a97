"""Every address a form posts to answers a GET with a page.

A refused form comes back at the address it posted to (`/app/audits/{id}/grading`), so that is
what the address bar shows: reloading it from there, bookmarking it or sending it on must not
meet a bare `405 Method Not Allowed`. Each POST-only route under /app/ also takes a GET, which
leads (303) to the page the form is on, at the form. Added once every page's router is in, so a
new page's forms are covered without a line of their own. An address naming no page at all gets
a page saying so."""

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import Response

from web.render import Refusal, error_page

HOME = "/app/"


def form_page(path: str) -> str:
    """The page a form posting to `path` is on: `/app/audits/{id}/grading` is on `/app/audits/{id}`,
    at its form; a form on every page (`/app/sign-out`) leads home."""
    if path.count("/") > 3:
        page, form = path.rsplit("/", 1)
        return f"{page}#form-{form}"
    return HOME


def posted_only(routes) -> list[str]:
    """The paths under /app/ that take a POST and no GET, through included routers at any depth."""
    methods: dict[str, set[str]] = {}

    def walk(found) -> None:
        for route in found:
            inner = getattr(route, "original_router", None)  # an included router, as FastAPI keeps it
            if inner is not None:
                walk(inner.routes)
            elif isinstance(route, APIRoute) and route.path.startswith("/app/"):
                methods.setdefault(route.path, set()).update(route.methods)

    walk(routes)
    return [path for path, taken in methods.items() if "POST" in taken and "GET" not in taken]


async def to_the_form(request: Request) -> Response:
    return RedirectResponse(form_page(request.url.path), status_code=303)


async def no_such_page(request: Request, error: HTTPException) -> Response:
    """An address under /app/ that names no page: a page saying so, not the API's JSON."""
    # Only where routing found nothing: a page's own refusals go through web.render.refusal as JSON.
    if request.url.path.startswith("/app/") and error.status_code == 404 and request.scope.get("route") is None:
        return error_page(request, None, Refusal(404, "there is no such page: check the address, or start from My work"))
    return await http_exception_handler(request, error)


def install(app: FastAPI) -> None:
    for path in posted_only(app.router.routes):
        app.add_api_route(path, to_the_form, methods=["GET"], include_in_schema=False, name=f"page of {path}")
    app.add_exception_handler(HTTPException, no_such_page)
