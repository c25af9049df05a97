"""SQLModel tables. Only activities write them; the API reads them."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Column, Index, Integer, false, text
from sqlmodel import Field, SQLModel


def view_current() -> Any:  # a sqlmodel Field, which stands in for the column's bool
    """A projection's column: True when `view` is the process's view as of the row's last save
    (every save of a run begun since the `lean-steps` patch, and every run's last), so the API
    answers a staff action from the row; False when it is only the first save's view, and the
    API asks the workflow (migration 0013)."""
    return Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))


class AuditRecord(SQLModel, table=True):
    """A projection of each audit workflow for listing and filtering (`GET /audits`)."""

    __tablename__ = "audit"

    audit_id: str = Field(primary_key=True)
    case_ref: str = Field(index=True)
    cycle: str = Field(index=True)
    service_area: str = Field(index=True)
    kind: str = Field(index=True)
    stage: str = Field(index=True)
    auditor_id: str = Field(index=True)
    practitioner_id: str
    team_manager_id: str
    head_of_service_id: str | None = None  # as the audit names them (the permission check reads it)
    cp_chair_or_iro_id: str | None = Field(default=None, index=True)  # a CP Chair / IRO lists theirs
    overall_grade: str | None = None
    overdue: bool = Field(default=False, index=True)
    completion_due: datetime | None = None
    reaudit_round: int = Field(default=0, index=True)
    follows_audit_id: str | None = None
    chain_id: str = Field(index=True)
    escalation: str = "none"
    carried_into_cycle: str | None = Field(default=None, index=True)  # R-QA-3: not accepted, due in this cycle
    reaudit_cycle: str | None = Field(default=None, index=True)  # R-RE-1: the cycle of the re-audit it plans
    updated_at: datetime
    # What the reports count (reports/facts.AuditFacts), current at every save; None on rows
    # saved before migration 0012 (the reports then read the saved view).
    facts: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # When the grading became final (on Mosaic), which the moderation draw goes by; None on rows
    # saved before migration 0017 (the draw then goes by the audit's cycle).
    final_at: datetime | None = Field(default=None, index=True)
    view: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the last AuditView
    view_current: bool = view_current()


class DisputeRecord(SQLModel, table=True):
    """A projection of each dispute workflow for `GET /disputes`."""

    __tablename__ = "dispute"

    dispute_id: str = Field(primary_key=True)
    audit_id: str = Field(index=True)
    level: str = Field(index=True)
    step: str = Field(index=True)
    status: str = Field(index=True)  # open, resolved, unresolved, withdrawn
    overdue: bool = Field(default=False, index=True)
    raised_by: str
    updated_at: datetime
    view: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the last DisputeView
    view_current: bool = view_current()


class NotificationRecord(SQLModel, table=True):
    """Every email, Mosaic case note and alert. The unique key makes sends idempotent, and the
    table is the email outbox: a row is committed `pending`, then the relay delivers and marks it."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    audit_id: str = Field(index=True)
    channel: str
    recipient_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    subject: str
    body: str
    at: datetime
    delivery: str = Field(default="pending", index=True)  # pending, sent, not_delivered
    reason: str | None = None  # who was skipped, or why it was not delivered
    addresses: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # email only
    attempts: int = 0  # SMTP attempts so far
    last_error: str | None = None  # why the last SMTP attempt failed
    next_attempt_at: datetime | None = Field(default=None, index=True)  # the relay's backoff
    sent_at: datetime | None = None
    urgent: bool = False  # marked high importance (a safety concern)
    # Email: each address the mail server refused and has not taken since, with its answer
    # ("452 4.2.2 Mailbox full"); a pending email is retried for the temporarily refused alone.
    refused: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    deferrals: int = 0  # temporary refusals (4xx) of this email, given up at EMAIL_MAX_DEFERRALS


class SafetyConcernRecord(SQLModel, table=True):
    """A projection of each safety concern workflow for `GET /safety-concerns`."""

    __tablename__ = "safety_concern"

    concern_id: str = Field(primary_key=True)
    audit_id: str = Field(index=True)
    case_ref: str | None = None  # the case it is about (rows saved before it was kept: none)
    raised_by: str
    team_manager_id: str = Field(index=True)
    open: bool = Field(index=True)
    escalation: str = Field(index=True)
    overdue: bool = Field(default=False, index=True)
    raised_at: datetime
    updated_at: datetime
    view: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the whole view, as `view_current` says
    view_current: bool = view_current()


class ActionLogEntry(SQLModel, table=True):
    """Every request that acts, allowed or refused, and every read of a child's records.
    Append-only: the database refuses to update a row, or delete one before its retention has
    passed (triggers in migrations/versions/0004_action_log.py and 0019_retention.py)."""

    __tablename__ = "action_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    request_id: str
    actor_id: str | None = Field(default=None, index=True)  # None: the token named nobody
    method: str
    route: str  # the route's template, e.g. /audits/{audit_id}/qa
    target_id: str | None = None  # the audit, dispute or concern as the path named it
    audit_id: str | None = Field(default=None, index=True)  # the audit it is about
    status: int  # the HTTP status answered: 2xx done, 4xx refused


class Purged(SQLModel, table=True):
    """Each retention purge of a table (activities/retention.py): how many rows, up to when.
    Append-only, as the log is."""

    __tablename__ = "purged"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)  # when the purge ran
    table_name: str  # notification (bodies blanked) or action_log (rows deleted)
    before: datetime  # what was older than this went
    rows: int


