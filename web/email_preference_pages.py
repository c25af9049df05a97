"""The email preference form on My work (`/app/`): every email at once, or the non-urgent ones
only in the weekly digest. The same service as `PUT /me/email-preferences`."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import Now, Svc
from api.permissions import authorise
from api.schemas.email_preferences import EmailPreferencesRequest
from services import email_preferences
from web.forms import read_form
from web.render import Refusal, error_page, refusal, see_other
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)
CHOICES = {"false": False, "true": True}  # the form's two radios


@router.post("/email-preferences")
async def set_email_preferences(request: Request, actor: PageActor, svc: Svc, now: Now) -> Response:
    form = await read_form(request)
    try:
        await authorise("set_email_preferences", actor, svc, {})
        choice = form.get("digest_only")
        if choice not in CHOICES:
            raise Refusal(
                422, "Choose how your emails reach you: every email at once, or the non-urgent ones in the weekly digest."
            )
        body = EmailPreferencesRequest(digest_only=CHOICES[choice])
        await svc.in_session(email_preferences.set_email_preferences, actor, body, now)
    except Exception as error:  # noqa: BLE001 - the refusal's page says what to do
        return error_page(request, actor, await refusal(request, error))
    return see_other("/app/?done=email-preferences#email-preferences")
