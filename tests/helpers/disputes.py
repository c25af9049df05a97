"""A dispute's steps through the API (R-DISP): raised by the practitioner, its meeting and summary,
the formal discussion; `record` posts any other step."""

from tests.helpers import today

RAISE = {
    "domains_disputed": ["overall"],
    "rationale": "The plan was reviewed on time (criteria 3.2)",
    "evidence": "Review minutes of 2 Dec",
}


async def raise_dispute(api, audit_id, by="sw1") -> dict:
    r = await api.as_(by).post(f"/audits/{audit_id}/disputes", json=RAISE)
    assert r.status_code == 201, r.text
    return r.json()


async def record(api, audit_id, step: str, by: str, body: dict, status: int = 200) -> dict:
    r = await api.as_(by).post(f"/disputes/{audit_id}/{step}", json=body)
    assert r.status_code == status, r.text
    return r.json()


async def meeting(api, env, audit_id, by="tm1"):
    body = {"held_on": (await today(env)).isoformat(), "attendees": ["tm2", "sw1", "tm1"], "notes": "Went through the evidence"}
    return await record(api, audit_id, "meeting", by, body)


async def summary(api, audit_id, outcome):
    return await record(api, audit_id, "summary", "tm1", {"outcome": outcome, "summary": f"Meeting outcome: {outcome}"})


async def to_formal(api, env, audit_id):
    await raise_dispute(api, audit_id)
    await meeting(api, env, audit_id)
    await summary(api, audit_id, "unresolved")


async def formal_discussion(api, env, audit_id):
    body = {"held_on": (await today(env)).isoformat(), "course_of_action": "Review the recordings independently"}
    return await record(api, audit_id, "formal-discussion", "piatmgr1", body)
