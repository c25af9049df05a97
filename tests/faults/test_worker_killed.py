"""The worker killed with SIGKILL at seeded random points of an audit → dispute → re-audit chain.

The worker runs as `python worker.py` in its own process, so a kill is a real crash: no clean-up,
in-flight activities and workflow tasks simply vanish. Whatever the points, the chain must end
the same way, and every notification must be delivered exactly once.
"""

import asyncio
import random
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.dates import YEAR, at, cycle_opens, first_working_day, working_days_after
from tests.faults.harness import (
    CRASH_TIMEOUTS,
    delivery_faults,
    letting_time_pass,
    notification_rows,
    outbox_settled,
    skip_server_time,
    skip_until,
)
from tests.helpers import allocate, complete, discuss_and_accept, grades, outcome, qa, reaudit_to_report, skip_to, submit
from tests.helpers.disputes import meeting, raise_dispute, record, summary

pytestmark = pytest.mark.faults

# The chain starts as January's cycle opens; the re-audit is allocated and reported as March's
# opens, and its 5-working-day dispute window (R-DIST-4) has closed by 09:00 on the 6th working day after.
START = cycle_opens(1)
REAUDIT_OPENS = cycle_opens(3)
REAUDIT_FINAL = at(working_days_after(first_working_day(YEAR, 3), 6))

SEEDS = [1, 2, 3]
KILLS_PER_RUN = 3
# The chain's notifications whatever the kills: (channel, how many). Each run must match.
EXPECTED_NOTIFICATIONS = {"email": 10, "mosaic_case_note": 3, "mosaic_alert": 2}


@dataclass
class Chain:
    """One audit's way through the steps below; `audit_id` is known once allocated."""

    api: object
    env: object
    audit_id: str = ""

    @property
    def r1(self) -> str:
        return f"{self.audit_id}-r1"


async def _allocate(c: Chain):
    c.audit_id = (await allocate(c.api))["audit_id"]


async def _grade_and_converse(c: Chain):
    await complete(c.api, c.env, c.audit_id, grade="inadequate")


async def _submit(c: Chain):
    await submit(c.api, c.audit_id)


async def _accept(c: Chain):
    await qa(c.api, c.audit_id)


async def _raise_dispute(c: Chain):
    await raise_dispute(c.api, c.audit_id)


async def _meeting(c: Chain):
    await meeting(c.api, c.env, c.audit_id)


async def _summary(c: Chain):
    await summary(c.api, c.audit_id, "resolved")


async def _amend(c: Chain):
    # Resolved informally, regraded to Requires Improvement: still re-audited (R-RE-1).
    await record(c.api, c.audit_id, "amended-grading", "tm2", grades(grade="requires_improvement") | {"notes": "x"})


async def _discuss(c: Chain):
    await until(c.env, lambda: _view(c, c.audit_id), lambda v: v and v["findings_discussion"], "the findings discussion")
    await discuss_and_accept(c.api, c.env, c.audit_id)


async def _to_reaudit(c: Chain):
    # Final in January, re-audited as March's cycle opens (February moderates; R-RE-1).
    await skip_until(c.env, REAUDIT_OPENS + timedelta(minutes=5))
    await until(c.env, lambda: _view(c, c.r1), bool, "the re-audit's allocation")  # late after a kill


async def _reaudit(c: Chain):
    await reaudit_to_report(c.api, c.env, c.r1, "good")


async def _to_the_end(c: Chain):
    await skip_until(c.env, REAUDIT_FINAL)  # the re-audit's dispute window has closed


# In order; `allocate` is never killed *during*: POST /audits mints a new audit ID per call, so
# a client retrying a lost answer would allocate twice. Every other step is an Update on a known
# workflow, which waits for a worker, so it is safe to crash under.
STEPS = [_allocate, _grade_and_converse, _submit, _accept, _raise_dispute, _meeting, _summary, _amend, _discuss,
         _to_reaudit, _reaudit, _to_the_end]  # fmt: skip
NOT_DURING = {_allocate}
# These skip the server's clock themselves: letting time pass beside them would stop it early
# (the test server locks time again when the shorter of two overlapping sleeps ends).
SKIPPING = {_to_reaudit, _to_the_end}
EMAILS = EXPECTED_NOTIFICATIONS["email"]  # an `email` kill picks one of them


