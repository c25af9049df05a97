"""Whom an audit's messages are shown to: each person the messages sent to them; PIAT and the
senior leaders every one. Findings about a previous practitioner are for that person and their
Team Manager, not for everyone named on the audit."""

from tests.helpers.dates import YEAR, at, first_working_day
from tests.helpers import allocate, eventually, skip_to


async def _subjects(api, staff_id: str, audit_id: str) -> list[str]:
    r = await api.as_(staff_id).get(f"/audits/{audit_id}/notifications")
    assert r.status_code == 200, r.text
    return [n["subject"] for n in r.json()]


async def test_each_person_sees_the_messages_sent_to_them_and_piat_sees_all(api, env):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    audit_id = (await allocate(api, auditor_id="sm1"))["audit_id"]  # practitioner sw1, Team Manager tm1
    r = await api.as_("sm1").post(
        f"/audits/{audit_id}/previous-practitioner-feedback", json={"staff_id": "sw3", "findings": "Strong direct work"}
    )
    assert r.status_code == 200, r.text
    findings = next(s for s in await eventually(lambda: _subjects(api, "piat1", audit_id)) if "earlier work" in s)

    for named in ("sw1", "tm1", "sm1", "iro1", "hos1"):  # named on the audit, not sent the findings
        seen = await _subjects(api, named, audit_id)
        assert findings not in seen, named
    assert any(s.startswith("Audit allocated") for s in await _subjects(api, "sw1", audit_id))  # sent to them
    assert findings in await _subjects(api, "piatmgr1", audit_id)  # senior leaders: every message
    assert await _subjects(api, "hos1", audit_id) == []  # the Head of Service was sent nothing yet
