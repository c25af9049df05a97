"""Bad input, out-of-order actions and the wrong person are refused with a clear 4xx, and
nothing changes."""

from datetime import timedelta

import pytest

from tests.helpers.dates import YEAR, at, cycle, first_working_day
from tests.helpers import allocation, conversation, grading, skip_to, today

# The January cycle opens: 09:00 on its first working day (4 January in 2027).
OPENS = at(first_working_day(YEAR, 1))


async def history(api, audit_id) -> list:
    return (await api.as_("piat1").get(f"/audits/{audit_id}")).json()["history"]


@pytest.mark.parametrize(
    "change, status, message",
    [
        ({"cycle": cycle(8)}, 422, "not an audit cycle"),
        ({"cycle": "January"}, 422, "not an audit cycle"),
        ({"cycle": cycle(3)}, 422, "holds no standard audits"),
        ({"cycle": cycle(1, YEAR - 1)}, 422, "cycle has passed"),  # defect 8: was 201
        ({"kind": "themed", "cycle": cycle(5)}, 422, "needs its theme"),
        ({"theme": "Neglect"}, 422, "needs its theme"),
        ({"auditor_id": "nobody"}, 422, "no member of staff 'nobody'"),
        ({"auditor_id": "tm1"}, 422, "own Team Manager"),
        ({"auditor_id": "sw2"}, 422, "cannot carry out a standard audit"),
        ({"practitioner_id": "tm2", "auditor_id": "tm1"}, 422, "not a practitioner"),
        ({"cp_chair_or_iro_id": "sw2"}, 422, "not a CP Chair or IRO"),
        ({"involvement_start": "2999-01-01"}, 422, "future"),
        ({"case_ref": "Jane Smith"}, 422, "case_ref"),
        ({"service_area": "adults"}, 422, "service_area"),
        ({"kind": "reaudit"}, 422, "scheduled by the audit they follow"),
    ],
)
async def test_bad_allocations_are_refused(api, env, change, status, message):
    await skip_to(env, OPENS)  # the default allocation's cycle is open
    r = await api.as_("piat1").post("/audits", json=allocation(**change))
    assert r.status_code == status, r.text
    assert message in r.text
    assert (await api.as_("piat1").get("/audits")).json() == []


async def test_a_case_has_one_audit_of_a_kind_per_cycle(api, env, audit_id):
    r = await api.as_("piat1").post("/audits", json=allocation())
    assert r.status_code == 409 and audit_id in r.json()["detail"]


async def test_incomplete_gradings_are_refused_and_change_nothing(api, env, audit_id):
    before = await history(api, audit_id)
    missing = grading()
    missing["domains"].pop()
    peer_style = grading(grade=None, overall=None)
    no_rationale = grading()
    no_rationale["domains"][0]["rationale"] = " "
    unknown = grading()
    unknown["domains"].append({"domain": "Astrology", "grade": "good", "rationale": "x"})
    for body, message in [
        (missing, "missing domains"),
        (peer_style, "overall grade is required"),
        (no_rationale, "needs a rationale"),
        (unknown, "not in the safeguarding audit tool"),
    ]:
        r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=body)
        assert r.status_code == 422 and message in r.json()["detail"], r.text
    r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json={"domains": [], "overall": {"grade": "best"}})
    assert r.status_code == 422  # schema: an unknown grade and no rationale
    bad_owner = grading()
    bad_owner["improvement_plan"][0]["owner_id"] = "ghost"
    assert (await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=bad_owner)).status_code == 422
    assert await history(api, audit_id) == before


async def test_peer_audits_are_not_graded_but_need_an_improvement_plan(api, env):
    await skip_to(env, at(first_working_day(YEAR, 3)))
    r = await api.as_("piat1").post("/audits", json=allocation(kind="peer", cycle=cycle(3), auditor_id="sw3"))
    audit_id = r.json()["audit_id"]
    r = await api.as_("sw3").put(f"/audits/{audit_id}/grading", json=grading())
    assert r.status_code == 422 and "peer audits are not graded" in r.json()["detail"]
    r = await api.as_("sw3").put(f"/audits/{audit_id}/grading", json=grading(grade=None, overall=None, plan=False))
    assert r.status_code == 200
    r = await api.as_("sw3").post(
        f"/audits/{audit_id}/practitioner-conversation", json=conversation(await today(env), grade=None, overall=None)
    )
    assert r.status_code == 200
    r = await api.as_("sw3").post(f"/audits/{audit_id}/submit")
    assert r.status_code == 422 and "improvement plan" in r.json()["detail"]


async def test_a_peer_audit_moves_to_another_practitioner_and_only_to_one(api, env):
    """R-ALLOC-3 with R-KIND-2: a peer audit is reassigned, or its auditor replaced, among
    practitioners; a Team Manager or auditor cannot take it over, nor the practitioner audited."""
    await skip_to(env, at(first_working_day(YEAR, 3)))
    r = await api.as_("piat1").post("/audits", json=allocation(kind="peer", cycle=cycle(3), auditor_id="sw3"))
    assert r.status_code == 201, r.text
    audit_id = r.json()["audit_id"]
    for who in ("tm2", "sw1"):
        r = await api.as_("piat1").post(f"/audits/{audit_id}/reassign", json={"auditor_id": who, "reason": "leave"})
        assert r.status_code == 422 and ("practitioner" in r.json()["detail"]), r.text
    r = await api.as_("piat1").post(f"/audits/{audit_id}/reassign", json={"auditor_id": "sw2", "reason": "leave"})
    assert r.status_code == 200 and r.json()["auditor_id"] == "sw2", r.text
    r = await api.as_("piat1").put(f"/audits/{audit_id}/people/auditor", json={"staff_id": "sw3", "reason": "back from leave"})
    assert r.status_code == 200 and r.json()["auditor_id"] == "sw3", r.text


