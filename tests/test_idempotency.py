"""A retried request (same `Idempotency-Key`) gets the first answer and repeats nothing; a case is
allocated once per cycle and kind however close together two allocations arrive."""

import pytest

from tests.conftest import _As
from tests.helpers import allocation, audit_to_report, emails, london, skip_to, view

FEEDBACK = {"staff_id": "sw2", "findings": "The chronology was not kept up to date"}
FEEDBACK_SUBJECT = "Audit findings on your earlier work"
RAISE = {"domains_disputed": ["overall"], "rationale": "The plan was reviewed on time", "evidence": "Review minutes"}


def by(api, staff_id: str, key: str | None = None) -> _As:
    """Calls as `staff_id`, sending `key` as the Idempotency-Key."""
    headers = {"Authorization": f"Bearer dev-{staff_id}"}
    return _As(api.http, headers if key is None else headers | {"Idempotency-Key": key})


@pytest.fixture
async def audit_id(api, env) -> str:
    await skip_to(env, london(2027, 1, 4, 9))
    r = await api.as_("piat1").post("/audits", json=allocation())
    assert r.status_code == 201, r.text
    return r.json()["audit_id"]


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
    await skip_to(env, london(2027, 1, 4, 9))
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
