"""Attributable: every request that acts, allowed or refused, is in the append-only action log."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.helpers.dates import YEAR, at, first_working_day
from tests.helpers import allocate, eventually, skip_to

# The relay's claims and the log's triggers are the database's own: both engines are tested.
pytestmark = pytest.mark.both_databases

# The January cycle opens: 09:00 on its first working day (4 January in 2027).
OPENS = at(first_working_day(YEAR, 1))


async def entries(api, **params) -> list[dict]:
    r = await api.as_("piat1").get("/action-log", params=params)
    assert r.status_code == 200, r.text
    return r.json()["entries"]


async def test_every_action_allowed_or_refused_is_logged_with_who_what_and_outcome(api, env, client):
    await skip_to(env, OPENS)
    audit_id = (await allocate(api))["audit_id"]
    refused = await api.as_("sw1").post(f"/audits/{audit_id}/submit")  # not the auditor
    assert refused.status_code == 403
    await api.as_("nobody").post(f"/audits/{audit_id}/submit")  # a token naming no one
    logged = await entries(api, audit_id=audit_id)
    assert [(e["actor_id"], e["method"], e["route"], e["status"]) for e in logged] == [
        (None, "POST", "/audits/{audit_id}/submit", 401),
        ("sw1", "POST", "/audits/{audit_id}/submit", 403),
    ]
    [allocation] = [e for e in await entries(api, actor_id="piat1") if e["route"] == "/audits"]
    assert allocation["status"] == 201 and allocation["audit_id"] is None  # the audit did not exist yet
    assert refused.headers["X-Request-ID"] == logged[1]["request_id"]
    reads = [e for e in await entries(api) if e["method"] == "GET"]
    assert reads == []  # reading is not acting


async def test_a_request_that_reaches_no_route_is_logged_with_the_actor_its_token_names(api):
    """No route, so no dependency read the token: the log reads it itself (a bad one: no actor)."""
    assert (await api.as_("tm2").post("/audits/A-1/no-such-action")).status_code == 404
    assert (await api.as_("tm2").put("/action-log")).status_code == 405
    assert (await api.as_("nobody").post("/nowhere")).status_code == 404
    logged = [(e["actor_id"], e["method"], e["route"], e["status"]) for e in await entries(api)]
    assert logged == [(None, "POST", "(no route)", 404), ("tm2", "PUT", "/action-log", 405), ("tm2", "POST", "(no route)", 404)]


async def test_the_log_is_for_piat_and_pages_newest_first(api, env, client):
    await skip_to(env, OPENS)
    for n in range(3):
        await allocate(api, case_ref=f"C-{n}")
    assert (await api.as_("tm1").get("/action-log")).status_code == 403
    first = (await api.as_("piat1").get("/action-log", params={"limit": 2})).json()
    assert len(first["entries"]) == 2 and first["next_before"] == first["entries"][-1]["id"]
    rest = (await api.as_("piat1").get("/action-log", params={"limit": 2, "before": first["next_before"]})).json()
    ids = [e["id"] for e in first["entries"] + rest["entries"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3 and rest["next_before"] is None
    # An ID past any table's key is a 422 naming the bound (it was a 500 from the database).
    r = await api.as_("piat1").get("/action-log", params={"before": 2**64})
    assert r.status_code == 422 and "before" in r.text, r.text


@pytest.mark.parametrize("statement", ["UPDATE action_log SET status = 200", "DELETE FROM action_log"])
async def test_the_database_refuses_to_change_or_delete_an_entry(api, env, client, engine, statement):
    await skip_to(env, OPENS)
    await allocate(api)
    assert await eventually(lambda: _logged(api))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))


async def _logged(api):
    return await entries(api)