async def test_out_of_order_actions_are_refused(api, env, audit_id):
    before = await history(api, audit_id)
    r = await api.as_("tm2").post(f"/audits/{audit_id}/practitioner-conversation", json=conversation(await today(env)))
    assert r.status_code == 409 and "initial grading before" in r.json()["detail"]
    r = await api.as_("tm2").post(f"/audits/{audit_id}/submit")
    assert r.status_code == 409
    r = await api.as_("piat1").post(f"/audits/{audit_id}/qa", json={"decision": "accept"})
    assert r.status_code == 409 and "while the audit is allocated" in r.json()["detail"]
    assert await history(api, audit_id) == before

    assert (await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=grading())).status_code == 200
    tomorrow = await today(env) + timedelta(days=1)
    r = await api.as_("tm2").post(f"/audits/{audit_id}/practitioner-conversation", json=conversation(tomorrow))
    assert r.status_code == 422 and "held_on" in r.json()["detail"]
    r = await api.as_("tm2").post(f"/audits/{audit_id}/practitioner-conversation", json=conversation(await today(env)))
    assert r.status_code == 200
    assert (await api.as_("tm2").post(f"/audits/{audit_id}/submit")).status_code == 200
    r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=grading())
    assert r.status_code == 409  # under QA the report is frozen
    r = await api.as_("piat1").post(f"/audits/{audit_id}/qa", json={"decision": "return"})
    assert r.status_code == 422 and "details" in r.text  # a return says what to review
    assert (await api.as_("piat1").post(f"/audits/{audit_id}/qa", json={"decision": "accept"})).status_code == 200
    r = await api.as_("piat1").post(f"/audits/{audit_id}/qa", json={"decision": "accept"})
    assert r.status_code == 409  # a second decision
    r = await api.as_("piat1").post(f"/audits/{audit_id}/reassign", json={"auditor_id": "hos1", "reason": "late"})
    assert r.status_code == 409


async def test_wrong_person_or_role_is_refused(api, env, audit_id):
    assert (await api.http.get("/audits")).status_code == 401
    assert (await api.http.get("/audits", headers={"Authorization": "Bearer dev-nobody"})).status_code == 401
    assert (await api.http.get("/audits", headers={"Authorization": "Bearer tm2"})).status_code == 401
    r = await api.as_("tm2").post("/audits", json=allocation(case_ref="C-2"))
    assert r.status_code == 403 and r.json()["detail"] == "only PIAT may do this"
    r = await api.as_("tm1").put(f"/audits/{audit_id}/grading", json=grading())
    assert r.status_code == 403 and r.json()["detail"] == "only its auditor may do this"  # not who that is
    assert (await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=grading())).status_code == 200
    r = await api.as_("tm2").post(f"/audits/{audit_id}/practitioner-conversation", json=conversation(await today(env)))
    assert (await api.as_("tm2").post(f"/audits/{audit_id}/submit")).status_code == 200
    r = await api.as_("tm2").post(f"/audits/{audit_id}/qa", json={"decision": "accept"})
    assert r.status_code == 403
    assert (await api.as_("sw3").get(f"/audits/{audit_id}")).status_code == 403
    assert (await api.as_("sw1").get(f"/audits/{audit_id}")).status_code == 200


async def test_piat_cannot_quality_assure_their_own_audit(api, env):
    await skip_to(env, OPENS)
    audit_id = (await api.as_("piatmgr1").post("/audits", json=allocation(auditor_id="piat1"))).json()["audit_id"]
    await api.as_("piat1").put(f"/audits/{audit_id}/grading", json=grading())
    await api.as_("piat1").post(f"/audits/{audit_id}/practitioner-conversation", json=conversation(await today(env)))
    assert (await api.as_("piat1").post(f"/audits/{audit_id}/submit")).status_code == 200
    r = await api.as_("piat1").post(f"/audits/{audit_id}/qa", json={"decision": "accept"})
    assert r.status_code == 403 and "own report" in r.json()["detail"]
    assert (await api.as_("piatmgr1").post(f"/audits/{audit_id}/qa", json={"decision": "accept"})).status_code == 200


async def test_unknown_audit_is_404(api, env):
    assert (await api.as_("piat1").get(f"/audits/{cycle(1)}-nope")).status_code == 404
    r = await api.as_("tm2").put(f"/audits/{cycle(1)}-nope/grading", json=grading())
    assert r.status_code == 403  # to someone with no role there, an audit that does not exist says no more


async def test_audit_tools_and_readiness(api, env):
    r = await api.as_("sw1").get("/audit-tools/care_experienced")
    assert r.status_code == 200 and r.json()["name"] == "care_experienced_young_adults"
    assert all(d["key_lines_of_enquiry"] for d in r.json()["domains"])
    assert (await api.as_("sw1").get("/audit-tools/adults")).status_code == 422
    assert (await api.http.get("/readyz")).json() == {"status": "ok"}  # tests/api/test_health.py has the rest


@pytest.mark.parametrize(
    "area", ["mash", "safeguarding", "corporate_parenting", "care_experienced", "fostering_adoption", "send"]
)
async def test_every_service_area_uses_its_own_audit_tool(api, env, area):
    await skip_to(env, OPENS)
    r = await api.as_("piat1").post("/audits", json=allocation(service_area=area))
    audit_id = r.json()["audit_id"]
    wrong = "mash" if area != "mash" else "safeguarding"
    assert (await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=grading(wrong))).status_code == 422
    assert (await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=grading(area))).status_code == 200