@dataclass
class Kill:
    kind: str  # "during" a step, "after" it (the next calls find no worker), or on an "email"
    at: int  # the step's index, or the email's number in the order the SMTP server accepts them
    delay: float  # real seconds: into the step (during), or until a new worker starts (after)


def kill_plan(seed: int) -> list[Kill]:
    """Where to SIGKILL the worker: `KILLS_PER_RUN` points, chosen by the seed alone."""
    rng = random.Random(seed)
    plan = []
    for _ in range(KILLS_PER_RUN):
        kind = rng.choice(["during", "after", "email"])
        same = {k.at for k in plan if (k.kind == "email") == (kind == "email")}
        if kind == "email":
            at = rng.choice([n for n in range(1, EMAILS + 1) if n not in same])
        else:
            barred = {i for i, step in enumerate(STEPS) if kind == "during" and step in NOT_DURING}
            at = rng.choice([i for i in range(len(STEPS)) if i not in same | barred])
        plan.append(Kill(kind, at, round(rng.uniform(0.05, 0.8), 2)))
    return plan


@pytest.mark.timeout(150)
@pytest.mark.parametrize("seed", SEEDS)
async def test_a_chain_survives_a_worker_killed_at_random_points(seed, api, env, smtp, workers, engine):
    plan = kill_plan(seed)
    steps = {k.at: k for k in plan if k.kind != "email"}
    on_email = {k.at for k in plan if k.kind == "email"}
    # The SMTP server's own thread kills the worker that sent the email, just after accepting it.
    smtp.after_accepting = lambda count: count in on_email and workers.kill()
    await skip_to(env, START)
    supervisor = asyncio.create_task(workers.supervise())
    try:
        chain = await _run_chain(Chain(api, env), steps, workers, env)
        result = await asyncio.wait_for(outcome(env.client, chain.audit_id), 60)
    finally:
        supervisor.cancel()

    assert workers.kills == KILLS_PER_RUN, f"plan {plan}"
    assert (result.stage, result.chain_outcome, result.reaudit.final_overall_grade) == ("completed", "closed", "good")
    assert (result.dispute_outcome.status, result.dispute_outcome.level) == ("resolved", "informal")
    assert result.final_overall_grade == "requires_improvement"
    rows = notification_rows(engine)
    assert Counter(r.channel for r in rows) == EXPECTED_NOTIFICATIONS, f"seed {seed}, plan {plan}"
    await outbox_settled(engine)  # the run's last emails may still be on their way to the relay
    assert delivery_faults(engine, smtp) == [], f"seed {seed}, plan {plan}"


@pytest.mark.timeout(150)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_on_postgresql_too_every_email_arrives_exactly_once(database_url, api, env, smtp, workers, engine):
    """Production's database under the same kills: the outbox's keys, the relay's claims and
    leases are PostgreSQL's here, not SQLite's."""
    await test_a_chain_survives_a_worker_killed_at_random_points(SEEDS[0], api, env, smtp, workers, engine)


async def _run_chain(chain: Chain, kills: dict[int, Kill], workers, env) -> Chain:
    for index, step in enumerate(STEPS):
        kill = kills.get(index)
        if kill:
            await workers.alive()  # a worker to kill, not one still starting
        work = step(chain)
        if kill and kill.kind == "during":
            work = asyncio.create_task(work)
            await asyncio.sleep(kill.delay)
            await workers.alive()  # an `email` kill may have just taken the last one
            workers.kill()
        await (work if step in SKIPPING else letting_time_pass(env, work))
        if kill and kill.kind == "after":
            workers.kill(down_for=kill.delay)
    return chain


async def _view(c: Chain, audit_id: str) -> dict | None:
    r = await c.api.as_("piat1").get(f"/audits/{audit_id}")
    return r.json() if r.status_code == 200 else None


async def until(env, read, ok, what: str, polls: int = 40):
    """Poll `read()` (bounded) until `ok` holds of it. A task a killed worker held comes back
    when its timeout fires, so every few polls let server time pass past those timeouts."""
    for poll in range(1, polls + 1):
        value = await read()
        if ok(value):
            return value
        await (skip_server_time(env, CRASH_TIMEOUTS) if poll % 10 == 0 else asyncio.sleep(0.1))
    raise AssertionError(f"{what}: not there after {polls} polls")
