"""What an audit shows: its view (the API's `GET /audits/{id}` by query), its projection row, its
search attributes and one-line current details for the Web UI, what it waits for from whom, and
its report's text."""

from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models import search_attributes as sa
    from models.cycles import cycle_label
    from models.email_marks import at, long_date, person, without_rule_codes
    from models.pages import audit_page
    from models.payloads import AuditView, Waiting
    from models.projections import AuditRow
    from models.rules import waiting_on

from workflows.audit_state import AuditState
from workflows.process import Projection, details, grade_text


def refresh(s: AuditState, projection: Projection) -> None:
    """Search attributes and current details after a change."""
    waiting, grade = first_wait(s), s.reported_grade
    projection.upsert(
        sa.of_audit(
            s.audit,
            s.stage.value,
            grade.value if grade else None,
            waiting.until if waiting else None,
            bool(projection.overdue_steps),
            s.escalation.value,
        )
    )
    workflow.set_current_details(details(s.stage.value, waiting, projection.overdue_steps))


def email_about(s: AuditState) -> tuple[str, str]:
    """Every email about the audit names its cycle and links to its page."""
    return s.audit.cycle, audit_page(s.audit.audit_id)


# ---- what it waits for ---------------------------------------------------------------------------


def waits(s: AuditState) -> list[Waiting]:
    """Every wait, not only the first: a Team Manager's discussion beside the dispute window."""
    return [w for w in (_on_report(s), _on_discussion(s), _on_follow_up(s)) if w]


def first_wait(s: AuditState) -> Waiting | None:
    """What the audit waits for first: its report's stage, then the discussion, then the follow-up."""
    return _on_report(s) or _on_discussion(s) or _on_follow_up(s)


def waiting_ask(s: AuditState, staff_id: str) -> dict[str, Any]:
    """What waits on `staff_id` now and by when, for the email that hands a role over: the
    soonest deadline when several do (a Team Manager's discussion beside the dispute window)."""
    theirs = [w for w in waits(s) if staff_id in w.from_staff_ids]
    dues = [w.until for w in theirs if w.until]
    action = "; and ".join(without_rule_codes(w.action) for w in theirs)  # codes are for the history
    return dict(action=action, action_for=[staff_id], due=min(dues) if dues else None)


def _on_report(s: AuditState) -> Waiting | None:
    """Whom the report's stage waits on and what for (models/rules.py's `STAGE_WAITS`)."""
    wait = waiting_on(s.stage)
    if wait is None:
        return None
    people = {"auditor_id": s.auditor_id, "practitioner_id": s.audit.practitioner_id, "team_manager_id": s.team_manager_id}
    plan, carried = s.reaudit, s.carried_into_cycle
    action = wait.action.format(
        carried_into=cycle_label(carried) if carried else "next",
        dispute=s.dispute_id or "starting",
        reaudit_cycle=plan and plan.cycle,
        reaudit_round=plan and plan.round,
        reaudit_id=plan and plan.audit_id,
    )
    return Waiting(
        action=action, from_staff_ids=[people[p] for p in wait.people], from_role=wait.role, until=_instant(s, wait.until)
    )


def _instant(s: AuditState, name: str | None) -> datetime | None:
    """A stage's wait runs until one of the deadlines, or the re-audit's allocation."""
    if name == "reaudit_allocation":
        return s.reaudit.allocate_at if s.reaudit else None
    return getattr(s.deadlines, name) if name else None


def _on_discussion(s: AuditState) -> Waiting | None:
    d = s.discussion
    if d is None or d.status == "accepted":
        return None
    if d.status == "recorded":
        return Waiting(action="review of the findings discussion note", from_role="piat", from_staff_ids=[])
    return Waiting(action="findings discussion recorded by the Team Manager", from_staff_ids=[s.team_manager_id], until=d.due)


def _on_follow_up(s: AuditState) -> Waiting | None:
    if s.follow_up_required and s.follow_up is None:
        return Waiting(action="Head of Service follow-up of the agreed actions (R-RE-3)", from_staff_ids=[s.follow_up_owner_id])
    return None


