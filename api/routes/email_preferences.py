"""`/me/email-preferences`: whether my non-urgent emails come only in the weekly digest."""

from fastapi import APIRouter

from api.deps import Actor, IdempotencyKey, Now, SessionDep
from api.permissions import permit
from api.schemas.email_preferences import EmailPreferences, EmailPreferencesRequest
from services import email_preferences as preferences

router = APIRouter(tags=["my work"])


@router.get("/me/email-preferences", response_model=EmailPreferences, dependencies=[permit("get_email_preferences")])
def get_email_preferences(actor: Actor, session: SessionDep) -> EmailPreferences:
    """Mine; never set, every email comes at once."""
    return preferences.email_preferences(session, actor)


@router.put("/me/email-preferences", response_model=EmailPreferences, dependencies=[permit("set_email_preferences")])
def set_email_preferences(
    body: EmailPreferencesRequest, actor: Actor, session: SessionDep, key: IdempotencyKey, now: Now
) -> EmailPreferences:
    """`digest_only: true`: emails that ask nothing urgent of me come only in the weekly digest
    (safety concerns and deadlines within a working day still come at once). It sets a value, so
    sending it again (with or without the same key) changes nothing."""
    return preferences.set_email_preferences(session, actor, body, now)
