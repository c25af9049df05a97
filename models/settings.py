"""Configuration from environment variables (names and defaults as docs/configuration.md lists them)."""

from datetime import date, time
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic import field_validator
from typing import Annotated, Literal

from models.staff_ldap import LdapSettings

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "audits"
    database_url: str = f"sqlite:///{ROOT / '.data' / 'qsaf.db'}"
    # A SQLite file's sync at each commit. normal: in WAL mode, synced at checkpoints; a killed
    # process loses nothing committed, a power cut may lose the last commits (as `make dev`'s
    # Temporal server, whose file is set the same way). full: every commit synced (about 4 ms on
    # this machine's disk, and an action commits two to four times). Not used for PostgreSQL.
    sqlite_synchronous: Literal["normal", "full"] = "normal"
    # true: each process brings the schema up to date as it starts (`make dev`, the tests). false:
    # production, where migrating is a step of its own (`make migrate`, compose's `migrate` job)
    # and a process finding the schema behind the code refuses to start, naming the step.
    migrate_at_start: bool = True
    # PostgreSQL's connection pool, per process (the API and each worker hold one).
    database_pool_size: int = Field(default=5, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    database_pool_timeout_seconds: float = Field(default=30, gt=0)  # waiting for a free connection
    database_pool_recycle_seconds: int = 1800  # before a firewall or proxy drops an idle connection
    database_connect_timeout_seconds: int = Field(default=10, ge=1)
    smtp_host: str = "localhost"
    smtp_port: int = 1025
    smtp_sender: str = "audit-team@council.example"
    # Where staff open the service's pages (the API's address; `make dev`'s by default): every
    # email links to its audit's page under it, `<PUBLIC_BASE_URL>/app/audits/<audit id>`.
    public_base_url: str = "http://localhost:8000"
    # oidc: JWTs from the council's identity provider. dev: the token is `dev-<staff id>`, anyone
    # can be anyone, so the API refuses to start with it unless ALLOW_DEV_AUTH=true as well.
    auth_mode: Literal["oidc", "dev"] = "oidc"
    allow_dev_auth: bool = False
    oidc_jwks_url: str = ""  # https://... or file:///path/to/jwks.json
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_staff_claim: str = "sub"  # the claim holding the staff ID
    # How long the identity provider's keys are trusted before its JWKS is read again, so a key it
    # withdraws (a leaked one, say) is refused within this long. 300 s: one small GET per API
    # process every 5 minutes, against an hour of a withdrawn key still signing people in at 3600.
    # A `kid` not in the set reads it again at once (a rotation), but no more often than the
    # cooldown, so tokens naming made-up kids cannot make the API hammer the identity provider.
    oidc_jwks_lifespan_seconds: float = Field(default=300, gt=0)
    oidc_jwks_cooldown_seconds: float = Field(default=30, ge=0)
    # A .toml or .csv file's path, re-read whenever the file changes, or `ldap`: the council's
    # directory (STAFF_LDAP_*), searched again every STAFF_DIRECTORY_REFRESH_SECONDS (docs/directory.md).
    staff_directory: Literal["ldap"] | Path = ROOT / "data" / "staff.dev.toml"
    staff_directory_refresh_seconds: float = Field(default=300, gt=0)
    staff_ldap: LdapSettings = Field(default_factory=LdapSettings)  # its own STAFF_LDAP_* variables
    email_retry_max_seconds: float = 300  # the relay's longest wait between SMTP attempts
    email_relay_poll_seconds: float = 5  # how often the relay looks for retries that fell due
    # How often the mail server may defer one email (a 4xx for it: a full mailbox, greylisting)
    # before it is `not_delivered` and the PI&A Manager told: about an hour at the default
    # EMAIL_RETRY_MAX_SECONDS, inside a safety concern's 2 hours. An unreachable server counts none.
    email_max_deferrals: int = Field(default=20, ge=1)
    # How long the app keeps what it holds, purged weekly (activities/retention.py). Conservative
    # defaults only: set both from the council's records-retention policy for children's social
    # care, on its records manager's advice (docs/production.md, "Retention"). Emails, case notes
    # and alerts: their subject and body are blanked this long after they were sent (the row stays
    # for the delivery counts). The action log: rows deleted this long after, and never sooner
    # than the database's own `retention_floor` allows.
    retention_notification_days: int = Field(default=730, ge=1)
    retention_action_log_days: int = Field(default=2557, ge=1)
    # The weekly digest (activities/digest.py, the worker's `weekly-digest` Schedule): one email a
    # person of everything waiting on them, on this day at this hour, London time (TIMEZONE).
    digest_day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    digest_hour: int = Field(default=7, ge=0, le=23)
    # true: `python worker.py` delivers the outbox itself, woken by each email it queues. false:
    # the relay runs as its own process, `python worker.py --relay`, finding new emails by
    # polling, and the worker's interpreter is the workflows' alone (docs/performance.md).
    worker_email_relay: bool = True
    # register: the worker adds any of models/search_attributes.py the server lacks (`make dev`,
    # the tests), which takes operator rights. verify: it only checks they are all there, of
    # their types, and refuses to start otherwise; production, where the bootstrap job
    # (deploy/temporal-bootstrap.sh) registers them and the worker holds no operator rights.
    worker_search_attributes: Literal["register", "verify"] = "register"
    payload_keys_file: Path | None = None  # AES-GCM keys for workflow payloads (temporal_client.py)
    # The secret audit IDs are made with (an HMAC of the case reference, services/allocation.py): the
    # file's text, else the variable's; at least 32 characters. AUTH_MODE=oidc refuses to start
    # without one; `make dev` makes one in .data/.
    workflow_id_key_file: Path | None = None
    workflow_id_key: SecretStr | None = None
    codec_cors_origins: Annotated[list[str], NoDecode] = ["http://localhost:8233"]  # the Web UI, for /codec
    worker_max_concurrent_activities: int = 50  # and as many threads for the blocking activities
    api_update_timeout_seconds: float = 10  # how long a request waits for a workflow before a 504
    # The largest request body the API reads, in bytes (api/body_limit.py): every field at its
    # limit (models/limits.py) fits well inside. The case import, a whole CSV file, has its own.
    max_body_bytes: int = Field(default=1_000_000, ge=1)
    max_import_body_bytes: int = Field(default=5_000_000, ge=1)  # some 50,000 rows (services/cases.py)
    allocation_concurrency: int = 20  # audits a selection's confirmation starts side by side (`make bench`, figure 3)
    # Workflows the worker keeps in memory between tasks (the SDK's default). 0 disables the
    # cache and so sticky queues: every task replays the history. The fault tests' workers run
    # with 0 because the time-skipping server never hands a killed worker's sticky tasks back.
    worker_max_cached_workflows: int = 1000
    # On SIGTERM the worker stops polling and its relay takes no new email; this long is given to
    # the activities in flight and the email being sent to finish (then they are cancelled).
    # Less than compose's stop_grace_period for the worker, which kills it after that.
    worker_shutdown_seconds: float = Field(default=30, ge=0)
    # Worker Versioning (docs/deploying-changes.md): the image's build, e.g. its tag. Empty: the
    # worker is unversioned (`make dev`, the tests). The deployment groups every build of the worker.
    worker_build_id: str = ""
    worker_deployment_name: str = Field(default="qsaf", pattern=r"^[^.]+$")  # no dot: `<name>.<build id>`
    # How long a worker may hold a workflow task before Temporal hands it to another: what a
    # crashed worker's task costs. Temporal's default.
    workflow_task_timeout_seconds: float = 10

    # Prometheus metrics, each on a port of its own and never on the API's public one: the
    # worker's Temporal SDK metrics, and the API's requests and work in progress. 0 or empty: off.
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535)
    api_metrics_port: int = Field(default=9465, ge=0, le=65535)
    metrics_host: str = "0.0.0.0"  # what both listen on (`make dev`: 127.0.0.1)
    # text: readable lines for a terminal (`make dev`); json: one object a line for a log
    # collector (the image sets it). Either way a request's lines carry its request ID.
    log_format: Literal["text", "json"] = "text"

    # Calendar (R-CAL-1, R-CAL-2)
    timezone: str = "Europe/London"
    working_day_starts: time = time(9, 0)  # when a planned re-audit is allocated
    working_day_ends: time = time(17, 0)
    closure_days: Annotated[list[date], NoDecode] = Field(default_factory=list)

    # Durations in working days; each audit records the values it was allocated with.
    qa_sla_days: int = 1  # R-QA-1
    revision_days: int = 3  # R-QA-2
    revision_days_with_discussion: int = 4  # R-QA-2
    dispute_window_days: int = 5  # R-DIST-4
    discussion_escalation_days: int = 2  # R-DISC-3 Decision: overdue discussion -> Head of Service
    discussion_more_days: int = 5  # R-DISC-3 Decision: re-recording after PIAT asks for more
    dispute_meeting_days: int = 5  # R-DISP-2
    dispute_summary_days: int = 2  # R-DISP-3
    dispute_amendment_days: int = 5  # R-DISP-4 Decision
    dispute_formal_days: int = 5  # R-DISP-6, R-DISP-7
    dispute_corporate_days: int = 5  # R-DISP-8
    dispute_review_decision_days: int = 5  # R-DISP-9 Decision
    safety_acknowledge_hours: float = 2  # R-SAFE-2: clock hours, day or night
    safety_escalate_hours: float = 2  # R-SAFE-2
    self_selection_decision_days: int = 5  # R-ALLOC-2 Decision
    moderation_days: int = 20  # R-MOD-3 Decision: "one working month"
    moderation_per_service: int = 2  # R-MOD-2: audits drawn per service area for each panel
    # How far ahead PIAT may allocate, select, set a theme or convene a panel: the current
    # month's cycle and those up to this many months after it (services/clock.py).
    cycles_ahead_months: int = Field(default=12, ge=0, le=24)
    # The workload plan (`GET /plans/{year}`, decision 0043): a month above this many audits to
    # read is flagged for that person; a cycle not yet selected draws this many cases a team.
    plan_max_audits_per_month: int = Field(default=4, ge=1)
    plan_cases_per_team: int = Field(default=2, ge=1, le=50)

    @field_validator("codec_cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        return [o.strip() for o in value.split(",") if o.strip()] if isinstance(value, str) else value

    @field_validator("worker_metrics_port", "api_metrics_port", mode="before")
    @classmethod
    def _empty_port_is_off(cls, value: object) -> object:
        return 0 if isinstance(value, str) and not value.strip() else value

    @field_validator("closure_days", mode="before")
    @classmethod
    def _split_dates(cls, value: object) -> object:
        """CLOSURE_DAYS=2026-12-29,2026-12-30"""
        if isinstance(value, str):
            return [d.strip() for d in value.split(",") if d.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
