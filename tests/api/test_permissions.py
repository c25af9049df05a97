"""Who may see and do what: every route of the OpenAPI document, called by every member of the
dev staff directory about one audit (with its dispute and a safety concern), is refused (403)
exactly when the permission table says so. Bodies are empty: a permitted call goes on to be
refused for its content (422) or its moment (409), never for the person."""

from pathlib import Path

import pytest

from api.permissions import PERMISSIONS, Relation, table
from models.enums import Role
from tests.helpers.dates import YEAR, at, cycle, first_working_day
from tests.helpers import audit_to_report, skip_to
from tests.helpers.disputes import raise_dispute
from tests.helpers.self_selection import ask

STAFF = [
    "piat1",
    "piatmgr1",
    "tm1",
    "tm2",
    "sw1",
    "sw2",
    "sw3",
    "hos1",
    "sm1",
    "iro1",
    "psw1",
    "ad1",
    "dir1",
    "cdqs1",
    "cdcsc1",
    "slt1",
    "slt2",
]
# How each stands to the audit below (allocated by tests.helpers: auditor tm2, practitioner sw1 of
# tm1's team, safeguarding, CP Chair / IRO iro1); hos1 heads safeguarding, tm2's service.
RELATIONS = {
    "tm2": {Relation.AUDITOR},
    "sw1": {Relation.PRACTITIONER},
    "tm1": {Relation.TEAM_MANAGER},
    "hos1": {Relation.HEAD_OF_SERVICE, Relation.AUDITORS_HEAD_OF_SERVICE},
    "iro1": {Relation.CP_CHAIR_OR_IRO},
}
UNSCOPED = {"livez", "readyz", "openapi"}
ASKER = "tm2"  # who asks to self-select below (tests.helpers.self_selection.ask)


def expected(action: str, member) -> bool:
    may = PERMISSIONS[action]
    return (
        may.anyone
        or any(member.has(r) for r in may.roles)
        or bool(RELATIONS.get(member.id, set()) & set(may.relations))
        or (may.asker and member.id == ASKER)
    )


@pytest.mark.timeout(300)
async def test_every_route_for_every_member_of_staff_is_as_the_table_says(api, env, client, directory):
    await skip_to(env, at(first_working_day(YEAR, 1)))  # the January cycle opens
    audit_id = await audit_to_report(api, env, "requires_improvement")
    await raise_dispute(api, audit_id)
    r = await api.as_("tm2").post(
        f"/audits/{audit_id}/safety-concerns", json={"description": "x", "immediate_action_needed": False}
    )
    assert r.status_code == 201, r.text
    request_id = (await ask(api, by=ASKER))["request_id"]
    ids = {
        "audit_id": audit_id,
        "dispute_id": audit_id,
        "concern_id": f"{audit_id}-1",
        "service_area": "safeguarding",
        "role": "team_manager",
        "request_id": request_id,
        "cycle": cycle(1),
        "selection_id": f"{cycle(1)}-none",
        "moderation_id": f"{cycle(2)}-m01",
        "kind": "monthly",
        "name": "grades",
        "token": "no-such-feed",  # the calendar feed: no sign-in, a 404 for anyone
        "year": str(YEAR),
    }
    operations = [
        (method.upper(), path, op["operationId"])
        for path, methods in api_paths(await api.as_("piat1").get("/openapi.json")).items()
        for method, op in methods.items()
    ]
    assert {name for _, _, name in operations} - UNSCOPED <= PERMISSIONS.keys()  # the table covers every route

    assert len(operations) >= 33
    wrong, statuses = [], {}
    for method, path, action in operations:
        for staff_id in STAFF:
            member = directory.get(staff_id)
            url = path.format(**ids)
            call = api.as_(staff_id)
            response = await (call.get(url) if method == "GET" else getattr(call, method.lower())(url, json={}))
            refused = response.status_code == 403
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if refused == expected(action, member) or response.status_code == 401:
                wrong.append(f"{method} {path} as {staff_id}: {response.status_code} {response.text[:120]}")
    assert wrong == [], "\n".join(wrong)
    assert statuses[403] > 200 and statuses[422] > 30, statuses  # both sides of the table were walked


def api_paths(response) -> dict:
    return response.json()["paths"]


def test_the_api_docs_show_the_table():
    page = (Path(__file__).parents[2] / "docs" / "permissions.md").read_text()
    assert table() in page, "docs/permissions.md is out of date: paste api.permissions.table()"


def test_senior_leaders_see_every_audit_and_nobody_else_does():
    from api.permissions import SENIOR_LEADERS

    assert set(SENIOR_LEADERS) == {Role.PIAT, Role.PIAT_MANAGER, Role.PSW, Role.ASSISTANT_DIRECTOR, Role.DIRECTOR}
