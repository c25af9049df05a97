"""Text a step requires is refused when it is only spaces, as when it is empty: a blank
acknowledgement would close a safety concern and stop its escalation with nothing done."""

from tests.helpers.dates import YEAR, at, first_working_day
from tests.helpers import allocate, grading, skip_to, view
from tests.helpers.safety import CONCERN, raise_concern
from tests.helpers.web import grading_form, pages

BLANK = "  \n\t "


async def test_a_blank_acknowledgement_is_refused_and_the_concern_stays_open(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    audit_id = (await allocate(api))["audit_id"]
    await raise_concern(api, audit_id)
    r = await api.as_("tm1").post(f"/safety-concerns/{audit_id}-1/acknowledge", json={"action_taken": BLANK})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "body.action_taken", "message": "must not be blank"}]
    concern = (await api.as_("tm1").get(f"/safety-concerns/{audit_id}-1")).json()
    assert concern["open"] and concern["acknowledged_by"] is None


async def test_a_blank_concern_is_not_raised(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    audit_id = (await allocate(api))["audit_id"]
    r = await api.as_("tm2").post(f"/audits/{audit_id}/safety-concerns", json=CONCERN | {"description": BLANK})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.description", r.text
    assert (await api.as_("piat1").get(f"/safety-concerns?audit_id={audit_id}")).json() == []


async def test_blank_text_deep_in_a_body_is_named_by_its_path(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    audit_id = (await allocate(api))["audit_id"]
    body = grading()
    body["overall"]["rationale"] = BLANK
    r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.overall.rationale", r.text
    assert (await view(api, audit_id))["initial_grading"] is None


async def test_a_blank_field_on_a_page_is_refused_beside_the_field(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    audit_id = (await allocate(api))["audit_id"]
    r = await pages(api, "tm2").post(f"/app/audits/{audit_id}/grading", grading_form(**{"overall.rationale": BLANK}))
    assert r.status_code == 422 and 'id="grading-overall-rationale-error"' in r.text, r.text[:300]
    assert (await view(api, audit_id))["initial_grading"] is None
