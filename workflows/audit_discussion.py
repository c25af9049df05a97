"""After the report: the findings discussion (R-DISC-1..3) and the Head of Service's follow-up of
a 1st re-audit still below Good (R-RE-3).

The discussion runs as a task beside the dispute window, any dispute, the upload and any
re-audit: a dispute stops one not yet recorded, and it starts again on the final report."""

import asyncio
import itertools
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.cycles import cycle_label, cycle_month
    from models.email_marks import at, person
    from models.enums import Channel, Escalation
    from models.errors import forbidden, invalid, out_of_order
    from models.payloads import (
        DiscussionRecord,
        DiscussionReview,
        DiscussionView,
        FindingsDiscussion,
        FollowUpRecord,
        HeadOfServiceFollowUp,
        ReviewRecord,
    )
    from models.rules import KIND_TITLES, discussion_rule

from workflows.audit_state import AuditState
from workflows.audit_step import AuditHelpers, AuditStep
from workflows.process import SYSTEM, wait


class DiscussionSteps(AuditStep):
    def __init__(self, state: AuditState, helpers: AuditHelpers) -> None:
        super().__init__(state, helpers)
        self._task: asyncio.Task[None] | None = None  # the discussion on the report sent last

    def start(self) -> None:
        self.state.discussion_starting = True
        self.state.discussion_round += 1
        self._task = asyncio.create_task(self._findings_discussion())

    def pause(self) -> bool:
        """A dispute about the grading stops a discussion not yet recorded: it starts again on the
        final report. True if it was stopped."""
        s = self.state
        if s.discussion is not None and s.discussion.records:
            return False
        assert self._task is not None  # started with the report
        self._task.cancel()
        s.discussion = None
        self.projection.clear_overdue("discussion")
        self.projection.changed()
        return True

    async def ended(self) -> None:
        """Once the discussion is done: by the time the run asks, the one on the final report, if a
        dispute restarted it."""
        assert self._task is not None
        await self._task

    async def _findings_discussion(self) -> None:
        s, a = self.state, self.state.audit
        rule = discussion_rule(a.kind, a.service_area, a.reaudit_round, s.final_grade)
        if rule is None:
            s.discussion_starting = False
            return  # Good or Outstanding: no discussion is required
        sent_at = s.report_sent_at
        assert sent_at is not None  # a discussion starts once the report is sent
        due = await self.calendar.working_days(
            sent_at, rule.working_days, f"findings discussion due in {rule.working_days} working days (R-DISC)"
        )
        s.discussion = d = DiscussionView(
            working_days=rule.working_days,
            smart_actions_required=rule.smart_actions_required,
            due=due,
            status="awaited",
            escalated_to_head_of_service=False,
            records=[],
            reviews=[],
        )
        self.projection.changed()
        await self.people.refresh()
        smart = ", agree SMART actions (specific action, owner, measure, due date)" if rule.smart_actions_required else ""
        await self.notifier.email(
            f"discussion{s.discussion_round}-due",
            [s.team_manager_id, a.practitioner_id],
            f"Findings discussion due: case {a.case_ref}",
            f"The audit's report has been sent. Its findings are to be discussed between the Team Manager, "
            f"{person(s.team_manager_id)}, and the practitioner, {person(a.practitioner_id)}.",
            action=f"meet to discuss the audit findings{smart}; {person(s.team_manager_id)} then records the "
            "discussion on the audit's page as a supervision / management-oversight note",
            due=due,
        )
        s.discussion_starting = False
        for handled in itertools.count():  # a record may arrive while we are still sending: count, don't look
            await self._await_record(d, handled)
            await self._recorded(d.records[handled], handled + 1)
            await wait(lambda: d.status != "recorded")
            if d.status == "accepted":
                return
            d.due = await self.calendar.working_days(
                workflow.now(), a.policy.discussion_more_days, "findings discussion re-recorded"
            )
            self.projection.changed()
            await self.notifier.email(
                f"discussion{s.discussion_round}-more-{len(d.reviews)}",
                [s.team_manager_id],
                f"Findings discussion: more needed: case {a.case_ref}",
                f"PIAT reviewed the findings discussion note and asks for more: {d.reviews[-1].review.comments}",
                action="record the findings discussion again",
                due=d.due,
            )

    async def _await_record(self, d: DiscussionView, recorded_so_far: int) -> None:
        """Due date: reminder to the Team Manager; some days on: the Head of Service (R-DISC-3)."""
        s, a, due = self.state, self.state.audit, d.due
        assert due is not None  # set as the discussion starts
        recorded = lambda: len(d.records) > recorded_so_far  # noqa: E731
        if await wait(recorded, due, "findings discussion recorded (R-DISC)"):
            return
        self.projection.mark_overdue("discussion")
        self.escalate(Escalation.TEAM_MANAGER)
        await self.people.refresh()
        # When the Head of Service is told: named in the reminder where the recorded calendar
        # already covers it (`RecordedCalendar.known_deadline`); the wait below works out the same date.
        escalate_at = self.calendar.known_deadline(due, a.policy.discussion_escalation_days)
        await self.notifier.email(
            f"discussion{s.discussion_round}-reminder-{recorded_so_far}",
            [s.team_manager_id],
            f"Reminder: findings discussion overdue: case {a.case_ref}",
            f"The findings discussion of case {a.case_ref} was due by {at(due)} and is not recorded. If it is "
            f"still not recorded {'by the date below' if escalate_at else f'{a.policy.discussion_escalation_days} working days on'}, "
            "the Head of Service is told.",
            action="hold the findings discussion and record it on the audit's page",
            due=escalate_at,
        )
        escalate_at = escalate_at or await self.calendar.working_days(
            due, a.policy.discussion_escalation_days, "escalation date (R-DISC-3)"
        )
        if await wait(recorded, escalate_at, "escalation to the Head of Service (R-DISC-3)"):
            return
        d.escalated_to_head_of_service = True
        self.escalate(Escalation.HEAD_OF_SERVICE)
        self.projection.record(SYSTEM, "findings discussion escalated to the Head of Service")
        await self.people.refresh()
        await self.notifier.email(
            f"discussion{s.discussion_round}-escalated-{recorded_so_far}",
            [s.head_of_service_id],
            f"Findings discussion not recorded: case {a.case_ref}",
            f"The Team Manager, {person(s.team_manager_id)}, has not recorded the findings discussion of case "
            f"{a.case_ref}, due by {at(due)}.",
            action=f"follow it up with {person(s.team_manager_id)}",
        )
        await wait(recorded)

    async def _recorded(self, record: DiscussionRecord, number: int) -> None:
        """R-DISC-3: the note goes to Mosaic and to PIAT for review."""
        s, a, discussion = self.state, self.state.audit, record.discussion
        actions = "".join(
            f"\n- {x.action} (owner {x.owner_id}; measure: {x.measure}; by {x.due_on})" for x in discussion.smart_actions
        )
        await self.notifier.post(
            Channel.MOSAIC_CASE_NOTE,
            f"discussion{s.discussion_round}-note-{number}",
            [s.team_manager_id, a.practitioner_id],
            f"Audit findings discussion ({cycle_month(a.cycle)} {KIND_TITLES[a.kind]})",
            f"discussion of the {cycle_label(a.cycle)} audit findings held on {discussion.held_on} with "
            f"{', '.join(discussion.attendees)}\n\n{discussion.oversight_note}"
            + (f"\n\nSMART actions:{actions}" if actions else ""),
            note_type="Management Oversight",
        )
        await self.notifier.email(
            f"discussion{s.discussion_round}-recorded-{number}",
            [s.piat_manager, a.piat],
            f"Findings discussion recorded for review: case {a.case_ref}",
            f"The Team Manager, {person(s.team_manager_id)}, recorded the findings discussion of case {a.case_ref}; "
            "its note is on Mosaic.",
            action="review the note on the audit's page: accept it or ask for more",
        )
        s.discussion_notes_sent = number

    async def head_of_service_follow_up(self) -> None:
        """R-RE-3: the Head of Service records their follow-up of a 1st re-audit still below Good."""
        s = self.state
        await wait(lambda: not s.follow_up_required or s.follow_up is not None)

    # ---- the staff's actions (Workflow Updates of `AuditWorkflow`) ------------------------------------

    async def record(self, actor_id: str, discussion: FindingsDiscussion) -> None:
        s, d = self.state, self.state.discussion
        assert d is not None  # the validator
        d.records.append(DiscussionRecord(at=workflow.now(), by=actor_id, discussion=discussion))
        d.status = "recorded"
        self.projection.clear_overdue("discussion")
        self.projection.record(actor_id, "findings discussion recorded", f"{len(discussion.smart_actions)} SMART actions")
        # Answer once the note is on Mosaic and PIAT has been asked to review it.
        recorded = len(d.records)
        await workflow.wait_condition(lambda: s.discussion_notes_sent >= recorded)
        await self.projection.answer()

    def validate_record(self, actor_id: str, discussion: FindingsDiscussion) -> None:
        s, a, d = self.state, self.state.audit, self.state.discussion
        if actor_id != s.team_manager_id:
            raise forbidden(f"only the Team Manager ({s.team_manager_id}) records the findings discussion")
        if d is None:
            raise out_of_order("no findings discussion is due for this audit" + ("" if s.report_sent_at else " yet"))
        if d.status not in ("awaited", "more_requested"):
            raise out_of_order(f"the findings discussion is {d.status.replace('_', ' ')}; PIAT reviews it next")
        if d.smart_actions_required and not discussion.smart_actions:
            raise invalid("this discussion must agree SMART actions (R-DISC-1)")
        if a.practitioner_id not in discussion.attendees:
            raise invalid(f"the practitioner ({a.practitioner_id}) takes part in the discussion: list them in attendees")
        sent = s.report_sent_at
        assert sent is not None  # a discussion is due only after the report
        if discussion.held_on < sent.date() or discussion.held_on > (workflow.now() + timedelta(hours=1)).date():
            raise invalid(f"held_on must be between the report ({sent.date()}) and today")

    def review(self, actor_id: str, review: DiscussionReview) -> None:
        d = self.state.discussion
        assert d is not None  # the validator
        d.reviews.append(ReviewRecord(at=workflow.now(), by=actor_id, review=review))
        d.status = "accepted" if review.decision == "accept" else "more_requested"
        self.projection.record(actor_id, f"findings discussion review: {review.decision}", review.comments)

    def validate_review(self, actor_id: str) -> None:
        s, d = self.state, self.state.discussion
        if d is None or d.status != "recorded":
            status = d.status.replace("_", " ") if d else "not due"
            raise out_of_order(f"there is no recorded discussion to review (it is {status})")
        if actor_id == s.team_manager_id:
            raise forbidden("the Team Manager cannot review their own discussion note")

    def record_follow_up(self, actor_id: str, follow_up: HeadOfServiceFollowUp) -> None:
        self.state.follow_up = FollowUpRecord(at=workflow.now(), by=actor_id, follow_up=follow_up)
        self.projection.record(actor_id, "Head of Service follow-up recorded")

    def validate_follow_up(self, actor_id: str) -> None:
        s = self.state
        if actor_id != s.follow_up_owner_id:
            raise forbidden(f"only {s.follow_up_owner_id}, who follows up this re-audit (R-RE-3), records it")
        if not s.follow_up_required:
            raise out_of_order("no follow-up is due: only a 1st re-audit still below Good needs one (R-RE-3)")
        if s.follow_up is not None:
            raise out_of_order("the follow-up is already recorded")
