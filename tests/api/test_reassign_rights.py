"""R-ALLOC-3: an audit the auditor cannot finish is moved by the auditor or *their* Head of
Service, to someone of the auditor's service; the case's Head of Service is not the one who decides."""

from tests.helpers.dates import YEAR, at, first_working_day
from tests.helpers import allocate, skip_to


async def test_the_auditors_own_head_of_service_reassigns_not_the_cases(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    # iro1 works in Quality Assurance (Head of Service psw1) and audits a Safeguarding case (hos1's).
    audit_id = (await allocate(api, auditor_id="iro1", cp_chair_or_iro_id=None))["audit_id"]
    body = {"auditor_id": "piat1", "reason": "the auditor is on sick leave"}

    r = await api.as_("hos1").post(f"/audits/{audit_id}/reassign", json=body)
    assert r.status_code == 403 and "the auditor's Head of Service" in r.json()["detail"], r.text

    r = await api.as_("psw1").post(f"/audits/{audit_id}/reassign", json=body)
    assert r.status_code == 200 and r.json()["auditor_id"] == "piat1", r.text


async def test_a_head_of_service_reassigns_their_own_auditors_audit(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    audit_id = (await allocate(api, auditor_id="tm2"))["audit_id"]  # tm2's Head of Service is hos1
    r = await api.as_("psw1").post(f"/audits/{audit_id}/reassign", json={"auditor_id": "sm1", "reason": "leave"})
    assert r.status_code == 403, r.text
    r = await api.as_("hos1").post(f"/audits/{audit_id}/reassign", json={"auditor_id": "sm1", "reason": "leave"})
    assert r.status_code == 200 and r.json()["auditor_id"] == "sm1", r.text
