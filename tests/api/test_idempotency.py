"""A retried request (same `Idempotency-Key`) gets the first answer and repeats nothing; a case is
allocated once per cycle and kind however close together two allocations arrive."""

import asyncio

from sqlmodel import Session

from models.tables import AuditRecord
from tests.helpers.dates import YEAR, at, cycle, first_working_day
from tests.helpers import allocation, audit_to_report, emails, eventually, skip_to, view
from tests.helpers.api import Caller

FEEDBACK = {"staff_id": "sw2", "findings": "The chronology was not kept up to date"}
FEEDBACK_SUBJECT = "Audit findings on your earlier work"
RAISE = {"domains_disputed": ["overall"], "rationale": "The plan was reviewed on time", "evidence": "Review minutes"}
# 09:00 on the first working day of January, when the January cycle opens (4 January in 2027).
OPENS = at(first_working_day(YEAR, 1))


def by(api, staff_id: str, key: str | None = None) -> Caller:
    """Calls as `staff_id`, sending `key` as the Idempotency-Key."""
    headers = {"Authorization": f"Bearer dev-{staff_id}"}
    return Caller(api.http, headers if key is None else headers | {"Idempotency-Key": key})


async def entries(api, audit_id: str, action: str) -> list[dict]:
    return [h for h in (await view(api, audit_id))["history"] if h["action"] == action]


# ---- staff actions (Workflow Updates) --------------------------------------------------------------


async def test_feedback_retried_with_the_same_key_is_sent_once(api, env, sent, audit_id):
    url = f"/audits/{audit_id}/previous-practitioner-feedback"
    first = await by(api, "tm2", "fb-1").post(url, json=FEEDBACK)
    again = await by(api, "tm2", "fb-1").post(url, json=FEEDBACK)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json()
    assert len(emails(sent, audit_id, FEEDBACK_SUBJECT)) == 1
    assert len(await entries(api, audit_id, "previous practitioner feedback sent")) == 1


async def test_different_keys_are_different_actions(api, env, sent, audit_id):
    url = f"/audits/{audit_id}/previous-practitioner-feedback"
    for value in ("fb-1", "fb-2"):
        assert (await by(api, "tm2", value).post(url, json=FEEDBACK)).status_code == 200
    assert len(emails(sent, audit_id, FEEDBACK_SUBJECT)) == 2
    assert len(await entries(api, audit_id, "previous practitioner feedback sent")) == 2


async def test_a_reassignment_retried_is_not_refused_and_happens_once(api, env, sent, audit_id):
    url, body = f"/audits/{audit_id}/reassign", {"auditor_id": "hos1", "reason": "leave"}
    first = await by(api, "piat1", "move-1").post(url, json=body)
    again = await by(api, "piat1", "move-1").post(url, json=body)
    assert first.status_code == again.status_code == 200, again.text  # not "hos1 is already the auditor"
    assert again.json() == first.json()
    assert len(emails(sent, audit_id, "Audit reassigned")) == 1
    assert len(await entries(api, audit_id, "reassigned")) == 1


async def test_one_key_from_two_people_or_for_two_actions_does_not_collide(api, env, sent, audit_id):
    url = f"/audits/{audit_id}/previous-practitioner-feedback"
    assert (await by(api, "tm2", "k").post(url, json=FEEDBACK)).status_code == 200
    # The same person, the same key, another action: it happens.
    r = await by(api, "tm2", "k").post(f"/audits/{audit_id}/reassign", json={"auditor_id": "hos1", "reason": "leave"})
    assert r.status_code == 200 and r.json()["auditor_id"] == "hos1", r.text
    # Another person, the same key, the same action: it happens too.
    r = await by(api, "hos1", "k").post(url, json=FEEDBACK)
    assert r.status_code == 200, r.text
    assert len(emails(sent, audit_id, FEEDBACK_SUBJECT)) == 2
    assert len(await entries(api, audit_id, "previous practitioner feedback sent")) == 2


async def test_a_refused_action_can_be_retried_with_its_key_once_it_is_right(api, env, audit_id):
    """A validator's refusal writes nothing, so the key is not spent."""
    url = f"/audits/{audit_id}/previous-practitioner-feedback"
    r = await by(api, "tm2", "fb-1").post(url, json=FEEDBACK | {"staff_id": "sw1"})
    assert r.status_code == 422, r.text
    assert (await by(api, "tm2", "fb-1").post(url, json=FEEDBACK)).status_code == 200


async def test_a_dispute_raised_twice_with_one_key_is_one_dispute(api, env, sent):
    await skip_to(env, OPENS)
    audit_id = await audit_to_report(api, env, "requires_improvement")
    url = f"/audits/{audit_id}/disputes"
    first = await by(api, "sw1", "dispute-1").post(url, json=RAISE)
    again = await by(api, "sw1", "dispute-1").post(url, json=RAISE)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["dispute_id"] == first.json()["dispute_id"] == audit_id
    assert len(again.json()["history"]) == len(first.json()["history"])
    assert len(emails(sent, audit_id, "Audit dispute raised")) == 1
    assert len(await entries(api, audit_id, "dispute raised")) == 1
    # Without the key a second dispute is still refused.
    assert (await api.as_("sw1").post(url, json=RAISE)).status_code == 409


# ---- allocation -----------------------------------------------------------------------------------


