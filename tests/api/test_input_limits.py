"""Every input has a limit the OpenAPI schema shows. Over it, the answer is a short 422 that
names the field and the limit and never echoes what was sent; at it, the action goes through."""

from datetime import timedelta


from models.limits import MAX_ID, MAX_ITEM_TEXT, MAX_ITEMS, MAX_TEXT
from tests.helpers.dates import YEAR, at, day, first_working_day
from tests.helpers import allocate, allocation, at_london, eventually, grades, grading, qa, skip_to, submit, today, view

LARGE = 400_000  # far past every field's limit, within the body limit (MAX_BODY_BYTES; tests/api/test_body_limits.py)


def refused(r, field: str, limit: str) -> dict:
    """A 422 under 4 KB whose errors name `field` and `limit`, and no megabyte of input."""
    assert r.status_code == 422, r.text[:500]
    assert len(r.content) < 4096, len(r.content)
    body = r.json()
    assert [e for e in body["errors"] if e["field"] == field and limit in e["message"]], body
    assert field in body["detail"]
    assert all(set(e) == {"field", "message"} for e in body["errors"])  # no `input`, no `ctx`
    return body


async def test_a_large_case_ref_is_refused_briefly_without_echoing_it(api, env):
    r = await api.as_("piat1").post("/audits", json=allocation(case_ref="C" * LARGE))
    refused(r, "body.case_ref", f"at most {MAX_ID} characters")
    assert (await api.as_("piat1").get("/audits")).json() == []


async def test_a_large_rationale_is_refused_briefly_without_echoing_it(api, env, audit_id):
    body = grading()
    body["overall"]["rationale"] = "x" * LARGE
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


async def test_list_items_are_sentences_not_reports(api, env, audit_id):
    body = grading()
    body["improvement_plan"][0]["action"] = "x" * (MAX_ITEM_TEXT + 1)
    r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=body)
    refused(r, "body.improvement_plan.0.action", f"at most {MAX_ITEM_TEXT} characters")


async def test_many_errors_are_listed_up_to_a_cap(api, env, audit_id):
    body = grading()
    body["improvement_plan"] = [{"action": "x" * (MAX_TEXT + 1), "owner_id": "y" * (MAX_ID + 1)}] * MAX_ITEMS
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
        if "application/json" in op.get("requestBody", {}).get("content", {})
    ]  # the one CSV upload (/cases/import) is bounded by its size: tests/api/test_cases.py
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


# ---- every field at its limit, through a whole chain ---------------------------------------------

PAYLOAD_BUDGET = 1_000_000  # half Temporal's 2 MB per payload
HISTORY_LIMIT = 50_000_000  # Temporal's limit per history
HISTORY_BUDGET = 10_000_000  # the aim: a fifth of it, room for a 2nd re-audit and slow disputes
EVENT_BUDGET = 5_120  # a tenth of Temporal's 51,200 events per history


def text(label: str, limit: int = MAX_TEXT) -> str:
    return (label + " ").ljust(limit, "x")


def full_grades(grade: str, label: str) -> dict:
    body = grades(grade=grade)
    for d in body["domains"]:
        d["rationale"] = text(f"{label} {d['domain']}")
    body["overall"]["rationale"] = text(f"{label} overall")
    return body


def full_grading(grade: str, label: str) -> dict:
    plan = [
        {"action": text(f"{label} action {i}", MAX_ITEM_TEXT), "owner_id": "sw1", "due_on": day(6, 1).isoformat()}
        for i in range(MAX_ITEMS)
    ]
    return full_grades(grade, label) | {"improvement_plan": plan}


def staff_ids(*ids: str) -> list[str]:
    return [ids[i % len(ids)] for i in range(MAX_ITEMS)]


async def full_conversation(api, env, audit_id, label: str) -> None:
    body = {"held_on": (await today(env)).isoformat(), "notes": text(label), "attendees": staff_ids("sw1", "tm1")}
    r = await api.as_("tm2").post(f"/audits/{audit_id}/practitioner-conversation", json=body | full_grades("inadequate", label))
    assert r.status_code == 200, r.text[:500]


async def ok(r) -> dict:
    assert r.status_code in (200, 201), r.text[:500]
    return r.json()


async def discussion_due(api, audit_id) -> bool:
    return (await view(api, audit_id))["findings_discussion"] is not None


def figures(history) -> dict:
    """The largest payload, the history's size (its JSON, and the binary events) and its length."""
    from google.protobuf.message import Message
    from temporalio.api.common.v1 import Payload

    def payloads(message):
        if isinstance(message, Payload):
            yield message.ByteSize()
            return
        for field, value in message.ListFields():
            if field.message_type is None:
                continue
            if isinstance(value, Message):
                items = [value]
            else:  # a repeated field or a map of messages
                items = value.values() if field.message_type.GetOptions().map_entry else value
            for item in items:
                yield from payloads(item)

    sizes = [size for event in history.events for size in payloads(event)]
    return {
        "largest_payload": max(sizes),
        "json_bytes": len(history.to_json()),
        "event_bytes": sum(e.ByteSize() for e in history.events),
        "events": len(history.events),
    }


