"""Moderation panels' I/O (R-MOD-2, R-MOD-4): the draw from the audit projection, and the panel's
own projection (one row per moderated audit for the quarterly report)."""

import asyncio
from datetime import UTC, datetime

from sqlalchemy import and_, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.persistence import replace_waits

from models.enums import Role
from models.moderation import (
    Candidate,
    Draw,
    DrawnAudit,
    DrawRequest,
    GradePair,
    ModerationPanelRow,
    ModerationPolicy,
    allocate,
    draw,
    eligible,
    source_cycles,
)
from models.payloads import AuditView
from models.staff import StaffDirectory
from models.tables import AuditRecord, ModerationPanelRecord, ModerationRecord


class ModerationActivities:
    def __init__(self, engine: Engine, directory: StaffDirectory, client: Client | None, policy: ModerationPolicy):
        self.engine, self.directory, self.client, self.policy = engine, directory, client, policy

    @activity.defn
    async def draw_moderation(self, request: DrawRequest) -> Draw:
        """The final audits of the four months before the panel, `per_service` of each service
        drawn with the workflow's seed, each with its final grading and a moderator."""
        candidates = await asyncio.to_thread(self._candidates, request.cycle)
        moderators = sorted(m.id for m in self.directory.with_role(Role.SLT_MODERATOR))
        drawn = allocate(draw(list(candidates), request.per_service, request.seed), moderators)
        audits = [await self._drawn(candidates[c], moderator) for c, moderator in drawn]
        piat = self.directory.with_role(Role.PIAT_MANAGER) or self.directory.with_role(Role.PIAT)
        return Draw(
            audits=audits,
            candidates=len(candidates),
            moderator_ids=moderators,
            piat_ids=sorted(m.id for m in piat),
            policy=self.policy,
        )

    def _candidates(self, panel_cycle: str) -> dict[Candidate, AuditRecord]:
        """Decision: the audits final since the panel before was drawn, whatever their cycle, so an
        audit final after its own months' panel is drawn by the next and none is drawn twice. A row
        saved before it kept `final_at` goes by its cycle, as before."""
        with Session(self.engine) as session:
            since = self._since(session, panel_cycle)
            by_date = and_(AuditRecord.final_at.is_not(None), AuditRecord.final_at > since)
            by_cycle = and_(AuditRecord.final_at.is_(None), AuditRecord.cycle.in_(source_cycles(panel_cycle)))
            rows = session.exec(select(AuditRecord).where(AuditRecord.overall_grade.is_not(None), or_(by_date, by_cycle))).all()
            moderated = set(session.exec(select(ModerationRecord.audit_id)).all())
        return {
            Candidate(r.audit_id, r.service_area, r.auditor_id): r
            for r in rows
            if r.audit_id not in moderated and (r.final_at is not None or eligible(panel_cycle, r.cycle, r.overall_grade))
        }

    @staticmethod
    def _since(session: Session, panel_cycle: str) -> datetime:
        """When the last panel before this one was convened; with none, the start of the four months."""
        before = session.exec(
            select(ModerationPanelRecord.opened_at)
            .where(ModerationPanelRecord.cycle < panel_cycle)
            .order_by(ModerationPanelRecord.cycle.desc())
        ).first()
        if before is not None:
            return before
        first = source_cycles(panel_cycle)[0]
        return datetime(int(first[:4]), int(first[5:]), 1, tzinfo=UTC)

    async def _drawn(self, row: AuditRecord, moderator_id: str | None) -> DrawnAudit:
        view = await self._final_view(row)
        grading = view.final_grading
        if grading is None or grading.overall.grade is None:  # the row says final: the view must agree
            raise ApplicationError(f"audit {row.audit_id} has no final grading yet", non_retryable=False)
        return DrawnAudit(
            audit_id=view.audit_id,
            case_ref=view.case_ref,
            service_area=view.service_area.value,
            kind=view.kind.value,
            cycle=view.cycle,
            auditor_id=view.auditor_id,
            overall_grade=grading.overall.grade,
            domains=[GradePair(domain=d.domain, grade=d.grade) for d in grading.domains],
            moderator_id=moderator_id,
            practitioner_id=view.practitioner_id,
        )

    async def _final_view(self, row: AuditRecord) -> AuditView:
        """The audit's row keeps its whole view only when it first appears and when its run ends,
        so an audit still running (a discussion, a planned re-audit) is asked for its view; one
        whose history is gone answers from the view saved at its end."""
        if self.client is not None:
            try:
                return await self.client.get_workflow_handle(f"audit-{row.audit_id}").query("view", result_type=AuditView)
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise
        return AuditView.model_validate(row.view)

    @activity.defn
    def save_moderation_panel(self, row: ModerationPanelRow) -> None:
        """Upsert the panel's row and each moderation's. Idempotent: the last save wins."""
        with Session(self.engine) as session:
            panel = session.get(ModerationPanelRecord, row.cycle)
            if panel is None:
                panel = ModerationPanelRecord(**row.columns(), view=row.view or {})
            else:
                for column, value in row.columns().items():
                    setattr(panel, column, value)
                if row.view is not None:
                    panel.view = row.view
            panel.view_current = row.view is not None  # a save without it leaves an older view
            session.add(panel)
            replace_waits(session, "moderation_panel", row.cycle, None, row.waits, row.overdue)
            for m in row.moderations:
                values = m.model_dump() | {"updated_at": row.updated_at}
                record = session.get(ModerationRecord, m.moderation_id)
                if record is None:
                    record = ModerationRecord(**values)
                for column, value in values.items():
                    setattr(record, column, value)
                session.add(record)
            session.commit()
