"""The workload plan (`GET /plans/{year}`, decision 0043) through the API and its page: who may
read it, the years it plans, the CSV; then a year run on the time-skipping server, whose
re-audit chain and moderation panel show in the plan in their months and for their people."""

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from sqlmodel import Session

from models.tables import AuditRecord
from tests.helpers import audit_to_report, discuss_and_accept, eventually, skip_to, view
from tests.helpers.api import Api
from tests.helpers.cases import upload
from tests.helpers.dates import INVOLVED_SINCE, YEAR, at, cycle, first_working_day, reaudit_allocated, working_days_after
from tests.helpers.moderation import FEBRUARY, OPENS, open_panel
from tests.helpers.web import pages

CASES = "case_ref,service_area,practitioner_id,involvement_start,cp_chair_or_iro_id\r\n" + "".join(
    f"C-{n},safeguarding,{p},{INVOLVED_SINCE.isoformat()},\r\n" for n, p in enumerate(("sw1", "sw1", "sw2", "sw3"), 1)
)


@pytest_asyncio.fixture
async def tables_api(settings, directory, engine):
    """The app without Temporal: a plan reads only the tables and the directory."""
    from api.deps import Services
    from api.main import create_app

    app = create_app(Services(settings=settings, client=None, engine=engine, directory=directory))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield Api(http)


async def plan_of(api, year=YEAR, by="piat1") -> dict:
    r = await api.as_(by).get(f"/plans/{year}")
    assert r.status_code == 200, r.text
    return r.json()


def month(plan: dict, cycle_: str) -> dict:
    return next(m for m in plan["months"] if m["cycle"] == cycle_)


def cells(plan: dict, cycle_: str) -> dict[str, dict]:
    return {c["staff_id"]: c for c in month(plan, cycle_)["cells"]}


async def test_senior_leaders_read_the_plan_and_others_are_refused(tables_api):
    for who in ("piat1", "piatmgr1", "psw1", "ad1", "dir1"):
        assert (await tables_api.as_(who).get(f"/plans/{YEAR}")).status_code == 200, who
    for who in ("tm1", "sw1", "hos1", "slt1", "cdqs1"):
        assert (await tables_api.as_(who).get(f"/plans/{YEAR}")).status_code == 403, who
        assert (await tables_api.as_(who).get(f"/plans/{YEAR}.csv")).status_code == 403, who


async def test_a_year_it_cannot_plan_is_refused_saying_which_it_can(tables_api):
    for year, words in ((YEAR - 2, "annual report"), (YEAR + 1, "plans are for"), ("27", "four digits")):
        r = await tables_api.as_("piat1").get(f"/plans/{year}")
        assert r.status_code == 422, r.text
        assert words in r.json()["detail"] and str(YEAR) in r.json()["detail"]


