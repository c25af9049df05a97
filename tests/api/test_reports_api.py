"""Reports (R-REP) through the API: JSON, CSV, charts and pages over rows in the tables, empty and
bad periods, who may read which; then audits made final by the real workflow."""

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import datetime

import httpx
import pytest
import pytest_asyncio
from sqlmodel import Session

from models.tables import AuditRecord, DisputeRecord
from tests.helpers.api import Api
from tests.helpers.dates import YEAR, at, cycle, day, first_working_day
from tests.helpers import allocate, audit_to_report, complete, eventually, qa, skip_to, submit
from tests.helpers.reports import G, I, RI
from tests.helpers.reports import at as rows_at
from tests.helpers.reports import moderation as _moderation
from tests.helpers.web import pages


JANUARY = f"{day(1, 1):%B %Y}"  # "January 2027" in the suite's year
QUARTER = f"{YEAR}-Q1"


def on(month: int, dom: int, hour: int = 17) -> datetime:
    """An instant of the rows' history in the suite's year (UTC)."""
    return rows_at(month, dom, hour, year=YEAR)


def moderation(*args, **kw):
    """A moderation's row in the suite's year."""
    return _moderation(*args, **kw, year=YEAR)


@pytest_asyncio.fixture
async def reports_api(settings, directory, engine):
    """The app without Temporal: a report reads only the tables."""
    from api.deps import Services
    from api.main import create_app

    app = create_app(Services(settings=settings, client=None, engine=engine, directory=directory))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield Api(http)


def audit_row(
    audit_id, grade, domains, service="safeguarding", practitioner="sw1", manager="tm1", cycle=cycle(1), **facts
) -> AuditRecord:
    final = facts.pop("final", True)
    facts = {"final": final, "final_domains": domains if final else None, "first_submitted_at": on(1, 20).isoformat(), **facts}
    return AuditRecord(
        audit_id=audit_id,
        case_ref=f"C-{audit_id}",
        cycle=cycle,
        service_area=service,
        kind="standard",
        stage="completed" if final else "dispute_window",
        auditor_id="tm2",
        practitioner_id=practitioner,
        team_manager_id=manager,
        overall_grade=grade if final else None,
        overdue=False,
        completion_due=on(2, 3),
        chain_id=audit_id,
        updated_at=on(1, 25),
        view={},
        facts=facts,
    )


@pytest.fixture
def rows(engine):
    with Session(engine) as session:
        session.add_all(
            [
                audit_row("r1", G, {"A": G, "B": G}),
                audit_row(
                    "r2",
                    RI,
                    {"A": RI, "B": G},
                    practitioner="sw3",
                    manager="tm2",
                    submitted_late=True,
                    qa_returns=1,
                    discussion_due=on(2, 10).isoformat(),
                    discussion_recorded_at=on(2, 9).isoformat(),
                ),
                audit_row("r3", I, {"A": I, "B": RI}, service="send", practitioner="sw9", manager="tm9"),  # both have left
                audit_row("r4", G, {}, practitioner="sw2", final=False),  # in its dispute window: not final
                DisputeRecord(
                    dispute_id="r2",
                    audit_id="r2",
                    level="formal",
                    step="ended",
                    status="resolved",
                    raised_by="tm2",
                    updated_at=on(2, 1),
                    view={"outcome": {"status": "resolved", "regrade": {"overall": {"grade": G}}}},
                ),
                moderation(f"{cycle(2)}-m01", cycle(2), "safeguarding", G, RI, (True, False)),
            ]
        )
        session.commit()


async def test_the_monthly_report_as_json(reports_api, rows):
    r = await reports_api.as_("piatmgr1").get("/reports/monthly", params={"period": cycle(1)})
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["audits"], report["final"], report["empty"], report["scope"]) == (4, 3, False, "all services")
    overall = report["grades"]["overall"]
    assert (overall["good"], overall["requires_improvement"], overall["inadequate"], overall["good_or_better"]) == (
        1,
        1,
        1,
        0.3333,
    )
    assert {t: c["graded"] for t, c in report["grades"]["by_team"].items()} == {
        "Safeguarding Team 1": 1,
        "Safeguarding Team 2": 1,
        "team not in the staff directory": 1,
    }
    assert report["grades"]["by_domain"]["B"]["good"] == 2
    assert report["completion"]["late"] == 1 and report["completion"]["returned_by_qa"] == 1
    assert report["discussions"]["on_time"] == 1
    assert (report["disputes"]["raised"], report["disputes"]["regraded"]) == (1, 1)
    assert report["moderation"]["panels"] == []  # February's panel is not January's


