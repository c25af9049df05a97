"""Who the audit names now (R-ALLOC-3, R-KIND-6): the directory at each step that needs them, or
whom PIAT named instead, which then holds."""

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.directory import DirectoryActivities
    from models.cycles import cycle_label
    from models.email_marks import person
    from models.enums import PersonRole
    from models.errors import invalid, out_of_order
    from models.payloads import PersonChange, ServiceContacts

from workflows.audit_state import AuditState
from workflows.audit_view import waiting_ask
from workflows.dispute import DisputeWorkflow
from workflows.process import SYSTEM, LocalActivities, Notifier, Projection


class People:
    def __init__(self, state: AuditState, activities: LocalActivities, notifier: Notifier, projection: Projection) -> None:
        self.state, self._activities, self._notifier, self._projection = state, activities, notifier, projection

    async def now(self) -> ServiceContacts:
        """Who holds each role now: looked up whenever a step needs them, as people leave and move
        over the months a chain runs. A role nobody holds now keeps whom the audit named."""
        contacts: ServiceContacts = await self._activities.run(
            DirectoryActivities.service_contacts, self.state.audit.practitioner_id, "who holds each role now (staff directory)"
        )
        self._adopt(contacts)
        return contacts

    async def refresh(self) -> None:
        """Before a step tells or waits for someone."""
        await self.now()

    def _adopt(self, contacts: ServiceContacts) -> None:
        """Take the directory's Team Manager and Head of Service, unless PIAT named someone."""
        s = self.state
        for role, now in (
            (PersonRole.TEAM_MANAGER, contacts.team_manager_id),
            (PersonRole.HEAD_OF_SERVICE, contacts.head_of_service_id),
        ):
            before = s.person(role)
            if role in s.pinned or now is None or now == before:
                continue
            s.set_person(role, now)
            self._projection.record(SYSTEM, f"{role.label} is now {now}", f"was {before}; from the staff directory")
        s.piat_manager_id = contacts.piat_manager_id or s.piat_manager_id

    def assistant_director_instead(self, contacts: ServiceContacts | None) -> str | None:
        """Decision (R-RE-3): a Head of Service who did the re-audit does not follow up their own
        report: the Assistant Director does."""
        if contacts and self.state.head_of_service_id == self.state.auditor_id:
            return contacts.assistant_director_id
        return None

    async def replace(
        self, actor_id: str, change: PersonChange, dispute: "workflow.ChildWorkflowHandle[Any, Any] | None"
    ) -> None:
        """PIAT names who takes over a role, at any stage: the wait moves to them, they are told
        what is waiting and by when, and a running dispute (its handle, or None) follows."""
        s = self.state
        previous = s.person(change.role)
        s.set_person(change.role, change.staff_id)
        s.pinned.add(change.role)
        s.people_changes += 1
        self._projection.record(actor_id, f"{change.role.label} replaced", f"{previous} -> {change.staff_id}: {change.reason}")
        if dispute is not None:
            await dispute.signal(DisputeWorkflow.people_changed, s.dispute_people())
        case_ref = s.audit.case_ref
        await self._notifier.email(
            f"person-{s.people_changes}",
            [change.staff_id, previous],
            f"You are now the {change.role.label} for the audit of case {case_ref}",
            f"{person(actor_id)} named {person(change.staff_id)} as the {change.role.label} for the "
            f"{cycle_label(s.audit.cycle)} audit of case {case_ref}, in place of {person(previous)}: {change.reason}\n"
            f"The audit is {s.stage.value.replace('_', ' ')}.",
            **waiting_ask(s, change.staff_id),
        )

    def validate_replace(self, change: PersonChange) -> None:
        s = self.state
        if change.staff_id == s.person(change.role):
            raise invalid(f"{change.staff_id} is already the {change.role.label}")
        if change.staff_id == s.audit.practitioner_id:
            raise invalid("the practitioner cannot hold another role on their own audit")
        if change.role is PersonRole.AUDITOR and change.staff_id == s.team_manager_id:
            raise invalid("the auditor must not be the practitioner's own Team Manager")
        if change.role is PersonRole.TEAM_MANAGER and change.staff_id == s.auditor_id:
            raise invalid(f"{change.staff_id} audits this case, so cannot be its Team Manager too")
        if s.finished:
            raise out_of_order("the audit and its chain have ended; there is no one to replace")
