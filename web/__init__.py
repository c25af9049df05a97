"""The staff pages: server-rendered HTML over the API's own rules, served by the same app under
`/app/` (docs/pages.md). `router` joins api/main.py's routers; `install` adds what a
router cannot carry: the static files, the sign-in redirect, the refusal of a forged form
(web/forgery.py) and the pages' response headers (web/headers.py)."""

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from web import (
    action_log_pages,
    audit_pages,
    calendar_feed_pages,
    case_pages,
    cycle_pages,
    dispute_pages,
    email_preference_pages,
    forgery,
    form_addresses,
    headers,
    list_pages,
    moderation_pages,
    plan_pages,
    reports,
    safety_pages,
    selection_pages,
    self_selection_pages,
    session,
)
from web.render import HERE

# Not in the OpenAPI document: the API's schema, its fuzzing and its permission test stay the API's.
# Every page route checks a POST came from the service's own page (web/forgery.py), sign-in included.
router = APIRouter(include_in_schema=False, dependencies=[Depends(forgery.check)])
for pages in (
    session,
    list_pages,
    email_preference_pages,
    calendar_feed_pages,
    audit_pages,
    dispute_pages,
    safety_pages,
    moderation_pages,
    cycle_pages,
    self_selection_pages,
    reports,
    plan_pages,
    case_pages,
    selection_pages,
    action_log_pages,
):
    router.include_router(pages.router)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=303)


def install(app: FastAPI) -> None:
    app.mount("/app/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(session.SignInNeeded, session.sign_in_redirect)
    app.add_exception_handler(forgery.ForgedForm, forgery.refused)
    app.add_middleware(headers.PageHeaders)
    form_addresses.install(app)  # after every page's router: each form's address answers a GET
