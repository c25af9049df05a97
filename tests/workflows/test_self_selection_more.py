"""Self-selection requests (R-ALLOC-2): listed by who may see them and on the Head of Service's
My work while they wait; their case, practitioner and service taken from the open-case list, so
the asker cannot choose who approves; and PIAT still PIAT on an audit a Head of Service approved."""

from tests.helpers.dates import INVOLVED_SINCE, YEAR, at, cycle, deadline_after, first_working_day
from tests.helpers import complete, emails, eventually, findings_discussion, qa, skip_to, submit, today
from tests.helpers.disputes import raise_dispute
from tests.helpers.self_selection import ASK, ask, import_cases

START = at(first_working_day(YEAR, 1))  # 09:00 on the January cycle's first working day


async def decide(api, request: dict, approve: bool, by="hos1") -> dict:
    r = await api.as_(by).post(f"/self-selection-requests/{request['request_id']}/decision", json={"approve": approve})
    assert r.status_code == 200, r.text
    return r.json()


async def listed(api, by: str, **params) -> list[str]:
    r = await api.as_(by).get("/self-selection-requests", params=params)
    assert r.status_code == 200, r.text
    return [x["request_id"] for x in r.json()]


async def test_requests_are_listed_for_the_asker_their_head_of_service_and_senior_leaders(api, env, client):
    await skip_to(env, START)
    mine = await ask(api)  # tm2 asks of C-300
    theirs = await ask(api, by="sm1", case_ref="C-301")
    await eventually(lambda: listed(api, "piat1"))
    assert sorted(await listed(api, "piat1")) == sorted([mine["request_id"], theirs["request_id"]])
    assert await listed(api, "tm2") == [mine["request_id"]]
    assert await listed(api, "sm1") == [theirs["request_id"]]
    assert sorted(await listed(api, "hos1")) == sorted([mine["request_id"], theirs["request_id"]])
    assert await listed(api, "psw1") != []  # a senior leader (and another service's Head of Service)
    assert await listed(api, "sw1") == []  # the practitioner asked nothing
    await decide(api, mine, approve=False)
    assert await eventually(lambda: listed(api, "piat1", status="refused")) == [mine["request_id"]]
    assert await listed(api, "piat1", status="awaiting_decision") == [theirs["request_id"]]
    first = (await api.as_("tm2").get("/self-selection-requests")).json()[0]
    assert (first["case_ref"], first["cycle"], first["requested_by"], first["head_of_service_id"], first["status"]) == (
        "C-300",
        cycle(1),
        "tm2",
        "hos1",
        "refused",
    )
    r = await api.as_("piat1").get("/self-selection-requests", params={"status": "pending"})
    assert r.status_code == 422


async def test_a_waiting_request_is_on_the_head_of_services_work_until_decided(api, env, client):
    await skip_to(env, START)
    request = await ask(api)

    async def waiting() -> list[dict]:
        work = (await api.as_("hos1").get("/me/work")).json()
        return [w for w in work if w["id"] == request["request_id"]]

    items = await eventually(waiting)
    assert [(w["process"], w["action"], w["case_ref"], w["link"]) for w in items] == [
        ("self_selection", "approve or refuse the request", "C-300", f"/self-selection-requests/{request['request_id']}")
    ]
    assert items[0]["until"].startswith(f"{deadline_after(START, 5):%Y-%m-%dT%H:%M}")
    assert not [w for w in (await api.as_("tm2").get("/me/work")).json() if w["id"] == request["request_id"]]
    await decide(api, request, approve=True)
    assert await eventually(lambda: _gone(waiting))


async def _gone(waiting) -> bool:
    return await waiting() == []


