"""Who may see and do what: one table, for every route, of the roles that may and the relations
to the audit that may. It is checked before a request reaches a workflow (a dependency, before
even the body is read), so a refusal never tells an outsider who is involved; the workflow then
checks the process (the right step, the current owner). docs/api.md renders this table.

Reads are scoped as well: senior leaders (PIAT, the PI&A Manager, the PSW, the Assistant Director,
the Director) see every audit; a Head of Service their service's; anyone else the audits that
name them (as auditor, practitioner, Team Manager or CP Chair / IRO)."""

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy import bindparam
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from api.deps import Actor, Svc
from models.enums import Role
from models.payloads import AuditView
from models.staff import StaffDirectory, StaffMember
from models.tables import AuditRecord, SafetyConcernRecord
from services.audits import current_view
from services.context import Services
from services.disputes import audit_id_of
from services.errors import Refused
from services.people import SENIOR_LEADERS


class Relation(StrEnum):
    """How a member of staff stands to an audit (and its dispute and safety concerns)."""

    AUDITOR = "its auditor"
    PRACTITIONER = "its practitioner"
    TEAM_MANAGER = "the practitioner's Team Manager"
    HEAD_OF_SERVICE = "the service's Head of Service"
    # R-ALLOC-3: the one who answers for the auditor's time, who may work in another service
    AUDITORS_HEAD_OF_SERVICE = "the auditor's Head of Service"
    CP_CHAIR_OR_IRO = "its CP Chair / IRO"


CORPORATE_DIRECTORS = (Role.CORPORATE_DIRECTOR_QUALITY_STANDARDS, Role.CORPORATE_DIRECTOR_CSC)
INVOLVED = tuple(r for r in Relation if r is not Relation.AUDITORS_HEAD_OF_SERVICE)
REPORT_READERS = SENIOR_LEADERS + CORPORATE_DIRECTORS + (Role.HEAD_OF_SERVICE,)


ROLE_NAMES = {
    Role.PIAT: "PIAT",
    Role.PIAT_MANAGER: "the PI&A Manager",
    Role.PSW: "the PSW",
    Role.ASSISTANT_DIRECTOR: "the Assistant Director",
    Role.DIRECTOR: "the Director",
    Role.CORPORATE_DIRECTOR_QUALITY_STANDARDS: "the Corporate Director for Quality Standards",
    Role.CORPORATE_DIRECTOR_CSC: "the Corporate Director for Children's Social Care",
    Role.SLT_MODERATOR: "the SLT moderators",
    Role.HEAD_OF_SERVICE: "a Head of Service",
}


@dataclass(frozen=True)
class May:
    roles: tuple[Role, ...] = ()
    relations: tuple[Relation, ...] = ()
    anyone: bool = False  # any member of staff who is signed in
    public: bool = False  # with `anyone`: no sign-in at all (the probes an orchestrator calls)
    # The one who asked to self-select: a request's ID ends `-by-<their staff ID>`, and their
    # emails link to its page.
    asker: bool = False

    def describe(self) -> str:
        if self.anyone:
            return "anyone, without signing in" if self.public else "anyone signed in"
        who = [ROLE_NAMES.get(r, r.value) for r in self.roles] + [r.value for r in self.relations]
        who += ["the one who asked"] if self.asker else []
        return " or ".join(filter(None, (", ".join(who[:-1]), who[-1])))


