"""An audit's page (`/app/audits/{audit_id}`): where it is, what it waits for from whom and until
when, its gradings, timeline and notifications, and a form for each action the signed-in person
may take now. Each form posts to `/app/audits/{audit_id}/{form}`, which runs the permission
table's check and then the service the API's route runs (services/)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from api.deps import Svc
from api.permissions import allowed, authorise, permitted_audit
from api.schemas.audits import (
    DiscussionReviewRequest,
    FeedbackRequest,
    FindingsDiscussionRequest,
    GradingRequest,
    HeadOfServiceFollowUpRequest,
    ImprovementPlanRequest,
    PersonRequest,
    PractitionerConversationRequest,
    QADecisionRequest,
    ReassignmentRequest,
)
from api.schemas.disputes import DisputeRaiseRequest
from api.schemas.safety import SafetyConcernRaiseRequest
from models.audit_tools import tool_for
from models.enums import AuditKind, PersonRole, Stage
from models.payloads import AuditView
from models.rules import BEFORE_DISTRIBUTION, grading_faults
from models.rules import offered as stage_offers
from models.staff import StaffDirectory, StaffMember
from services import audits, disputes, safety
from services.context import Services
from services.people import AUDITING_ROLES
from web.forms import Form, read_form
from web.render import Refusal, error_page, form_again, new_key, refusal, render, see_other
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)

# A form's action: the service's, as the signed-in person, with the form's body and key.
Act = Callable[[Services, StaffMember, str, Any, Form], Awaitable[Any]]


@dataclass(frozen=True)
class Action:
    permission: str  # the permission table's operation ID (the API route's), and its stage rule's name
    act: Act
    model: type[BaseModel] | None  # the body it takes (the API's request model)
    done: str  # said on the page once it is done


def keyed(act: Callable[[Services, StaffMember, str, Any, str | None], Awaitable[Any]]) -> Act:
    """A service action on the audit, with the body and the form's Idempotency-Key."""
    return lambda svc, actor, audit_id, body, form: act(svc, actor, audit_id, body, form.idempotency_key())


async def _submit(svc: Services, actor: StaffMember, audit_id: str, body: None, form: Form) -> AuditView:
    return await audits.submit_for_qa(svc, actor, audit_id, form.idempotency_key())


async def _reassign(svc: Services, actor: StaffMember, audit_id: str, body: ReassignmentRequest, form: Form) -> AuditView:
    audit = await audits.current_view(svc, audit_id)
    return await audits.reassign(svc, actor, audit, body, form.idempotency_key())


async def _raise_safety_concern(svc: Services, actor: StaffMember, audit_id: str, body: SafetyConcernRaiseRequest, form: Form):
    audit = await audits.current_view(svc, audit_id)
    return await safety.raise_safety_concern(svc, actor, audit, body, form.idempotency_key())


async def _replace_person(svc: Services, actor: StaffMember, audit_id: str, body: PersonRequest, form: Form) -> AuditView:
    role = _person_role(form.get("role"))
    return await audits.replace_person(svc, actor, audit_id, role, body, form.idempotency_key())


# The forms, in the order the page shows them; each is offered when the stage rules
# (models/rules.py) say it can succeed now. The workflow still has the final say.
ACTIONS: dict[str, Action] = {
    "grading": Action(
        "record_initial_grading", keyed(audits.record_initial_grading), GradingRequest, "Initial grading recorded."
    ),
    "conversation": Action(
        "record_practitioner_conversation",
        keyed(audits.record_practitioner_conversation),
        PractitionerConversationRequest,
        "Practitioner conversation and final grading recorded.",
    ),
    "improvement-plan": Action(
        "record_improvement_plan", keyed(audits.record_improvement_plan), ImprovementPlanRequest, "Improvement plan recorded."
    ),
    "submit": Action("submit_for_qa", _submit, None, "Submitted for quality assurance."),
    "qa": Action("quality_assure", keyed(audits.quality_assure), QADecisionRequest, "Quality assurance recorded."),
    "findings-discussion": Action(
        "record_findings_discussion",
        keyed(audits.record_findings_discussion),
        FindingsDiscussionRequest,
        "Findings discussion recorded; PIAT has been asked to review it.",
    ),
    "findings-discussion-review": Action(
        "review_findings_discussion",
        keyed(audits.review_findings_discussion),
        DiscussionReviewRequest,
        "Review of the findings discussion recorded.",
    ),
    "head-of-service-follow-up": Action(
        "record_head_of_service_follow_up",
        keyed(audits.record_head_of_service_follow_up),
        HeadOfServiceFollowUpRequest,
        "Follow-up recorded.",
    ),
    "dispute": Action("raise_dispute", keyed(disputes.raise_dispute), DisputeRaiseRequest, "Dispute raised."),
    "reassign": Action("reassign", _reassign, ReassignmentRequest, "Audit reassigned."),
    "safety-concern": Action("raise_safety_concern", _raise_safety_concern, SafetyConcernRaiseRequest, "Safety concern raised."),
    "people": Action("replace_person", _replace_person, PersonRequest, "Role handed over."),
    "previous-practitioner-feedback": Action(
        "share_previous_practitioner_feedback",
        keyed(audits.share_previous_practitioner_feedback),
        FeedbackRequest,
        "Findings shared: the previous practitioner and their Team Manager are emailed.",
    ),
}


# Forms nothing waits for, offered apart ("Other actions", folded away) so that "What you can do
# now" lists only what the process waits for.
OTHER = ("improvement-plan", "safety-concern", "reassign", "people", "previous-practitioner-feedback")
GRADED_FORMS = {"grading", "conversation"}  # a refusal of their grading names its fields (grading_faults)

