"""The pages' two cookies, and the token every form carries (web/forgery.py checks it).

Both cookies are `__Host-` ones: Secure, Path=/, no Domain, so a sibling site (another
`*.council.gov.uk`) can neither set nor overwrite them; HttpOnly, so no script reads them; and
SameSite=Strict. Browsers count http://localhost and http://127.0.0.1 as secure, so `make dev`
keeps them over plain http too (tests/web/test_csrf_browser.py checks Chromium does); any other
plain-http address keeps no sign-in: serve it over https.

- the sign-in: the same token as the API's bearer token;
- the forms' secret: random, drawn with the first page a browser gets and again at each sign-in
  and sign-out. A form's token is an HMAC of the sign-in cookie's value keyed by it: a page of
  another site can read neither cookie, nor the service's pages, so cannot write the token, and
  even one able to plant a forms cookie of its choosing (another port of this host) would also
  need the sign-in's own token to compute it."""

import hashlib
import hmac
import secrets

from fastapi import Request
from starlette.responses import Response

SESSION = "__Host-qsaf_session"
FORMS = "__Host-qsaf_forms"


def keep(response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, path="/", secure=True, httponly=True, samesite="strict")


def drop(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="strict")


def new_forms_secret(response: Response) -> None:
    """A fresh secret with each sign-in and sign-out: the forms of the last one stop working."""
    keep(response, FORMS, secrets.token_urlsafe(32))


def form_token(request: Request) -> str:
    """The token for the forms of a page drawn now. A browser without the forms cookie yet gets
    one with this page (`keep_drawn_secret`)."""
    secret = request.cookies.get(FORMS) or getattr(request.state, "forms_secret", None)
    if secret is None:
        secret = request.state.forms_secret = secrets.token_urlsafe(32)
    return _token(secret, request.cookies.get(SESSION, ""))


def keep_drawn_secret(request: Request, response: Response) -> None:
    if secret := getattr(request.state, "forms_secret", None):
        keep(response, FORMS, secret)


def token_matches(request: Request, sent: str | None) -> bool:
    """In constant time; no forms cookie, or no token sent, no match."""
    secret = request.cookies.get(FORMS)
    expected = _token(secret, request.cookies.get(SESSION, "")) if secret else ""
    return bool(secret and sent) and hmac.compare_digest(sent.encode(), expected.encode())


def _token(secret: str, session: str) -> str:
    return hmac.new(secret.encode(), session.encode(), hashlib.sha256).hexdigest()
