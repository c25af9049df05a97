"""My deadlines as an iCalendar feed (services/calendar_feed.py): `POST`/`DELETE
/me/calendar-feed` make and revoke my secret link, `GET /calendar/{token}.ics` is the feed a
calendar reads without signing in, the token in its path its only credential."""

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse

from api.deps import Actor, IdempotencyKey, Now, SessionDep, Svc
from api.permissions import permit
from api.schemas.calendar_feed import CalendarFeedLink, CalendarFeedRevoked
from services import calendar_feed as feeds
from services.errors import Refused

router = APIRouter(tags=["my work"])
# A secret in the answer (the link) or in the path (the feed): kept by no cache on the way.
NO_STORE = {"Cache-Control": "no-store"}


@router.post("/me/calendar-feed", status_code=201, response_model=CalendarFeedLink, dependencies=[permit("create_calendar_feed")])
def create_calendar_feed(
    actor: Actor, session: SessionDep, svc: Svc, key: IdempotencyKey, now: Now, response: Response
) -> CalendarFeedLink:
    """A new secret link to my deadlines as a calendar feed, shown this once (only its hash is
    kept); the link I had before, if any, stops working. Sent again (with or without the same
    key) it makes another link, as the first cannot be shown again: the link last answered is
    always my one live link."""
    response.headers.update(NO_STORE)
    return feeds.new_feed(session, actor, now, svc.settings.public_base_url)


@router.delete(
    "/me/calendar-feed",
    response_model=CalendarFeedRevoked,
    dependencies=[permit("revoke_calendar_feed")],
    responses={404: {"description": "I have no live link to revoke"}},
)
def revoke_calendar_feed(actor: Actor, session: SessionDep, key: IdempotencyKey, now: Now) -> CalendarFeedRevoked:
    """My link stops working: a calendar subscribed to it is answered 404 from then on. Sent
    again, it changes nothing and says so (404: no link to revoke)."""
    feeds.revoke_feed(session, actor, now)
    return CalendarFeedRevoked(revoked_at=now)


@router.get(
    "/calendar/{token}.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "the feed: one event a deadline, in London time"},
        404: {"content": {"text/plain": {}}, "description": "no live feed at this link (revoked or replaced)"},
    },
)
async def calendar_feed(token: str, svc: Svc, now: Now) -> Response:
    """The feed a calendar subscribes to (no sign-in: the token is the credential). Everything
    waiting on the link's owner that has a deadline, each an event at that deadline."""
    settings = svc.settings
    try:
        body = await svc.in_session(feeds.feed, token, svc.directory, now, settings.public_base_url, settings.timezone)
    except Refused as missing:  # plain words: a calendar shows them, a person may read them
        return PlainTextResponse(missing.detail, status_code=missing.status_code, headers=NO_STORE)
    return Response(body, media_type="text/calendar; charset=utf-8", headers=NO_STORE)