async def test_the_open_case_list_gives_each_cycle_its_expected_draw_and_the_csv_its_lines(tables_api, settings):
    assert (await upload(tables_api, CASES)).status_code == 200
    plan = await plan_of(tables_api)
    assert (plan["per_team"], plan["max_per_month"]) == (settings.plan_cases_per_team, settings.plan_max_audits_per_month)
    # January: Team 1 (sw1, sw2: 3 cases) draws 2 and Team 2 (sw3: 1 case) draws 1, all expected.
    january = month(plan, cycle(1))
    assert (january["selection_basis"], january["selection_audits"]) == ("expected", 3.0)
    assert "tm1" not in {s for s, c in cells(plan, cycle(1)).items() if c["selection"] >= 0.5}  # Team 1's own manager
    assert [m["cycle"] for m in plan["months"] if m["moderation_panel"]] == [cycle(2), cycle(6), cycle(10)]
    r = await tables_api.as_("piatmgr1").get(f"/plans/{YEAR}.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f"qsaf-plan-{YEAR}.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == sum(len(m["cells"]) for m in plan["months"])
    assert {row["month"] for row in rows} >= {cycle(1), cycle(2)}


async def test_cases_audited_late_last_year_stay_out_of_january_s_draw(tables_api, engine):
    assert (await upload(tables_api, CASES)).status_code == 200
    with Session(engine) as session:
        for case_ref in ("C-1", "C-2"):  # two of Team 1's three cases, audited last November
            session.add(
                AuditRecord(
                    audit_id=f"{case_ref}-old",
                    case_ref=case_ref,
                    cycle=cycle(11, YEAR - 1),
                    service_area="safeguarding",
                    kind="standard",
                    stage="completed",
                    auditor_id="tm2",
                    practitioner_id="sw1",
                    team_manager_id="tm1",
                    chain_id=f"{case_ref}-old",
                    updated_at=datetime(YEAR - 1, 11, 30, tzinfo=UTC),
                    view={},
                )
            )
        session.commit()
    plan = await plan_of(tables_api)
    # Team 1 draws its one case left, Team 2 its one: 2, not 3; both November's are free by November.
    assert month(plan, cycle(1))["selection_audits"] == 2.0
    assert month(plan, cycle(11))["selection_audits"] == 2.0


async def test_the_page_shows_each_month_against_each_person_and_links_the_csv(tables_api, settings):
    settings.plan_max_audits_per_month = 2
    many = "".join(f"C-9{n},safeguarding,sw1,{INVOLVED_SINCE.isoformat()},\r\n" for n in range(10))
    assert (await upload(tables_api, CASES + many)).status_code == 200
    r = await pages(tables_api, "piat1").get(f"/app/plans/{YEAR}?per_team=12")
    assert r.status_code == 200, r.text
    assert f"Workload plan, {YEAR}" in r.text and f'href="/app/plans/{YEAR}.csv?per_team=12"' in r.text
    # January: Team 1's 12 cases among its 4 eligible auditors are 3 each, above 2; in words and colour.
    assert '<td class="overdue">3 — over the limit</td>' in r.text
    csv_page = await pages(tables_api, "piat1").get(f"/app/plans/{YEAR}.csv")
    assert csv_page.status_code == 200 and csv_page.text.startswith("month,staff_id")
    assert (await pages(tables_api, "tm1").get(f"/app/plans/{YEAR}")).status_code == 403
    index = await pages(tables_api, "psw1").get("/app/plans")  # the navigation's link: next year's plan
    assert (index.status_code, index.headers["location"]) == (303, f"/app/plans/{YEAR}")
    assert (await pages(tables_api, "tm1").get("/app/plans")).status_code == 403
    assert 'href="/app/plans"' in r.text and 'href="/app/plans"' not in (await pages(tables_api, "tm1").get("/app/")).text
    assert (await pages(tables_api, "piat1").get(f"/app/plans/{YEAR - 2}")).status_code == 422


@pytest.mark.timeout(300)
async def test_a_year_s_re_audit_chain_and_panel_show_in_their_months_for_their_people(api, env, engine):
    january = first_working_day(YEAR, 1)
    await skip_to(env, at(january))
    inadequate = await audit_to_report(api, env, "inadequate", case_ref="C-701")
    await discuss_and_accept(api, env, inadequate)
    good = await audit_to_report(api, env, "good", case_ref="C-702", practitioner_id="sw3", auditor="tm1")
    plan = await plan_of(api)
    assert month(plan, cycle(1))["selection_basis"] == "allocated"  # January's rows, not the expectation
    assert {s: c["selection"] for s, c in cells(plan, cycle(1)).items()} == {"tm1": 1.0, "tm2": 1.0}

    final_on = working_days_after(january, 5)
    allocated_at = reaudit_allocated(final_on)
    reaudit_cycle = f"{allocated_at:%Y-%m}"
    await skip_to(env, at(final_on, 18))  # on Mosaic: the chain plans its 1st re-audit
    planned = (await view(api, inadequate))["reaudit"]
    assert planned["cycle"] == reaudit_cycle and planned["status"] == "planned"
    plan = await plan_of(api)
    [reaudit] = month(plan, reaudit_cycle)["reaudits"]
    assert (reaudit["audit_id"], reaudit["status"]) == (planned["audit_id"], "planned")
    predicted = reaudit["auditor_id"]
    assert cells(plan, reaudit_cycle)[predicted]["reaudits"] == 1
    assert not any(m["reaudits"] for m in plan["months"] if m["cycle"] != reaudit_cycle)

    # February's panel draws from January's final audits: the plan's February is its draw.
    await skip_to(env, OPENS)
    panel = await open_panel(api, {"per_service": 2, "seed": 1})
    drawn = Counter(m["moderator_id"] for m in panel["moderations"])
    assert sum(drawn.values()) == 2, panel  # both January audits, final and graded

    async def february_drawn():
        plan = await plan_of(api)
        return plan if month(plan, FEBRUARY)["moderation_basis"] == "drawn" else None

    plan = await eventually(february_drawn)
    assert plan, "the panel's moderations never reached the plan"
    assert {s: c["moderations"] for s, c in cells(plan, FEBRUARY).items() if c["moderations"]} == dict(drawn)
    assert [m["cycle"] for m in plan["months"] if m["moderation_panel"]] == [FEBRUARY, cycle(6), cycle(10)]

    # The re-audit is allocated as its cycle opens, to the one the plan named.
    await skip_to(env, allocated_at + timedelta(minutes=5))
    reaudit_view = await view(api, planned["audit_id"])
    assert (reaudit_view["cycle"], reaudit_view["auditor_id"]) == (reaudit_cycle, predicted) == (reaudit_cycle, "hos1")
    plan = await plan_of(api)
    assert [(r["audit_id"], r["auditor_id"], r["status"]) for r in month(plan, reaudit_cycle)["reaudits"]] == [
        (planned["audit_id"], predicted, "allocated")
    ]
    assert good in {m["audit_id"] for m in panel["moderations"]}
