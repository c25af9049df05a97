"""A person's email preference: every email at once (the default), or the non-urgent ones only
in the weekly digest (activities/digest.py; activities/notify.py holds them back)."""

from datetime import UTC, datetime

from sqlmodel import Session

from api.schemas.email_preferences import EmailPreferences, EmailPreferencesRequest
from models.staff import StaffMember
from models.tables import EmailPreference


def email_preferences(session: Session, actor: StaffMember) -> EmailPreferences:
    row = session.get(EmailPreference, actor.id)
    if row is None:
        return EmailPreferences(digest_only=False, updated_at=None)
    return _answer(row)


def set_email_preferences(session: Session, actor: StaffMember, body: EmailPreferencesRequest, now: datetime) -> EmailPreferences:
    """Setting it again to what it is changes nothing, so a repeated request is harmless."""
    row = session.get(EmailPreference, actor.id)
    if row is None or row.digest_only != body.digest_only:
        row = row or EmailPreference(staff_id=actor.id, updated_at=now)
        row.digest_only, row.updated_at = body.digest_only, now
        session.add(row)
        session.commit()
        session.refresh(row)
    return _answer(row)


def _answer(row: EmailPreference) -> EmailPreferences:
    updated = row.updated_at.replace(tzinfo=UTC) if row.updated_at.tzinfo is None else row.updated_at  # SQLite: naive UTC
    return EmailPreferences(digest_only=row.digest_only, updated_at=updated)
