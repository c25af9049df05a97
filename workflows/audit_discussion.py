"""After the report: the findings discussion (R-DISC-1..3) and the Head of Service's follow-up of
a 1st re-audit still below Good (R-RE-3). Part of `AuditWorkflow` (workflows/audit.py).

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
        DiscussionRecord, DiscussionReview, DiscussionView, FindingsDiscussion, FollowUpRecord,
        HeadOfServiceFollowUp, ReviewRecord, Waiting,
    )
    from models.rules import KIND_TITLES, discussion_rule

from workflows.process import SYSTEM, wait


class FindingsDiscussionSteps:
    def _start_discussion(self) -> None:
        self._discussion_starting = True
        self._discussion_round += 1
        self._discussion_task = asyncio.create_task(self._findings_discussion())

    def _pause_discussion(self) -> bool:
        """A dispute about the grading stops a discussion not yet recorded: it starts again on the
        final report. True if it was stopped."""
        if self.discussion is not None and self.discussion.records:
            return False
        self._discussion_task.cancel()
        self.discussion = None
        self.projection.clear_overdue("discussion")
        self.projection.changed()
        return True

    async def _findings_discussion(self) -> None:
        a = self.audit
        rule = discussion_rule(a.kind, a.service_area, a.reaudit_round, self.final_grade)
        if rule is None:
            self._discussion_starting = False
            return  # Good or Outstanding: no discussion is required
        due = await self.calendar.working_days(
            self.report_sent_at, rule.working_days, f"findings discussion due in {rule.working_days} working days (R-DISC)"
        )
        self.discussion = d = DiscussionView(
            working_days=rule.working_days, smart_actions_required=rule.smart_actions_required, due=due,
            status="awaited", escalated_to_head_of_service=False, records=[], reviews=[],
        )
        self.projection.changed()
        await self._refresh_people()
        smart = ", agree SMART actions (specific action, owner, measure, due date)" if rule.smart_actions_required else ""
        await self.notifier.email(
            f"discussion{self._discussion_round}-due",
            [self.team_manager_id, a.practitioner_id],
            f"Findings discussion due: case {a.case_ref}",
            f"The audit's report has been sent. Its findings are to be discussed between the Team Manager, "
            f"{person(self.team_manager_id)}, and the practitioner, {person(a.practitioner_id)}.",
            action=f"meet to discuss the audit findings{smart}; {person(self.team_manager_id)} then records the "
                   "discussion on the audit's page as a supervision / management-oversight note",
            due=due,
        )
        self._discussion_starting = False
        for handled in itertools.count():  # a record may arrive while we are still sending: count, don't look
            await self._await_discussion_record(handled)
            await self._discussion_recorded(d.records[handled], handled + 1)
            await wait(lambda: d.status != "recorded")
            if d.status == "accepted":
                return
            d.due = await self.calendar.working_days(workflow.now(), a.policy.discussion_more_days, "findings discussion re-recorded")
            self.projection.changed()
            await self.notifier.email(
                f"discussion{self._discussion_round}-more-{len(d.reviews)}",
                [self.team_manager_id],
                f"Findings discussion: more needed: case {a.case_ref}",
                f"PIAT reviewed the findings discussion note and asks for more: {d.reviews[-1].review.comments}",
                action="record the findings discussion again", due=d.due,
            )

    async def _await_discussion_record(self, recorded_so_far: int) -> None:
        """Due date: reminder to the Team Manager; some days on: the Head of Service (R-DISC-3)."""
        a, d = self.audit, self.discussion
        recorded = lambda: len(d.records) > recorded_so_far  # noqa: E731
        if await wait(recorded, d.due, "findings discussion recorded (R-DISC)"):
            return
        self.projection.mark_overdue("discussion")
        self._escalate(Escalation.TEAM_MANAGER)
        await self._refresh_people()
        # When the Head of Service is told: named in the reminder where the recorded calendar
        # already covers it (`RecordedCalendar.known_deadline`); the wait below works out the same date.
        escalate_at = self.calendar.known_deadline(d.due, a.policy.discussion_escalation_days)
        await self.notifier.email(
            f"discussion{self._discussion_round}-reminder-{recorded_so_far}",
            [self.team_manager_id],
            f"Reminder: findings discussion overdue: case {a.case_ref}",
            f"The findings discussion of case {a.case_ref} was due by {at(d.due)} and is not recorded. If it is "
            f"still not recorded {'by the date below' if escalate_at else f'{a.policy.discussion_escalation_days} working days on'}, "
            "the Head of Service is told.",
            action="hold the findings discussion and record it on the audit's page", due=escalate_at,
        )
        escalate_at = escalate_at or await self.calendar.working_days(d.due, a.policy.discussion_escalation_days, "escalation date (R-DISC-3)")
        if await wait(recorded, escalate_at, "escalation to the Head of Service (R-DISC-3)"):
            return
        d.escalated_to_head_of_service = True
        self._escalate(Escalation.HEAD_OF_SERVICE)
        self.projection.record(SYSTEM, "findings discussion escalated to the Head of Service")
        await self._refresh_people()
        await self.notifier.email(
            f"discussion{self._discussion_round}-escalated-{recorded_so_far}",
            [self.head_of_service_id],
            f"Findings discussion not recorded: case {a.case_ref}",
            f"The Team Manager, {person(self.team_manager_id)}, has not recorded the findings discussion of case "
            f"{a.case_ref}, due by {at(d.due)}.",
            action=f"follow it up with {person(self.team_manager_id)}",
        )
        await wait(recorded)

    async def _discussion_recorded(self, record: DiscussionRecord, number: int) -> None:
        """R-DISC-3: the note goes to Mosaic and to PIAT for review."""
        a, discussion = self.audit, record.discussion
        actions = "".join(f"\n- {s.action} (owner {s.owner_id}; measure: {s.measure}; by {s.due_on})" for s in discussion.smart_actions)
        await self.notifier.post(
            Channel.MOSAIC_CASE_NOTE,
            f"discussion{self._discussion_round}-note-{number}",
            [self.team_manager_id, a.practitioner_id],
            f"Audit findings discussion ({cycle_month(a.cycle)} {KIND_TITLES[a.kind]})",
            f"discussion of the {cycle_label(a.cycle)} audit findings held on {discussion.held_on} with "
            f"{', '.join(discussion.attendees)}\n\n{discussion.oversight_note}"
            + (f"\n\nSMART actions:{actions}" if actions else ""),
            note_type="Management Oversight",
        )
        await self.notifier.email(
            f"discussion{self._discussion_round}-recorded-{number}",
            [self._piat_manager, a.piat],
            f"Findings discussion recorded for review: case {a.case_ref}",
            f"The Team Manager, {person(self.team_manager_id)}, recorded the findings discussion of case {a.case_ref}; "
            "its note is on Mosaic.",
            action="review the note on the audit's page: accept it or ask for more",
        )
        self._discussion_notes_sent = number

    async def _head_of_service_follow_up(self) -> None:
        """R-RE-3: the Head of Service records their follow-up of a 1st re-audit still below Good."""
        await wait(lambda: not self.follow_up_required or self.follow_up is not None)

    @workflow.update
    async def record_findings_discussion(self, actor_id: str, discussion: FindingsDiscussion) -> None:
        d = self.discussion
        d.records.append(DiscussionRecord(at=workflow.now(), by=actor_id, discussion=discussion))
        d.status = "recorded"
        self.projection.clear_overdue("discussion")
        self.projection.record(actor_id, "findings discussion recorded", f"{len(discussion.smart_actions)} SMART actions")
        # Answer once the note is on Mosaic and PIAT has been asked to review it.
        recorded = len(d.records)
        await workflow.wait_condition(lambda: self._discussion_notes_sent >= recorded)
        return await self.projection.answer()

    @record_findings_discussion.validator
    def _validate_discussion(self, actor_id: str, discussion: FindingsDiscussion) -> None:
        a, d = self.audit, self.discussion
        if actor_id != self.team_manager_id:
            raise forbidden(f"only the Team Manager ({self.team_manager_id}) records the findings discussion")
        if d is None:
            raise out_of_order("no findings discussion is due for this audit" + ("" if self.report_sent_at else " yet"))
        if d.status not in ("awaited", "more_requested"):
            raise out_of_order(f"the findings discussion is {d.status.replace('_', ' ')}; PIAT reviews it next")
        if d.smart_actions_required and not discussion.smart_actions:
            raise invalid("this discussion must agree SMART actions (R-DISC-1)")
        if a.practitioner_id not in discussion.attendees:
            raise invalid(f"the practitioner ({a.practitioner_id}) takes part in the discussion: list them in attendees")
        if discussion.held_on < self.report_sent_at.date() or discussion.held_on > (workflow.now() + timedelta(hours=1)).date():
            raise invalid(f"held_on must be between the report ({self.report_sent_at.date()}) and today")

    @workflow.update
    def review_findings_discussion(self, actor_id: str, review: DiscussionReview) -> None:
        d = self.discussion
        d.reviews.append(ReviewRecord(at=workflow.now(), by=actor_id, review=review))
        d.status = "accepted" if review.decision == "accept" else "more_requested"
        self.projection.record(actor_id, f"findings discussion review: {review.decision}", review.comments)
        return None

    @review_findings_discussion.validator
    def _validate_review(self, actor_id: str, review: DiscussionReview) -> None:
        if self.discussion is None or self.discussion.status != "recorded":
            status = self.discussion.status.replace("_", " ") if self.discussion else "not due"
            raise out_of_order(f"there is no recorded discussion to review (it is {status})")
        if actor_id == self.team_manager_id:
            raise forbidden("the Team Manager cannot review their own discussion note")

    @workflow.update
    def record_head_of_service_follow_up(self, actor_id: str, follow_up: HeadOfServiceFollowUp) -> None:
        self.follow_up = FollowUpRecord(at=workflow.now(), by=actor_id, follow_up=follow_up)
        self.projection.record(actor_id, "Head of Service follow-up recorded")
        return None

    @record_head_of_service_follow_up.validator
    def _validate_follow_up(self, actor_id: str, follow_up: HeadOfServiceFollowUp) -> None:
        if actor_id != self.follow_up_owner_id:
            raise forbidden(f"only {self.follow_up_owner_id}, who follows up this re-audit (R-RE-3), records it")
        if not self.follow_up_required:
            raise out_of_order("no follow-up is due: only a 1st re-audit still below Good needs one (R-RE-3)")
        if self.follow_up is not None:
            raise out_of_order("the follow-up is already recorded")

    def _waiting_on_discussion(self) -> Waiting | None:
        d, tm = self.discussion, self.team_manager_id
        if d is None or d.status == "accepted":
            return None
        if d.status == "recorded":
            return Waiting(action="review of the findings discussion note", from_role="piat", from_staff_ids=[])
        return Waiting(action="findings discussion recorded by the Team Manager", from_staff_ids=[tm], until=d.due)

    def _waiting_on_follow_up(self) -> Waiting | None:
        if self.follow_up_required and self.follow_up is None:
            return Waiting(action="Head of Service follow-up of the agreed actions (R-RE-3)",
                           from_staff_ids=[self.follow_up_owner_id])
        return None
