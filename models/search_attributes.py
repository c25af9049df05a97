"""Typed search attributes operators filter on in the Web UI. Never personal data."""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

if TYPE_CHECKING:
    from models.payloads import AuditInput

AUDIT_CYCLE = SearchAttributeKey.for_keyword("AuditCycle")
AUDIT_SERVICE_AREA = SearchAttributeKey.for_keyword("AuditServiceArea")
AUDIT_KIND = SearchAttributeKey.for_keyword("AuditKind")
AUDIT_STAGE = SearchAttributeKey.for_keyword("AuditStage")
AUDIT_OVERALL_GRADE = SearchAttributeKey.for_keyword("AuditOverallGrade")
AUDIT_DUE_TIME = SearchAttributeKey.for_datetime("AuditDueTime")
AUDIT_REAUDIT_ROUND = SearchAttributeKey.for_int("AuditReauditRound")
AUDIT_CHAIN = SearchAttributeKey.for_keyword("AuditChain")  # the first audit's ID: links a case's chain
DISPUTE_LEVEL = SearchAttributeKey.for_keyword("DisputeLevel")
DISPUTE_STEP = SearchAttributeKey.for_keyword("DisputeStep")
SAFETY_CONCERN_OPEN = SearchAttributeKey.for_bool("SafetyConcernOpen")
# Shared by the processes that have one (filter by WorkflowType to tell them apart): PostgreSQL's
# visibility store has 10 Keyword and 3 Bool slots per namespace, and one name per meaning leaves
# an operator room for an attribute of their own of each type.
OVERDUE = SearchAttributeKey.for_bool("Overdue")  # an audit's or a dispute's step is past its deadline
ESCALATION = SearchAttributeKey.for_keyword("Escalation")  # how far up an audit or a safety concern has gone
# Temporal's own: when a Schedule meant a run to start, which a late (caught-up) run keeps.
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")

ALL = (
    AUDIT_CYCLE,
    AUDIT_SERVICE_AREA,
    AUDIT_KIND,
    AUDIT_STAGE,
    AUDIT_OVERALL_GRADE,
    AUDIT_DUE_TIME,
    AUDIT_REAUDIT_ROUND,
    AUDIT_CHAIN,
    DISPUTE_LEVEL,
    DISPUTE_STEP,
    SAFETY_CONCERN_OPEN,
    OVERDUE,
    ESCALATION,
)


def at_allocation(audit: "AuditInput") -> TypedSearchAttributes:
    """What an audit workflow starts with, so operators find it before its first task runs."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(AUDIT_CYCLE, audit.cycle),
            SearchAttributePair(AUDIT_SERVICE_AREA, audit.service_area.value),
            SearchAttributePair(AUDIT_KIND, audit.kind.value),
            SearchAttributePair(AUDIT_STAGE, "allocated"),
            SearchAttributePair(OVERDUE, False),
            SearchAttributePair(AUDIT_REAUDIT_ROUND, audit.reaudit_round),
            SearchAttributePair(ESCALATION, "none"),
            SearchAttributePair(AUDIT_CHAIN, audit.chain),
        ]
    )


def of_audit(
    audit: "AuditInput", stage: str, grade: str | None, due: datetime | None, overdue: bool, escalation: str
) -> dict[SearchAttributeKey[Any], object]:
    """An audit's search attributes now (None unsets one): what operators filter in the Web UI."""
    return {
        AUDIT_CYCLE: audit.cycle,
        AUDIT_SERVICE_AREA: audit.service_area.value,
        AUDIT_KIND: audit.kind.value,
        AUDIT_STAGE: stage,
        AUDIT_OVERALL_GRADE: grade,
        AUDIT_DUE_TIME: due,
        OVERDUE: overdue,
        AUDIT_REAUDIT_ROUND: audit.reaudit_round,
        ESCALATION: escalation,
        AUDIT_CHAIN: audit.chain,
    }
