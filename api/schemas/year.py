"""The audit year's requests and answers: self-selection, cycles, selection, the open-case list and
moderation panels."""

from datetime import date, datetime

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from api.schemas import Request
from models.cycle_views import ServiceNonCompletion, ThemeChange
from models.moderation import ModerationFindings
from models.enums import AuditKind, Grade, ServiceArea
from models.limits import CASE_REF, MAX_CONFIRMED, DomainName, Identifier, Items, RequiredText, StaffId, Text, Theme
from models.self_selection import SelfSelectionDecision, Status


# ---- self-selection (R-ALLOC-2) ----------------------------------------------------------------


# What the case's row in the open-case list decides, and who the auditor is: sent by the asker,
# they could pick the practitioner and so the Head of Service who approves.
FROM_THE_CASE = ("service_area", "practitioner_id", "involvement_start", "cp_chair_or_iro_id")


class SelfSelectionRequest(BaseModel):
    """The case the auditor asks to audit (they are its auditor), the audit they ask for, and why.
    Its service, practitioner (and so Head of Service) and CP Chair / IRO are the open-case list's."""

    case_ref: Identifier = Field(pattern=CASE_REF, description="a case on the open-case list (`POST /cases/import`)")
    kind: AuditKind
    cycle: str = Field(max_length=7, description='"YYYY-MM", a month holding an audit cycle (not August or December)')
    theme: Theme | None = Field(default=None, description="themed audits only (R-KIND-3)")
    reason: RequiredText

    @model_validator(mode="before")
    @classmethod
    def _refuse_what_the_case_decides(cls, data):
        """Refused, not ignored: a client sending them could believe they took effect."""
        if not isinstance(data, dict):
            return data
        if "auditor_id" in data:
            raise PydanticCustomError("asker_is_auditor", "auditor_id: the auditor is whoever asks; leave it out")
        if sent := [f for f in FROM_THE_CASE if f in data]:
            raise PydanticCustomError(
                "from_the_case", "{fields}: taken from the open-case list; leave them out", {"fields": ", ".join(sent)}
            )
        return data


class SelfSelectionDecisionRequest(Request):
    """`POST /self-selection-requests/{id}/decision`: the Head of Service's answer."""

    payload = SelfSelectionDecision
    approve: bool
    comment: Text = ""


class SelfSelectionSummary(BaseModel):
    request_id: str
    case_ref: str
    cycle: str
    requested_by: str
    head_of_service_id: str | None
    status: Status
    due: datetime | None
    updated_at: datetime


# ---- cycles (R-CAL-3, R-CAL-4, R-QA-4) ---------------------------------------------------------


class ThemeChangeRequest(Request):
    """`PUT /cycles/{cycle}/theme`: the topic the senior management group chose (R-KIND-3)."""

    payload = ThemeChange
    theme: Theme


class AuditBrief(BaseModel):
    audit_id: str
    case_ref: str
    service_area: str
    kind: str
    auditor_id: str
    stage: str
    completion_due: datetime | None
    overdue: bool


class CycleSummary(BaseModel):
    cycle: str
    month: str
    kind: str  # for every service but MASH, whose audits run in every cycle (R-KIND-4)
    theme: str | None
    second_activity: str  # re-audits or moderation (R-CAL-4)
    first_working_day: date
    last_working_day: date
    status: str  # not started, planned, open, closed
    audits_by_stage: dict[str, int]
    reaudits_due: int
    carried_over: int


class CycleDetail(CycleSummary):
    allocated_audits: list[AuditBrief]
    reaudits: list[AuditBrief]  # a planned re-audit shows the audit that plans it (stage reaudit_planned)
    carried_over_audits: list[AuditBrief]
    opened_with: dict | None
    moderation_panel_id: str | None
    history: list[dict]


class NonCompletionReport(BaseModel):
    cycle: str
    reported_at: datetime
    services: list[ServiceNonCompletion]


# ---- selection (R-ALLOC-1, R-KIND-1..4) -----------------------------------------------------------


class SelectionRequest(BaseModel):
    per_team: int = Field(ge=1, le=50, description="cases to draw from each team")
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1, description="to repeat a draw; recorded either way")
    theme: Theme | None = Field(default=None, description="themed cycles: the topic (R-KIND-3), if not set for the cycle")


class ProposedAllocation(BaseModel):
    case_ref: Identifier
    kind: AuditKind
    auditor_id: Identifier | None


class Confirmation(BaseModel):
    allocations: list[ProposedAllocation] = Field(
        max_length=MAX_CONFIRMED, description="the proposal as PIAT adjusted it: any of its cases"
    )


class Confirmed(BaseModel):
    case_ref: str
    audit_id: str | None = None
    refused: str | None = None


class SelectionOut(BaseModel):
    selection_id: str
    cycle: str
    per_team: int
    seed: int
    theme: str | None
    proposal: list[ProposedAllocation]
    confirmed: list[Confirmed]


# ---- the open-case list (R-ALLOC-1) ----------------------------------------------------------------


class RefusedRow(BaseModel):
    row: int  # the file's line number (the header is line 1)
    reason: str


class ImportResult(BaseModel):
    imported: int
    ignored_columns: list[str]


class CaseOut(BaseModel):
    case_ref: str
    service_area: ServiceArea
    practitioner_id: str
    team: str
    involvement_start: date
    cp_chair_or_iro_id: str | None


# ---- moderation panels (R-MOD) -------------------------------------------------------------------


class AgreementIn(BaseModel):
    agree: bool
    moderated_grade: Grade | None = Field(default=None, description="the moderator's grade, only when they disagree")

    @model_validator(mode="after")
    def _grade_only_when_disagreeing(self) -> "AgreementIn":
        if not self.agree and self.moderated_grade is None:
            raise ValueError("moderated_grade is required when you disagree: give the grade you would award")
        if self.agree and self.moderated_grade is not None:
            raise ValueError("moderated_grade only when you disagree (agree is true)")
        return self


class DomainAgreementIn(AgreementIn):
    domain: DomainName


class ModerationFindingsRequest(Request):
    """`POST /moderations/{id}/record`: the moderation template."""

    payload = ModerationFindings
    domains: Items[DomainAgreementIn] = Field(min_length=1, description="every domain of the audit, once")
    overall: AgreementIn
    feedback: RequiredText = Field(description="written feedback to the auditor (R-MOD-4)")
    met_auditor_on: date = Field(description="when the moderator met the auditor (R-MOD-3)")


class ModeratorChangeRequest(BaseModel):
    """`PUT /moderation-panels/{cycle}/moderations/{audit_id}/moderator` (services/moderation.py
    passes the moderator on)."""

    moderator_id: StaffId = Field(description="an SLT moderator who neither audited nor was audited in it")


class PanelRequest(BaseModel):
    per_service: int | None = Field(
        default=None, ge=1, le=50, description="audits drawn per service area (MODERATION_PER_SERVICE)"
    )
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1, description="to repeat a draw; recorded either way")
