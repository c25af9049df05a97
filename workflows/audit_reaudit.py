"""Re-audits (R-RE-1, R-RE-5): the next round planned in its cycle and run as a child workflow
of the audit it follows; still below Good at the 2nd, the chain ends with the Director."""

from collections.abc import Awaitable, Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models import search_attributes as sa
    from models.cycles import cycle_label
    from models.email_marks import person
    from models.enums import AuditKind, ChainOutcome, Escalation, Stage
    from models.payloads import AuditInput, AuditOutcome, ReauditPlan

from workflows.audit_state import AuditState
from workflows.audit_step import AuditHelpers, AuditStep
from workflows.process import SYSTEM, grade_text, wait


class Reaudits(AuditStep):
    def __init__(self, state: AuditState, helpers: AuditHelpers, run: Callable[..., Awaitable[AuditOutcome]]) -> None:
        super().__init__(state, helpers)
        self._run = run  # a re-audit is an audit: the same workflow's run, as a child

    async def reaudit(self) -> None:
        """R-RE-1: plan the next re-audit's cycle, wait for it, run the re-audit as a child."""
        s, a = self.state, self.state.audit
        now = workflow.now()
        schedule = await self.calendar.on(now, lambda c: c.reaudit_schedule(now))
        round_ = a.reaudit_round + 1
        s.reaudit = plan = ReauditPlan(
            round=round_,
            cycle=schedule.cycle,
            allocate_at=schedule.allocate_at,
            audit_id=f"{a.chain}-r{round_}",
            status="planned",
        )
        self.move(Stage.REAUDIT_PLANNED)
        self.projection.record(SYSTEM, f"re-audit {round_} planned", f"cycle {schedule.cycle}")
        await wait(lambda: False, schedule.allocate_at, f"re-audit {round_} allocated in the {schedule.cycle} cycle (R-RE-1)")
        if s.follow_up_required and s.follow_up is None:
            await self.people.refresh()
            await self.notifier.email(
                "follow-up-reminder",
                [s.follow_up_owner_id],
                f"Head of Service follow-up not recorded: case {a.case_ref}",
                f"The 2nd re-audit of case {a.case_ref} starts now, in the {cycle_label(schedule.cycle)} audit cycle; "
                f"the follow-up of the agreed actions from the 1st re-audit by {person(s.follow_up_owner_id)} is not recorded.",
                action="record your follow-up of the agreed actions on the audit's page",
            )
        contacts = await self.people.now()
        child: AuditInput = a.model_copy(
            update=dict(
                audit_id=plan.audit_id,
                kind=AuditKind.REAUDIT,
                cycle=plan.cycle,
                theme=None,
                # Nobody senior of the service in the directory, nor its Head of Service: PIAT, who
                # allocated the chain, hand it to a senior manager (R-KIND-6) with `reassign`.
                auditor_id=contacts.reauditor_id or a.piat,
                head_of_service_id=contacts.head_of_service_id or s.head_of_service_id,
                team_manager_id=s.team_manager_id,
                cp_chair_or_iro_id=s.cp_chair_or_iro_id,
                piat_manager_id=s.piat_manager_id,
                reaudit_round=round_,
                follows_audit_id=a.audit_id,
                chain_id=a.chain,
                # Months on, the council may have closed days the first audit's record lacks.
                calendar=None,
            )
        )
        plan.status = "in_progress"
        self.move(Stage.REAUDIT_IN_PROGRESS)
        result = await workflow.execute_child_workflow(
            self._run,
            child,
            id=f"audit-{child.audit_id}",
            search_attributes=sa.at_allocation(child),
            static_summary=f"re-audit {round_} of audit {a.audit_id}, cycle {child.cycle}",
            task_timeout=a.policy.task_timeout,
        )
        plan.status, plan.final_overall_grade = "done", result.final_overall_grade
        s.chain_outcome = result.chain_outcome
        self.escalate(result.escalation)
        self.move(Stage.COMPLETED)

    async def escalate_to_director(self) -> None:
        """R-RE-5: still below Good at the 2nd re-audit; the chain ends here."""
        s, a = self.state, self.state.audit
        contacts = await self.people.now()
        s.chain_outcome = ChainOutcome.ESCALATED
        self.escalate(Escalation.DIRECTOR)
        self.projection.record(SYSTEM, "escalated to the Head of Service, Assistant Director and Director (R-RE-5)")
        await self.notifier.email(
            "escalated-to-director",
            [s.head_of_service_id, contacts.assistant_director_id, contacts.director_id],
            f"2nd re-audit still {grade_text(s.final_grade)}: case {a.case_ref}",
            f"Case {a.case_ref} has been audited and re-audited twice; the 2nd re-audit is graded "
            f"{grade_text(s.final_grade)}. Practice has not achieved the required outcomes, so the Head of Service, "
            "the Assistant Director and the Director are told.",
            action="",
        )
