"""`GET /me/work`: what waits on me, across processes, soonest first; it follows each process as
it moves (the `waiting` table is rewritten with each process's row)."""

from tests.helpers.dates import YEAR, at, completion_due, cycle, first_working_day
from tests.helpers import allocate, at_london, audit_to_report, complete, eventually, skip_to, submit
from tests.helpers.disputes import raise_dispute
from tests.helpers.safety import raise_concern


async def work(api, who: str) -> list[dict]:
    r = await api.as_(who).get("/me/work")
    assert r.status_code == 200, r.text
    return r.json()


FIRST_DAY = first_working_day(YEAR, 1)  # the January cycle's first working day (4 January in 2027)


def items(listed: list[dict]) -> list[tuple[str, str, str]]:
    return [(w["process"], w["id"], w["action"]) for w in listed]


async def test_my_work_follows_each_process_and_puts_the_soonest_first(api, env):
    await skip_to(env, at(FIRST_DAY))
    later = (await allocate(api, case_ref="C-1"))["audit_id"]
    await skip_to(env, at(FIRST_DAY, 10))
    sooner = (await allocate(api, case_ref="C-2", cycle=cycle(2)))["audit_id"]  # due later still: allocated later
    listed = await work(api, "tm2")
    assert [w["id"] for w in listed] == [later, sooner]  # soonest deadline first
    assert listed[0]["action"] == "initial grading after reviewing the record"
    assert (at_london(listed[0]["until"]), listed[0]["link"], listed[0]["overdue"]) == (
        completion_due(FIRST_DAY),
        f"/audits/{later}",
        False,
    )
    assert await work(api, "sw3") == []  # nothing waits on someone uninvolved

    await complete(api, env, later)
    await submit(api, later)  # now PIAT's, by role: tm2 no longer sees it
    assert [w["id"] for w in await work(api, "tm2")] == [sooner]
    [qa] = [w for w in await work(api, "piatmgr1") if w["id"] == later]  # any PIAT member
    assert (qa["action"], qa["by_role"]) == ("quality assurance by PIAT", "piat")


async def test_a_dispute_and_a_safety_concern_wait_on_the_team_manager(api, env):
    await skip_to(env, at(FIRST_DAY))
    audit_id = await audit_to_report(api, env, "requires_improvement")
    listed = await eventually(lambda: _with(api, "tm1", "findings discussion recorded by the Team Manager"))
    assert ("audit", audit_id, "findings discussion recorded by the Team Manager") in listed  # beside the window

    await raise_dispute(api, audit_id)
    await raise_concern(api, audit_id)
    listed = await eventually(lambda: _with(api, "tm1", "the meeting (informal stage)", "acknowledgement"))
    # The dispute stops the discussion not yet recorded (it starts again on the final report).
    assert [p for p, _, a in listed if a.startswith("findings discussion")] == []
    [dispute] = [w for w in await work(api, "tm1") if w["process"] == "dispute"]
    assert (dispute["id"], dispute["link"]) == (audit_id, f"/disputes/{audit_id}")

    await skip_to(env, at(FIRST_DAY, 13, 30))  # four hours unacknowledged: past both escalations (R-SAFE-2)
    [concern] = [w for w in await work(api, "tm1") if w["process"] == "safety_concern"]
    assert concern["id"].startswith(audit_id) and concern["overdue"] is True
    assert concern["case_ref"] == "C-100001"  # the case it is about, as every other item names it


async def _with(api, who: str, *actions: str):
    """Their work once it lists each of `actions` (the rows follow each change just after it)."""
    listed = items(await work(api, who))
    return listed if all(any(a.startswith(action) for _, _, a in listed) for action in actions) else None
