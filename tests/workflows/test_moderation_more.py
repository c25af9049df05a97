"""A moderation panel that can neither stall nor miss audits: PIAT gives a drawn audit's
moderation to another moderator (one who left, or an audit nobody could moderate), the draw takes
every audit final since the panel before, and the reports say how long audits took to be final."""

import pytest
from sqlmodel import Session

from models.tables import AuditRecord
from workflows.moderation import ModerationPanelWorkflow
from tests.helpers.dates import YEAR, at, cycle, cycle_opens, first_working_day, working_days_after
from tests.helpers import allocate, at_london, audit_to_report, complete, eventually, join, leave, qa, skip_to, submit
from tests.helpers.moderation import (
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

MODERATORS = ("slt1", "slt2", "slt3")


async def give(api, audit_id, moderator_id, by="piat1", panel=FEBRUARY, status=200) -> dict:
    r = await api.as_(by).put(f"/moderation-panels/{panel}/moderations/{audit_id}/moderator", json={"moderator_id": moderator_id})
    assert r.status_code == status, r.text
    return r.json()


async def panel_work(api, staff_id, panel=FEBRUARY) -> list[dict]:
    r = await api.as_(staff_id).get("/me/work")
    assert r.status_code == 200, r.text
    return [w for w in r.json() if w["process"] == "moderation_panel" and w["id"] == panel]


@pytest.mark.timeout(300)
async def test_piat_gives_a_moderation_to_another_moderator_who_is_told_and_it_keeps_its_deadline(api, env, engine, sent):
    await final_january_audits(api, env, engine)
    panel = await open_panel(api, {"seed": 42})
    first = panel["moderations"][0]
    assert first["moderator_id"] == "slt1"
    assert await panel_work(api, "slt1")

    # Only PIAT; only someone who may moderate the audit; only an audit the panel drew.
    refused = await give(api, first["audit_id"], "slt2", by="slt2", status=403)
    assert refused["detail"]
    refused = await give(api, first["audit_id"], "tm1", status=422)  # not an SLT moderator
    assert "moderator_id" in refused["detail"] and "SLT moderator" in refused["detail"]
    refused = await give(api, first["audit_id"], first["auditor_id"], status=422)
    assert "moderator_id" in refused["detail"]
    refused = await give(api, first["audit_id"], "slt1", status=422)  # already theirs
    assert "already" in refused["detail"]
    refused = await give(api, f"{cycle(1)}-std-0000000000", "slt2", status=404)  # drawn by no panel
    assert "is not on the" in refused["detail"]
    refused = await give(api, first["audit_id"], "slt2", panel=cycle(6), status=404)  # no such panel

    given = await give(api, first["audit_id"], "slt2")
    assert (given["moderation_id"], given["moderator_id"]) == (first["moderation_id"], "slt2")
    assert at_london(given["due"]) == DUE  # the deadline stays
    told = {n.key.rsplit("/", 1)[1]: n for n in sent(PANEL)}
    [to_new] = [n for k, n in told.items() if k.startswith(f"{first['moderation_id']}-given")]
    [to_old] = [n for k, n in told.items() if k.startswith(f"{first['moderation_id']}-taken")]
    assert to_new.recipient_ids == ["slt2"] and first["audit_id"] in to_new.body
    assert f"{DUE:%A} {DUE.day} {DUE:%B %Y}, 17:00" in to_new.body
    assert to_old.recipient_ids == ["slt1"] and "no longer" in to_old.body
    assert await eventually(lambda: _no_work(api, "slt1")), "it stayed on the old moderator's My work"
    assert await panel_work(api, "slt2")
    view = (await api.as_("piat1").get(f"/moderation-panels/{FEBRUARY}")).json()
    assert [m["moderator_id"] for m in view["moderations"]] == ["slt2", "slt2", "slt3"]

    await skip_to(env, RECORDING)
    refused = await record(api, first, findings(first), by="slt1", status=403)
    assert "allocated to" in refused["detail"]
    done = await record(api, first, findings(first), by="slt2")
    assert done["recorded"]
    refused = await give(api, first["audit_id"], "slt3", status=409)  # done: it stays with who did it
    assert "already recorded" in refused["detail"]


async def _no_work(api, staff_id):
    return not await panel_work(api, staff_id)


@pytest.mark.timeout(300)
async def test_an_audit_nobody_could_moderate_waits_for_piat_to_give_it_a_moderator(api, env, client, engine, settings, sent):
    # The only moderator at the draw audited the only final audit.
    join(settings, "slt9", ["slt_moderator", "auditor"])
    await skip_to(env, at(first_working_day(YEAR, 1)))
    audit_id = await audit_to_report(api, env, grade="good", auditor="slt9", case_ref="C-9", practitioner_id="sw1")
    leave(settings, *MODERATORS)
    await skip_to(env, OPENS)
    assert await eventually(lambda: _final(engine, audit_id))

    panel = await open_panel(api, {"seed": 5})
    assert panel["unallocated"] == [audit_id] and panel["moderations"] == []
    assert panel["status"] == "moderating"  # it waits for PIAT to find a moderator
    [drawn] = [n for n in sent(PANEL) if n.key.endswith("/drawn")]
    assert "name a moderator" in drawn.body
    assert await panel_work(api, "piatmgr1")

    refused = await give(api, audit_id, "slt9", status=422)  # its own auditor
    assert "moderator_id" in refused["detail"]
    join(settings, "slt1", ["slt_moderator", "senior_manager"])
    given = await give(api, audit_id, "slt1")
    assert (given["moderation_id"], given["moderator_id"]) == (f"{FEBRUARY}-m01", "slt1")
    assert at_london(given["due"]) == DUE
    assert [n.recipient_ids for n in sent(PANEL) if "-given" in n.key] == [["slt1"]]
    view = (await api.as_("piatmgr1").get(f"/moderation-panels/{FEBRUARY}")).json()
    assert view["unallocated"] == [] and view["waiting_for"]["from_staff_ids"] == ["slt1"]
    assert await eventually(lambda: _no_work(api, "piatmgr1"))

    await skip_to(env, RECORDING)
    await record(api, given, findings(given), by="slt1")
    result = await client.get_workflow_handle_for(ModerationPanelWorkflow.run, PANEL).result()
    assert result.status == "completed" and [m.recorded for m in result.moderations] == [True]


async def _final(engine, audit_id):
    with Session(engine) as session:
        return session.get(AuditRecord, audit_id).overall_grade


@pytest.mark.timeout(300)
async def test_an_audit_final_after_its_cycle_s_panel_is_drawn_by_the_next_one(api, env, engine):
    """Drawn by when it became final: since the panel before, not by its cycle's month."""
    await skip_to(env, at(first_working_day(YEAR, 1)))
    early = await audit_to_report(api, env, grade="good", case_ref="C-1", practitioner_id="sw1")
    late = (await allocate(api, auditor_id="tm2", case_ref="C-2", practitioner_id="sw2"))["audit_id"]
    await complete(api, env, late, grade="good")
    await submit(api, late)
    await skip_to(env, OPENS)
    assert await eventually(lambda: _final(engine, early))
    february = await open_panel(api, {"seed": 1})
    assert [m["audit_id"] for m in february["moderations"]] == [early]

    await qa(api, late)  # accepted only now: final in February, after January's panel was drawn
    await skip_to(env, at(working_days_after(OPENS.date(), 10)))
    assert await eventually(lambda: _final(engine, late))
    with Session(engine) as session:
        row = session.get(AuditRecord, late)
    assert row.final_at is not None and at_london(row.final_at.isoformat()) > OPENS
    # January's report: days from allocation (its first working day) to final, the median of the two.
    with Session(engine) as session:
        finals = [at_london(session.get(AuditRecord, i).final_at.isoformat()).date() for i in (early, late)]
    days = sorted((d - first_working_day(YEAR, 1)).days for d in finals)
    r = await api.as_("ad1").get("/reports/monthly", params={"period": cycle(1)})
    assert r.status_code == 200, r.text
    assert r.json()["completion"]["median_days_to_final"] == sum(days) / 2
    assert [p["median_days_to_final"] for p in r.json()["trend"]] == [sum(days) / 2]

    await skip_to(env, cycle_opens(6))
    r = await api.as_("piat1").post(f"/moderation-panels/{cycle(6)}", json={"seed": 1})
    assert r.status_code == 201, r.text
    june = r.json()
    assert [m["audit_id"] for m in june["moderations"]] == [late]  # and not the one February drew
    assert june["candidates"] == 1


# ---- the reports: how long audits took to be final ------------------------------------------------


def test_reports_give_the_days_from_allocation_to_final_a_median_per_month():
    from reports.periods import parse
    from reports.figures import AuditLine, build
    from tests.helpers.dates import london

    def final_line(audit_id, month, days, final=True):
        return AuditLine(
            audit_id=audit_id,
            cycle=cycle(month),
            service_area="safeguarding",
            kind="standard",
            team="Team A",
            overall="good" if final else None,
            final=final,
            submitted=True,
            days_to_final=days,
        )

    lines = [
        final_line("a1", 1, 10),
        final_line("a2", 1, 30),
        final_line("a3", 1, 14),
        final_line("b1", 2, 21),
        final_line("b2", 2, 24),
        final_line("b3", 2, None),  # saved before it was kept
        final_line("c1", 3, None, final=False),
    ]
    quarter = build(parse("quarterly", f"{YEAR}-Q1"), lines, [], [], london(YEAR, 4, 1, 9))
    assert [(p.label, p.median_days_to_final) for p in quarter.trend] == [(cycle(1), 14), (cycle(2), 22.5), (cycle(3), None)]
    assert quarter.completion.median_days_to_final == 21
    month = build(parse("monthly", cycle(3)), lines, [], [], london(YEAR, 4, 1, 9))
    assert month.completion.median_days_to_final is None  # nothing final yet


def test_a_report_line_counts_london_days_from_allocation_to_final():
    from reports.rows import line_of
    from tests.helpers.dates import london

    allocated, final = london(YEAR, 4, 5, 9), london(YEAR, 5, 1, 0, 30)  # just past midnight in London (BST)
    record = AuditRecord(
        audit_id="a1",
        case_ref="C-1",
        cycle=cycle(4),
        service_area="safeguarding",
        kind="standard",
        stage="completed",
        auditor_id="tm2",
        practitioner_id="sw1",
        team_manager_id="tm1",
        overall_grade="good",
        chain_id="a1",
        updated_at=final,
        final_at=final,
        facts={"final": True},
        view={"allocated_at": allocated.isoformat()},
    )
    assert line_of(record, "Team A", None).days_to_final == (final.date() - allocated.date()).days
    assert line_of(record.model_copy(update={"final_at": None}), "Team A", None).days_to_final is None
