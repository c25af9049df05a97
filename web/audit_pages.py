"""An audit's page (`/app/audits/{audit_id}`): where it is, what it waits for from whom and until
when, its gradings, timeline and notifications, and a form for each action the signed-in person
may take now. Each form posts to `/app/audits/{audit_id}/{form}`, which runs the API's route."""

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from api import audit_tools, audits, disputes, safety
from api.audits import AUDITING_ROLES
from api.permissions import allowed
from models.enums import AuditKind, PersonRole, Stage
from models.payloads import (
    AuditView, DiscussionReview, DisputeRaise, FindingsDiscussion, Grading, HeadOfServiceFollowUp,
    ImprovementPlan, PractitionerConversation, QADecision, Reassignment,
)
from models.safety import SafetyConcernRaise
from models.rules import AMENDING, BEFORE_DISTRIBUTION, DRAFTING
from models.staff import StaffDirectory, StaffMember
from web.calls import call_route, new_key, see_other, svc_of
from web.forms import read_form
from web.render import Refusal, error_page, form_again, refusal, render
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)


@dataclass(frozen=True)
class Action:
    route: Callable  # the API's route function; its name is the permission table's operation ID
    model: type[BaseModel] | None  # the body it takes
    offered: Callable[[AuditView, StaffMember], bool]  # whether the audit is at that step now
    done: str  # said on the page once it is done

    @property
    def permission(self) -> str:
        return self.route.__name__


def _discussion(view: AuditView, *statuses: str) -> bool:
    return view.findings_discussion is not None and view.findings_discussion.status in statuses


# The forms, in the order the page shows them. `offered` mirrors the workflow's stage checks
# (models/rules.py) so a form shows only when it can succeed; the workflow still has the final say.
ACTIONS: dict[str, Action] = {
    "grading": Action(audits.record_initial_grading, Grading,
                      lambda v, a: v.stage in (DRAFTING - {Stage.FINALLY_GRADED}) | AMENDING, "Initial grading recorded."),
    "conversation": Action(audits.record_practitioner_conversation, PractitionerConversation,
                           lambda v, a: v.initial_grading is not None
                           and v.stage in {Stage.INITIALLY_GRADED, Stage.FINALLY_GRADED} | AMENDING,
                           "Practitioner conversation and final grading recorded."),
    "improvement-plan": Action(audits.record_improvement_plan, ImprovementPlan,
                               lambda v, a: v.initial_grading is not None and v.stage in DRAFTING | AMENDING,
                               "Improvement plan recorded."),
    "submit": Action(audits.submit_for_qa, None, lambda v, a: v.stage in {Stage.FINALLY_GRADED} | AMENDING,
                     "Submitted for quality assurance."),
    "qa": Action(audits.quality_assure, QADecision,
                 lambda v, a: v.stage is Stage.AWAITING_QA and a.id != v.auditor_id, "Quality assurance recorded."),
    "findings-discussion": Action(audits.record_findings_discussion, FindingsDiscussion,
                                  lambda v, a: _discussion(v, "awaited", "more_requested"),
                                  "Findings discussion recorded; PIAT has been asked to review it."),
    "findings-discussion-review": Action(audits.review_findings_discussion, DiscussionReview,
                                         lambda v, a: _discussion(v, "recorded") and a.id != v.team_manager_id,
                                         "Review of the findings discussion recorded."),
    "head-of-service-follow-up": Action(audits.record_head_of_service_follow_up, HeadOfServiceFollowUp,
                                        lambda v, a: v.head_of_service_follow_up_required
                                        and v.head_of_service_follow_up is None, "Follow-up recorded."),
    "dispute": Action(disputes.raise_dispute, DisputeRaise,
                      lambda v, a: v.stage is Stage.DISPUTE_WINDOW and v.dispute_id is None
                      and v.kind is not AuditKind.PEER, "Dispute raised."),
    "reassign": Action(audits.reassign, Reassignment, lambda v, a: v.stage in BEFORE_DISTRIBUTION,
                       "Audit reassigned."),
    "safety-concern": Action(safety.raise_safety_concern, SafetyConcernRaise, lambda v, a: True,
                             "Safety concern raised."),
    "people": Action(audits.replace_person, audits.PersonRequest, lambda v, a: v.stage is not Stage.COMPLETED,
                     "Role handed over."),
}


