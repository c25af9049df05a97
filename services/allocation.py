"""Allocating an audit (R-ALLOC-1, `POST /audits`), checked against the framework's rules
(R-CAL-4, R-KIND-1..6), under a deterministic workflow ID so that a case is allocated once per
cycle and kind however close together two requests come. Selections (services/selections.py) and
self-selection (services/self_selection.py) allocate through the same checks."""

import asyncio
import hashlib
import hmac
import itertools
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.schemas.audits import AllocationRequest
from models import search_attributes as sa
from models.audit_tools import tool_for
from models.cycles import cycle_holds, is_cycle
from models.enums import AuditKind, Role, Stage
from models.payloads import AuditInput, AuditView, Policy
from models.staff import StaffMember
from models.tables import AuditRecord
from services import actions
from services.audits import audit_handle
from services.clock import check_plannable
from services.context import Services
from services.errors import Refused, unprocessable
from services.people import AUDITING_ROLES, staff_named
from workflows.audit import AuditWorkflow


async def allocate_audit(svc: Services, actor: StaffMember, body: AllocationRequest, key: str | None, now: datetime) -> AuditView:
    """R-ALLOC-1: PIAT allocates; auditor, Team Manager and practitioner are told.

    A case has one audit of a kind per cycle (409 naming it otherwise); sending the same
    Idempotency-Key again answers 201 with the audit the first request allocated."""
    audit = check_allocation(body, actor, svc, now)
    request = actions.request_id("allocate", actor, key)
    await refuse_projected_duplicate(svc, audit)
    handle = await start_audit(svc, audit, request, first_update=AuditWorkflow.allocation_recorded)
    return await actions.answered(svc, handle, AuditWorkflow.view, AuditView, AuditRecord, handle.id.removeprefix("audit-"))


# The memo entry that remembers which request (`allocate:<PIAT staff id>:<key>`) started an audit.
ALLOCATION_REQUEST = "allocation_request"
KIND_CODES = {AuditKind.STANDARD: "std", AuditKind.PEER: "peer", AuditKind.THEMED: "thm"}  # re-audits: `<id>-r1`
ENDED_IN_ERROR = {
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED,
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED,
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED,
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
}


def audit_id_for(cycle: str, kind: AuditKind, case_ref: str, key: bytes | None) -> str:
    """One ID per case, cycle and kind, so that Temporal's one workflow per ID settles a race
    between two allocations. The case reference goes in as an HMAC under the deployment's key:
    case references are few and follow a pattern, so anyone who can list workflows could hash
    every one and read a plain hash back. Without a key (dev only; oidc refuses to start) the
    plain hash, as audits allocated before the key have: they keep those IDs, and their rows
    still hold their cases (`refuse_projected_duplicate`)."""
    digest = hmac.new(key, case_ref.encode(), hashlib.sha256) if key else hashlib.sha256(case_ref.encode())
    return f"{cycle}-{KIND_CODES[kind]}-{digest.hexdigest()[:10]}"


async def start_audit(svc: Services, audit: AuditInput, request: str | None, first_update=None) -> WorkflowHandle:
    """Start the audit's workflow under the case's ID; of two allocations racing each other,
    Temporal starts one and refuses the other. An audit an operator terminated (or that failed)
    keeps its ID with its history and its notifications' keys (`<workflow id>/<step>`, which
    would silence a second run's emails), so allocating the case again takes the next ID,
    `<id>-2`, `<id>-3`: the same next ID for racing requests, so Temporal still decides.
    With `first_update`, returns once that update has answered (a retry's too)."""
    audit = audit.model_copy(update={"calendar": svc.recorded_days(await svc.clock())})  # its first step then records none
    for attempt in itertools.count(1):
        candidate = audit if attempt == 1 else audit.model_copy(update={"audit_id": f"{audit.audit_id}-{attempt}"})
        try:
            return await _start(svc, candidate, request, first_update)
        except WorkflowAlreadyStartedError:
            info = await actions.describe(svc, f"audit-{candidate.audit_id}")
            if info and info.status in ENDED_IN_ERROR:
                continue
            if request and info and await actions.memo(svc, info, ALLOCATION_REQUEST) == request:
                handle = audit_handle(svc, candidate.audit_id)  # a retry: the first request's audit
                if first_update:
                    await actions.update(svc, handle, first_update)
                return handle
            raise _duplicate(audit, candidate.audit_id) from None
    raise AssertionError("unreachable")


