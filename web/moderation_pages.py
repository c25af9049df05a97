"""A moderation panel's page (`/app/moderation-panels/{cycle}`, the page the panel's emails link
to: models/pages.py): the draw, each audit's final grades and its moderator, the due time, each
moderation's progress and the agreement so far (R-MOD-2..4); and, for the signed-in moderator, a
form per moderation allocated to them and not yet recorded. Each form posts to
`/app/moderation-panels/{cycle}/{moderation_id}`, which runs `POST /moderations/{id}/record`. For
PIAT, a form per moderation not yet recorded (and per audit nobody could take) giving it to
another moderator, posted to `/app/moderation-panels/{cycle}/give`
(`PUT /moderation-panels/{cycle}/moderations/{audit_id}/moderator`)."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import Svc
from api.permissions import allowed, authorise
from api.schemas.year import ModerationFindingsRequest, ModeratorChangeRequest
from models.enums import Role
from models.moderation import panel_of
from models.staff import StaffMember
from services import moderation
from services.context import Services
from web.forms import read_form
from web.render import Refusal, error_page, form_again, new_key, refusal, render, see_other
from web.session import PageActor

router = APIRouter(prefix="/app")  # in each router, so a route names its whole path (the action log)
RECORDED = "Moderation recorded: the feedback has gone to the auditor and PIAT, and onto Mosaic."
DONE = {
    "recorded": RECORDED,
    "started": "Panel convened: the moderators and PIAT are emailed.",
    "given": "Moderation given: the new moderator is emailed, the one before told it is no longer theirs; the due time stays.",
}


def form_name(moderation_id: str) -> str:
    """One form per moderation on the page: its name keeps each form's fields and errors apart."""
    return f"record-{moderation_id}"


@router.get("/moderation-panels/{cycle}")
async def panel_page(request: Request, cycle: str, actor: PageActor, svc: Svc, done: str | None = None) -> Response:
    try:
        context = await _page_context(svc, cycle, actor)
    except Exception as error:  # noqa: BLE001 - every refusal (403, no such panel) becomes a page with its reason
        return error_page(request, actor, await refusal(request, error))
    return render(request, "moderation_panel.html", context | {"notice": DONE.get(done or "")})


def give_name(audit_id: str) -> str:
    return f"give-{audit_id}"


@router.post("/moderation-panels/{cycle}/give")
async def give(request: Request, cycle: str, actor: PageActor, svc: Svc) -> Response:
    """PIAT gives a drawn audit's moderation (the form's `audit_id`) to another SLT moderator
    (`PUT .../moderations/{audit_id}/moderator`). Before the record route, which "give" is not."""
    form = await read_form(request)
    audit_id = form.get("audit_id")
    try:
        body = ModeratorChangeRequest.model_validate(form.body(drop=("idempotency_key", "audit_id")))
        await authorise("give_moderation", actor, svc, {"cycle": cycle, "audit_id": audit_id})
        await moderation.give_moderation(svc, actor, cycle, audit_id, body, form.idempotency_key())
    except Exception as error:  # noqa: BLE001 - shown beside the form, which keeps what was chosen
        return await form_again(
            request, actor, "moderation_panel.html", give_name(audit_id), form, error, lambda: _page_context(svc, cycle, actor)
        )
    return see_other(f"/app/moderation-panels/{cycle}?done=given#top")


@router.post("/moderation-panels/{cycle}/{moderation_id}")
async def record(request: Request, cycle: str, moderation_id: str, actor: PageActor, svc: Svc) -> Response:
    form = await read_form(request)
    try:
        if panel_of(moderation_id) != cycle:  # a form of this page records only this panel's moderations
            raise Refusal(404, f"the {cycle} panel has no moderation {moderation_id}")
        body = ModerationFindingsRequest.model_validate(form.body())
        await authorise("record_moderation", actor, svc, {"moderation_id": moderation_id})
        await moderation.record_moderation(svc, actor, moderation_id, body, form.idempotency_key())
    except Exception as error:  # noqa: BLE001 - shown beside the form, which keeps what was typed
        return await _refused(request, svc, cycle, moderation_id, actor, form, await refusal(request, error))
    return see_other(f"/app/moderation-panels/{cycle}?done=recorded#top")


async def _refused(
    request: Request, svc: Services, cycle: str, moderation_id: str, actor: StaffMember, form, problem: Refusal
) -> Response:
    try:
        context = await _page_context(svc, cycle, actor)
    except Exception:  # noqa: BLE001 - not allowed to read the panel at all: the refusal alone
        return error_page(request, actor, problem)
    failed = next((m for m in context["view"].moderations if m.moderation_id == moderation_id), None)
    if failed is None:  # no such moderation on this panel: no form to keep
        return error_page(request, actor, problem)
    if failed not in context["mine"]:  # keep what was typed, even if it was recorded meanwhile
        context["mine"] = [*context["mine"], failed]
    context |= {
        "failed": form_name(moderation_id),
        "values": form.values(),
        "problem": problem.detail,
        "field_errors": problem.field_errors,
        "key": form.idempotency_key() or new_key(),
    }
    return render(request, "moderation_panel.html", context, problem.status_code)


async def _page_context(svc: Services, cycle: str, actor: StaffMember) -> dict:
    await authorise("get_moderation_panel", actor, svc, {"cycle": cycle})
    view = await moderation.get_moderation_panel(svc, cycle)
    # The forms: the moderations allocated to this moderator and still owed; the workflow checks again.
    may_record = allowed("record_moderation", actor, None)
    mine = [m for m in view.moderations if may_record and m.moderator_id == actor.id and not m.recorded]
    # PIAT's: each drawn audit's moderation not yet recorded, and those nobody could take, to give
    # to another moderator (the service and the workflow check the moderator and the moment).
    may_give = allowed("give_moderation", actor, None)
    givable: list[tuple[str, str | None, str | None]] = [
        (m.audit_id, m.case_ref, m.moderator_id) for m in view.moderations if not m.recorded
    ]
    givable += [(audit_id, None, None) for audit_id in view.unallocated]
    return {
        "view": view,
        "mine": mine,
        "form_name": form_name,
        "give_name": give_name,
        "givable": givable if may_give else [],
        "forms": [give_name(a) for a, _, _ in givable] if may_give else [],
        "moderators": sorted((m for m in svc.directory.everyone() if m.has(Role.SLT_MODERATOR)), key=lambda m: m.id),
        "key": new_key(),
        "failed": None,
        # Moderators may not read the audits' own pages; senior leaders may (the permission table).
        "links_audits": allowed("get_audit", actor, None),
    }