async def test_concurrent_allocations_of_one_case_give_one_audit(api, env, sent):
    await skip_to(env, OPENS)
    piat = api.as_("piat1")
    answers = await asyncio.gather(piat.post("/audits", json=allocation()), piat.post("/audits", json=allocation()))
    assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
    created, refused = sorted(answers, key=lambda r: r.status_code)
    audit_id = created.json()["audit_id"]
    assert audit_id in refused.json()["detail"]
    assert len(emails(sent, audit_id, "Audit allocated")) == 1


async def test_an_allocation_retried_with_its_key_is_the_same_audit(api, env, sent):
    await skip_to(env, OPENS)
    piat = by(api, "piat1", "alloc-1")
    # A retry may overlap the first request or come after the list's projection is written.
    first, concurrent = await asyncio.gather(piat.post("/audits", json=allocation()), piat.post("/audits", json=allocation()))
    listed = await eventually(lambda: _listed(api))
    later = await piat.post("/audits", json=allocation())
    assert [r.status_code for r in (first, concurrent, later)] == [201, 201, 201], [concurrent.text, later.text]
    audit_id = first.json()["audit_id"]
    assert concurrent.json()["audit_id"] == later.json()["audit_id"] == audit_id
    assert [a["audit_id"] for a in listed] == [audit_id]
    assert len(emails(sent, audit_id, "Audit allocated")) == 1
    assert len(await entries(api, audit_id, "allocated")) == 1


async def _listed(api) -> list[dict]:
    return (await api.as_("piat1").get("/audits")).json()


async def test_an_allocation_key_is_its_senders_and_a_new_key_is_a_duplicate(api, env):
    await skip_to(env, OPENS)
    first = await by(api, "piat1", "alloc-1").post("/audits", json=allocation())
    assert first.status_code == 201
    audit_id = first.json()["audit_id"]
    r = await by(api, "piatmgr1", "alloc-1").post("/audits", json=allocation())
    assert r.status_code == 409 and audit_id in r.json()["detail"], r.text
    r = await by(api, "piat1", "alloc-2").post("/audits", json=allocation())
    assert r.status_code == 409 and audit_id in r.json()["detail"], r.text
    # Another kind or cycle of the same case is another audit.
    r = await by(api, "piat1", "alloc-1").post("/audits", json=allocation(cycle=cycle(2)))
    assert r.status_code == 201 and r.json()["audit_id"] != audit_id, r.text


async def test_an_audit_an_operator_terminated_can_be_allocated_again(api, env, client, sent):
    await skip_to(env, OPENS)
    first = (await api.as_("piat1").post("/audits", json=allocation())).json()["audit_id"]
    await eventually(lambda: _listed(api))
    await client.get_workflow_handle(f"audit-{first}").terminate("allocated in error")
    r = await api.as_("piat1").post("/audits", json=allocation(auditor_id="hos1"))
    assert r.status_code == 201, r.text
    # A new ID: the terminated run keeps its history, and the new one's emails are not taken for its.
    second = r.json()["audit_id"]
    assert second == f"{first}-2" and r.json()["auditor_id"] == "hos1"
    assert [to for to, _ in emails(sent, second, "Audit allocated")] == [["hos1", "tm1", "sw1"]]
    r = await api.as_("piat1").post("/audits", json=allocation())
    assert r.status_code == 409 and second in r.json()["detail"], r.text


async def test_an_audit_only_the_list_knows_still_blocks_the_case(api, env, engine):
    """A completed audit whose history is gone (or allocated under an older ID) is only in the
    projection; one that ended short of completed, its history gone too, frees the case."""
    await skip_to(env, OPENS)
    r = await api.as_("piat1").post("/audits", json=allocation(case_ref="C-9"))
    assert r.status_code == 201, r.text
    row = await eventually(lambda: _row(engine, r.json()["audit_id"]))
    older_id = f"{cycle(11, YEAR - 1)}-0ld1d"  # an ID of the form an earlier cycle's audits had
    terminated_id = f"{cycle(11, YEAR - 1)}-t3rm1"
    with Session(engine) as session:
        session.add(AuditRecord(**row.model_dump() | {"audit_id": terminated_id, "case_ref": "C-100001"}))
        session.commit()
    # Terminated at allocation (its last save), its history since deleted: nothing holds the case.
    r = await api.as_("piat1").post("/audits", json=allocation())
    assert r.status_code == 201, r.text
    with Session(engine) as session:
        session.add(AuditRecord(**row.model_dump() | {"audit_id": older_id, "case_ref": "C-200001", "stage": "completed"}))
        session.commit()
    r = await api.as_("piat1").post("/audits", json=allocation(case_ref="C-200001"))
    assert r.status_code == 409 and older_id in r.json()["detail"], r.text


async def _row(engine, audit_id: str) -> AuditRecord | None:
    with Session(engine) as session:
        return session.get(AuditRecord, audit_id)


# ---- the header -----------------------------------------------------------------------------------


async def test_every_write_documents_the_header_and_a_malformed_key_is_refused(api, env, audit_id):
    paths = (await api.http.get("/openapi.json")).json()["paths"]
    writes = [(path, method) for path, ops in paths.items() for method in ops if method in ("post", "put", "delete", "patch")]
    assert len(writes) >= 20
    for path, method in writes:
        names = [p["name"] for p in paths[path][method].get("parameters", []) if p["in"] == "header"]
        assert "Idempotency-Key" in names, (method, path)
    url = f"/audits/{audit_id}/previous-practitioner-feedback"
    for bad in ("x" * 65, "two words", ""):
        r = await by(api, "tm2", bad).post(url, json=FEEDBACK)
        assert r.status_code == 422, (bad, r.text)