class RetentionFloor(SQLModel, table=True):
    """The shortest retention the database lets a purge go to, per table: on PostgreSQL only the
    owner role may change it (migrations/versions/0019_retention.py)."""

    __tablename__ = "retention_floor"

    table_name: str = Field(primary_key=True)
    days: int = Field(sa_column=Column(Integer, CheckConstraint("days >= 1"), nullable=False))


class OpenCase(SQLModel, table=True):
    """The open-case list imported from Mosaic (`POST /cases/import`): identifiers only."""

    __tablename__ = "open_case"

    case_ref: str = Field(primary_key=True)
    service_area: str = Field(index=True)
    practitioner_id: str = Field(index=True)
    team: str = Field(index=True)  # the practitioner's, from the staff directory at import
    involvement_start: date
    cp_chair_or_iro_id: str | None = None
    imported_at: datetime


class Selection(SQLModel, table=True):
    """A cycle's proposed cases and auditors (`POST /cycles/{cycle}/selections`), and what its
    confirmation started."""

    __tablename__ = "selection"

    selection_id: str = Field(primary_key=True)
    cycle: str = Field(index=True)
    per_team: int
    seed: int  # the same seed on the same case list gives the same cases
    theme: str | None = None
    created_by: str
    created_at: datetime
    proposal: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))  # [{case_ref, kind, auditor_id}]
    confirmed: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )  # [{case_ref, audit_id | refused}]


class CycleRecord(SQLModel, table=True):
    """A projection of each cycle workflow (`cycle-YYYY-MM`): its theme and window, and its whole
    view with the non-completion report (R-QA-4) once it has closed. `GET /cycles` fills in the
    months not yet started."""

    __tablename__ = "cycle"

    cycle: str = Field(primary_key=True)
    status: str = Field(index=True)  # planned, open, closed
    theme: str | None = None  # themed cycles (R-KIND-3)
    opens_at: datetime
    closes_at: datetime
    reported_at: datetime | None = None  # when its non-completion report was sent (R-QA-4)
    updated_at: datetime
    view: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the whole CycleView, as `view_current` says
    view_current: bool = view_current()


class SelfSelectionRecord(SQLModel, table=True):
    """A projection of each self-selection request's workflow (`self-selection-<request id>`,
    R-ALLOC-2): its whole view, which `GET /self-selection-requests/{id}` reads (migration 0015)."""

    __tablename__ = "self_selection"

    request_id: str = Field(primary_key=True)
    case_ref: str
    cycle: str
    requested_by: str
    head_of_service_id: str | None = None
    status: str  # awaiting_decision, approved, refused, unanswered, not_allocated
    due: datetime | None = None
    updated_at: datetime
    view: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the whole SelfSelectionView
    view_current: bool = view_current()


