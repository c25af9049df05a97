"""My work's "Subscribe in Outlook" section (`/app/`): get (or replace) the secret link to one's deadlines
as a calendar feed, shown once, and revoke it. The same service as `POST`/`DELETE
/me/calendar-feed` (services/calendar_feed.py).

Post/Redirect/Get, yet the link is shown once and only its hash is kept: the new link's token rides
to the page the form leads to in a cookie of its own (as the pages' others, `__Host-`, HttpOnly,
SameSite=Strict, and gone within minutes), which that page shows and clears, so a reload or the
back button shows it no more."""

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import Now, Svc
from api.permissions import authorise
from services import calendar_feed as feeds
from services.context import Services
from web.render import error_page, refusal, see_other
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)
SHOWN = "__Host-qsaf_calendar_link"
SHOWN_SECONDS = 300  # long enough for the redirect, however slow the line
DONE = {"calendar-link": "made", "calendar-revoked": "revoked"}


@router.post("/calendar-feed")
async def make_calendar_feed(request: Request, actor: PageActor, svc: Svc, now: Now) -> Response:
    try:
        await authorise("create_calendar_feed", actor, svc, {})
        link = await svc.in_session(feeds.new_feed, actor, now, svc.settings.public_base_url)
    except Exception as error:  # noqa: BLE001 - the refusal's page says what to do
        return error_page(request, actor, await refusal(request, error))
    response = see_other("/app/?done=calendar-link#calendar-feed")
    response.set_cookie(SHOWN, link.token, max_age=SHOWN_SECONDS, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.post("/calendar-feed/revoke")
async def revoke_calendar_feed(request: Request, actor: PageActor, svc: Svc, now: Now) -> Response:
    try:
        await authorise("revoke_calendar_feed", actor, svc, {})
        await svc.in_session(feeds.revoke_feed, actor, now)
    except Exception as error:  # noqa: BLE001 - e.g. 404: no link to revoke (revoked in another tab)
        return error_page(request, actor, await refusal(request, error))
    response = see_other("/app/?done=calendar-revoked#calendar-feed")
    _forget(response)
    return response


async def panel(request: Request, actor: PageActor, svc: Services) -> dict[str, Any]:
    """What the section shows: when the live link was made, and the link itself only on the page
    the form led to, while it is still the live one."""
    made_at = await svc.in_session(feeds.live_feed_made, actor)
    token = request.cookies.get(SHOWN)
    live = bool(made_at and token and await svc.in_session(feeds.is_live, token))
    shown = feeds.feed_url(svc.settings.public_base_url, token) if live and token else None
    webcal = "webcal" + shown.removeprefix("https").removeprefix("http") if shown else None
    return {"made_at": made_at, "url": shown, "webcal": webcal, "done": DONE.get(request.query_params.get("done", ""))}


def shown_once(request: Request, response: Response) -> None:
    """On the page that showed the link: clear it, and keep the page out of every cache."""
    if SHOWN in request.cookies:
        _forget(response)
        response.headers["Cache-Control"] = "no-store"


def _forget(response: Response) -> None:
    response.delete_cookie(SHOWN, path="/", secure=True, httponly=True, samesite="strict")
