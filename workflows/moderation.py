"""A moderation panel (R-MOD-1..4): `moderation-YYYY-MM`, for a February, June or October cycle.

The cycle workflow starts it (through an activity: it outlives the cycle) when a moderation
month's cycle opens; PIAT may start one by hand. It draws audits of the four months before at random, with a recorded
seed, from every service area that has final audits (R-MOD-2); shares them round robin among the
SLT moderators, never to an audit's own auditor; and gives them one working month (20 working
days) to moderate and meet the auditors (R-MOD-3). Each record sends the written feedback to the
auditor and PIAT and puts it on Mosaic as a case note (R-MOD-4). At the due time a moderator
still owing a record is reminded and PIAT told, once; the panel waits until every one is in.
"""

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.moderation import ModerationActivities
    from activities.notify import NotifyActivities
    from models.agreement import results
    from models.cycles import cycle_label
    from models.email_marks import at, long_date, person
    from models.enums import Channel
    from models.errors import forbidden, invalid, out_of_order
    from models.moderation import (
        Draw,
        DrawnAudit,
        DrawRequest,
        Moderation,
        ModerationFindings,
        ModerationPanelInput,
        ModerationPanelRow,
        ModerationPanelView,
        ModerationRow,
        ModerationSummary,
        may_moderate,
        moderation_id,
        source_cycles,
    )
    from models.pages import audit_page, moderation_panel_page
    from models.payloads import Notification, Waiting

from workflows.process import (
    ACTIVITY_OPTIONS,
    SYSTEM,
    Activity,
    LocalActivities,
    Notifier,
    Projection,
    RecordedCalendar,
    details,
    grade_text,
    unique,
    wait,
)

SEED_RANGE = 2**31 - 1


