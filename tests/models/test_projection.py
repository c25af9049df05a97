"""The rows the API reads: each audit's row holds its whole view as of its last save, saved before
any action on it answers, so the API answers an action from the row instead of asking the
workflow; a row holding only its first view is answered by query."""

from sqlalchemy import update
from sqlmodel import Session

from activities.persistence import PersistenceActivities
from services import actions
from services.audits import audit_handle
from api.deps import Services
from models.enums import Stage
from models.payloads import AuditView
from models.projections import AuditRow
from models.tables import AuditRecord
from tests.helpers import grading
from workflows.audit import AuditWorkflow


def row_of(engine, audit_id: str) -> AuditRecord:
    with Session(engine) as session:
        return session.get(AuditRecord, audit_id)


async def test_an_action_is_answered_with_the_view_its_row_saved_before_answering(api, client, engine, audit_id):
    graded = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=grading())
    assert graded.status_code == 200, graded.text
    record = row_of(engine, audit_id)
    assert record.view_current and record.stage == "initially_graded"
    assert graded.json()["stage"] == record.view["stage"] == "initially_graded"
    live = await client.get_workflow_handle(f"audit-{audit_id}").query(AuditWorkflow.view)
    assert record.view == live.model_dump(mode="json")  # the whole view, not a first save's


async def test_a_row_holding_only_its_first_view_is_answered_by_query(client, settings, directory, engine, audit_id):
    # A run begun before rows held the whole view at every save sends its columns alone: the
    # row keeps the view it had, no longer current, and the answer is asked of the workflow.
    first_view = row_of(engine, audit_id).view
    stale = first_view | {"stage": Stage.COMPLETED.value}
    with Session(engine) as session:
        session.exec(update(AuditRecord).where(AuditRecord.audit_id == audit_id).values(view=stale))
        session.commit()
    columns_only = AuditRow.of(AuditView.model_validate(first_view), whole=False)
    PersistenceActivities(engine).save_audit_row(columns_only)
    record = row_of(engine, audit_id)
    assert not record.view_current and record.view == stale

    svc = Services(settings=settings, client=client, engine=engine, directory=directory)
    answer = await actions.answered(svc, audit_handle(svc, audit_id), AuditWorkflow.view, AuditView, AuditRecord, audit_id)
    assert answer.stage is Stage.ALLOCATED
