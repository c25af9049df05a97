"""An audit cycle (R-CAL-3, R-CAL-4) as a durable workflow, `cycle-YYYY-MM`.

A Temporal Schedule (`audit-cycles`, made by the worker at start-up) fires early on the 1st of
each cycle month and runs `CycleStarterWorkflow`, which starts the month's `CycleWorkflow` under
its own fixed ID (a Schedule would add a timestamp to it), by an activity (`CycleStarts`). PIAT may start a cycle sooner by
setting its theme; the starter then finds it running.

The cycle waits for the start of its first working day, records what it opened with (the
allocations made for it, the re-audits due in it, the audits carried into it as not accepted)
and, in a moderation month, starts that month's moderation panel (R-MOD-1). At the end of its
last working day it reports non-completion to each Head of Service (R-QA-4) and ends.
"""

from datetime import date, datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from dateutil.relativedelta import relativedelta

    from activities.cycles import CycleActivities, CycleStarts, NonCompletionRequest
    from activities.persistence import PersistenceActivities
    from models import search_attributes as sa
    from models.cycle_views import (
        CycleInput,
        CycleOpening,
        CycleRow,
        CycleStarterInput,
        CycleView,
        LateAudit,
        ServiceNonCompletion,
        ThemeChange,
    )
    from models.cycles import MODERATION_MONTHS, cycle_kind, cycle_label, is_cycle, month_of
    from models.email_marks import at, person
    from models.pages import cycle_page
    from models.errors import out_of_order
    from models.moderation import ModerationPanelInput

from workflows.process import (
    ACTIVITY_OPTIONS,
    SYSTEM,
    LocalActivities,
    Notifier,
    Projection,
    RecordedCalendar,
    details,
    when,
    wait,
)


@workflow.defn
class CycleStarterWorkflow:
    """What the Schedule runs: start this month's cycle, once, under `cycle-YYYY-MM`."""

    @workflow.run
    async def run(self, starter: CycleStarterInput) -> str:
        # The Schedule fires at 06:00 London time on the 1st: the same day in UTC, so its month.
        # A run caught up late (nothing ran that day) keeps the month it was scheduled for; one
        # started by hand has no scheduled time and starts this month's.
        scheduled = workflow.info().typed_search_attributes.get(sa.SCHEDULED_START)
        cycle = month_of(scheduled or workflow.now())
        if not is_cycle(cycle):
            return f"{cycle} holds no audit cycle"  # a Schedule edited by hand; nothing to start
        started = await workflow.execute_activity_method(
            CycleStarts.start_cycle,
            CycleInput(cycle=cycle, moderation_per_service=starter.moderation_per_service),
            summary=f"start cycle-{cycle}",
            **ACTIVITY_OPTIONS,
        )
        return f"started cycle-{cycle}" if started else f"cycle-{cycle} was already running"


