"""Signing in to the staff pages: the same token as the API's bearer token, kept in a cookie.

The cookie (web/cookies.py) is `__Host-`, HttpOnly (no script reads it) and SameSite=Strict;
SameSite does not tell a sibling site or another port of this host from the service, so a form
posted from elsewhere is refused by web/forgery.py, the sign-in's own form included. The actor
comes from it through `api.deps.staff_for_token`, the bearer token's own path; the JSON API
itself takes only the `Authorization` header."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.deps import Services, services, staff_for_token
from models.staff import StaffMember
from web import cookies
from web.forms import read_form
from web.render import render

COOKIE = cookies.SESSION  # on the API's paths too (a `__Host-` cookie is Path=/), which never read it
SIGN_IN = "/app/sign-in"
HOME = "/app/"

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)


class SignInNeeded(Exception):
    """No valid sign-in for a page: web.install turns it into a redirect to the sign-in page."""

    def __init__(self, next_url: str):
        self.next_url = next_url


def page_actor(request: Request, svc: Annotated[Services, Depends(services)]) -> StaffMember:
    """The signed-in member of staff, by the cookie's token; else off to the sign-in page."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInNeeded(_here(request))
    try:
        request.state.page_actor = staff_for_token(request, svc, token)
        return request.state.page_actor
    except HTTPException as refused:
        if refused.status_code == 401:  # expired, or the person has left the directory
            raise SignInNeeded(_here(request)) from None
        raise


PageActor = Annotated[StaffMember, Depends(page_actor)]


def sign_in_redirect(request: Request, error: SignInNeeded) -> Response:
    return RedirectResponse(f"{SIGN_IN}?next={quote(error.next_url, safe='/')}", status_code=303)


def _here(request: Request) -> str:
    """Where to come back to after signing in: the page asked for, or the page a form was on
    (`/app/audits/{id}/grading` was on `/app/audits/{id}`; `/app/allocate` is its own page)."""
    path = request.url.path
    if request.method != "GET" and path.count("/") > 3:
        path = path.rsplit("/", 1)[0]
    return path


def safe_next(value: str | None) -> str:
    """Only a page of this app: never another site (an open redirect)."""
    if value and value.startswith("/app/") and not value.startswith("//") and "\\" not in value:
        return value
    return HOME


@router.get("/sign-in")
def sign_in_page(request: Request, svc: Annotated[Services, Depends(services)], next: str = HOME) -> Response:
    return _sign_in_form(request, svc, safe_next(next))


@router.post("/sign-in")
async def sign_in(request: Request, svc: Annotated[Services, Depends(services)]) -> Response:
    form = await read_form(request)
    next_url = safe_next(form.get("next"))
    if svc.settings.auth_mode == "dev":
        token = f"dev-{form.get('staff_id')}"
    else:
        token = form.get("token")
    try:
        staff_for_token(request, svc, token)
    except HTTPException as refused:
        return _sign_in_form(request, svc, next_url, problem=refused.detail, status_code=refused.status_code)
    response = RedirectResponse(next_url, status_code=303)
    cookies.keep(response, COOKIE, token)
    cookies.new_forms_secret(response)
    return response


@router.post("/sign-out")
def sign_out() -> Response:
    response = RedirectResponse(SIGN_IN, status_code=303)
    cookies.drop(response, COOKIE)
    cookies.new_forms_secret(response)
    return response


def _sign_in_form(request: Request, svc: Services, next_url: str, problem: str | None = None, status_code: int = 200) -> Response:
    dev = svc.settings.auth_mode == "dev"
    staff = sorted(svc.directory.everyone(), key=lambda m: m.id) if dev else []
    return render(request, "sign_in.html", {"dev": dev, "staff": staff, "next": next_url, "problem": problem}, status_code)
