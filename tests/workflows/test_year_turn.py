"""Across the year's turn: an audit of November whose re-audits run into the next year, the next
year's cycles listed before it starts, and the annual report of a year just ended."""

from datetime import timedelta

import pytest

from tests.helpers.dates import YEAR, at, completion_due, cycle, first_working_day, reaudit_allocated, working_days_after
from tests.helpers import (
    allocate,
    audit_to_report,
    complete,
    deadline,
    discuss_and_accept,
    emails,
    outcome,
    qa,
    reaudit_to_report,
    skip_to,
    submit,
    view,
)

NEXT = YEAR + 1
NOVEMBER = first_working_day(YEAR, 11)


async def cycles_of(api, year: int) -> dict[str, dict]:
    r = await api.as_("piat1").get(f"/cycles?year={year}")
    assert r.status_code == 200, r.text
    return {c["cycle"]: c for c in r.json()}


@pytest.mark.timeout(300)
async def test_a_november_audit_s_reaudits_escalate_into_the_next_year(api, env, client, sent):
    await skip_to(env, at(NOVEMBER))
    allocated = await allocate(api, cycle=cycle(11), case_ref="C-1101")
    assert deadline(allocated, "completion_due") == completion_due(NOVEMBER)  # in December
    audit_id = allocated["audit_id"]
    # Graded, submitted and accepted the same day: the dispute window closes 5 working days on.
    await complete(api, env, audit_id, grade="inadequate")
    await submit(api, audit_id)
    await qa(api, audit_id)
    await discuss_and_accept(api, env, audit_id)
    final_on = working_days_after(NOVEMBER, 5)
    first = reaudit_allocated(final_on)
    assert first.year == NEXT and first.month == 1  # December holds no re-audits (R-CAL-4)

    await skip_to(env, at(final_on, 18))  # final, on Mosaic: the 1st re-audit planned for next January
    v = await view(api, audit_id)
    assert (v["stage"], v["reaudit"]["cycle"]) == ("reaudit_planned", cycle(1, NEXT))
    assert deadline({"deadlines": v["reaudit"]}, "allocate_at") == first
    # December: next year's cycles are listed, January's with the re-audit it will allocate.
    await skip_to(env, at(first_working_day(YEAR, 12)))
    listed = await cycles_of(api, NEXT)
    assert list(listed) == [cycle(m, NEXT) for m in (1, 2, 3, 4, 5, 6, 7, 9, 10, 11)]
    january = listed[cycle(1, NEXT)]
    assert (january["first_working_day"], january["reaudits_due"]) == (first_working_day(NEXT, 1).isoformat(), 1)

    await skip_to(env, first + timedelta(minutes=5))
    r1 = f"{audit_id}-r1"
    assert (await view(api, r1))["cycle"] == cycle(1, NEXT)
    await reaudit_to_report(api, env, r1, "requires_improvement")
    # R-RE-3: still not Good, so the Head of Service follows up; hos1 re-audited it, so the AD.
    r = await api.as_("ad1").post(f"/audits/{r1}/head-of-service-follow-up", json={"notes": "Reviewed actions with tm1 and sw1"})
    assert r.status_code == 200, r.text
    await discuss_and_accept(api, env, r1)
    second = reaudit_allocated(working_days_after(first.date(), 5))
    assert (second.year, second.month) == (NEXT, 3)  # February moderates (R-MOD-1)

    await skip_to(env, second + timedelta(minutes=5))
    r2 = f"{audit_id}-r2"
    await reaudit_to_report(api, env, r2, "requires_improvement", attendees=["sw1", "tm1"])
    await discuss_and_accept(api, env, r2)
    await skip_to(env, at(working_days_after(second.date(), 6)))
    assert [r for r, _ in emails(sent, r2, "2nd re-audit still")] == [["hos1", "ad1", "dir1"]]  # R-RE-5
    result = await outcome(client, audit_id)
    assert (result.chain_outcome, result.escalation) == ("escalated", "director")
    chain = (await view(api, audit_id))["chain"]
    assert [(c["reaudit_round"], c["cycle"]) for c in chain] == [(0, cycle(11)), (1, cycle(1, NEXT)), (2, cycle(3, NEXT))]


async def test_the_annual_report_of_the_year_just_ended(api, env):
    """In January the year just ended is reported whole: its November audit, final, counted; the
    new year's report holds only the new year's."""
    await skip_to(env, at(NOVEMBER))
    await audit_to_report(api, env, "good", cycle=cycle(11), case_ref="C-1102")
    await skip_to(env, at(first_working_day(NEXT, 1)))
    await audit_to_report(api, env, "inadequate", cycle=cycle(1, NEXT), case_ref="C-1201")
    ended = await _annual(api, YEAR)
    assert (ended["period"], ended["audits"], ended["final"]) == (str(YEAR), 1, 1)
    assert ended["grades"]["overall"]["good"] == 1 and ended["generated_at"].startswith(str(NEXT))
    begun = await _annual(api, NEXT)
    assert (begun["audits"], begun["final"]) == (1, 0)  # January's is still in its dispute window


async def _annual(api, year: int) -> dict:
    r = await api.as_("piat1").get(f"/reports/annual?period={year}")
    assert r.status_code == 200, r.text
    return r.json()