ALLOCATED = "Audit allocated: the auditor, the practitioner and their Team Manager are emailed (R-ALLOC-1)."


def offered(view: AuditView, actor: StaffMember, directory: StaffDirectory) -> list[str]:
    """The forms `actor` may use now: the permission table (as the API checks it) and the step."""
    return [slug for slug, action in ACTIONS.items()
            if allowed(action.permission, actor, view, directory) and action.offered(view, actor)]


@router.get("/audits/{audit_id}")
async def audit_page(request: Request, audit_id: str, actor: PageActor, done: str | None = None) -> Response:
    try:
        context = await _page_context(request, audit_id, actor)
    except Exception as error:  # noqa: BLE001 - every refusal becomes a page with its reason
        return error_page(request, actor, await refusal(request, error))
    notice = ALLOCATED if done == "allocated" else ACTIONS[done].done if done in ACTIONS else None
    return render(request, "audit.html", context | {"notice": notice})


@router.post("/audits/{audit_id}/{form_name}")
async def audit_action(request: Request, audit_id: str, form_name: str, actor: PageActor) -> Response:
    action = ACTIONS.get(form_name)
    if action is None:
        return error_page(request, actor, Refusal(404, f"there is no form {form_name!r} on an audit's page"))
    form = await read_form(request)
    try:
        given = {"body": _body(action, form), "key": form.idempotency_key()}
        if form_name == "people":
            given["role"] = _person_role(form.get("role"))
        answer = await call_route(request, action.route, actor, {"audit_id": audit_id}, **given)
    except Exception as error:  # noqa: BLE001 - shown beside the form, which keeps what was typed
        request.state.audit = None  # the page reads the audit afresh
        return await form_again(request, actor, "audit.html", form_name, form, error,
                                lambda: _page_context(request, audit_id, actor))
    if form_name == "dispute":
        return see_other(f"/app/disputes/{audit_id}?done=raised")
    if form_name == "safety-concern":
        return see_other(f"/app/safety-concerns/{answer.concern_id}?done=raised")
    return see_other(f"/app/audits/{audit_id}?done={form_name}#top")


def _body(action: Action, form) -> BaseModel | None:
    if action.model is None:
        return None
    return action.model.model_validate(form.body(drop=("idempotency_key", "role")))


def _person_role(value: str) -> PersonRole:
    try:
        return PersonRole(value)
    except ValueError:
        raise Refusal(422, "choose the role to hand over", [{"field": "role", "message": "choose a role"}]) from None


async def _page_context(request: Request, audit_id: str, actor: StaffMember) -> dict:
    params = {"audit_id": audit_id}
    view: AuditView = await call_route(request, audits.get_audit, actor, params)
    notifications = await call_route(request, audits.list_notifications, actor, params)
    tool = await call_route(request, audit_tools.get_audit_tool, actor, service_area=view.service_area)
    return {"view": view, "peer": view.kind is AuditKind.PEER, "notifications": notifications, "tool": tool,
            "forms": offered(view, actor, svc_of(request).directory),
            "key": new_key(), "failed": None, "auditors": _auditors(request, view), "roles": list(PersonRole),
            "staff": sorted(svc_of(request).directory.everyone(), key=lambda m: m.id)}


def _auditors(request: Request, view: AuditView) -> list[StaffMember]:
    """Whom the reassignment form offers: those who audit, but the current auditor; the API checks the rest."""
    everyone = svc_of(request).directory.everyone()
    return sorted((m for m in everyone if any(m.has(r) for r in AUDITING_ROLES) and m.id != view.auditor_id),
                  key=lambda m: m.id)
