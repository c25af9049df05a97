"""No forged form posts: a page of another site cannot act in a signed-in person's name.

SameSite=Strict alone does not do it: another port of this host, or a sibling `*.council.gov.uk`
site, is the same *site*, and the browser sends the cookie with its forms. So every POST under
/app, sign-in included, is checked before anything reads or changes:

- where the browser says where the form comes from, it must be the service itself:
  `Sec-Fetch-Site` `same-origin` (or `none`, typed by the person), and `Origin` the service's
  own: PUBLIC_BASE_URL's origin, or the origin the request was addressed to (its scheme and Host
  header: what a browser sends to this very server, e.g. a test's port on 127.0.0.1);
- always, the form's token (web/cookies.py): clients that send neither header (old browsers,
  the in-process tests' httpx) are covered by it alone.

Refused: a 403 page saying what to do, and nothing done."""

from urllib.parse import urlsplit

from fastapi import Request
from starlette.responses import Response

from web.cookies import token_matches
from web.forms import read_form
from web.render import Refusal, error_page

FIELD = "_csrf"  # web/templates/_csrf.html; Form.body() leaves out names starting "_"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
FROM_HERE = {"same-origin", "none"}
REFUSED = (
    "This form came from another site, or from a page of the service too old to use: go back to the "
    "service, reload the page and try again."
)
DEFAULT_PORTS = {"http": 80, "https": 443}


class ForgedForm(Exception):
    """A POST under /app not shown to come from the service's own page."""


async def check(request: Request) -> None:
    """A dependency of every page route (web/__init__.py)."""
    if request.method in SAFE_METHODS:
        return
    if not _from_here(request):
        raise ForgedForm
    form = await read_form(request)  # the body is kept: the route reads the same form
    if not token_matches(request, form.get(FIELD)):
        raise ForgedForm


def refused(request: Request, error: ForgedForm) -> Response:
    return error_page(request, None, Refusal(403, REFUSED))


def _from_here(request: Request) -> bool:
    if request.headers.get("sec-fetch-site", "same-origin") not in FROM_HERE:
        return False
    origin = request.headers.get("origin")
    return origin is None or origin.lower() in _own_origins(request)


def _own_origins(request: Request) -> set[str]:
    public = urlsplit(request.app.state.services.settings.public_base_url)
    return {
        _origin(public.scheme, public.hostname, public.port),
        _origin(request.url.scheme, request.url.hostname, request.url.port),
    }


def _origin(scheme: str, host: str | None, port: int | None) -> str:
    """As a browser writes an `Origin`: lower case, the port only when not the scheme's own."""
    scheme = scheme.lower()
    shown = f":{port}" if port and port != DEFAULT_PORTS.get(scheme) else ""
    host = (host or "").lower()
    return f"{scheme}://{f'[{host}]' if ':' in host else host}{shown}"  # an IPv6 address in brackets
