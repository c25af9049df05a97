"""A dispute's page (`/app/disputes/{dispute_id}`, the dispute ID being its audit's): its level,
step, whom it waits for and until when, what was recorded, and the form for the step the
signed-in person owns now. Each form posts to `/app/disputes/{dispute_id}/{form}`."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from api.deps import Svc
from api.permissions import People, allowed, audit_of, authorise
from models.audit_tools import tool_for
from api.schemas.disputes import (
    AmendedGradingRequest,
    CorporateDecisionRequest,
    DisputeMeetingRequest,
    DisputeSummaryRequest,
    FormalDiscussionRequest,
    IndependentReviewDecisionRequest,
    IndependentReviewResultRequest,
    WithdrawalRequest,
    WrittenResponseRequest,
)
from models.disputes import DisputeView
from models.enums import DisputeStep, ServiceArea
from models.payloads import AuditView
from models.staff import StaffMember
from services import audits, disputes
from services.context import Services
from web.forms import read_form
from web.render import Refusal, error_page, form_again, new_key, refusal, render, see_other
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)


@dataclass(frozen=True)
class Step:
    permission: str  # the permission table's operation ID (the API route's)
    act: Callable[[Services, StaffMember, str, Any, str | None], Awaitable[DisputeView]]  # services/disputes.py's
    model: type[BaseModel]
    step: DisputeStep | None  # None: not a step of the ladder (a withdrawal)
    done: str


STEPS: dict[str, Step] = {
    "meeting": Step("record_meeting", disputes.record_meeting, DisputeMeetingRequest, DisputeStep.MEETING, "Meeting recorded."),
    "summary": Step("record_summary", disputes.record_summary, DisputeSummaryRequest, DisputeStep.SUMMARY, "Summary recorded."),
    "amended-grading": Step(
        "record_amended_grading",
        disputes.record_amended_grading,
        AmendedGradingRequest,
        DisputeStep.AMENDED_GRADING,
        "Amended grading recorded.",
    ),
    "formal-discussion": Step(
        "record_formal_discussion",
        disputes.record_formal_discussion,
        FormalDiscussionRequest,
        DisputeStep.FORMAL_DISCUSSION,
        "Formal discussion recorded.",
    ),
    "written-response": Step(
        "record_written_response",
        disputes.record_written_response,
        WrittenResponseRequest,
        DisputeStep.WRITTEN_RESPONSE,
        "Written response recorded.",
    ),
    "corporate-decision": Step(
        "record_corporate_decision",
        disputes.record_corporate_decision,
        CorporateDecisionRequest,
        DisputeStep.CORPORATE_DECISION,
        "Corporate decision recorded.",
    ),
    "independent-review": Step(
        "record_independent_review",
        disputes.record_independent_review,
        IndependentReviewDecisionRequest,
        DisputeStep.INDEPENDENT_REVIEW,
        "Decision on an independent review recorded.",
    ),
    "independent-review-result": Step(
        "record_independent_review_result",
        disputes.record_independent_review_result,
        IndependentReviewResultRequest,
        DisputeStep.INDEPENDENT_REVIEW_RESULT,
        "Independent review's result recorded.",
    ),
    "withdrawal": Step("withdraw", disputes.withdraw, WithdrawalRequest, None, "Dispute withdrawn."),
}
REGRADING = {"written-response", "corporate-decision", "independent-review-result"}  # an optional regrade
OTHER = ("withdrawal",)  # nothing waits for it: offered apart, under "Other actions"


def offered(view: DisputeView, actor: StaffMember, people: AuditView | People | None) -> list[str]:
    """The forms `actor` may use now: the permission table, and the step the dispute waits on from them."""
    if view.outcome is not None or view.waiting_for is None:
        return []
    recorded = {r.step for r in view.records}
    forms = []
    for slug, step in STEPS.items():
        if not allowed(step.permission, actor, people):
            continue
        if step.step is None:
            mine = actor.id == view.raised_by and view.step not in recorded
        else:
            mine = view.step is step.step and step.step not in recorded and actor.id in view.waiting_for.from_staff_ids
        if mine:
            forms.append(slug)
    return forms


@router.get("/disputes/{dispute_id}")
async def dispute_page(request: Request, dispute_id: str, actor: PageActor, svc: Svc, done: str | None = None) -> Response:
    try:
        context = await _page_context(svc, dispute_id, actor)
    except Exception as error:  # noqa: BLE001 - every refusal becomes a page with its reason
        return error_page(request, actor, await refusal(request, error))
    notice = "Dispute raised." if done == "raised" else STEPS[done].done if done in STEPS else None
    return render(request, "dispute.html", context | {"notice": notice})


@router.post("/disputes/{dispute_id}/{form_name}")
async def dispute_action(request: Request, dispute_id: str, form_name: str, actor: PageActor, svc: Svc) -> Response:
    step = STEPS.get(form_name)
    if step is None:
        return error_page(request, actor, Refusal(404, f"there is no form {form_name!r} on a dispute's page"))
    form = await read_form(request)
    try:
        body = form.body()
        if form_name in REGRADING and not form.get("_regrade"):
            body.pop("regrade", None)  # the regrade's fields are filled in only when it is ticked
        checked = step.model.model_validate(body)
        await authorise(step.permission, actor, svc, {"dispute_id": dispute_id})
        await step.act(svc, actor, dispute_id, checked, form.idempotency_key())
    except Exception as error:  # noqa: BLE001 - shown beside the form, which keeps what was typed
        return await form_again(
            request, actor, "dispute.html", form_name, form, error, lambda: _page_context(svc, dispute_id, actor)
        )
    return see_other(f"/app/disputes/{dispute_id}?done={form_name}#top")


async def _page_context(svc: Services, dispute_id: str, actor: StaffMember) -> dict:
    await authorise("get_dispute", actor, svc, {"dispute_id": dispute_id})
    view = await disputes.get_dispute(svc, dispute_id)
    people = await audit_of(svc, {"audit_id": view.audit_id})  # for the table's relations
    audit = None  # the audit's grading fills the regrade forms, for those who may read the audit
    if allowed("get_audit", actor, people):
        audit = await audits.get_audit(svc, await audits.current_view(svc, view.audit_id))
    tool = tool_for(ServiceArea(people.service_area))
    return {
        "view": view,
        "audit": audit,
        "tool": tool,
        "forms": offered(view, actor, people),
        "key": new_key(),
        "failed": None,
        "regrading": REGRADING,
        "other_forms": OTHER,
        "staff": sorted(svc.directory.everyone(), key=lambda m: m.id),  # whom the attendees are chosen from
        "audit_people": _people_of(view, people),
        "usual_attendees": [i for i in _people_of(view, people) if i != people.head_of_service_id],
        "recorded": {r.step.value for r in view.records},  # the deadlines met
    }


def _people_of(view: DisputeView, people: People) -> list[str]:
    """Whom a meeting about the dispute is likely to have had: who raised it and the audit's people."""
    named = [view.raised_by, people.practitioner_id, people.team_manager_id, people.auditor_id, people.head_of_service_id]
    return list(dict.fromkeys(i for i in named if i))