@workflow.defn
class ModerationPanelWorkflow:
    @workflow.init
    def __init__(self, panel: ModerationPanelInput) -> None:
        self.panel = panel
        # Notifications name an audit and a case: the panel's own emails name the panel
        # (no case); feedback on one audit names that audit and its case (`_send_about`).
        self.audit_id, self.case_ref = f"moderation-{panel.cycle}", None
        self.activities = LocalActivities()
        self.calendar = RecordedCalendar(self.activities)
        self.notifier = Notifier(self.activities, self.audit_id, self.case_ref, self._email_about)
        self.projection = Projection(
            self.activities,
            ModerationActivities.save_moderation_panel,
            "save moderation panel projection",
            self._row,
            self._refresh,
        )
        self.opened_at = workflow.now()
        # R-MOD-2 Decision: the seed is chosen here (replay gives the same one) unless given.
        self.seed = panel.seed if panel.seed is not None else workflow.random().randint(0, SEED_RANGE)
        self.status = "drawing"
        self.draw: Draw | None = None
        self.due: datetime | None = None
        self.moderations: list[Moderation] = []
        # The moderators and PIAT have been emailed the draw; from then on the panel also waits
        # for PIAT to give each audit nobody could moderate a moderator.
        self._told = False

    @workflow.run
    async def run(self, panel: ModerationPanelInput) -> ModerationPanelView:
        self.projection.start()
        self.projection.record(SYSTEM, "panel convened", f"seed {self.seed}; {panel.per_service} per service area")
        await self._draw()
        await self._tell_moderators_and_piat()
        self._told = True
        # PIAT is asked to name moderators for any audit nobody could moderate: ending now would
        # leave those audits unmoderated.
        if self.moderations or self._unallocated():
            if not await wait(self._all_done, self.due, "moderations recorded (R-MOD-3)"):
                await self._deadline_missed()
                await wait(self._all_done)
            self.projection.clear_overdue("moderation")
        self.status = "completed"
        self.projection.record(SYSTEM, "panel completed", f"{len(self.moderations)} audits moderated")
        await self.projection.finish()
        return self._view()

    async def _draw(self) -> None:
        p = self.panel
        self.draw = await workflow.execute_activity_method(
            ModerationActivities.draw_moderation,
            DrawRequest(cycle=p.cycle, per_service=p.per_service, seed=self.seed),
            summary="draw audits to moderate (R-MOD-2)",
            **ACTIVITY_OPTIONS,
        )
        policy = p.policy or self._drawn.policy
        self.due = await self.calendar.working_days(self.opened_at, policy.moderation_days, "moderation due (R-MOD-3)")
        allocated = [a for a in self._drawn.audits if a.moderator_id]
        self.moderations = [self._moderation(n, a, a.moderator_id) for n, a in enumerate(allocated, start=1)]
        self.status = "moderating"
        self.projection.record(
            SYSTEM,
            "audits drawn",
            f"{len(self.moderations)} of {self._drawn.candidates} final audits; "
            f"service areas {', '.join(self._service_areas()) or 'none'}",
        )

    def _moderation(self, number: int, a: DrawnAudit, moderator: str | None) -> Moderation:
        return Moderation(
            moderation_id=moderation_id(self.panel.cycle, number),
            audit_id=a.audit_id,
            case_ref=a.case_ref,
            service_area=a.service_area,
            cycle=a.cycle,
            auditor_id=a.auditor_id,
            moderator_id=moderator,
            practitioner_id=a.practitioner_id,
            domains=a.domains,
            overall_grade=a.overall_grade,
            due=self.due,
        )

    async def _tell_moderators_and_piat(self) -> None:
        c = self.panel.cycle
        for moderator, moderations in self._by_moderator(self.moderations).items():
            lines = "\n".join(
                f"- {m.moderation_id}: audit {m.audit_id} (case {m.case_ref}, {m.service_area}), auditor "
                f"{person(m.auditor_id)}, graded {grade_text(m.overall_grade)}"
                for m in moderations
            )
            await self.notifier.email(
                f"allocated-{moderator}",
                [moderator],
                f"Moderation panel {cycle_label(c)}: your audits",
                f"The {cycle_label(c)} moderation panel has drawn its audits. Yours are:\n{lines}",
                action="moderate each audit: read it, meet its auditor and record your findings on the "
                "moderation template on the panel's page",
                due=self.due,
            )
        unallocated = self._unallocated()
        await self.notifier.email(
            "drawn",
            self._drawn.piat_ids,
            f"Moderation panel {cycle_label(c)}: the draw",
            f"{len(self.moderations)} audits drawn from {self._drawn.candidates} final audits of "
            f"{', '.join(cycle_label(s) for s in source_cycles(c))} with seed {self.seed}, "
            f"{self.panel.per_service} per service area ({', '.join(self._service_areas()) or 'no final audits'}). "
            f"The moderations are due by {at(self.due)}.\n"
            + "".join(f"- {m.moderation_id}: audit {m.audit_id} to {person(m.moderator_id)}\n" for m in self.moderations)
            + (f"Nobody could moderate (every moderator audited them): {', '.join(unallocated)}\n" if unallocated else ""),
            action="name a moderator for the audits nobody could moderate" if unallocated else "",
        )

    async def _deadline_missed(self) -> None:
        """R-MOD-3 missed: each late moderator reminded, PIAT told, once; the panel keeps waiting."""
        late = [m for m in self.moderations if not m.recorded]
        for m in late:
            m.overdue = True
        self.projection.mark_overdue("moderation")
        c = self.panel.cycle
        for moderator, moderations in self._by_moderator(late).items():
            await self.notifier.email(
                f"reminder-{moderator}",
                [moderator],
                f"Moderation overdue: panel {cycle_label(c)}",
                f"These moderations were due by {at(self.due)} and are not recorded: "
                f"{', '.join(m.moderation_id for m in moderations)}.",
                action="record them on the panel's page now",
            )
        unallocated = self._unallocated()
        await self.notifier.email(
            "overdue",
            self._drawn.piat_ids,
            f"Moderation overdue: panel {cycle_label(c)}",
            (
                f"These moderations were not recorded by {at(self.due)}: "
                + ", ".join(f"{m.moderation_id} ({person(m.moderator_id)})" for m in late)
                + "."
                if late
                else ""
            )
            + (f"{' ' if late else ''}These audits still have no moderator: {', '.join(unallocated)}." if unallocated else ""),
            action="follow them up with the moderators"
            + (" and name a moderator for the audits without one" if unallocated else ""),
        )

    # ---- PIAT gives a moderation to another moderator (a Workflow Update) ---------------------------

    @workflow.update
    async def give_moderation(self, actor_id: str, audit_id: str, moderator_id: str) -> None:
        """A moderator who left, or an audit nobody could moderate at the draw, would hold the panel
        for ever: PIAT names who moderates it. The panel's due time stays."""
        m = self._of_audit(audit_id)
        if m is None:  # nobody could moderate it at the draw: it becomes a moderation now
            drawn = next(a for a in self._drawn.audits if a.audit_id == audit_id)
            m = self._moderation(len(self.moderations) + 1, drawn, moderator_id)
            assert m.due is not None  # the panel's, set at the draw
            m.overdue = workflow.now() > m.due
            self.moderations.append(m)
            before = None
        else:
            before, m.moderator_id = m.moderator_id, moderator_id
        m.handovers += 1
        self.projection.record(actor_id, "moderator named", f"{m.moderation_id}: {before or 'nobody'} -> {moderator_id}")
        await self._tell_of_handover(m, before)
        await self.projection.answer()

    @give_moderation.validator
    def _validate_give_moderation(self, actor_id: str, audit_id: str, moderator_id: str) -> None:
        if not self._told:
            raise out_of_order("the panel is still drawing its audits: try again in a moment")
        drawn = next((a for a in self._drawn.audits if a.audit_id == audit_id), None)
        if drawn is None:
            raise invalid(f"audit_id: the {self.panel.cycle} panel did not draw audit {audit_id}")
        m = self._of_audit(audit_id)
        if m is not None and m.recorded:
            raise out_of_order(f"{m.moderation_id} is already recorded: it stays with {m.moderator_id}, who moderated it")
        if m is not None and m.moderator_id == moderator_id:
            raise invalid(f"moderator_id: {m.moderation_id} is already {moderator_id}'s")
        if not may_moderate(moderator_id, drawn.auditor_id, drawn.practitioner_id):
            raise invalid(f"moderator_id: {moderator_id} audited or was audited in {audit_id}; name another SLT moderator")

    async def _tell_of_handover(self, m: Moderation, before: str | None) -> None:
        c, n = self.panel.cycle, m.handovers
        await self.notifier.email(
            f"{m.moderation_id}-given-{n}",
            [m.moderator_id],
            f"Moderation panel {cycle_label(c)}: an audit for you",
            f"PIAT has given you {m.moderation_id}: audit {m.audit_id} (case {m.case_ref}, {m.service_area}), "
            f"auditor {person(m.auditor_id)}, graded {grade_text(m.overall_grade)}.",
            action="moderate the audit: read it, meet its auditor and record your findings on the "
            "moderation template on the panel's page",
            due=m.due,
        )
        if before:
            await self.notifier.email(
                f"{m.moderation_id}-taken-{n}",
                [before],
                f"Moderation panel {cycle_label(c)}: {m.moderation_id} moved",
                f"PIAT has given {m.moderation_id} (audit {m.audit_id}) to {person(m.moderator_id)}: "
                "it is no longer yours to record.",
                action="",
            )

    # ---- the moderator's record (a Workflow Update) --------------------------------------------------

    @workflow.update
    async def record(self, actor_id: str, moderation: str, findings: ModerationFindings) -> None:
        m = self._find(moderation)
        assert m is not None  # the validator
        m.findings, m.recorded_at = findings, workflow.now()
        self.projection.record(actor_id, "moderation recorded", moderation)
        await self._feedback(m)
        await self.projection.answer()

    @record.validator
    def _validate_record(self, actor_id: str, moderation: str, findings: ModerationFindings) -> None:
        m = self._find(moderation)
        if m is None:
            raise invalid(f"moderation_id: this panel has no moderation {moderation}")
        if actor_id != m.moderator_id:
            raise forbidden("only the moderator it is allocated to records a moderation")
        if m.recorded:
            raise out_of_order(f"{moderation} is already recorded")
        self._check_domains(m, findings)
        london_today = (workflow.now() + timedelta(hours=1)).date()  # UTC+1 at most: never refuse today
        if not self.opened_at.date() <= findings.met_auditor_on <= london_today:
            raise invalid(
                f"met_auditor_on: the meeting with the auditor is on or after the panel opened "
                f"({self.opened_at.date()}) and not in the future"
            )

    def _check_domains(self, m: Moderation, findings: ModerationFindings) -> None:
        expected = [d.domain for d in m.domains]
        given = [d.domain for d in findings.domains]
        if sorted(given) != sorted(expected):
            raise invalid(f"domains: give every domain of the audit once: {', '.join(expected)}")
        originals = {d.domain: d.grade for d in m.domains}
        for d in findings.domains:
            if not d.agree and d.moderated_grade == originals[d.domain]:
                raise invalid(f"domains[{d.domain}].moderated_grade: that is the auditor's grade; agree instead")
        if not findings.overall.agree and findings.overall.moderated_grade == m.overall_grade:
            raise invalid("overall.moderated_grade: that is the auditor's grade; agree instead")

    async def _feedback(self, m: Moderation) -> None:
        """R-MOD-4: the written feedback to the auditor and PIAT, and a case note on Mosaic."""
        f = m.findings
        assert f is not None  # just recorded
        disagreed = [
            f"{d.domain}: {grade_text(o.grade)} -> {grade_text(d.moderated_grade)}"
            for d, o in zip(sorted(f.domains, key=lambda d: d.domain), sorted(m.domains, key=lambda d: d.domain))
            if not d.agree
        ]
        overall = "agreed" if f.overall.agree else f"moderated to {grade_text(f.overall.moderated_grade)}"
        findings = (
            f"Overall grade {grade_text(m.overall_grade)}: {overall}.\n"
            + ("Domains moderated: " + "; ".join(disagreed) + "\n" if disagreed else "All domain grades agreed.\n")
            + f"\nFeedback:\n{f.feedback}"
        )

        def text(moderator: str | None, met: str) -> str:
            return (
                f"Moderation {m.moderation_id} of the {cycle_label(m.cycle)} audit {m.audit_id} by {moderator} "
                f"(panel {cycle_label(self.panel.cycle)}; met the auditor on {met}).\n{findings}"
            )

        # The email names the moderator; the case note keeps the case record's own form (IDs).
        await self._send_about(
            m,
            NotifyActivities.send_email,
            Channel.EMAIL,
            "feedback",
            [m.auditor_id, *self._drawn.piat_ids],
            f"Moderation feedback: case {m.case_ref}",
            text(person(m.moderator_id), long_date(f.met_auditor_on)),
            action="",
            cycle=m.cycle,
            link_path=audit_page(m.audit_id),
        )
        await self._send_about(
            m,
            NotifyActivities.post_to_mosaic,
            Channel.MOSAIC_CASE_NOTE,
            "mosaic-case-note",
            [],
            f"{cycle_label(self.panel.cycle)} Moderation",
            text(m.moderator_id, str(f.met_auditor_on)),
        )

    async def _send_about(
        self, m: Moderation, activity: Activity, channel: Channel, step: str, to: list[str], subject: str, body: str, **email: Any
    ) -> None:
        """A send about one moderated audit: the audit's own notifications list it, under its case."""
        notification = Notification(
            key=f"{workflow.info().workflow_id}/{m.moderation_id}-{step}",
            audit_id=m.audit_id,
            case_ref=m.case_ref,
            channel=channel,
            recipient_ids=unique(to),
            subject=subject,
            body=body,
            at=workflow.now(),
            **email,
        )
        await self.activities.run(activity, notification, f"{channel.value}: {m.moderation_id} {step}")

    def _email_about(self) -> tuple[None, str]:
        """The panel's own emails link to its page (moderators may not read the audits' pages)."""
        return None, moderation_panel_page(self.panel.cycle)

    @workflow.update
    async def opened(self) -> None:
        """Answers once the moderators and PIAT are emailed, so a 201 means the panel is under way."""
        await workflow.wait_condition(lambda: self._told)
        await self.projection.answer()

    @workflow.query
    def view(self) -> ModerationPanelView:
        return self._view()

    # ---- what operators and the API see -------------------------------------------------------------

    @property
    def _drawn(self) -> Draw:
        assert self.draw is not None, "the audits are drawn first"
        return self.draw

    def _find(self, moderation: str) -> Moderation | None:
        return next((m for m in self.moderations if m.moderation_id == moderation), None)

    def _of_audit(self, audit_id: str) -> Moderation | None:
        return next((m for m in self.moderations if m.audit_id == audit_id), None)

    def _all_recorded(self) -> bool:
        return all(m.recorded for m in self.moderations)

    def _all_done(self) -> bool:
        return self._all_recorded() and not (self._told and self._unallocated())

    def _service_areas(self) -> list[str]:
        return sorted({a.service_area for a in self.draw.audits}) if self.draw else []

    def _unallocated(self) -> list[str]:
        """Drawn audits nobody could moderate, until PIAT names a moderator for them."""
        given = {m.audit_id for m in self.moderations}
        return [a.audit_id for a in self.draw.audits if not a.moderator_id and a.audit_id not in given] if self.draw else []

    @staticmethod
    def _by_moderator(moderations: list[Moderation]) -> dict[str, list[Moderation]]:
        grouped: dict[str, list[Moderation]] = defaultdict(list)
        for m in moderations:
            assert m.moderator_id is not None  # a moderation is made for its moderator
            grouped[m.moderator_id].append(m)
        return dict(sorted(grouped.items()))

    def _waiting(self) -> Waiting | None:
        """The moderators owing records; while none does, PIAT, for the audits without a moderator."""
        waits = self._waits()
        return waits[0] if waits else None

    def _waits(self) -> list[Waiting]:
        if self.status != "moderating":
            return []
        waits = []
        if owing := sorted({m.moderator_id for m in self.moderations if not m.recorded and m.moderator_id}):
            waits.append(Waiting(action="moderation records and feedback (R-MOD-3)", from_staff_ids=owing, until=self.due))
        if self._told and self._unallocated():
            waits.append(
                Waiting(
                    action="name a moderator for the audits nobody could moderate",
                    from_staff_ids=list(self._drawn.piat_ids),
                    until=self.due,
                )
            )
        return waits

    def _refresh(self) -> None:
        workflow.set_current_details(details(self.status, self._waiting(), self.projection.overdue_steps))

    def _row(self, whole: bool) -> ModerationPanelRow:
        v = self._view()
        return ModerationPanelRow(
            cycle=v.cycle,
            status=v.status,
            seed=v.seed,
            per_service=v.per_service,
            opened_at=v.opened_at,
            due=v.due,
            overdue=v.overdue,
            updated_at=v.history[-1].at if v.history else v.opened_at,
            moderations=[ModerationRow.of(self.panel.cycle, m) for m in self.moderations],
            view=v.model_dump(mode="json") if whole else None,
            waits=self._waits(),
        )

    def _view(self) -> ModerationPanelView:
        p = self.panel
        return ModerationPanelView(
            cycle=p.cycle,
            status=self.status,
            seed=self.seed,
            per_service=p.per_service,
            source_cycles=source_cycles(p.cycle),
            opened_at=self.opened_at,
            due=self.due,
            policy=p.policy or (self.draw.policy if self.draw else None),
            candidates=self.draw.candidates if self.draw else 0,
            service_areas=self._service_areas(),
            moderator_ids=self.draw.moderator_ids if self.draw else [],
            unallocated=self._unallocated(),
            overdue=bool(self.projection.overdue_steps),
            waiting_for=self._waiting(),
            moderations=[_summary(m) for m in self.moderations],
            results=results(self.moderations),
            history=list(self.projection.history),
        )


def _summary(m: Moderation) -> ModerationSummary:
    f = m.findings
    moderated = m.moderated_overall()
    return ModerationSummary(
        moderation_id=m.moderation_id,
        audit_id=m.audit_id,
        case_ref=m.case_ref,
        service_area=m.service_area,
        auditor_id=m.auditor_id,
        moderator_id=m.moderator_id,
        due=m.due,
        recorded=m.recorded,
        recorded_at=m.recorded_at,
        overdue=m.overdue and not m.recorded,
        late=m.overdue and m.recorded,
        overall_grade=m.overall_grade,
        moderated_overall_grade=moderated,
        overall_agreed=f.overall.agree if f else None,
        domains_agreed=sum(d.agree for d in f.domains) if f else None,
        domains=list(m.domains),
    )
