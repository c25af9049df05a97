"""The report's own path (R-ALLOC-1, R-AUD, R-QA, R-DIST-1): allocation, the wait for the
submission, quality assurance (looping on returns, carried into the next cycle when an amendment
is missed) and the report's distribution."""

import itertools
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.cycles import cycle_label, month_of, next_cycle
    from models.email_marks import at, long_date, person
    from models.enums import AuditKind, Escalation, Stage
    from models.payloads import QADecision
    from models.rules import KIND_TITLES, requires_second_reaudit

from workflows.audit_step import AuditStep
from workflows.audit_view import report_text
from workflows.process import SYSTEM, grade_text


class ReportPath(AuditStep):
    async def allocate(self) -> None:
        """R-ALLOC-1, R-AUD-1, R-AUD-2."""
        s, a = self.state, self.state.audit
        allocated_at, start = s.allocated_at, a.involvement_start
        schedule = await self.calendar.on(allocated_at, lambda c: c.allocation_schedule(allocated_at, start))
        s.deadlines.completion_due = schedule.completion_due
        s.period_start, s.period_end = schedule.period_start, schedule.period_end
        self.projection.changed()
        theme = f"\nTheme: {a.theme}" if a.theme else ""
        await self.notifier.email(
            "allocation",
            [s.auditor_id, s.team_manager_id, a.practitioner_id],
            f"Audit allocated: case {a.case_ref} ({cycle_label(a.cycle)} {a.kind.value} audit)",
            f"The {a.kind.value} audit of case {a.case_ref} is allocated to {person(s.auditor_id)}.{theme}\n"
            f"Practitioner: {person(a.practitioner_id)}. Team Manager: {person(s.team_manager_id)}.\n"
            f"The audit covers {long_date(s.period_start)} to {long_date(s.period_end)}.",
            action="complete the audit (grading, practitioner conversation and any improvement plan) and submit it "
            "for quality assurance",
            action_for=[s.auditor_id],
            due=schedule.completion_due,
        )
        s.allocated = True

    async def await_submission(self) -> None:
        """Until the report is submitted; the completion deadline passing tells auditor and TM."""
        s = self.state
        submitted = lambda: s.submitted_at is not None  # noqa: E731
        if await self.report_wait(submitted, s.deadlines.completion_due, "completion deadline (R-AUD-1)"):
            return
        self.projection.mark_overdue("completion")
        await self.people.refresh()
        await self.notifier.email(
            f"completion-overdue-{s.carried_into_cycle or s.audit.cycle}",
            [s.auditor_id, s.team_manager_id],
            f"Audit overdue: case {s.audit.case_ref}",
            f"The audit of case {s.audit.case_ref} was due by {at(s.deadlines.completion_due)} "
            f"and has not been submitted for quality assurance. Auditor: {person(s.auditor_id)}.",
            action="complete the audit and submit it for quality assurance as soon as you can",
            action_for=[s.auditor_id],
        )
        await self.report_wait(submitted)

    async def quality_assurance(self) -> bool:
        """R-QA-1..3: True once PIAT accepts; False when an amendment is not made in time."""
        s = self.state
        # A round's number keys its return and SLA-breach emails, and the outbox takes a key it
        # already holds for a retry of that send: so the rounds of a pass after "not accepted"
        # (R-QA-3) count on from the last pass's.
        for qa_round in itertools.count(s.qa_rounds + 1):
            s.qa_rounds = qa_round
            submitted_at = s.submitted_at
            assert submitted_at is not None  # a round starts with the report submitted
            s.deadlines.qa_due = await self.calendar.working_days(submitted_at, s.audit.policy.qa_sla_days, "QA due (R-QA-1)")
            s.deadlines.revision_due = None
            self.projection.changed()
            decided = lambda: s.pending_qa is not None  # noqa: E731
            if not await self.report_wait(decided, s.deadlines.qa_due, "quality assurance SLA (R-QA-1)"):
                await self._qa_sla_breached(qa_round)
                await self.report_wait(decided)
            decision, s.pending_qa, s.submitted_at = s.pending_qa, None, None
            assert decision is not None  # `decided`
            self.projection.clear_overdue("qa")
            if decision.decision == "accept":
                return True
            if not await self._await_revision(qa_round, decision):
                return False
        raise AssertionError("unreachable")

    async def _qa_sla_breached(self, qa_round: int) -> None:
        """Decision (R-QA-1): the PI&A Manager is told; nothing else stops."""
        s = self.state
        self.projection.mark_overdue("qa")
        await self.people.refresh()
        await self.notifier.email(
            f"qa-sla-breached-{qa_round}",
            [s.piat_manager],
            f"QA overdue: audit of case {s.audit.case_ref}",
            f"The audit of case {s.audit.case_ref} was submitted for quality assurance and was due "
            f"to be quality assured by {at(s.deadlines.qa_due)}. It has not been yet.",
            action="make sure PIAT quality-assures the report now",
        )

    async def _await_revision(self, qa_round: int, decision: QADecision) -> bool:
        """R-QA-2: 3 working days to amend, 4 where PIAT offered a discussion."""
        s, policy = self.state, self.state.audit.policy
        days = policy.revision_days_with_discussion if decision.discussion_offered else policy.revision_days
        s.deadlines.revision_due = await self.calendar.working_days(
            workflow.now(), days, f"revision due in {days} working days (R-QA-2)"
        )
        self.projection.changed()
        offer = "PIAT offers a discussion of the changes." if decision.discussion_offered else ""
        await self.notifier.email(
            f"qa-returned-{qa_round}",
            [s.auditor_id],
            f"Audit returned for revision: case {s.audit.case_ref}",
            f"Quality assurance returned the report with these points to review:\n{decision.details}\n{offer}".strip(),
            action="amend the report and submit it again",
            due=s.deadlines.revision_due,
        )
        resubmitted = lambda: s.submitted_at is not None  # noqa: E731
        return await self.report_wait(resubmitted, s.deadlines.revision_due, "amended report (R-QA-2)")

    async def carry_into_next_cycle(self) -> None:
        """R-QA-3: not accepted; the auditor completes it in time for the cycle after the one in
        which the amendment was missed (never one already past), and the stage says so at once,
        so that a resubmission arriving meanwhile is refused as late, not half taken."""
        s = self.state
        s.amended = False
        self.move(Stage.NOT_ACCEPTED)
        s.carried_into_cycle = cycle = next_cycle(max(s.carried_into_cycle or s.audit.cycle, month_of(workflow.now())))
        s.deadlines.completion_due = await self.calendar.on(workflow.now(), lambda c: c.cycle_end(cycle))
        s.amended = False
        self.move(Stage.NOT_ACCEPTED)
        self.projection.record(SYSTEM, "not accepted", f"amendment not made in time; carried into {cycle}")
        await self.people.refresh()
        await self.notifier.email(
            f"not-accepted-{cycle}",
            [s.auditor_id, s.team_manager_id, s.piat_manager],
            f"Audit not accepted: case {s.audit.case_ref}",
            f"The amended report was not submitted by {at(s.deadlines.revision_due)}, so the audit "
            f"is not accepted. It is carried into the {cycle_label(cycle)} audit cycle; "
            "a new allocation still follows in that cycle.",
            action=f"complete the audit in time for the {cycle_label(cycle)} cycle and submit it for quality assurance",
            action_for=[s.auditor_id],
            due=s.deadlines.completion_due,
        )

    async def distribute(self) -> None:
        """R-DIST-1 (R-RE-2): the accepted report goes to the practitioner and their Team Manager;
        a 1st re-audit still below Good also to the Head of Service, and to the PSW's attention (R-RE-3)."""
        s, a = self.state, self.state.audit
        second = requires_second_reaudit(a.reaudit_round, s.final_grade)
        contacts = await self.people.now()
        if second:
            s.follow_up_by_assistant_director = self.people.assistant_director_instead(contacts)
        # The dispute window's close, named in the report: worked out now (with no command) and
        # held by the window itself, so the email and the deadline agree.
        s.deadlines.dispute_window_closes = self.calendar.known_deadline(workflow.now(), a.policy.dispute_window_days)
        await self.notifier.email(
            "report",
            [a.practitioner_id, s.team_manager_id, s.follow_up_owner_id if second else None],
            f"{KIND_TITLES[a.kind]} report: case {a.case_ref} ({cycle_label(a.cycle)})",
            report_text(s, second),
            **self._dispute_ask(),
        )
        s.report_sent_at = workflow.now()
        if second:
            s.follow_up_required = True
            self.escalate(Escalation.HEAD_OF_SERVICE)
            await self.notifier.email(
                "principal-social-worker",
                [contacts.psw_id],
                f"1st re-audit still {grade_text(s.final_grade)}: case {a.case_ref}",
                f"The 1st re-audit of case {a.case_ref} is graded {grade_text(s.final_grade)}: a 2nd "
                f"re-audit will follow. {person(s.follow_up_owner_id)} follows up the agreed actions.",
                action="",
            )

    def _dispute_ask(self) -> dict[str, Any]:
        """What the report asks: the practitioner or Team Manager may dispute the grading while
        the window is open (a peer audit is not graded: nothing to dispute)."""
        s, a = self.state, self.state.audit
        if a.kind is AuditKind.PEER:
            return dict(action="")
        closes = s.deadlines.dispute_window_closes
        within = "" if closes else f" within {a.policy.dispute_window_days} working days"
        return dict(
            action=f"read the report; if you disagree with the grading, raise a dispute on the audit's page{within}, "
            "before the dispute window closes",
            action_for=[a.practitioner_id, s.team_manager_id],
            due=closes,
        )
