"""The open-case list PIAT imports from Mosaic: checked row by row, all or nothing, identifiers only."""

from sqlalchemy import inspect

from tests.helpers.dates import YEAR
from tests.helpers.cases import upload

# Involvement starts are data, checked against the API's clock ("not in the future"): two years
# before the suite's year is past wherever the test server's clock starts (in YEAR - 1).
PAST = YEAR - 2
GOOD = f"""case_ref,service_area,practitioner_id,involvement_start,cp_chair_or_iro_id,child_name
C-1,safeguarding,sw1,{PAST}-03-01,iro1,Jane Example
C-2,safeguarding,sw2,{PAST - 1}-11-20,,John Example
C-3,safeguarding,sw3,{PAST}-01-05,,Ann Example
"""


async def test_an_import_keeps_identifiers_only_and_replaces_the_list(api, env, engine):
    r = await upload(api, GOOD)
    assert r.status_code == 200, r.text
    assert r.json() == {"imported": 3, "ignored_columns": ["child_name"]}
    cases = (await api.as_("piat1").get("/cases")).json()
    assert [(c["case_ref"], c["team"], c["cp_chair_or_iro_id"]) for c in cases] == [
        ("C-1", "Safeguarding Team 1", "iro1"),
        ("C-2", "Safeguarding Team 1", None),
        ("C-3", "Safeguarding Team 2", None),
    ]
    assert "Jane" not in str(cases) and "child_name" not in {c["name"] for c in inspect(engine).get_columns("open_case")}
    r = await upload(api, GOOD.split("C-2")[0])  # a later export: the list is replaced
    assert r.json()["imported"] == 1 and [c["case_ref"] for c in (await api.as_("piat1").get("/cases")).json()] == ["C-1"]
    filtered = (await api.as_("piat1").get("/cases", params={"team": "Safeguarding Team 2"})).json()
    assert filtered == []


async def test_bad_rows_are_each_named_and_nothing_is_imported(api, env):
    await upload(api, GOOD)
    bad = f"""case_ref,service_area,practitioner_id,involvement_start,cp_chair_or_iro_id
C-10,safeguarding,sw1,{PAST}-03-01,
Jane Smith,safeguarding,sw1,{PAST}-03-01,
C-11,adults,sw1,{PAST}-03-01,
C-12,safeguarding,tm1,{PAST}-03-01,
C-13,safeguarding,sw1,2999-01-01,
C-14,safeguarding,sw1,01/03/{PAST},
C-15,safeguarding,sw1,{PAST}-03-01,sw2
C-10,safeguarding,sw1,{PAST}-03-01,
"""
    r = await upload(api, bad)
    assert r.status_code == 422 and r.json()["detail"] == "7 rows refused; nothing was imported"
    assert [(x["row"], x["reason"].split(" ")[0]) for x in r.json()["refused"]] == [
        (3, "case_ref"),
        (4, "service_area"),
        (5, "practitioner_id"),
        (6, "involvement_start"),
        (7, "involvement_start"),
        (8, "cp_chair_or_iro_id"),
        (9, "case"),
    ]
    assert [c["case_ref"] for c in (await api.as_("piat1").get("/cases")).json()] == ["C-1", "C-2", "C-3"]
    r = await upload(api, "ref,area\nC-1,safeguarding\n")
    assert r.status_code == 422 and "lacks the columns" in r.json()["detail"]
    assert (await upload(api, GOOD, by="tm1")).status_code == 403
    r = await api.http.post(
        "/cases/import", content=b"x" * 5_000_001, headers={"Authorization": "Bearer dev-piat1", "Content-Type": "text/csv"}
    )
    assert r.status_code == 413