A = Relation
PERMISSIONS: dict[str, May] = {
    # audits
    "allocate_audit": May(roles=(Role.PIAT,)),
    "list_audits": May(anyone=True),  # scoped: see `sees_every_audit` and services/audits.py
    "get_audit": May(SENIOR_LEADERS, INVOLVED),
    "list_notifications": May(SENIOR_LEADERS, INVOLVED),
    "record_initial_grading": May(relations=(A.AUDITOR,)),
    "record_practitioner_conversation": May(relations=(A.AUDITOR,)),
    "record_improvement_plan": May(relations=(A.AUDITOR,)),
    "submit_for_qa": May(relations=(A.AUDITOR,)),
    "quality_assure": May(roles=(Role.PIAT,)),
    "reassign": May((Role.PIAT,), (A.AUDITOR, A.AUDITORS_HEAD_OF_SERVICE)),
    "replace_person": May(roles=(Role.PIAT,)),
    "share_previous_practitioner_feedback": May(relations=(A.AUDITOR,)),
    "record_findings_discussion": May(relations=(A.TEAM_MANAGER,)),
    "review_findings_discussion": May(roles=(Role.PIAT,)),
    # the Assistant Director follows up when the Head of Service did the re-audit (the workflow checks which)
    "record_head_of_service_follow_up": May((Role.ASSISTANT_DIRECTOR,), (A.HEAD_OF_SERVICE,)),
    "get_audit_tool": May(anyone=True),
    # disputes
    "raise_dispute": May(relations=(A.PRACTITIONER, A.TEAM_MANAGER)),
    "list_disputes": May(roles=SENIOR_LEADERS + CORPORATE_DIRECTORS),
    "get_dispute": May(SENIOR_LEADERS + CORPORATE_DIRECTORS, INVOLVED),
    "record_meeting": May(relations=(A.TEAM_MANAGER, A.AUDITOR)),
    "record_summary": May(relations=(A.TEAM_MANAGER,)),
    "record_amended_grading": May(relations=(A.AUDITOR,)),
    "record_formal_discussion": May(roles=(Role.PIAT_MANAGER,)),
    "record_written_response": May(roles=(Role.PIAT_MANAGER, Role.PSW)),
    "record_corporate_decision": May(roles=CORPORATE_DIRECTORS),
    "record_independent_review": May(roles=(Role.CORPORATE_DIRECTOR_QUALITY_STANDARDS,)),
    "record_independent_review_result": May(roles=(Role.CORPORATE_DIRECTOR_QUALITY_STANDARDS,)),
    "withdraw": May(relations=(A.PRACTITIONER, A.TEAM_MANAGER)),
    # safety concerns
    "raise_safety_concern": May(relations=(A.AUDITOR,)),
    "acknowledge": May((Role.ASSISTANT_DIRECTOR,), (A.TEAM_MANAGER, A.HEAD_OF_SERVICE)),
    "list_safety_concerns": May(anyone=True),  # scoped in services/safety.py
    "get_safety_concern": May(SENIOR_LEADERS, INVOLVED),
    # self-selection (R-ALLOC-2): the asker must be able to audit the case (checked as an allocation)
    "request_self_selection": May(anyone=True),
    "list_self_selections": May(anyone=True),  # scoped in services/self_selection.py: theirs, or every one
    "decide_self_selection": May(roles=(Role.HEAD_OF_SERVICE,)),  # the workflow checks which
    "get_self_selection": May(roles=SENIOR_LEADERS + (Role.HEAD_OF_SERVICE,), asker=True),
    # the open-case list
    "import_cases": May(roles=(Role.PIAT,)),
    "list_cases": May(roles=(Role.PIAT,)),
    "propose_selection": May(roles=(Role.PIAT,)),
    "confirm_selection": May(roles=(Role.PIAT,)),
    "get_selection": May(roles=(Role.PIAT,)),
    # cycles (R-CAL-3, R-CAL-4, R-QA-4): a Head of Service sees their own service's non-completion
    "list_cycles": May(anyone=True),
    "get_cycle": May(roles=SENIOR_LEADERS + (Role.HEAD_OF_SERVICE,)),
    "set_cycle_theme": May(roles=(Role.PIAT,)),
    "get_non_completion": May(roles=SENIOR_LEADERS + (Role.HEAD_OF_SERVICE,)),
    # moderation panels (R-MOD): senior leaders and the moderators follow a panel's progress
    "start_moderation_panel": May(roles=(Role.PIAT,)),
    "get_moderation_panel": May(roles=SENIOR_LEADERS + (Role.SLT_MODERATOR,)),
    "record_moderation": May(roles=(Role.SLT_MODERATOR,)),  # the workflow checks it is theirs
    "give_moderation": May(roles=(Role.PIAT,)),  # another moderator, when one left or nobody could
    # reports (R-REP): the council's for senior leaders and the Corporate Directors; a Head of
    # Service their own service's (services/reports.py scopes it)
    "get_report": May(roles=REPORT_READERS),
    "get_report_csv": May(roles=REPORT_READERS),
    "get_report_chart": May(roles=REPORT_READERS),
    # a year's workload, planned (decision 0043): senior leaders, who answer for the auditors' time
    "get_plan": May(roles=SENIOR_LEADERS),
    "get_plan_csv": May(roles=SENIOR_LEADERS),
    # everyone's own work
    "my_work": May(anyone=True),
    # one's own deadlines as a calendar feed: the link is its own credential, so the feed asks no sign-in
    "create_calendar_feed": May(anyone=True),
    "revoke_calendar_feed": May(anyone=True),
    "calendar_feed": May(anyone=True, public=True),
    "get_email_preferences": May(anyone=True),  # one's own
    "set_email_preferences": May(anyone=True),
    # operations
    "read_action_log": May(roles=(Role.PIAT,)),
    "livez": May(anyone=True, public=True),
    "readyz": May(anyone=True, public=True),
}