ALLOCATED = "Audit allocated: the auditor, the practitioner and their Team Manager are emailed."


def offered(view: AuditView, actor: StaffMember, directory: StaffDirectory) -> list[str]:
    """The forms `actor` may use now: the permission table (as the API checks it) and the step."""
    return [
        slug
        for slug, action in ACTIONS.items()
        if allowed(action.permission, actor, view, directory) and stage_offers(action.permission, view, actor.id)
    ]


@router.get("/audits/{audit_id}")
async def audit_page(request: Request, audit_id: str, actor: PageActor, svc: Svc, done: str | None = None) -> Response:
    try:
        context = await _page_context(svc, audit_id, actor)
    except Exception as error:  # noqa: BLE001 - every refusal becomes a page with its reason
        return error_page(request, actor, await refusal(request, error))
    notice = ALLOCATED if done == "allocated" else ACTIONS[done].done if done in ACTIONS else None
    return render(request, "audit.html", context | {"notice": notice})


@router.post("/audits/{audit_id}/{form_name}")
async def audit_action(request: Request, audit_id: str, form_name: str, actor: PageActor, svc: Svc) -> Response:
    action = ACTIONS.get(form_name)
    if action is None:
        return error_page(request, actor, Refusal(404, f"there is no form {form_name!r} on an audit's page"))
    form = await read_form(request)
    body = None
    try:
        body = _body(action, form)
        await authorise(action.permission, actor, svc, {"audit_id": audit_id})
        answer = await action.act(svc, actor, audit_id, body, form)
    except Exception as error:  # noqa: BLE001 - shown beside the form, which keeps what was typed
        faults = (lambda context: _faults(body, context)) if form_name in GRADED_FORMS else None
        return await form_again(
            request, actor, "audit.html", form_name, form, error, lambda: _page_context(svc, audit_id, actor), faults
        )
    if form_name == "dispute":
        return see_other(f"/app/disputes/{audit_id}?done=raised")
    if form_name == "safety-concern":
        return see_other(f"/app/safety-concerns/{answer.concern_id}?done=raised")
    return see_other(f"/app/audits/{audit_id}?done={form_name}#top")


def _body(action: Action, form: Form) -> BaseModel | None:
    if action.model is None:
        return None
    return action.model.model_validate(form.body(drop=("idempotency_key", "role")))


def _faults(body: BaseModel | None, context: dict) -> dict[str, str]:
    """The grading's fields the workflow refused, named by the same rules (models/rules.py)."""
    if body is None or not hasattr(body, "domains"):
        return {}
    return grading_faults(context["peer"], body.to_payload().domains, body.to_payload().overall)


def _person_role(value: str) -> PersonRole:
    try:
        return PersonRole(value)
    except ValueError:
        raise Refusal(422, "choose the role to hand over", [{"field": "role", "message": "choose a role"}]) from None


async def _page_context(svc: Services, audit_id: str, actor: StaffMember) -> dict:
    view = await audits.get_audit(svc, await permitted_audit("get_audit", actor, svc, audit_id))
    await authorise("list_notifications", actor, svc, {"audit_id": audit_id})
    notifications = await audits.list_notifications(svc, actor, view)
    return {
        "view": view,
        "peer": view.kind is AuditKind.PEER,
        "notifications": notifications,
        "tool": tool_for(view.service_area),
        "forms": offered(view, actor, svc.directory),
        "other_forms": _apart(view),
        "key": new_key(),
        "failed": None,
        "auditors": _auditors(svc.directory, view),
        "roles": list(PersonRole),
        "staff": sorted(svc.directory.everyone(), key=lambda m: m.id),
        "audit_people": _audit_people(view),
        "met": _met(view),
    }


def _apart(view: AuditView) -> tuple[str, ...]:
    """The forms to offer under "Other actions" at this stage: those nothing waits for, and a grading
    already recorded that the auditor may still correct while the next step waits."""
    corrections = ("grading",) if view.stage is not Stage.ALLOCATED else ()
    if view.stage is Stage.FINALLY_GRADED:
        corrections += ("conversation",)
    return corrections + OTHER


def _met(view: AuditView) -> dict[str, bool]:
    """Which of the audit's deadlines are behind it: each is listed with "Done" (or "Closed")."""
    actions = [h.action for h in view.history]

    def last(*names: str) -> int:
        return max((i for i, a in enumerate(actions) if a in names), default=-1)

    submitted = last("submitted for quality assurance")
    decided = last("quality assurance: accept", "quality assurance: return")
    returned = last("quality assurance: return")
    discussion = view.findings_discussion
    return {
        "completion_due": submitted >= 0,
        "qa_due": submitted >= 0 and decided > submitted,
        "revision_due": returned >= 0 and submitted > returned,
        "dispute_window_closes": view.stage not in BEFORE_DISTRIBUTION | {Stage.ACCEPTED, Stage.DISPUTE_WINDOW},
        "findings_discussion": discussion is not None and discussion.status in ("recorded", "accepted"),
    }


def _audit_people(view: AuditView) -> list[str]:
    """Whom a meeting about the audit is likely to have had: its people, each once."""
    named = [view.practitioner_id, view.team_manager_id, view.auditor_id, view.head_of_service_id, view.cp_chair_or_iro_id]
    return list(dict.fromkeys(i for i in named if i))


def _auditors(directory: StaffDirectory, view: AuditView) -> list[StaffMember]:
    """Whom the reassignment form offers: those who audit, but the current auditor; the API checks the rest."""
    everyone = directory.everyone()
    return sorted((m for m in everyone if any(m.has(r) for r in AUDITING_ROLES) and m.id != view.auditor_id), key=lambda m: m.id)
