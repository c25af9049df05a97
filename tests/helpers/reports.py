"""Report rows built by hand (R-REP): the grades by letter, and a moderation's row. The pure report
tests work their figures by hand in one fixed year (`HAND_WORKED`, no clock involved); a test on
the skipped clock passes the suite's own year."""

from datetime import UTC, datetime

from models.tables import ModerationRecord

G, O, RI, I = "good", "outstanding", "requires_improvement", "inadequate"


HAND_WORKED = 2027


def at(month: int, day: int, hour: int = 17, year: int = HAND_WORKED) -> datetime:
    """An instant of the rows' year (UTC)."""
    return datetime(year, month, day, hour, tzinfo=UTC)


def moderation(mid, panel, service, original, moderated, agreed, overdue=False, year: int = HAND_WORKED) -> ModerationRecord:
    return ModerationRecord(
        moderation_id=mid,
        panel_cycle=panel,
        audit_id=f"audit-{mid}",
        case_ref="C-x",
        audit_cycle=f"{year}-01",
        service_area=service,
        auditor_id="tm2",
        moderator_id="slt1",
        original_overall=original,
        moderated_overall=moderated,
        overall_agreed=None if moderated is None else original == moderated,
        recorded_at=None if moderated is None else at(2, 20, year=year),
        overdue=overdue,
        updated_at=at(2, 20, year=year),
        domains=[{"domain": d, "original": original, "moderated": None, "agreed": a} for d, a in zip(("D1", "D2"), agreed)],
    )