async def test_the_case_its_practitioner_and_service_come_from_the_open_case_list(api, env, client):
    await skip_to(env, START)
    await import_cases(api)
    tm2 = api.as_("tm2")
    r = await tm2.post("/self-selection-requests", json=ASK | {"case_ref": "C-999"})
    assert r.status_code == 422 and "C-999 is not on the open-case list" in r.json()["detail"], r.text
    for field, value in {
        "practitioner_id": "sw3",
        "service_area": "adoption",
        "involvement_start": INVOLVED_SINCE.isoformat(),
        "cp_chair_or_iro_id": "iro1",
    }.items():
        r = await tm2.post("/self-selection-requests", json=ASK | {field: value})
        assert r.status_code == 422 and field in r.json()["detail"] and "open-case list" in r.json()["detail"], r.text
    r = await tm2.post("/self-selection-requests", json=ASK | {"auditor_id": "sm1"})
    assert r.status_code == 422 and "auditor_id" in r.json()["detail"], r.text
    # The case's practitioner is sw1 (tm1's team): its Head of Service decides.
    request = await ask(api)
    assert request["head_of_service_id"] == "hos1"
    await decide(api, request, approve=True)
    audit = (await api.as_("piat1").get(f"/audits/{audit_id_of(request)}")).json()
    assert (audit["practitioner_id"], audit["service_area"], audit["cp_chair_or_iro_id"], audit["team_manager_id"]) == (
        "sw1",
        "safeguarding",
        "iro1",
        "tm1",
    )


def audit_id_of(request: dict) -> str:
    return request["request_id"].split("-by-")[0]


async def test_after_approval_the_audits_emails_for_piat_go_to_piat_not_the_head_of_service(api, env, client, sent):
    """The approving Head of Service allocated the audit (its history says so), but the emails that
    mean the PI&A team (a findings discussion to review, PIAT copied into a dispute) still go to PIAT."""
    await skip_to(env, at(first_working_day(YEAR, 1)))
    request = await ask(api)
    audit_id = (await decide(api, request, approve=True))["audit_id"]
    await complete(api, env, audit_id, grade="requires_improvement")
    await submit(api, audit_id)
    await qa(api, audit_id)
    r = await api.as_("tm1").post(f"/audits/{audit_id}/findings-discussion", json=findings_discussion(await today(env)))
    assert r.status_code == 200, r.text
    review = await eventually(lambda: emails(sent, audit_id, "Findings discussion recorded"))
    assert "piat1" in review[0][0] and "hos1" not in review[0][0], review
    await raise_dispute(api, audit_id)
    raised = await eventually(
        lambda: emails(sent, f"dispute-{audit_id}", "Audit dispute raised") or emails(sent, audit_id, "Audit dispute raised")
    )
    assert "piat1" in raised[0][0] and "hos1" not in raised[0][0], raised


def test_a_request_waiting_when_the_service_is_upgraded_reaches_my_work(tmp_path):
    """A request asked before rows carried their wait saves its row next at its decision: the
    migration puts its wait on My work meanwhile."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from database import ROOT

    engine = create_engine(f"sqlite:///{tmp_path / 'qsaf.db'}")
    config = Config(str(ROOT / "alembic.ini"))

    def upgrade(to: str) -> None:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, to)

    upgrade("0017")
    with engine.begin() as connection:
        for request_id, status in (("r1-by-tm2", "awaiting_decision"), ("r2-by-tm2", "refused")):
            connection.execute(
                text(
                    "INSERT INTO self_selection (request_id, case_ref, cycle, requested_by, head_of_service_id, status, due, "
                    "updated_at, view, view_current) VALUES (:id, 'C-300', :cycle, 'tm2', 'hos1', :status, :due, :due, '{}', 1)"
                ),
                {"id": request_id, "cycle": cycle(1), "status": status, "due": deadline_after(START, 5).replace(tzinfo=None)},
            )
    upgrade("head")
    with engine.connect() as connection:
        waits = connection.execute(text("SELECT process, process_id, case_ref, staff_id, action FROM waiting")).all()
    assert [tuple(w) for w in waits] == [("self_selection", "r1-by-tm2", "C-300", "hos1", "approve or refuse the request")]
