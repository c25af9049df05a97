"""The staff pages (web/) as a browser sees them, called in-process: a sign-in's cookies, the
token every form carries, and forms filled as a browser sends them."""

import re

from tests.helpers.dates import day
from tests.helpers import grading

SESSION = "__Host-qsaf_session"  # web/cookies.py
FORMS = "__Host-qsaf_forms"
TOKEN = re.compile(r'name="_csrf" value="([^"]*)"')


def form_token(html: str) -> str:
    """The token a page's forms carry (web/templates/_csrf.html)."""
    found = TOKEN.search(html)
    assert found, "the page has no form token"
    return found.group(1)


def form_page(url: str) -> str:
    """The page a form posting to `url` is on, as web/session.py's `_here` tells it."""
    if url == "/app/sign-out":  # in every page's header
        return "/app/"
    return url.rsplit("/", 1)[0] if url.count("/") > 3 else url


class Pages:
    """The pages as a browser holding `session` (the cookie the sign-in page sets, if any) and a
    forms cookie of its own: a form goes with the token its page carries, as a browser sends it."""

    def __init__(self, http, session: str | None):
        self.http = http
        cookies = {FORMS: "this-browser-s-own"} | ({SESSION: session} if session else {})
        self.headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
        self.signed_in = session is not None
        self._token: str | None = None

    async def get(self, url: str):
        return await self.http.get(url, headers=self.headers)

    async def token(self, page: str | None = None) -> str:
        """Read from the form's page once: every form of one sign-in carries the same token."""
        if self._token is None:
            r = await self.get(page or ("/app/" if self.signed_in else "/app/sign-in"))
            self._token = form_token(r.text)
        return self._token

    async def post(self, url: str, form: dict | list, headers: dict | None = None):
        token = await self.token(form_page(url))
        form = [*form, ("_csrf", token)] if isinstance(form, list) else form | {"_csrf": token}
        return await self.http.post(url, data=form, headers=self.headers | (headers or {}))


def pages(api, staff_id: str | None = None) -> Pages:
    return Pages(api.http, f"dev-{staff_id}" if staff_id else None)


def grading_form(key: str = "k1", **changes) -> dict:
    """The grading form as a browser sends it: every field named by its path in the API's body."""
    body = grading()
    form = {"idempotency_key": key}
    for i, domain in enumerate(body["domains"]):
        form |= {
            f"domains.{i}.domain": domain["domain"],
            f"domains.{i}.grade": domain["grade"],
            f"domains.{i}.rationale": domain["rationale"],
        }
    form |= {
        "overall.grade": "good",
        "overall.rationale": "overall rationale",
        "improvement_plan.0.action": "Update the chronology",
        "improvement_plan.0.owner_id": "sw1",
        "improvement_plan.0.due_on": day(3, 1).isoformat(),
        "improvement_plan.1.action": "",
        "improvement_plan.1.owner_id": "",
        "improvement_plan.1.due_on": "",
    }
    return form | changes
