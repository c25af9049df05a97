"""Selecting a cycle's cases (R-ALLOC-1, R-KIND): reproducible from its seed, honouring every
exclusion, auditors eligible and balanced; confirmation starts every audit once."""

from datetime import UTC, datetime

from sqlmodel import Session, select

from models.tables import AuditRecord
from tests.helpers.dates import INVOLVED_SINCE, YEAR, at, cycle, first_working_day
from tests.helpers import allocate, emails, eventually, skip_to
from tests.helpers.cases import upload

JANUARY = cycle(1)
START = at(first_working_day(YEAR, 1))  # 09:00 on the January cycle's first working day (4 January in 2027)

CASES = "case_ref,service_area,practitioner_id,involvement_start,cp_chair_or_iro_id\n" + "".join(
    f"C-{n},safeguarding,{practitioner},{INVOLVED_SINCE},\n"
    for n, practitioner in [(1, "sw1"), (2, "sw1"), (3, "sw2"), (4, "sw2"), (5, "sw3"), (6, "sw3"), (7, "sw3"), (8, "sw1")]
)


async def select_cases(api, per_team=2, seed=None, cycle=JANUARY, status=201) -> dict:
    r = await api.as_("piat1").post(
        f"/cycles/{cycle}/selections", json={"per_team": per_team} | ({"seed": seed} if seed is not None else {})
    )
    assert r.status_code == status, r.text
    return r.json()


def audited_before(engine, case_ref: str, cycle: str) -> None:
    """An audit of an earlier cycle, as the list's projection holds it."""
    with Session(engine) as session:
        session.add(
            AuditRecord(
                audit_id=f"old-{case_ref}-{cycle}",
                case_ref=case_ref,
                cycle=cycle,
                service_area="safeguarding",
                kind="standard",
                stage="completed",
                auditor_id="tm2",
                practitioner_id="sw1",
                team_manager_id="tm1",
                chain_id="x",
                updated_at=datetime.now(UTC),
                view={},
            )
        )
        session.commit()


async def test_a_selection_is_reproducible_from_its_seed_and_honours_every_exclusion(api, env, client, engine):
    await skip_to(env, START)
    assert (await upload(api, CASES)).status_code == 200
    await allocate(api, case_ref="C-1")  # already allocated in this cycle
    audited_before(engine, "C-2", cycle(2, YEAR - 1))  # 11 months before this January: within 12 months
    audited_before(engine, "C-8", cycle(11, YEAR - 2))  # 14 months before: it may be chosen again
    first = await select_cases(api, per_team=5)
    chosen = [p["case_ref"] for p in first["proposal"]]
    assert sorted(chosen) == ["C-3", "C-4", "C-5", "C-6", "C-7", "C-8"]  # every eligible case of both teams
    again = await select_cases(api, per_team=5, seed=first["seed"])  # the recorded seed repeats the draw
    assert [p["case_ref"] for p in again["proposal"]] == chosen and again["seed"] == first["seed"]
    one = [p["case_ref"] for p in (await select_cases(api, per_team=2, seed=42))["proposal"]]
    assert one == [p["case_ref"] for p in (await select_cases(api, per_team=2, seed=42))["proposal"]]  # same seed, same cases
    assert len(one) == 4 and len({c for c in one if c in ("C-3", "C-4", "C-8")}) == 2  # two from each team
    draws = {tuple(p["case_ref"] for p in (await select_cases(api, per_team=1, seed=s))["proposal"]) for s in range(8)}
    assert len(draws) > 1  # the seed matters


async def test_auditors_are_eligible_balanced_and_never_the_practitioners_own_team_manager(api, env, client):
    await skip_to(env, START)
    await upload(api, CASES + f"C-9,mash,sw3,{INVOLVED_SINCE},\n")
    proposal = (await select_cases(api, per_team=4, seed=7))["proposal"]
    team_manager = {"sw1": "tm1", "sw2": "tm1", "sw3": "tm2"}
    practitioner = {
        f"C-{n}": p
        for n, p in [(1, "sw1"), (2, "sw1"), (3, "sw2"), (4, "sw2"), (5, "sw3"), (6, "sw3"), (7, "sw3"), (8, "sw1"), (9, "sw3")]
    }
    [mash] = [p for p in proposal if p["case_ref"] == "C-9"]
    assert (mash["kind"], mash["auditor_id"]) == ("standard", "hos1")  # R-KIND-4: a senior manager of Safeguarding & QA
    for p in proposal:
        assert p["kind"] == "standard" and p["auditor_id"] not in (
            team_manager[practitioner[p["case_ref"]]],
            practitioner[p["case_ref"]],
        )
        if p is not mash:
            assert p["auditor_id"] in {"tm1", "tm2", "iro1", "piat1", "piatmgr1"}  # TMs, IROs, PIAT (R-KIND-1)
    loads = {}
    for p in proposal:
        loads[p["auditor_id"]] = loads.get(p["auditor_id"], 0) + 1
    assert max(loads.values()) - min(loads.values()) <= 1  # balanced


