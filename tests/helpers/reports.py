"""Report rows built by hand (R-REP): the grades by letter, and a moderation's row of a 2027 panel."""

from datetime import UTC, datetime

from models.tables import ModerationRecord

G, O, RI, I = "good", "outstanding", "requires_improvement", "inadequate"


def at(month: int, day: int, hour: int = 17) -> datetime:
    """An instant of 2027, the hand-built rows' year (UTC)."""
    return datetime(2027, month, day, hour, tzinfo=UTC)


def moderation(mid, panel, service, original, moderated, agreed, overdue=False) -> ModerationRecord:
    return ModerationRecord(
        moderation_id=mid,
        panel_cycle=panel,
        audit_id=f"audit-{mid}",
        case_ref="C-x",
        audit_cycle="2027-01",
        service_area=service,
        auditor_id="tm2",
        moderator_id="slt1",
        original_overall=original,
        moderated_overall=moderated,
        overall_agreed=None if moderated is None else original == moderated,
        recorded_at=None if moderated is None else at(2, 20),
        overdue=overdue,
        updated_at=at(2, 20),
        domains=[{"domain": d, "original": original, "moderated": None, "agreed": a} for d, a in zip(("D1", "D2"), agreed)],
    )