async def test_a_head_of_service_reads_their_own_service(reports_api, rows):
    r = await reports_api.as_("hos1").get("/reports/quarterly", params={"period": QUARTER})
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["scope"], report["audits"], report["final"]) == ("safeguarding", 3, 2)  # r3 is SEND's
    assert report["moderation"]["results"]["kappa"]["audits"] == 1
    r = await reports_api.as_("hos1").get("/reports/quarterly", params={"period": QUARTER, "service_area": "send"})
    assert r.status_code == 403 and "their own service" in r.json()["detail"]
    r = await reports_api.as_("dir1").get("/reports/quarterly", params={"period": QUARTER, "service_area": "send"})
    assert r.json()["audits"] == 1


async def test_the_report_as_csv(reports_api, rows):
    r = await reports_api.as_("piat1").get("/reports/monthly.csv", params={"period": cycle(1)})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == f'attachment; filename="qsaf-monthly-report-{cycle(1)}.csv"'
    table = list(csv.DictReader(io.StringIO(r.text)))
    value = {(t["section"], t["group"], t["item"], t["measure"]): t["value"] for t in table}
    assert value[("grades", "overall", "all", "good")] == "1"
    assert value[("grades", "service", "send", "inadequate")] == "1"
    assert value[("completion", "", "", "on_time")] == "3"  # r1, r3, r4 (r2 late)
    assert value[("disputes", "level", "formal", "resolved")] == "1"
    assert value[("report", "", "", "empty")] == "False"
    assert any(t["section"] == "text" and t["value"].startswith("Of 3 final gradings") for t in table)


async def test_each_chart_is_an_svg_with_its_words(reports_api, rows):
    for name, title in (
        ("grades", f"Final grades, {JANUARY} (all services)"),
        ("domains", "Final grades by domain"),
        ("trend", "Final grades cycle by cycle"),
        ("moderation", "Moderators' agreement"),
    ):
        r = await reports_api.as_("ad1").get(f"/reports/monthly/charts/{name}.svg", params={"period": cycle(1)})
        assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
        svg = ET.fromstring(r.text)  # well-formed XML
        ns = "{http://www.w3.org/2000/svg}"
        assert svg.tag == f"{ns}svg" and svg.get("role") == "img"
        assert svg.get("aria-labelledby") == f"{name}-title {name}-desc"
        assert svg.find(f"{ns}title").text.startswith(title) and svg.find(f"{ns}desc").text
    r = await reports_api.as_("ad1").get("/reports/monthly/charts/pie.svg", params={"period": cycle(1)})
    assert r.status_code == 422


async def test_a_period_without_audits_is_an_empty_report_not_an_error(reports_api, rows):
    r = await reports_api.as_("piat1").get("/reports/monthly", params={"period": cycle(5)})
    assert r.status_code == 200 and r.json()["empty"] is True
    assert (
        r.json()["message"] == f"No audits were allocated for the cycles of {day(5, 1):%B %Y}: there are no gradings to report."
    )


@pytest.mark.parametrize(
    "path, period, says",
    [
        ("/reports/monthly", QUARTER, "period must look like 2027-03"),  # the API's fixed example, not a date
        ("/reports/quarterly", f"Q1 {YEAR}", "period must look like 2027-Q1"),
        ("/reports/annual.csv", "27", "period must look like 2027"),
        ("/reports/monthly", cycle(12), "December holds no audit cycle"),
    ],
)
async def test_a_bad_period_is_refused_with_what_to_send(reports_api, path, period, says):
    r = await reports_api.as_("piat1").get(path, params={"period": period})
    assert r.status_code == 422 and says in r.json()["detail"], r.text