async def test_confirming_starts_every_audit_once_and_refuses_what_the_rules_refuse(api, env, client, sent):
    await skip_to(env, START)
    await upload(api, CASES)
    selection = await select_cases(api, per_team=1, seed=3)
    allocations = [dict(p) for p in selection["proposal"]]  # one from Safeguarding Team 1 (tm1's), one from Team 2
    assert allocations[0]["case_ref"] in ("C-1", "C-2", "C-3", "C-4", "C-8")
    allocations[0]["auditor_id"] = "tm1"  # PIAT's adjustment breaks independence: refused, the rest goes ahead
    confirm = f"/selections/{selection['selection_id']}/confirm"
    r = await api.as_("piat1").post(confirm, json={"allocations": allocations})
    assert r.status_code == 200, r.text
    [refused, started] = r.json()["confirmed"]
    assert refused["audit_id"] is None and "own Team Manager" in refused["refused"]
    assert started["audit_id"] and started["refused"] is None
    again = await api.as_("piat1").post(confirm, json={"allocations": allocations[1:]})
    assert again.json()["confirmed"] == [started]  # the same audit: nothing new started
    assert await eventually(lambda: len(emails(sent, started["audit_id"], "Audit allocated")) == 1)  # the audit tells its people
    r = await api.as_("piat1").post(
        confirm, json={"allocations": [{"case_ref": "C-99", "kind": "standard", "auditor_id": "tm2"}]}
    )
    assert r.status_code == 422 and "not in this selection" in r.json()["detail"]
    assert (await api.as_("piat1").get(f"/selections/{selection['selection_id']}")).json()["confirmed"] == [started]


async def test_a_themed_cycle_needs_its_theme_and_peer_cycles_propose_practitioners(api, env, client):
    await skip_to(env, START)
    await upload(api, CASES)
    r = await api.as_("piat1").post(f"/cycles/{cycle(5)}/selections", json={"per_team": 1})
    assert r.status_code == 422 and "theme" in r.json()["detail"]
    themed = (await api.as_("piat1").post(f"/cycles/{cycle(5)}/selections", json={"per_team": 1, "theme": "Neglect"})).json()
    assert {p["kind"] for p in themed["proposal"]} == {"themed"} and themed["theme"] == "Neglect"
    peer = (await select_cases(api, per_team=1, seed=1, cycle=cycle(3)))["proposal"]  # March: a peer cycle
    team = {"sw1": 1, "sw2": 1, "sw3": 2}
    case_team = {f"C-{n}": 2 if n in (5, 6, 7) else 1 for n in range(1, 9)}
    for p in peer:  # a practitioner of another team: never their own case, nor a colleague's (R-KIND-2)
        assert p["kind"] == "peer" and team[p["auditor_id"]] != case_team[p["case_ref"]]
    assert (await api.as_("tm1").post(f"/cycles/{JANUARY}/selections", json={"per_team": 1})).status_code == 403


async def test_a_whole_month_is_confirmed_in_one_request_and_every_audit_runs(api, env, client, engine, sent):
    """A council confirms its month's selection at once: more allocations than a list field's
    usual limit (50), started side by side; each audit then tells its people on its own."""
    await skip_to(env, START)
    month = "case_ref,service_area,practitioner_id,involvement_start,cp_chair_or_iro_id\n" + "".join(
        f"C-M{n},safeguarding,{('sw1', 'sw2', 'sw3')[n % 3]},{INVOLVED_SINCE},\n" for n in range(60)
    )
    assert (await upload(api, month)).status_code == 200
    selection = await select_cases(api, per_team=40, seed=5)
    assert len(selection["proposal"]) == 60  # two teams: sw1 and sw2's 40, sw3's 20
    r = await api.as_("piat1").post(
        f"/selections/{selection['selection_id']}/confirm", json={"allocations": selection["proposal"]}
    )
    assert r.status_code == 200, r.text
    confirmed = r.json()["confirmed"]
    assert [c["case_ref"] for c in confirmed] == [p["case_ref"] for p in selection["proposal"]]  # in the proposal's order
    assert all(c["audit_id"] and c["refused"] is None for c in confirmed), [c for c in confirmed if c["refused"]][:3]

    def allocated():
        with Session(engine) as session:
            rows = session.exec(select(AuditRecord).where(AuditRecord.case_ref.startswith("C-M"))).all()
            return len(rows) == 60 and all(row.stage == "allocated" for row in rows)

    assert await eventually(allocated, attempts=300)
    with Session(engine) as session:
        rows = {r.audit_id: r for r in session.exec(select(AuditRecord).where(AuditRecord.case_ref.startswith("C-M")))}
    for c in confirmed:  # R-ALLOC-1: auditor, Team Manager and practitioner told, once
        row = rows[c["audit_id"]]
        [(recipients, _)] = emails(sent, c["audit_id"], "Audit allocated")
        assert recipients == [row.auditor_id, row.team_manager_id, row.practitioner_id]


async def test_confirming_refuses_a_case_the_list_holds_under_another_id(api, env, client, engine):
    """The month's one read of the projection still refuses a case it already holds in the cycle
    (an audit whose history is gone, under an ID of another form), and lets the others start."""
    await skip_to(env, START)
    await upload(api, CASES)
    selection = await select_cases(api, per_team=1, seed=3)
    allocations = [dict(p) for p in selection["proposal"]]
    held = allocations[0]["case_ref"]
    audited_before(engine, held, JANUARY)  # completed, its history gone: the case has its January audit
    r = await api.as_("piat1").post(f"/selections/{selection['selection_id']}/confirm", json={"allocations": allocations})
    assert r.status_code == 200, r.text
    [refused, started] = r.json()["confirmed"]
    assert refused["audit_id"] is None and f"already has a standard audit in {JANUARY}: old-{held}" in refused["refused"]
    assert started["audit_id"] and started["refused"] is None