async def _start(svc: Services, audit: AuditInput, request: str | None, first_update) -> WorkflowHandle:
    """The start itself; with `first_update`, the update goes in the same request
    (update-with-start): one round trip, and the workflow's first task takes both."""
    options = dict(
        id=f"audit-{audit.audit_id}",
        task_queue=svc.settings.temporal_task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=sa.at_allocation(audit),
        memo={ALLOCATION_REQUEST: request} if request else None,
        static_summary=f"{audit.kind.value} audit, {audit.service_area.value}, cycle {audit.cycle}",
        task_timeout=audit.policy.task_timeout,
    )
    if first_update is None:
        return await svc.client.start_workflow(AuditWorkflow.run, audit, **options)
    start = WithStartWorkflowOperation(AuditWorkflow.run, audit, id_conflict_policy=WorkflowIDConflictPolicy.FAIL, **options)
    # The operation keeps the start's outcome for `workflow_handle()`: read whatever happens, so
    # a refusal or a timeout (a 504) is not logged as an outcome nobody read.
    started = asyncio.ensure_future(start.workflow_handle())
    started.add_done_callback(lambda task: task.cancelled() or task.exception())
    try:
        async with actions.answer_within(svc) as timeout:
            await svc.client.execute_update_with_start_workflow(first_update, start_workflow_operation=start, rpc_timeout=timeout)
    except (WorkflowAlreadyStartedError, RPCError) as refused:
        # The time-skipping test server says "already started" as a bare ALREADY_EXISTS.
        if isinstance(refused, RPCError) and refused.status is not RPCStatusCode.ALREADY_EXISTS:
            raise
        raise WorkflowAlreadyStartedError(options["id"], "AuditWorkflow") from None
    return await started


_AUDITS = AuditRecord.__table__
SAME_CASE_CYCLE_KIND = select(_AUDITS.c.audit_id, _AUDITS.c.stage).where(  # built once: every allocation runs it
    _AUDITS.c.case_ref == bindparam("case_ref"), _AUDITS.c.cycle == bindparam("cycle"), _AUDITS.c.kind == bindparam("kind")
)


# The audits the list's projection holds for a case, cycle and kind: (audit ID, stage) each.
Projected = list[tuple[str, str]]


async def refuse_projected_duplicate(svc: Services, audit: AuditInput, existing: Projected | None = None) -> None:
    """The list's projection also knows audits Temporal cannot settle: those whose history is
    gone, and those allocated under another ID (before IDs came from the case, or before they
    were keyed: `audit_id_for`). One whose history is gone short of `completed` ended in error
    (an operator terminated it; its last save was before): like one whose history is kept, it
    frees the case. `existing` is the projection's rows when the caller read them already
    (`projected_in_cycle`, for a whole month at once)."""
    if existing is None:
        existing = await run_in_threadpool(_same_case_cycle_kind, svc, audit)
    for audit_id, stage in existing:
        info = await actions.describe(svc, f"audit-{audit_id}")
        if (info.status in ENDED_IN_ERROR) if info else stage != Stage.COMPLETED:
            continue
        if info is None or not (audit_id == audit.audit_id or audit_id.startswith(f"{audit.audit_id}-")):
            raise _duplicate(audit, audit_id)


def _same_case_cycle_kind(svc: Services, audit: AuditInput) -> Projected:
    with svc.engine.connect() as connection:
        rows = connection.execute(
            SAME_CASE_CYCLE_KIND, {"case_ref": audit.case_ref, "cycle": audit.cycle, "kind": audit.kind.value}
        ).all()
    return [(audit_id, stage) for audit_id, stage in rows]