@workflow.defn
class CycleWorkflow:
    @workflow.init
    def __init__(self, cycle: CycleInput) -> None:
        self.input, self.audit_id, self.case_ref = cycle, f"cycle-{cycle.cycle}", None
        self.activities = LocalActivities()
        self.calendar = RecordedCalendar(self.activities)
        self.notifier = Notifier(self.activities, self.audit_id, self.case_ref, self._email_about)
        self.projection = Projection(
            self.activities, PersistenceActivities.save_cycle_row, "save cycle projection", self._row, self._refresh
        )
        self.status = "planned"
        self.theme: str | None = None
        self.opens_at: datetime | None = None  # the window, once the calendar is recorded
        self.closes_at: datetime | None = None
        self.opened_with: CycleOpening | None = None
        self.report: list[ServiceNonCompletion] | None = None
        self.reported_at: datetime | None = None
        self.moderation_panel_id: str | None = None

    @workflow.run
    async def run(self, cycle: CycleInput) -> CycleView:
        self.projection.start()
        await self.calendar.reaching(workflow.now())
        first = date.fromisoformat(f"{cycle.cycle}-01")
        calendar = await self.calendar.covering(first, first + relativedelta(months=1))
        self.opens_at, self.closes_at = calendar.cycle_start(cycle.cycle), calendar.cycle_end(cycle.cycle)
        self.projection.record(SYSTEM, "cycle planned", f"opens {when(self.opens_at)}, closes {when(self.closes_at)}")
        await wait(lambda: False, self.opens_at, "the cycle opens (R-CAL-3)")
        await self._open()
        await wait(lambda: False, self.closes_at, "the cycle closes (R-CAL-3)")
        await self._report_non_completion()
        self.status = "closed"
        self.projection.record(SYSTEM, "cycle closed")
        await self.projection.finish()
        return self._view()

    async def _open(self) -> None:
        c = self.input.cycle
        self.opened_with = await self.activities.run(CycleActivities.cycle_opening, c, "what the cycle opens with")
        self.status = "open"
        o = self.opened_with
        self.projection.record(
            SYSTEM,
            "cycle opened",
            f"{o.allocated} allocated, {o.reaudits_due} re-audits due, {o.carried_over} carried over (R-QA-3)",
        )
        if int(c[5:]) in MODERATION_MONTHS:
            await self._start_moderation_panel()

    async def _start_moderation_panel(self) -> None:
        """R-MOD-1: the panel runs on its own (its month outlasts the cycle's)."""
        c = self.input.cycle
        started = await workflow.execute_activity_method(
            CycleStarts.start_moderation_panel,
            ModerationPanelInput(cycle=c, per_service=self.input.moderation_per_service),
            summary="start the moderation panel (R-MOD-1)",
            **ACTIVITY_OPTIONS,
        )
        self.moderation_panel_id = f"moderation-{c}"
        self.projection.record(
            SYSTEM,
            "moderation panel started" if started else "moderation panel already started by PIAT",
            self.moderation_panel_id,
        )

    async def _report_non_completion(self) -> None:
        """R-QA-4: each service's section to its Heads of Service (no Head of Service in the
        directory: the PI&A Manager, who can pass it on), and the whole report kept."""
        c = self.input.cycle
        self.report = await self.activities.run(
            CycleActivities.non_completion_report,
            NonCompletionRequest(cycle=c, at=workflow.now()),
            "non-completion report (R-QA-4)",
        )
        self.reported_at = workflow.now()
        others = sum(len(s.overdue_from_other_cycles) for s in self.report)
        self.projection.record(
            SYSTEM,
            "non-completion reported",
            f"{sum(len(s.not_complete) for s in self.report)} not complete"
            + (f", {others} of other cycles overdue" if others else ""),
        )
        for section in self.report:
            await self.notifier.email(
                f"non-completion-{section.service_area}",
                section.sent_to,
                f"Audits not complete: {cycle_label(c)} cycle, {section.service_area}",
                _report_text(c, section),
                action="follow these audits up with their auditors",
            )

    def _email_about(self) -> tuple[str, str]:
        return self.input.cycle, cycle_page(self.input.cycle)

    # ---- PIAT's word: the theme (a Workflow Update) -----------------------------------------------

    @workflow.update
    async def set_theme(self, actor_id: str, change: ThemeChange) -> None:
        await workflow.wait_condition(lambda: self.opens_at is not None)  # the row needs the window
        previous, self.theme = self.theme, change.theme.strip()
        self.projection.record(actor_id, "theme set", f"{self.theme}" + (f" (was {previous})" if previous else ""))
        await self.projection.answer()

    @set_theme.validator
    def _validate_theme(self, actor_id: str, change: ThemeChange) -> None:
        if cycle_kind(self.input.cycle) != "themed":
            raise out_of_order(f"the {cycle_label(self.input.cycle)} cycle is not a themed cycle (R-KIND-3)")
        if self.status == "closed":
            raise out_of_order("the cycle has closed")

    @workflow.query
    def view(self) -> CycleView:
        return self._view()

    # ---- what operators and the API see -------------------------------------------------------

    def _refresh(self) -> None:
        state = self.status + (f", theme: {self.theme}" if self.theme else "")
        workflow.set_current_details(details(state, None, []))

    def _row(self, whole: bool) -> CycleRow:
        return CycleRow(
            cycle=self.input.cycle,
            status=self.status,
            theme=self.theme,
            opens_at=self.opens_at,
            closes_at=self.closes_at,
            reported_at=self.reported_at,
            updated_at=workflow.now(),
            view=self._view().model_dump(mode="json") if whole else None,
        )

    def _view(self) -> CycleView:
        return CycleView(
            cycle=self.input.cycle,
            status=self.status,
            theme=self.theme,
            opens_at=self.opens_at,
            closes_at=self.closes_at,
            opened_with=self.opened_with,
            non_completion=self.report,
            reported_at=self.reported_at,
            moderation_panel_id=self.moderation_panel_id,
            history=list(self.projection.history),
        )


def _report_text(cycle: str, section: ServiceNonCompletion) -> str:
    service = section.service_area.replace("_", " ")
    if section.allocated:
        lines = [
            f"The {cycle_label(cycle)} audit cycle has closed. In the {service} service, "
            f"{len(section.not_complete)} of the {section.allocated} audits it allocated or carried in are not complete:"
        ]
    else:
        lines = [f"The {cycle_label(cycle)} audit cycle has closed. It held no audits in the {service} service."]
    lines += [_late_line(a, None) for a in section.not_complete]
    if section.overdue_from_other_cycles:
        # Due a month after allocation, these fell due after their own cycle's report was sent.
        lines.append("Audits of other cycles still not complete, past their completion deadline:")
        lines += [_late_line(a, a.cycle) for a in section.overdue_from_other_cycles]
    lines.append("The report is kept on the cycle's page.")
    return "\n".join(lines)


def _late_line(a: LateAudit, its_cycle: str | None) -> str:
    lateness = f"{a.days_late} days late" if a.days_late else "not yet due"
    of = f" of the {cycle_label(its_cycle)} cycle" if its_cycle else ""
    return (
        f"- case {a.case_ref} ({a.kind} audit{of}): auditor {person(a.auditor_id)}, {a.stage.replace('_', ' ')}, "
        f"due {at(a.completion_due)}, {lateness}"
    )
