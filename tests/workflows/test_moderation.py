"""Moderation panels (R-MOD-1..4) through the API on the time-skipping server: audits of January
(of the suite's YEAR) made final through the real audit flow, a February panel drawing from them with a recorded
seed, the moderators' records, feedback to the auditor, PIAT and Mosaic, a missed deadline."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select
from temporalio.service import RPCError

from models.agreement import judgements_of_rows, summarise
from models.moderation import Candidate, ModerationPanelInput, draw
from models.tables import AuditRecord, ModerationRecord, MosaicOutbox
from workflows.moderation import ModerationPanelWorkflow
from tests.helpers.dates import YEAR, at, cycle, cycle_opens, day, first_working_day, last_working_day, working_days_after
from tests.helpers import at_london, eventually, skip_to
from tests.helpers.moderation import (
    AUDITS,
    DUE,
    FEBRUARY,
    OPENS,
    PANEL,
    RECORDING,
    final_january_audits,
    findings,
    open_panel,
    record,
)


@pytest.mark.timeout(300)
async def test_a_panel_from_the_draw_to_feedback_on_mosaic(api, env, client, engine, sent):
    ids = await final_january_audits(api, env, engine)
    panel = await open_panel(api, {"seed": 42})

    # R-MOD-2: two of Safeguarding's three, MASH's one; the seed recorded and the draw repeatable.
    assert (panel["seed"], panel["status"], panel["candidates"]) == (42, "moderating", 4)
    assert panel["source_cycles"] == [cycle(10, YEAR - 1), cycle(11, YEAR - 1), cycle(12, YEAR - 1), cycle(1)]
    assert panel["service_areas"] == ["mash", "safeguarding"]
    with Session(engine) as session:
        rows = [session.get(AuditRecord, i) for i in ids]
    expected = [c.audit_id for c in draw([Candidate(r.audit_id, r.service_area, r.auditor_id) for r in rows], 2, 42)]
    moderations = panel["moderations"]
    assert [m["audit_id"] for m in moderations] == expected
    assert [m["moderation_id"] for m in moderations] == [f"{FEBRUARY}-m01", f"{FEBRUARY}-m02", f"{FEBRUARY}-m03"]
    assert [m["moderator_id"] for m in moderations] == ["slt1", "slt2", "slt3"]  # round robin
    assert all(at_london(m["due"]) == DUE for m in moderations)  # 20 working days (R-MOD-3)
    by_audit = {a["case_ref"]: a for a in AUDITS}
    for m in moderations:  # the final grading, as reported
        assert m["overall_grade"] == by_audit[m["case_ref"]]["grade"] and len(m["domains"]) in (4, 6)

    # Each moderator gets their list with the due date; PIAT (the PI&A Manager) the draw.
    told = {n.key.rsplit("/", 1)[1]: n for n in sent(PANEL)}
    assert sorted(told) == ["allocated-slt1", "allocated-slt2", "allocated-slt3", "drawn"]
    assert (
        moderations[0]["audit_id"] in told["allocated-slt1"].body
        and f"By: {DUE:%A} {DUE.day} {DUE:%B %Y}, 17:00" in told["allocated-slt1"].body
    )
    assert told["drawn"].recipient_ids == ["piatmgr1"] and "seed 42" in told["drawn"].body
    await open_panel(api, {"seed": 1}, status=409)  # one panel a month

    # R-MOD-3, R-MOD-4: the moderator records; auditor and PIAT emailed, the case note on Mosaic.
    await skip_to(env, RECORDING)
    first = moderations[0]
    done = await record(api, first, findings(first, disagree_first=True, overall="outstanding"))
    assert (done["recorded"], done["overall_agreed"], done["moderated_overall_grade"]) == (True, False, "outstanding")
    assert done["domains_agreed"] == len(first["domains"]) - 1
    [feedback] = [n for n in sent(first["audit_id"]) if n.subject.startswith("Moderation feedback")]
    assert feedback.recipient_ids == [first["auditor_id"], "piatmgr1"] and "plan needs dates" in feedback.body
    with Session(engine) as session:
        note = session.exec(select(MosaicOutbox).where(MosaicOutbox.key == f"{PANEL}/{FEBRUARY}-m01-mosaic-case-note")).one()
    assert (note.case_ref, note.kind, note.payload["title"]) == (first["case_ref"], "case_note", f"{OPENS:%B %Y} Moderation")

    # The projection keeps original against moderated grades for the quarterly report.
    row = await eventually(lambda: _recorded_row(engine, f"{FEBRUARY}-m01"))
    assert (row.original_overall, row.moderated_overall, row.overall_agreed) == (first["overall_grade"], "outstanding", False)
    assert [d["agreed"] for d in row.domains] == [False] + [True] * (len(first["domains"]) - 1)

    for m in moderations[1:]:
        await record(api, m, findings(m))
    result = await client.get_workflow_handle_for(ModerationPanelWorkflow.run, PANEL).result()
    assert result.status == "completed" and all(m.recorded for m in result.moderations)
    final = (await api.as_("slt2").get(f"/moderation-panels/{FEBRUARY}")).json()
    assert final["status"] == "completed" and not final["overdue"]
    assert final["results"]["moderated"] == 3 and final["results"]["kappa"]["audits"] == 3
    assert final["results"]["overall_agreement"] == round(2 / 3, 4)
    assert final["results"]["grade_changes"] == [{"from": first["overall_grade"], "to": "outstanding", "count": 1}]
    with Session(engine) as session:  # a quarterly report reading the table finds the same
        rows = session.exec(select(ModerationRecord).where(ModerationRecord.panel_cycle == FEBRUARY)).all()
    assert summarise(judgements_of_rows(rows)).model_dump(mode="json") == final["results"]


async def _recorded_row(engine, moderation_id):
    with Session(engine) as session:
        row = session.get(ModerationRecord, moderation_id)
        return row if row and row.recorded_at else None


@pytest.mark.timeout(300)
async def test_a_missed_deadline_reminds_the_moderator_and_tells_piat_and_the_record_comes_late(api, env, client, engine, sent):
    await final_january_audits(api, env, engine)
    panel = await open_panel(api, {"per_service": 1, "seed": 7})
    on_time, late = panel["moderations"]
    await skip_to(env, RECORDING)
    await record(api, on_time, findings(on_time))

    await skip_to(env, DUE - timedelta(minutes=1))
    assert [n.key for n in sent(PANEL) if "overdue" in n.key or "reminder" in n.key] == []
    await skip_to(env, DUE + timedelta(minutes=1))
    told = {n.key.rsplit("/", 1)[1]: n for n in sent(PANEL)}
    assert told[f"reminder-{late['moderator_id']}"].recipient_ids == [late["moderator_id"]]
    assert f"reminder-{on_time['moderator_id']}" not in told
    assert told["overdue"].recipient_ids == ["piatmgr1"] and late["moderation_id"] in told["overdue"].body
    view = (await api.as_("piatmgr1").get(f"/moderation-panels/{FEBRUARY}")).json()
    assert view["overdue"] and view["status"] == "moderating"
    assert [(m["overdue"], m["late"]) for m in view["moderations"]] == [(False, False), (True, False)]
    assert view["waiting_for"]["from_staff_ids"] == [late["moderator_id"]]

    await skip_to(env, at(working_days_after(DUE.date(), 2), 10))  # the panel keeps waiting; nobody is told twice
    assert len([n for n in sent(PANEL) if n.key.endswith("overdue")]) == 1
    done = await record(api, late, findings(late, met_on=working_days_after(DUE.date(), 1).isoformat()))
    assert (done["recorded"], done["overdue"], done["late"]) == (True, False, True)
    await client.get_workflow_handle(PANEL).result()
    view = (await api.as_("ad1").get(f"/moderation-panels/{FEBRUARY}")).json()
    assert (view["status"], view["overdue"]) == ("completed", False)


@pytest.mark.timeout(300)
async def test_only_its_moderator_records_once_and_bad_input_is_refused_naming_the_field(api, env, client, engine, sent):
    await final_january_audits(api, env, engine)
    r = await api.as_("slt1").post(f"/moderation-panels/{FEBRUARY}", json={})
    assert r.status_code == 403  # PIAT convenes a panel by hand
    r = await api.as_("piat1").post(f"/moderation-panels/{cycle(3)}", json={})
    assert r.status_code == 422 and "not a moderation month" in r.text
    panel = await open_panel(api, {"seed": 3})
    m = panel["moderations"][0]
    other = next(s for s in ("slt1", "slt2", "slt3") if s != m["moderator_id"])
    await skip_to(env, RECORDING)

    assert (await api.as_("tm1").get(f"/moderation-panels/{FEBRUARY}")).status_code == 403
    await record(api, m, findings(m), by="tm1", status=403)  # not a moderator at all
    refused = await record(api, m, findings(m), by=other, status=403)  # another moderator's
    assert "allocated to" in refused["detail"]
    refused = await record(api, m, findings(m, met_on=day(3, 20).isoformat()), status=422)  # a day still to come
    assert "met_auditor_on" in refused["detail"]
    refused = await record(
        api, m, findings(m, met_on=last_working_day(YEAR, 1).isoformat()), status=422
    )  # before the panel opened
    assert "met_auditor_on" in refused["detail"]
    body = findings(m)
    refused = await record(api, m, body | {"domains": body["domains"][1:]}, status=422)
    assert refused["detail"].startswith("domains:")
    r = await api.as_(m["moderator_id"]).post(
        f"/moderations/{m['moderation_id']}/record", json=body | {"overall": {"agree": False}}
    )
    assert r.status_code == 422 and "moderated_grade" in r.text and "overall" in r.text
    refused = await record(api, m, body | {"overall": {"agree": False, "moderated_grade": m["overall_grade"]}}, status=422)
    assert "overall.moderated_grade" in refused["detail"]
    r = await api.as_(m["moderator_id"]).post(f"/moderations/{m['moderation_id']}/record", json=body | {"feedback": "x" * 10_001})
    assert r.status_code == 422 and "feedback" in r.text
    assert not [n for n in sent(m["audit_id"]) if n.subject.startswith("Moderation feedback")]  # nothing sent yet

    await record(api, m, findings(m))
    refused = await record(api, m, findings(m), status=409)  # once
    assert "already recorded" in refused["detail"]
    assert len([n for n in sent(m["audit_id"]) if n.subject.startswith("Moderation feedback")]) == 1
    r = await api.as_("slt1").post(f"/moderations/{cycle(6)}-m01/record", json=findings(m))
    assert r.status_code == 404  # no such panel


async def test_a_panel_with_nothing_final_to_draw_ends_at_once_and_tells_piat(api, env, client, sent):
    await skip_to(env, cycle_opens(6))
    panel = await open_panel_for(api, cycle(6))
    assert (panel["status"], panel["candidates"], panel["moderations"]) == ("completed", 0, [])
    assert panel["seed"] is not None and panel["source_cycles"] == [cycle(2), cycle(3), cycle(4), cycle(5)]
    [drawn] = sent(f"moderation-{cycle(6)}")
    assert drawn.recipient_ids == ["piatmgr1"] and "no final audits" in drawn.body
    assert panel["results"]["kappa"] == {"value": None, "weights": "linear", "audits": 0}
    r = await api.as_("piat1").post(f"/moderation-panels/{cycle(6)}", json={})
    assert r.status_code == 409  # also once it has ended


async def test_a_panel_is_convened_from_its_month_s_opening_not_before(api, env, client):
    """Convened early it would draw nothing final yet and hold the month's real panel (one a month)."""
    await skip_to(env, at(first_working_day(YEAR, 1)))
    r = await api.as_("piat1").post(f"/moderation-panels/{FEBRUARY}", json={})
    assert r.status_code == 422 and f"{OPENS:%A} {OPENS.day} {OPENS:%B %Y}, 09:00" in r.json()["detail"], r.text
    with pytest.raises(RPCError, match="not found"):  # no panel was started
        await client.get_workflow_handle(PANEL).describe()
    await skip_to(env, OPENS)
    assert (await open_panel(api))["cycle"] == FEBRUARY