async def test_practitioners_and_team_managers_are_refused(reports_api, rows):
    for who in ("sw1", "tm1", "slt1"):
        for path in ("/reports/monthly", "/reports/monthly.csv", "/reports/monthly/charts/grades.svg"):
            r = await reports_api.as_(who).get(path, params={"period": cycle(1)})
            assert r.status_code == 403, (who, path, r.text)
        for path in ("/app/reports/monthly", "/app/reports/monthly.csv"):
            r = await pages(reports_api, who).get(path + f"?period={cycle(1)}")
            assert r.status_code == 403 and "may do this" in r.text, (who, path, r.text)


async def test_the_pages(reports_api, rows):
    r = await pages(reports_api, "psw1").get("/app/reports")
    assert r.status_code == 200 and '<html lang="en"' in r.text and 'action="/app/reports/quarterly"' in r.text
    r = await pages(reports_api, "psw1").get(f"/app/reports/monthly?period={cycle(1)}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert re.search(rf"<h1[^>]*>Monthly report: {JANUARY}</h1>", page) and f"<title>Monthly report, {JANUARY}" in page
    # The charts inline, each with its words (no moderation chart: no panel sat in January).
    assert page.count("<svg ") == 3 and page.count('role="img"') == 3 and "No moderation panel sat" in page
    assert re.search(r"<caption[^>]*>Final grades by service</caption>", page) and "Of 3 final gradings" in page
    assert f'href="/app/reports/monthly.csv?period={cycle(1)}"' in page
    r = await pages(reports_api, "psw1").get(f"/app/reports/monthly.csv?period={cycle(1)}")  # signed in by the cookie
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv") and "grades" in r.text
    r = await pages(reports_api, "psw1").get("/app/reports/monthly?period=March")
    assert r.status_code == 422 and 'role="alert"' in r.text and "period must look like 2027-03" in r.text
    r = await pages(reports_api, "psw1").get(f"/app/reports/quarterly?period={QUARTER}")
    assert r.text.count("<svg ") == 4 and re.search(r"<caption[^>]*>Agreement by domain</caption>", r.text)
    r = await pages(reports_api, "psw1").get(f"/app/reports/annual?period={YEAR + 4}")  # nor the two years before
    assert r.status_code == 200 and "Nothing to report" in r.text and "<svg" not in r.text


# ---- audits made final by the real workflow -----------------------------------------------------


async def _january(api) -> dict:
    return (await api.as_("piat1").get("/reports/monthly", params={"period": cycle(1)})).json()


@pytest.mark.timeout(300)
async def test_audits_count_once_final_through_the_workflow(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    await audit_to_report(api, env, "good", case_ref="C-1")
    await audit_to_report(api, env, "requires_improvement", case_ref="C-2", practitioner_id="sw2")
    returned = (await allocate(api, case_ref="C-3", practitioner_id="sw3", auditor_id="tm1"))["audit_id"]
    await complete(api, env, returned, grade="good", auditor="tm1")
    await submit(api, returned, auditor="tm1")
    await qa(api, returned, "return", details="evidence the child's voice")

    # Accepted and sent, but in the dispute window: the row's facts count the process, no grade yet.
    report = await eventually(lambda: _reported(api, lambda r: r["completion"]["returned_by_qa"] == 1))
    assert (report["audits"], report["final"], report["grades"]["overall"]["graded"]) == (3, 0, 0)
    assert (report["completion"]["submitted"], report["completion"]["on_time"]) == (3, 3)
    assert report["message"].startswith(f"None of the 3 audits of {JANUARY} is final yet")

    # Dispute windows closed: on Mosaic, final (R-REP-2); the returned one was never amended (R-QA-3).
    await skip_to(env, at(first_working_day(YEAR, 2)))  # February's first working day, as Monday 1 February 2027
    report = await eventually(lambda: _reported(api, lambda r: r["final"] == 2))
    overall = report["grades"]["overall"]
    assert (overall["good"], overall["requires_improvement"], overall["graded"]) == (1, 1, 2)
    assert all(c["graded"] == 2 for c in report["grades"]["by_domain"].values())  # every safeguarding domain
    assert report["grades"]["by_team"] == {"Safeguarding Team 1": report["grades"]["overall"]}
    assert report["completion"]["not_accepted"] == 1
    assert report["discussions"]["required"] == 1  # Requires Improvement: 10 working days (R-DISC-2)


async def _reported(api, condition):
    report = await _january(api)
    return report if condition(report) else None
