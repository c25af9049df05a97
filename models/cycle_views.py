"""What a cycle workflow (`cycle-YYYY-MM`) carries and shows: its window, what it opened with,
its theme and, at its end, the non-completion report to each Head of Service (R-QA-4)."""

from datetime import datetime

from pydantic import BaseModel, Field

from models.limits import Theme
from models.payloads import HistoryEntry
from models.projections import Projection

# The stages of an audit whose auditor has not yet completed it (R-QA-4): not yet submitted to
# QA, returned for revision, or not accepted. An audit awaiting QA is the auditor's part done.
NOT_COMPLETE_STAGES = ("allocated", "initially_graded", "finally_graded", "revisions_requested", "not_accepted")


class CycleInput(BaseModel):
    """What the schedule (or PIAT's first word about a cycle) starts it with."""

    cycle: str
    moderation_per_service: int = 2  # R-MOD-2: audits drawn per service for the panel


class CycleStarterInput(BaseModel):
    """The Schedule's fixed argument: the cycle is the month it fires in."""

    moderation_per_service: int = 2


class CycleOpening(BaseModel):
    """What the cycle holds when it opens (counts; `GET /cycles/{cycle}` lists them)."""

    allocated: int
    reaudits_due: int
    carried_over: int


class LateAudit(BaseModel):
    """One audit not complete when a cycle closed: one the cycle held, or one of another cycle
    past its completion deadline."""

    audit_id: str
    case_ref: str
    kind: str
    auditor_id: str
    stage: str
    completion_due: datetime | None
    days_late: int = Field(description="calendar days past its due time when the cycle closed; 0 if not yet due")
    cycle: str | None = Field(default=None, description="the cycle it was allocated in (None in reports made before it was kept)")


class ServiceNonCompletion(BaseModel):
    """R-QA-4: one service's section of the report, sent to its Head of Service."""

    service_area: str
    head_of_service_ids: list[str]
    sent_to: list[str]  # its Heads of Service; with none in the directory, the PI&A Manager
    allocated: int
    not_complete: list[LateAudit]
    # Due a month after allocation, an audit allocated late in its cycle falls due after that
    # cycle's close: every later close lists it here while it stays incomplete.
    overdue_from_other_cycles: list[LateAudit] = Field(default_factory=list)


class ThemeChange(BaseModel):
    """`PUT /cycles/{cycle}/theme`: the topic the senior management group chose (R-KIND-3)."""

    theme: Theme


class CycleRow(Projection):
    """The cycle's projection (the `cycle` table)."""

    cycle: str
    status: str
    theme: str | None
    opens_at: datetime
    closes_at: datetime
    reported_at: datetime | None
    updated_at: datetime


class CycleView(BaseModel):
    """The cycle workflow's own view (its query): the API adds the audits it lists."""

    cycle: str
    status: str  # planned (before it opens), open, closed
    theme: str | None
    opens_at: datetime | None
    closes_at: datetime | None
    opened_with: CycleOpening | None
    non_completion: list[ServiceNonCompletion] | None
    reported_at: datetime | None
    moderation_panel_id: str | None
    history: list[HistoryEntry]