async def open_panel_for(api, cycle: str) -> dict:
    r = await api.as_("piat1").post(f"/moderation-panels/{cycle}")
    assert r.status_code == 201, r.text
    return r.json()


async def test_started_as_the_cycle_starts_it_the_workflow_chooses_and_records_the_seed(api, env, client, engine, settings):
    """The cycle workflow's call: only `cycle` and `per_service`. The seed comes from
    workflow.random() and is recorded; the due time from the settings in force (20 working days)."""
    ids = await final_january_audits(api, env, engine)
    handle = await client.start_workflow(
        ModerationPanelWorkflow.run,
        ModerationPanelInput(cycle=FEBRUARY, per_service=1),
        id=PANEL,
        task_queue=settings.temporal_task_queue,
    )
    await handle.execute_update(ModerationPanelWorkflow.opened)
    panel = (await api.as_("slt3").get(f"/moderation-panels/{FEBRUARY}")).json()
    assert panel["policy"] == {"moderation_days": 20} and at_london(panel["due"]) == DUE
    with Session(engine) as session:
        rows = [session.get(AuditRecord, i) for i in ids]
    again = draw([Candidate(r.audit_id, r.service_area, r.auditor_id) for r in rows], 1, panel["seed"])
    assert [m["audit_id"] for m in panel["moderations"]] == [c.audit_id for c in again]  # the recorded seed repeats it
    assert sorted(m["service_area"] for m in panel["moderations"]) == ["mash", "safeguarding"]
    r = await api.as_("piat1").post(f"/moderation-panels/{FEBRUARY}", json={})
    assert r.status_code == 409 and "already exists" in r.text
