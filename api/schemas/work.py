"""Everyone's own work and the action log."""

from datetime import datetime

from pydantic import BaseModel

from models.tables import ActionLogEntry


# ---- everyone's own work -------------------------------------------------------------------------


class WorkItem(BaseModel):
    process: str  # audit, dispute, safety_concern, moderation_panel, self_selection
    id: str
    case_ref: str | None
    action: str
    until: datetime | None
    overdue: bool  # past `until`, or a step of the process is overdue
    by_role: str | None  # waiting on anyone holding this role (e.g. PIAT's quality assurance)
    link: str


# ---- operations ----------------------------------------------------------------------------------


class ActionLogPage(BaseModel):
    entries: list[ActionLogEntry]
    next_before: int | None  # pass as `before` for the next (older) page
