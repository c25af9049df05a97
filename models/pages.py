"""The staff pages (under `/app`) an email links to, after PUBLIC_BASE_URL: one place, so that the
emails and the pages agree. Everything about one audit (its report, dispute, safety concerns,
moderation feedback) links to the audit's page; the rest to the page of what it is about."""


def audit_page(audit_id: str) -> str:
    return f"/app/audits/{audit_id}"


def moderation_panel_page(cycle: str) -> str:
    return f"/app/moderation-panels/{cycle}"


def cycle_page(cycle: str) -> str:
    return f"/app/cycles/{cycle}"


def self_selection_page(request_id: str) -> str:
    return f"/app/self-selection-requests/{request_id}"