def projected_in_cycle(session: Session, cycle: str, case_refs: set[str]) -> dict[tuple[str, str], Projected]:
    """The projection's audits of these cases in one cycle, by (case, kind): one read for a month
    confirmed at once, where a read per allocation would cost each its own trip to a thread."""
    rows = session.exec(
        select(_AUDITS.c.case_ref, _AUDITS.c.kind, _AUDITS.c.audit_id, _AUDITS.c.stage).where(
            _AUDITS.c.cycle == cycle, _AUDITS.c.case_ref.in_(case_refs)
        )
    ).all()
    found: dict[tuple[str, str], Projected] = {}
    for case_ref, kind, audit_id, stage in rows:
        found.setdefault((case_ref, kind), []).append((audit_id, stage))
    return found


def _duplicate(audit: AuditInput, audit_id: str) -> Refused:
    return Refused(409, f"case {audit.case_ref} already has a {audit.kind.value} audit in {audit.cycle}: {audit_id}")


def check_allocation(body: AllocationRequest, actor: StaffMember, svc: Services, now: datetime) -> AuditInput:
    """Check the request against the framework and resolve the lines of management."""
    directory = svc.directory
    if body.kind is AuditKind.REAUDIT:
        raise unprocessable("re-audits are scheduled by the audit they follow (R-RE-1), not allocated by hand")
    if not is_cycle(body.cycle):
        raise unprocessable(f"cycle {body.cycle!r} is not an audit cycle: use YYYY-MM, any month but August or December")
    check_plannable(body.cycle, now, svc.settings)
    if not cycle_holds(body.cycle, body.kind.value, body.service_area.value):
        raise unprocessable(f"the {body.cycle} cycle holds no {body.kind.value} audits (R-CAL-4)")
    if (body.kind is AuditKind.THEMED) != bool(body.theme and body.theme.strip()):
        raise unprocessable("a themed audit needs its theme, and only themed audits carry one (R-KIND-3)")
    practitioner = staff_named(directory, body.practitioner_id, "practitioner_id")
    auditor = staff_named(directory, body.auditor_id, "auditor_id")
    if not practitioner.has(Role.PRACTITIONER):
        raise unprocessable(f"{practitioner.id} is not a practitioner")
    team_manager = directory.team_manager_of(practitioner.id)
    if team_manager is None:
        raise unprocessable(f"{practitioner.id} has no Team Manager in the staff directory")
    auditor_roles = (Role.PRACTITIONER,) if body.kind is AuditKind.PEER else AUDITING_ROLES
    if not any(auditor.has(r) for r in auditor_roles):
        raise unprocessable(f"{auditor.id} cannot carry out a {body.kind.value} audit (R-KIND-1, R-KIND-2)")
    if auditor.id in (practitioner.id, team_manager.id):
        raise unprocessable("the auditor must not be the practitioner or their own Team Manager")
    if body.cp_chair_or_iro_id:
        chair = staff_named(directory, body.cp_chair_or_iro_id, "cp_chair_or_iro_id")
        if not (chair.has(Role.IRO) or chair.has(Role.CP_CHAIR)):
            raise unprocessable(f"{chair.id} is not a CP Chair or IRO")
    if body.involvement_start > now.astimezone(svc.calendar.tz).date():
        raise unprocessable("involvement_start cannot be in the future")
    hos = directory.head_of_service_of(practitioner.id)
    piat_managers = directory.with_role(Role.PIAT_MANAGER)
    return AuditInput(
        audit_id=audit_id_for(body.cycle, body.kind, body.case_ref, svc.workflow_id_key),
        case_ref=body.case_ref,
        service_area=body.service_area,
        kind=body.kind,
        cycle=body.cycle,
        theme=body.theme.strip() if body.theme else None,
        auditor_id=auditor.id,
        practitioner_id=practitioner.id,
        team_manager_id=team_manager.id,
        head_of_service_id=hos.id if hos else None,
        cp_chair_or_iro_id=body.cp_chair_or_iro_id,
        involvement_start=body.involvement_start,
        allocated_by=actor.id,
        piat_manager_id=piat_managers[0].id if piat_managers else None,
        domains=[d.name for d in tool_for(body.service_area).domains],
        policy=Policy.now(svc.settings),  # the durations in force now travel with the audit
    )