@dataclass(frozen=True)
class People:
    """An audit's people as its row names them: what `relations` reads, not its whole view."""

    auditor_id: str
    practitioner_id: str
    team_manager_id: str | None
    head_of_service_id: str | None
    cp_chair_or_iro_id: str | None
    service_area: str


def relations(actor: StaffMember, audit: AuditView | People, directory: StaffDirectory | None = None) -> set[Relation]:
    """How `actor` stands to the audit, by its view or its row (the same people); with the
    directory, also whether they are the auditor's Head of Service today."""
    service_area = getattr(audit.service_area, "value", audit.service_area)
    auditors_head = directory.head_of_service_of(audit.auditor_id) if directory else None
    found = {
        A.AUDITOR: actor.id == audit.auditor_id,
        A.PRACTITIONER: actor.id == audit.practitioner_id,
        A.TEAM_MANAGER: actor.id == audit.team_manager_id,
        A.HEAD_OF_SERVICE: actor.id == audit.head_of_service_id
        or (actor.has(Role.HEAD_OF_SERVICE) and actor.service_area == service_area),
        A.CP_CHAIR_OR_IRO: actor.id == audit.cp_chair_or_iro_id,
        A.AUDITORS_HEAD_OF_SERVICE: auditors_head is not None and actor.id == auditors_head.id,
    }
    return {relation for relation, holds in found.items() if holds}


def allowed(action: str, actor: StaffMember, audit: AuditView | People | None, directory: StaffDirectory | None = None) -> bool:
    may = PERMISSIONS[action]
    if may.anyone or any(actor.has(r) for r in may.roles):
        return True
    # The directory walk is asked only of the actions the auditor's Head of Service may take.
    walk = directory if A.AUDITORS_HEAD_OF_SERVICE in may.relations else None
    return audit is not None and bool(relations(actor, audit, walk) & set(may.relations))


def permit(action: str) -> Any:
    """The route's dependency: 403 unless the table allows this person (the audit's people are
    read only when a relation could decide). A route that acts on the audit's view takes
    `authorised_audit` instead, which runs the same check."""
    if action not in PERMISSIONS:
        raise KeyError(f"no permission for {action!r}: add it to PERMISSIONS")

    async def check(request: Request, actor: Actor, svc: Svc) -> None:
        await authorise(action, actor, svc, request.path_params)

    return Depends(check)


def authorised_audit(action: str) -> Any:
    """The route's dependency for an action on the audit it names: the table's check, answering
    the audit's view (the one the check read, else read now) for the route to act on."""
    if action not in PERMISSIONS:
        raise KeyError(f"no permission for {action!r}: add it to PERMISSIONS")

    async def audit(audit_id: str, actor: Actor, svc: Svc) -> AuditView:
        return await permitted_audit(action, actor, svc, audit_id)

    return Depends(audit)


async def permitted_audit(action: str, actor: StaffMember, svc: Services, audit_id: str) -> AuditView:
    """`authorise` for `action` on the audit `audit_id`, then its view (404: no such audit): what
    a route taking `authorised_audit` and a page acting on an audit both run."""
    return await authorise(action, actor, svc, {"audit_id": audit_id}) or await current_view(svc, audit_id)


