"""Who the audit names now (R-ALLOC-3, R-KIND-6): the directory at each step that needs them, or
whom PIAT named instead, which then holds. Part of `AuditWorkflow` (workflows/audit.py)."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.directory import DirectoryActivities
    from models.cycles import cycle_label
    from models.enums import PersonRole
    from models.errors import invalid, out_of_order
    from models.disputes import DisputePeople
    from models.email_marks import person
    from models.payloads import PersonChange, ServiceContacts

from workflows.dispute import DisputeWorkflow

from workflows.process import SYSTEM


class AuditPeople:
    async def _people_now(self) -> ServiceContacts:
        """Who holds each role now: looked up whenever a step needs them, as people leave and move
        over the months a chain runs. A role nobody holds now keeps whom the audit named."""
        contacts = await self.activities.run(
            DirectoryActivities.service_contacts, self.audit.practitioner_id, "who holds each role now (staff directory)")
        self._adopt(contacts)
        return contacts

    async def _refresh_people(self) -> None:
        """Before a step tells or waits for someone."""
        await self._people_now()

    def _adopt(self, contacts: ServiceContacts) -> None:
        """Take the directory's Team Manager and Head of Service, unless PIAT named someone."""
        for role, now in ((PersonRole.TEAM_MANAGER, contacts.team_manager_id),
                          (PersonRole.HEAD_OF_SERVICE, contacts.head_of_service_id)):
            before = self._person(role)
            if role in self._pinned or now is None or now == before:
                continue
            self._set_person(role, now)
            self.projection.record(SYSTEM, f"{role.label} is now {now}", f"was {before}; from the staff directory")
        self.piat_manager_id = contacts.piat_manager_id or self.piat_manager_id

    def _person(self, role: PersonRole) -> str | None:
        return getattr(self, f"{role.value}_id")

    def _set_person(self, role: PersonRole, staff_id: str) -> None:
        setattr(self, f"{role.value}_id", staff_id)

    def _assistant_director_instead(self, contacts: ServiceContacts | None) -> str | None:
        """Decision (R-RE-3): a Head of Service who did the re-audit does not follow up their own
        report: the Assistant Director does."""
        if contacts and self.head_of_service_id == self.auditor_id:
            return contacts.assistant_director_id
        return None

    @property
    def follow_up_owner_id(self) -> str | None:
        return self._follow_up_by_assistant_director or self.head_of_service_id

    @workflow.update
    async def replace_person(self, actor_id: str, change: PersonChange) -> None:
        """PIAT names who takes over a role, at any stage: the wait moves to them, they are told
        what is waiting and by and a running dispute follows."""
        previous = self._person(change.role)
        self._set_person(change.role, change.staff_id)
        self._pinned.add(change.role)
        self.people_changes += 1
        self.projection.record(actor_id, f"{change.role.label} replaced", f"{previous} -> {change.staff_id}: {change.reason}")
        if self._dispute_handle is not None:
            await self._dispute_handle.signal(DisputeWorkflow.people_changed, self._dispute_people())
        await self.notifier.email(
            f"person-{self.people_changes}",
            [change.staff_id, previous],
            f"You are now the {change.role.label} for the audit of case {self.case_ref}",
            f"{person(actor_id)} named {person(change.staff_id)} as the {change.role.label} for the "
            f"{cycle_label(self.audit.cycle)} audit of case {self.case_ref}, in place of {person(previous)}: {change.reason}\n"
            f"The audit is {self.stage.value.replace('_', ' ')}.",
            **self._waiting_ask(change.staff_id),
        )
        return None

    @replace_person.validator
    def _validate_replace_person(self, actor_id: str, change: PersonChange) -> None:
        if change.staff_id == self._person(change.role):
            raise invalid(f"{change.staff_id} is already the {change.role.label}")
        if change.staff_id == self.audit.practitioner_id:
            raise invalid("the practitioner cannot hold another role on their own audit")
        if change.role is PersonRole.AUDITOR and change.staff_id == self.team_manager_id:
            raise invalid("the auditor must not be the practitioner's own Team Manager")
        if change.role is PersonRole.TEAM_MANAGER and change.staff_id == self.auditor_id:
            raise invalid(f"{change.staff_id} audits this case, so cannot be its Team Manager too")
        if self._finished:
            raise out_of_order("the audit and its chain have ended; there is no one to replace")

    @property
    def _piat_manager(self) -> str:
        """Who hears of PIAT's own misses and reviews (the PI&A Manager; else PIAT: `AuditInput.piat`)."""
        return self.piat_manager_id or self.audit.piat

    def _dispute_people(self) -> DisputePeople:
        return DisputePeople(auditor_id=self.auditor_id, team_manager_id=self.team_manager_id,
                             head_of_service_id=self.head_of_service_id, pinned=sorted(self._pinned))