# ---- the report, the row and the view ----------------------------------------------------------------


def report_text(s: AuditState, second_reaudit: bool = False) -> str:
    """The accepted report, for the practitioner and their Team Manager (and the Head of
    Service when a 1st re-audit is still below Good)."""
    a, c = s.audit, s.conversation
    assert c and s.initial and s.period_start and s.period_end  # QA accepted a report with both, after its allocation
    lines = [
        f"The {cycle_label(a.cycle)} {a.kind.value} audit of case {a.case_ref} has passed quality assurance. This is its report.",
        f"Auditor: {person(s.auditor_id)}. The audit covers {long_date(s.period_start)} to {long_date(s.period_end)}.",
    ]
    if a.theme:
        lines.append(f"Theme: {a.theme}")
    lines.append(f"Overall: {grade_text(c.overall.grade)}. {c.overall.rationale}")
    lines += [f"- {d.domain}: {grade_text(d.grade)}. {d.rationale}".rstrip() for d in c.domains]
    lines.append(f"Practitioner conversation ({long_date(c.held_on)}): {c.notes}")
    lines += ["Improvement plan:"] + [
        f"- {p.action} (owner {person(p.owner_id)}, by {long_date(p.due_on)})" for p in s.initial.improvement_plan
    ]
    if closes := s.deadlines.dispute_window_closes:
        lines.append(
            f"The dispute window closes {at(closes)}: until then the practitioner or their Team Manager "
            "may dispute the grading. The audit then goes on Mosaic."
        )
    if second_reaudit:
        lines.append(
            f"The 1st re-audit is still below Good: a 2nd re-audit will follow, and "
            f"{person(s.follow_up_owner_id)} follows up the agreed actions and records the follow-up "
            "on the audit's page."
        )
    return "\n".join(lines)


def row(s: AuditState, projection: Projection, whole: bool) -> AuditRow:
    return AuditRow.of(view(s, projection), whole).model_copy(update={"waits": waits(s)})


def view(s: AuditState, projection: Projection) -> AuditView:
    a, overdue = s.audit, projection.overdue_steps
    return AuditView(
        audit_id=a.audit_id,
        case_ref=a.case_ref,
        service_area=a.service_area,
        kind=a.kind,
        cycle=a.cycle,
        theme=a.theme,
        auditor_id=s.auditor_id,
        practitioner_id=a.practitioner_id,
        team_manager_id=s.team_manager_id,
        head_of_service_id=s.head_of_service_id,
        cp_chair_or_iro_id=s.cp_chair_or_iro_id,
        stage=s.stage,
        waiting_for=first_wait(s),
        overdue=bool(overdue),
        overdue_steps=list(overdue),
        allocated_at=s.allocated_at,
        audit_period_start=s.period_start,
        audit_period_end=s.period_end,
        carried_into_cycle=s.carried_into_cycle,
        deadlines=s.deadlines.model_copy(),
        initial_grading=s.initial,
        conversation=s.conversation,
        final_overall_grade=s.reported_grade,
        improvement_plan=s.initial.improvement_plan if s.initial else [],
        qa_decisions=list(s.qa_decisions),
        history=list(projection.history),
        reaudit_round=a.reaudit_round,
        follows_audit_id=a.follows_audit_id,
        chain_id=a.chain,
        findings_discussion=s.discussion.model_copy() if s.discussion else None,
        head_of_service_follow_up_required=s.follow_up_required,
        head_of_service_follow_up=s.follow_up,
        reaudit=s.reaudit.model_copy() if s.reaudit else None,
        chain_outcome=s.chain_outcome,
        escalation=s.escalation,
        dispute_id=s.dispute_id,
        dispute_outcome=s.dispute_outcome,
        final_grading=s.final_grading if s.uploaded else None,
        named_by_piat=sorted(s.pinned),
        final_at=s.final_at,
    )
