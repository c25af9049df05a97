"""The staff pages: server-rendered HTML over the API's own rules, served by the same app under
`/app/` (README, "Pages for staff"). `router` joins api/main.py's routers; `install` adds what a
router cannot carry: the static files and the sign-in redirect."""

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from web import (
    audit_pages, cycle_pages, dispute_pages, list_pages, moderation_pages, reports, safety_pages, self_selection_pages,
    session,
)
from web.render import HERE

# Not in the OpenAPI document: the API's schema, its fuzzing and its permission test stay the API's.
router = APIRouter(include_in_schema=False)
for pages in (session, list_pages, audit_pages, dispute_pages, safety_pages, moderation_pages, cycle_pages,
              self_selection_pages, reports):
    router.include_router(pages.router)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=303)


def install(app: FastAPI) -> None:
    app.mount("/app/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(session.SignInNeeded, session.sign_in_redirect)