async def chain_at_limits(api, env, client) -> dict[str, dict]:
    """Every field at its limit from allocation to the 1st re-audit: each workflow's figures."""
    await skip_to(env, at(first_working_day(YEAR, 1)))  # the January cycle opens
    case_ref = "C-".ljust(MAX_ID, "7")
    audit_id = (await allocate(api, case_ref=case_ref))["audit_id"]
    r = await api.as_("tm2").post(
        f"/audits/{audit_id}/previous-practitioner-feedback", json={"staff_id": "sw3", "findings": text("earlier work")}
    )
    await ok(r)
    await ok(await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=full_grading("inadequate", "initial")))
    await full_conversation(api, env, audit_id, "conversation")
    await submit(api, audit_id)
    await qa(api, audit_id, "return", details=text("QA details"), discussion_offered=True)
    await ok(await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=full_grading("inadequate", "amended")))
    await full_conversation(api, env, audit_id, "amended conversation")
    await submit(api, audit_id)
    await qa(api, audit_id)

    domains = [d["domain"] for d in grades()["domains"]] + ["overall"]
    disputed = {
        "domains_disputed": [domains[i % len(domains)] for i in range(MAX_ITEMS)],
        "rationale": text("rationale"),
        "evidence": text("evidence"),
    }
    await ok(await api.as_("sw1").post(f"/audits/{audit_id}/disputes", json=disputed))
    held_on = (await today(env)).isoformat()
    meeting = {"held_on": held_on, "attendees": staff_ids("tm2", "sw1", "tm1"), "notes": text("meeting")}
    await ok(await api.as_("tm1").post(f"/disputes/{audit_id}/meeting", json=meeting))
    await ok(
        await api.as_("tm1").post(f"/disputes/{audit_id}/summary", json={"outcome": "unresolved", "summary": text("summary")})
    )
    formal = {"held_on": held_on, "course_of_action": text("course"), "independent_review_of_recordings": True}
    await ok(await api.as_("piatmgr1").post(f"/disputes/{audit_id}/formal-discussion", json=formal))
    response = {"response": text("response"), "outcome": "resolved", "regrade": full_grades("requires_improvement", "regrade")}
    await ok(await api.as_("psw1").post(f"/disputes/{audit_id}/written-response", json=response))
    assert await eventually(lambda: discussion_due(api, audit_id))  # once the dispute has ended

    actions = [
        {
            "action": text(f"smart {i}", MAX_ITEM_TEXT),
            "owner_id": "sw1",
            "measure": text(f"measure {i}", MAX_ITEM_TEXT),
            "due_on": day(12, 1).isoformat(),
        }
        for i in range(MAX_ITEMS)
    ]
    discussion = {
        "held_on": (await today(env)).isoformat(),
        "attendees": staff_ids("tm1", "sw1"),
        "smart_actions": actions,
        "oversight_note": text("oversight"),
    }
    await ok(await api.as_("tm1").post(f"/audits/{audit_id}/findings-discussion", json=discussion))
    review = {"decision": "accept", "comments": text("review")}
    await ok(await api.as_("piat1").post(f"/audits/{audit_id}/findings-discussion/review", json=review))

    plan = (await view(api, audit_id))["reaudit"]
    assert plan["round"] == 1, plan
    await skip_to(env, at_london(plan["allocate_at"]) + timedelta(minutes=5))
    assert (await view(api, f"{audit_id}-r1"))["kind"] == "reaudit"

    measured = {}
    for workflow_id in (f"audit-{audit_id}", f"dispute-{audit_id}", f"audit-{audit_id}-r1"):
        measured[workflow_id] = figures(await client.get_workflow_handle(workflow_id).fetch_history())
        print(f"\n{workflow_id}: {measured[workflow_id]}")
    return measured


async def test_every_field_at_its_limit_through_a_whole_chain_stays_far_inside_temporals_limits(api, env, client):
    """With 50 SMART actions of 10,000 characters each, the findings discussion's workflow task
    could not be completed at all (over gRPC's 4 MB; its AuditView alone 2.3 MB): list items are
    therefore held to MAX_ITEM_TEXT. And while every step recorded the whole view twice (as the
    update's answer and as the projection's input) the audit's history reached 16-18 MB as JSON;
    updates now answer with nothing and the projection saves columns, the whole view only twice."""
    for workflow_id, m in (await chain_at_limits(api, env, client)).items():
        assert m["largest_payload"] < PAYLOAD_BUDGET, (workflow_id, m)
        assert m["json_bytes"] < HISTORY_BUDGET and m["events"] < EVENT_BUDGET, (workflow_id, m)


async def test_list_filters_are_bounded_too(api, env):
    r = await api.as_("piat1").get("/audits", params={"auditor_id": "x" * 10_000})  # URLs cannot carry a megabyte
    refused(r, "query.auditor_id", f"at most {MAX_ID} characters")
