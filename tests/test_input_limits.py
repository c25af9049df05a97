"""Every input has a limit the OpenAPI schema shows. Over it, the answer is a short 422 that
names the field and the limit and never echoes what was sent; at it, the action goes through."""

import pytest

from models.limits import MAX_ID, MAX_ITEMS, MAX_TEXT
from tests.helpers import allocate, allocation, grading, london, skip_to

MB = 1_000_000


@pytest.fixture
async def audit_id(api, env) -> str:
    await skip_to(env, london(2027, 1, 4, 9))
    return (await allocate(api))["audit_id"]


def refused(r, field: str, limit: str) -> dict:
    """A 422 under 4 KB whose errors name `field` and `limit`, and no megabyte of input."""
    assert r.status_code == 422, r.text[:500]
    assert len(r.content) < 4096, len(r.content)
    body = r.json()
    assert [e for e in body["errors"] if e["field"] == field and limit in e["message"]], body
    assert field in body["detail"]
    assert all(set(e) == {"field", "message"} for e in body["errors"])  # no `input`, no `ctx`
    return body


async def test_a_megabyte_case_ref_is_refused_briefly_without_echoing_it(api, env):
    r = await api.as_("piat1").post("/audits", json=allocation(case_ref="C" * MB))
    refused(r, "body.case_ref", f"at most {MAX_ID} characters")
    assert (await api.as_("piat1").get("/audits")).json() == []


async def test_a_megabyte_rationale_is_refused_briefly_without_echoing_it(api, env, audit_id):
    body = grading()
    body["overall"]["rationale"] = "x" * MB
    r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=body)
    refused(r, "body.overall.rationale", f"at most {MAX_TEXT} characters")


async def test_a_rationale_is_accepted_up_to_its_limit_and_refused_one_past_it(api, env, audit_id):
    """Before the limit a 1 MB rationale was accepted and the audit's next action, carrying it
    twice, went over Temporal's 2 MB payload limit: a 503 'try again' for ever."""
    body = grading()
    body["domains"][0]["rationale"] = "x" * (MAX_TEXT + 1)
    r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=body)
    refused(r, "body.domains.0.rationale", f"at most {MAX_TEXT} characters")
    body["domains"][0]["rationale"] = "x" * MAX_TEXT
    r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=body)
    assert r.status_code == 200, r.text[:500]
    assert r.json()["initial_grading"]["domains"][0]["rationale"] == "x" * MAX_TEXT


async def test_lists_are_refused_past_their_limit(api, env, audit_id):
    body = grading()
    body["improvement_plan"] *= MAX_ITEMS + 1
    r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=body)
    refused(r, "body.improvement_plan", f"at most {MAX_ITEMS} items")


async def test_many_errors_are_listed_up_to_a_cap(api, env, audit_id):
    body = grading()
    body["improvement_plan"] = [{"action": "x" * (MAX_TEXT + 1), "owner_id": "y" * MB}] * MAX_ITEMS
    r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=body)
    assert r.status_code == 422 and len(r.content) < 8192, len(r.content)
    assert len(r.json()["errors"]) == 20 and "more)" in r.json()["detail"]


def test_every_request_field_shows_its_limit_in_the_openapi_schema():
    from api.main import create_app

    schema = create_app().openapi()
    components = schema["components"]["schemas"]
    bodies = [
        op["requestBody"]["content"]["application/json"]["schema"]
        for path in schema["paths"].values()
        for op in path.values()
        if "requestBody" in op
    ]
    assert len(bodies) >= 15  # every POST and PUT route
    unbounded = set()
    for body in bodies:
        _check(body, components, "body", unbounded, set())
    assert unbounded == set()


def _check(node: dict, components: dict, where: str, unbounded: set, seen: set) -> None:
    """Collect every string without maxLength and array without maxItems under `node`."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            _check(components[name], components, name, unbounded, seen | {name})
        return
    for key in ("anyOf", "allOf", "oneOf"):
        for option in node.get(key, []):
            _check(option, components, where, unbounded, seen)
    kind = node.get("type")
    if kind == "string" and "maxLength" not in node and "enum" not in node and "const" not in node:
        if node.get("format") not in ("date", "date-time"):
            unbounded.add(where)
    if kind == "array":
        if "maxItems" not in node:
            unbounded.add(where)
        _check(node["items"], components, f"{where}[]", unbounded, seen)
    for name, prop in node.get("properties", {}).items():
        _check(prop, components, f"{where}.{name}", unbounded, seen)