class WaitingRecord(SQLModel, table=True):
    """What each running process waits for now, from whom: one row per person (or per role, when
    anyone holding it may act). Replaced whole at each save of the process's row; `GET /me/work`."""

    __tablename__ = "waiting"

    id: int | None = Field(default=None, primary_key=True)
    process: str = Field(index=True)  # audit, dispute, safety_concern, moderation_panel, self_selection
    process_id: str = Field(index=True)
    case_ref: str | None = None
    staff_id: str | None = Field(default=None, index=True)
    role: str | None = Field(default=None, index=True)
    action: str
    until: datetime | None = None
    overdue: bool = False  # the process has a step past its deadline


class MosaicOutbox(SQLModel, table=True):
    """The default Mosaic adapter's outbox: case notes and alerts for an integration to drain."""

    __tablename__ = "mosaic_outbox"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    case_ref: str = Field(index=True)
    kind: str  # "case_note" | "alert"
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime
    drained_at: datetime | None = None


class ModerationPanelRecord(SQLModel, table=True):
    """A projection of each moderation panel workflow (`moderation-YYYY-MM`, R-MOD-1): its draw's
    seed and its whole view, for when the history is gone (at every save of a run begun since
    the `lean-steps` patch; first and last before)."""

    __tablename__ = "moderation_panel"

    cycle: str = Field(primary_key=True)
    status: str = Field(index=True)  # drawing, moderating, completed
    seed: int  # R-MOD-2: the same seed on the same audits draws the same ones
    per_service: int
    opened_at: datetime
    due: datetime | None = None
    overdue: bool = Field(default=False, index=True)
    updated_at: datetime
    view: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the whole ModerationPanelView
    view_current: bool = view_current()  # migration 0015


class ModerationRecord(SQLModel, table=True):
    """One moderated audit, original against moderated grades: what the quarterly report counts
    (R-MOD-4; models/agreement.py)."""

    __tablename__ = "moderation"

    moderation_id: str = Field(primary_key=True)  # "<panel cycle>-m<nn>"
    panel_cycle: str = Field(index=True)
    audit_id: str = Field(index=True)
    case_ref: str
    audit_cycle: str
    service_area: str = Field(index=True)
    auditor_id: str
    moderator_id: str | None = Field(default=None, index=True)
    due: datetime | None = None
    recorded_at: datetime | None = None
    overdue: bool = False
    original_overall: str
    moderated_overall: str | None = None
    overall_agreed: bool | None = None
    domains: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))  # [{domain, original, moderated, agreed}]
    updated_at: datetime


class EmailPreference(SQLModel, table=True):
    """How a person takes the emails that ask nothing urgent of them (`PUT /me/email-preferences`):
    with `digest_only`, in the weekly digest alone (activities/digest.py). A safety concern and a
    deadline within a working day are emailed at once whatever it says (activities/notify.py).
    Written by the API (services/email_preferences.py), not an activity."""

    __tablename__ = "email_preferences"

    staff_id: str = Field(primary_key=True)
    digest_only: bool = False
    updated_at: datetime


class CalendarFeed(SQLModel, table=True):
    """A person's secret link to their deadlines as an iCalendar feed (`GET /calendar/<token>.ics`,
    services/calendar_feed.py): written by the API, not an activity. Only the token's SHA-256 is
    kept, so the table alone opens no feed; the link is shown once, when made. One live link a
    person: making a new one revokes the old (the partial unique index holds it under a race)."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        Index(
            "ix_calendar_feeds_one_live",
            "staff_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    staff_id: str = Field(index=True)
    token_hash: str = Field(unique=True)  # hex SHA-256 of the token in the link
    created_at: datetime
    revoked_at: datetime | None = None
