"""A safety concern found while auditing (R-SAFE-1, R-SAFE-2): an audit never delays action to
keep a child safe.

Its own workflow, `safety-<audit id>-<n>`: the audit never waits for it and it never waits for the
audit, so a concern raised on a completed audit runs the same. The practitioner's Team Manager is
emailed at once, marked urgent, and acknowledges with the action taken. The clock here is the
clock on the wall — day or night, weekends included — not working days: without an
acknowledgement within 2 hours the Head of Service is told, 2 hours later the Assistant Director,
and then the concern stays open and visibly overdue until someone told acknowledges it.
"""

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.directory import DirectoryActivities
    from activities.persistence import PersistenceActivities
    from models import search_attributes as sa
    from models.email_marks import person
    from models.enums import SafetyEscalation
    from models.pages import audit_page
    from models.errors import forbidden, out_of_order
    from models.payloads import ServiceContacts, Waiting
    from models.safety import SafetyAcknowledgement, SafetyConcernInput, SafetyConcernRow, SafetyConcernView

from workflows.process import SYSTEM, LocalActivities, Notifier, Projection, RecordedCalendar, details, wait


@workflow.defn
class SafetyConcernWorkflow:
    @workflow.init
    def __init__(self, concern: SafetyConcernInput) -> None:
        self.concern, self.audit_id, self.case_ref = concern, concern.audit_id, concern.case_ref
        self.activities = LocalActivities()
        self.calendar = RecordedCalendar(self.activities)
        self.notifier = Notifier(self.activities, self.audit_id, self.case_ref, self._email_about)
        self.projection = Projection(
            self.activities,
            PersistenceActivities.save_safety_concern_row,
            "save safety concern projection",
            self._row,
            self._refresh,
        )
        self.raised_at = workflow.now()
        self.escalation = SafetyEscalation.NONE
        # Who has been asked to act, in order: none yet when there is no Team Manager to tell.
        self.told: list[str] = [concern.team_manager_id] if concern.team_manager_id else []
        self.acknowledgement: SafetyAcknowledgement | None = None
        self.acknowledged_by: str | None = None
        self.next_escalation_at: datetime | None = self.raised_at + timedelta(hours=concern.policy.safety_acknowledge_hours)
        self._told_team_manager = False

    @workflow.run
    async def run(self, concern: SafetyConcernInput) -> SafetyConcernView:
        self.projection.start()
        self.projection.record(
            concern.raised_by, "safety concern raised", "immediate action needed" if concern.immediate_action_needed else ""
        )
        levels = [SafetyEscalation.HEAD_OF_SERVICE, SafetyEscalation.ASSISTANT_DIRECTOR]
        if concern.team_manager_id:
            await self._tell(concern.team_manager_id, "raised", "")
        else:
            # Nobody to tell first (R-SAFE-1: never delayed): the Head of Service at once.
            await self._escalate(levels.pop(0))
        self._told_team_manager = True
        for level in levels:
            if await wait(self._acknowledged, self.next_escalation_at, f"acknowledged before {level.value} is told (R-SAFE-2)"):
                break
            await self._escalate(level)
        else:
            self.projection.mark_overdue("acknowledgement")
            await wait(self._acknowledged)
        self.projection.clear_overdue("acknowledgement")
        assert self.acknowledgement is not None  # waited for above
        await self.notifier.email(
            "acknowledged",
            [concern.raised_by, *self.told],
            f"Safety concern acknowledged: case {concern.case_ref}",
            f"{person(self.acknowledged_by)} acknowledged the safety concern raised by {person(concern.raised_by)} "
            f"while auditing case {concern.case_ref}.\nAction taken: {self.acknowledgement.action_taken}",
            action="",
        )
        await self.projection.finish()
        return self._view()

    def _acknowledged(self) -> bool:
        return self.acknowledgement is not None

    async def _escalate(self, level: SafetyEscalation) -> None:
        contacts: ServiceContacts = await self.activities.run(
            DirectoryActivities.service_contacts, self.concern.practitioner_id, "who holds each role now (staff directory)"
        )
        if level is SafetyEscalation.HEAD_OF_SERVICE:
            holder = contacts.head_of_service_id or self.concern.head_of_service_id
        else:
            holder = contacts.assistant_director_id
        self.escalation = level
        # After the Assistant Director nobody further is told: the concern stays open, overdue.
        further = level is SafetyEscalation.HEAD_OF_SERVICE
        self.next_escalation_at = workflow.now() + timedelta(hours=self.concern.policy.safety_escalate_hours) if further else None
        first = not self.told  # no Team Manager was there to tell: sent here at once
        if holder and holder not in self.told:
            self.told.append(holder)
        why = "no Team Manager to tell" if first else "not acknowledged"
        self.projection.record(SYSTEM, f"{why}: escalated to the {level.label}", holder or "nobody holds the role")
        await self._tell(
            holder,
            f"escalated-{level.value}",
            " The practitioner has no Team Manager in the staff directory to tell."
            if first
            else f" It has not been acknowledged within {_hours(workflow.now() - self.raised_at)}.",
        )

    async def _tell(self, to: str | None, step: str, unacknowledged: str) -> None:
        c = self.concern
        urgency = "Immediate action is needed.\n" if c.immediate_action_needed else ""
        next_level = {SafetyEscalation.NONE: "Head of Service", SafetyEscalation.HEAD_OF_SERVICE: "Assistant Director"}
        further = (
            f"Without an acknowledgement by the time below, the {next_level[self.escalation]} is told."
            if self.next_escalation_at
            else "Nobody further is told: it stays open and overdue until acknowledged."
        )
        await self.notifier.email(
            step,
            [to],
            f"URGENT: safety concern: case {c.case_ref}",
            f"{person(c.raised_by)} raised a safety concern while auditing case {c.case_ref}.{unacknowledged}\n"
            f"{urgency}\n{c.description}\n\n{further}",
            action="act to keep the child safe, then acknowledge the concern with the action taken on the audit's page",
            due=self.next_escalation_at,
            urgent=True,
        )

    def _email_about(self) -> tuple[str | None, str]:
        """A concern's emails link to its audit's page (the concern is listed there)."""
        return self.concern.cycle, audit_page(self.audit_id)

    # ---- the acknowledgement (a Workflow Update) ----------------------------------------------

    @workflow.update
    def acknowledge(self, actor_id: str, acknowledgement: SafetyAcknowledgement) -> None:
        self.acknowledgement, self.acknowledged_by = acknowledgement, actor_id
        self.next_escalation_at = None
        self.projection.record(actor_id, "safety concern acknowledged", acknowledgement.action_taken)

    @acknowledge.validator
    def _validate_acknowledge(self, actor_id: str, acknowledgement: SafetyAcknowledgement) -> None:
        if self.acknowledgement is not None:
            raise out_of_order(f"already acknowledged by {self.acknowledged_by}")
        if actor_id not in self.told:
            raise forbidden("only the Team Manager, or whoever the concern has been escalated to, acknowledges it")

    @workflow.update
    async def raised_recorded(self) -> None:
        """Answers once the Team Manager's urgent email is in the outbox, so a 201 means they are told."""
        await workflow.wait_condition(lambda: self._told_team_manager)
        await self.projection.answer()

    @workflow.query
    def view(self) -> SafetyConcernView:
        return self._view()

    # ---- what operators and the API see -------------------------------------------------------

    def _waiting(self) -> Waiting | None:
        if self.acknowledgement is not None:
            return None
        return Waiting(
            action="acknowledgement with the action taken (R-SAFE-2)",
            from_staff_ids=list(self.told),
            until=self.next_escalation_at,
        )

    def _refresh(self) -> None:
        self.projection.upsert(
            {
                sa.SAFETY_CONCERN_OPEN: self.acknowledgement is None,
                sa.ESCALATION: self.escalation.value,
            }
        )
        state = "acknowledged" if self.acknowledgement else f"open ({self.escalation.value})"
        workflow.set_current_details(details(state, self._waiting(), self.projection.overdue_steps))

    def _row(self, whole: bool) -> SafetyConcernRow:
        view = self._view()
        return SafetyConcernRow.of(view, whole).model_copy(update={"waits": [view.waiting_for] if view.waiting_for else []})

    def _view(self) -> SafetyConcernView:
        c = self.concern
        return SafetyConcernView(
            concern_id=c.concern_id,
            audit_id=c.audit_id,
            case_ref=c.case_ref,
            raised_by=c.raised_by,
            raised_at=self.raised_at,
            description=c.description,
            immediate_action_needed=c.immediate_action_needed,
            team_manager_id=c.team_manager_id,
            open=self.acknowledgement is None,
            escalation=self.escalation,
            overdue=bool(self.projection.overdue_steps),
            told=list(self.told),
            waiting_for=self._waiting(),
            acknowledged_by=self.acknowledged_by,
            acknowledgement=self.acknowledgement,
            history=list(self.projection.history),
        )


def _hours(elapsed: timedelta) -> str:
    hours = round(elapsed.total_seconds() / 3600, 1)
    return f"{hours:g} hours"
