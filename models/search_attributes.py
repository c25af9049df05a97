"""Typed search attributes operators filter on in the Web UI. Never personal data."""

from temporalio.common import SearchAttributeKey

AUDIT_CYCLE = SearchAttributeKey.for_keyword("AuditCycle")
AUDIT_SERVICE_AREA = SearchAttributeKey.for_keyword("AuditServiceArea")
AUDIT_KIND = SearchAttributeKey.for_keyword("AuditKind")
AUDIT_STAGE = SearchAttributeKey.for_keyword("AuditStage")
AUDIT_OVERALL_GRADE = SearchAttributeKey.for_keyword("AuditOverallGrade")
AUDIT_DUE_TIME = SearchAttributeKey.for_datetime("AuditDueTime")
AUDIT_OVERDUE = SearchAttributeKey.for_bool("AuditOverdue")

ALL = (
    AUDIT_CYCLE,
    AUDIT_SERVICE_AREA,
    AUDIT_KIND,
    AUDIT_STAGE,
    AUDIT_OVERALL_GRADE,
    AUDIT_DUE_TIME,
    AUDIT_OVERDUE,
)
