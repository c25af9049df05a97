"""What an audit shows: its view (the API's `GET /audits/{id}` by query), its projection row, its
search attributes and one-line current details for the Web UI, and what it waits for from whom.
Part of `AuditWorkflow` (workflows/audit.py)."""

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models import search_attributes as sa
    from models.cycles import cycle_label
    from models.email_marks import at, long_date, person, without_rule_codes
    from models.enums import Grade
    from models.pages import audit_page
    from models.payloads import AuditView, Regrade, Waiting
    from models.projections import AuditRow
    from models.rules import waiting_on

from workflows.process import details, grade_text


class AuditViewing:
    @workflow.query
    def view(self) -> AuditView:
        return self._view()

    @property
    def final_grade(self) -> Grade | None:
        grading = self.final_grading
        return grading.overall.grade if grading else None

    @property
    def final_grading(self) -> Regrade | None:
        """The grading after QA and any dispute: what Mosaic, reports and re-audits use (R-REP-2)."""
        if self.regrade:
            return self.regrade
        c = self.conversation
        return Regrade(domains=c.domains, overall=c.overall) if c else None

    @property
    def _grading_is_final(self) -> bool:
        """R-REP-2: only the grading after QA and any dispute is reported: from the Mosaic upload on."""
        return self.uploaded

    @property
    def reported_grade(self) -> Grade | None:
        """The final overall grade once final: the `AuditOverallGrade` search attribute, the list."""
        return self.final_grade if self._grading_is_final else None

    def _refresh(self) -> None:
        waiting, grade = self._waiting(), self.reported_grade
        self.projection.upsert(sa.of_audit(self.audit, self.stage.value, grade.value if grade else None,
                                 waiting.until if waiting else None, bool(self.projection.overdue_steps), self.escalation.value))
        workflow.set_current_details(details(self.stage.value, waiting, self.projection.overdue_steps))

    def _waiting(self) -> Waiting | None:
        """What the audit waits for first: its report's stage, then the discussion, then the follow-up."""
        return self._waiting_on_report() or self._waiting_on_discussion() or self._waiting_on_follow_up()

    def _email_about(self) -> tuple[str, str]:
        """Every email about the audit names its cycle and links to its page."""
        return self.audit.cycle, audit_page(self.audit_id)

    def _waiting_ask(self, staff_id: str) -> dict:
        """What waits on `staff_id` now and by when, for the email that hands a role over: the
        soonest deadline when several do (a Team Manager's discussion beside the dispute window)."""
        waits = [w for w in (self._waiting_on_report(), self._waiting_on_discussion(), self._waiting_on_follow_up())
                 if w and staff_id in w.from_staff_ids]
        dues = [w.until for w in waits if w.until]
        action = "; and ".join(without_rule_codes(w.action) for w in waits)  # codes are for the history
        return dict(action=action, action_for=[staff_id], due=min(dues) if dues else None)

    def _waiting_on_report(self) -> Waiting | None:
        """Whom the report's stage waits on and what for (models/rules.py's `STAGE_WAITS`)."""
        wait = waiting_on(self.stage)
        if wait is None:
            return None
        people = {"auditor_id": self.auditor_id, "practitioner_id": self.audit.practitioner_id,
                  "team_manager_id": self.team_manager_id}
        plan, carried = self.reaudit, self.carried_into_cycle
        action = wait.action.format(
            carried_into=cycle_label(carried) if carried else "next", dispute=self.dispute_id or "starting",
            reaudit_cycle=plan and plan.cycle, reaudit_round=plan and plan.round, reaudit_id=plan and plan.audit_id)
        return Waiting(action=action, from_staff_ids=[people[p] for p in wait.people], from_role=wait.role,
                       until=self._instant(wait.until))

    def _instant(self, name: str | None) -> datetime | None:
        """A stage's wait runs until one of the deadlines, or the re-audit's allocation."""
        if name == "reaudit_allocation":
            return self.reaudit.allocate_at
        return getattr(self.deadlines, name) if name else None

    def _report_text(self, second_reaudit: bool = False) -> str:
        """The accepted report, for the practitioner and their Team Manager (and the Head of
        Service when a 1st re-audit is still below Good)."""
        a, c = self.audit, self.conversation
        lines = [f"The {cycle_label(a.cycle)} {a.kind.value} audit of case {a.case_ref} has passed quality assurance. "
                 "This is its report.",
                 f"Auditor: {person(self.auditor_id)}. The audit covers {long_date(self.period_start)} to "
                 f"{long_date(self.period_end)}."]
        if a.theme:
            lines.append(f"Theme: {a.theme}")
        lines.append(f"Overall: {grade_text(c.overall.grade)}. {c.overall.rationale}")
        lines += [f"- {d.domain}: {grade_text(d.grade)}. {d.rationale}".rstrip() for d in c.domains]
        lines.append(f"Practitioner conversation ({long_date(c.held_on)}): {c.notes}")
        lines += ["Improvement plan:"] + [f"- {p.action} (owner {person(p.owner_id)}, by {long_date(p.due_on)})"
                                         for p in self.initial.improvement_plan]
        if closes := self.deadlines.dispute_window_closes:
            lines.append(f"The dispute window closes {at(closes)}: until then the practitioner or their Team Manager "
                         "may dispute the grading. The audit then goes on Mosaic.")
        if second_reaudit:
            lines.append(f"The 1st re-audit is still below Good: a 2nd re-audit will follow, and "
                         f"{person(self.follow_up_owner_id)} follows up the agreed actions and records the follow-up "
                         "on the audit's page.")
        return "\n".join(lines)

    def _row(self, whole: bool) -> AuditRow:
        # Every wait, not only the first: a Team Manager's discussion beside the dispute window.
        waits = [w for w in (self._waiting_on_report(), self._waiting_on_discussion(), self._waiting_on_follow_up()) if w]
        return AuditRow.of(self._view(), whole).model_copy(update={"waits": waits})

    def _view(self) -> AuditView:
        a = self.audit
        return AuditView(
            audit_id=a.audit_id, case_ref=a.case_ref, service_area=a.service_area, kind=a.kind, cycle=a.cycle,
            theme=a.theme, auditor_id=self.auditor_id, practitioner_id=a.practitioner_id,
            team_manager_id=self.team_manager_id, head_of_service_id=self.head_of_service_id,
            cp_chair_or_iro_id=self.cp_chair_or_iro_id, stage=self.stage, waiting_for=self._waiting(),
            overdue=bool(self.projection.overdue_steps), overdue_steps=list(self.projection.overdue_steps), allocated_at=self.allocated_at,
            audit_period_start=self.period_start, audit_period_end=self.period_end,
            carried_into_cycle=self.carried_into_cycle, deadlines=self.deadlines.model_copy(),
            initial_grading=self.initial, conversation=self.conversation, final_overall_grade=self.reported_grade,
            improvement_plan=self.initial.improvement_plan if self.initial else [],
            qa_decisions=list(self.qa_decisions), history=list(self.projection.history),
            reaudit_round=a.reaudit_round, follows_audit_id=a.follows_audit_id, chain_id=a.chain,
            findings_discussion=self.discussion.model_copy() if self.discussion else None,
            head_of_service_follow_up_required=self.follow_up_required, head_of_service_follow_up=self.follow_up,
            reaudit=self.reaudit.model_copy() if self.reaudit else None, chain_outcome=self.chain_outcome,
            escalation=self.escalation, dispute_id=self.dispute_id, dispute_outcome=self.dispute_outcome,
            final_grading=self.final_grading if self._grading_is_final else None,
            named_by_piat=sorted(self._pinned), final_at=self.final_at,
        )