async def authorise(action: str, actor: StaffMember, svc: Services, params: dict) -> AuditView | None:
    """The table's check of `actor` for `action` on what `params` name (a route's path parameters):
    403 unless allowed. The one check behind both `permit` (the API) and the staff pages (web/).
    Answers the audit's view when it had to read it, so the caller need not ask again."""
    may = PERMISSIONS[action]
    if may.anyone or any(actor.has(r) for r in may.roles) or (may.asker and asked_by(actor, params)):
        return None
    audit = await audit_of(svc, params) if may.relations else None
    if not allowed(action, actor, audit, svc.directory):
        raise HTTPException(403, f"only {may.describe()} may do this")
    return audit if isinstance(audit, AuditView) else None


def asked_by(actor: StaffMember, params: dict) -> bool:
    """The self-selection request a path names was asked by `actor` (its ID says who asked)."""
    return params.get("request_id", "").endswith(f"-by-{actor.id}")


def audit_id_in(params: dict) -> str | None:
    """The audit a path is about: a dispute is named by its audit (or `dispute-<audit id>`, the
    workflow ID the audit shows), a safety concern `<audit id>-<n>` (or `safety-...`)."""
    if "audit_id" in params:
        return params["audit_id"]
    if "dispute_id" in params:
        return audit_id_of(params["dispute_id"])
    if "concern_id" in params:
        return params["concern_id"].removeprefix("safety-").rsplit("-", 1)[0]
    return None


_AUDITS = AuditRecord.__table__
# What `relations` reads of an audit's row: its people, not its whole saved view. Built once,
# run on a plain connection: every staff action on an audit reads it first, and an ORM session
# and a statement built afresh cost four times the read itself.
PEOPLE_OF = select(
    _AUDITS.c.auditor_id,
    _AUDITS.c.practitioner_id,
    _AUDITS.c.team_manager_id,
    _AUDITS.c.head_of_service_id,
    _AUDITS.c.cp_chair_or_iro_id,
    _AUDITS.c.service_area,
).where(_AUDITS.c.audit_id == bindparam("audit_id"))

# A safety concern's Team Manager is whom it was sent to (the directory's when it was raised),
# which may be newer than the audit's: they stand as the practitioner's Team Manager for it.
_CONCERNS = SafetyConcernRecord.__table__
CONCERN_TEAM_MANAGER = select(_CONCERNS.c.team_manager_id).where(_CONCERNS.c.concern_id == bindparam("concern_id"))


async def audit_of(svc: Services, params: dict) -> AuditView | People | None:
    """The audit's people: from its row, which the workflow saves before it answers any action
    (no round trip to Temporal); from the workflow itself for a row saved before rows named the
    Head of Service."""
    if not (audit_id := audit_id_in(params)):
        return None
    concern_id = params["concern_id"].removeprefix("safety-") if "concern_id" in params else None
    people, told = await run_in_threadpool(_people_of, svc, audit_id, concern_id)
    if people is not None and people.head_of_service_id is not None:
        return replace(people, team_manager_id=told) if told else people
    try:
        view = await current_view(svc, audit_id)
    except Refused as missing:
        if missing.status_code == 404:  # no such audit: as refused as any outsider, and no wiser
            return None
        raise
    return view.model_copy(update={"team_manager_id": told}) if told else view


def _people_of(svc: Services, audit_id: str, concern_id: str | None) -> tuple[People | None, str | None]:
    """The audit's row's people, and the Team Manager the safety concern `concern_id` was sent to."""
    with svc.engine.connect() as connection:
        row = connection.execute(PEOPLE_OF, {"audit_id": audit_id}).first()
        told = connection.execute(CONCERN_TEAM_MANAGER, {"concern_id": concern_id}).scalar() if concern_id else None
    return (People(**row._mapping) if row is not None else None), told


def table() -> str:
    """The Markdown table docs/api.md shows (`python -c "from api.permissions import table; print(table())"`)."""
    rows = [f"| `{action}` | {may.describe()} |" for action, may in PERMISSIONS.items()]
    return "\n".join(["| route (operation ID) | who may |", "|---|---|", *rows])
