"""The worker killed with SIGKILL at seeded random points of an audit → dispute → re-audit chain.

The worker runs as `python worker.py` in its own process, so a kill is a real crash: no clean-up,
in-flight activities and workflow tasks simply vanish. Whatever the points, the chain must end
the same way, and every notification must be delivered exactly once.
"""

import asyncio
import random
from collections import Counter
from dataclasses import dataclass

import pytest

from tests.faults.harness import delivery_faults, letting_time_pass, notification_rows
from tests.helpers import allocate, complete, discuss_and_accept, grades, london, outcome, qa, skip_to, submit
from tests.test_after_the_report import reaudit_to_report
from tests.test_disputes import meeting, raise_dispute, record, summary

pytestmark = pytest.mark.faults

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
    await until(lambda: _view(c, c.audit_id), lambda v: v and v["findings_discussion"], "the findings discussion")
    await discuss_and_accept(c.api, c.env, c.audit_id)


async def _to_reaudit(c: Chain):
    await skip_to(c.env, london(2027, 3, 1, 9, 5))
    await until(lambda: _view(c, c.r1), bool, "the re-audit's allocation")  # a dead worker allocates it late


async def _reaudit(c: Chain):
    await reaudit_to_report(c.api, c.env, c.r1, "good")


async def _to_the_end(c: Chain):
    await skip_to(c.env, london(2027, 3, 9, 9))  # the re-audit's dispute window has closed


# In order; `allocate` is never killed *during*: POST /audits mints a new audit ID per call, so
# a client retrying a lost answer would allocate twice. Every other step is an Update on a known
# workflow, which waits for a worker, so it is safe to crash under.
STEPS = [_allocate, _grade_and_converse, _submit, _accept, _raise_dispute, _meeting, _summary, _amend, _discuss,
         _to_reaudit, _reaudit, _to_the_end]  # fmt: skip
NOT_DURING = {_allocate}


@dataclass
class Kill:
    step: int
    during: bool  # while the step is in flight, else just after it: the next calls find no worker
    delay: float  # real seconds: into the step (during), or until the new worker starts (after)


def kill_plan(seed: int) -> list[Kill]:
    rng = random.Random(seed)
    plan = []
    for step in sorted(rng.sample(range(len(STEPS)), KILLS_PER_RUN)):
        during = STEPS[step] not in NOT_DURING and rng.random() < 0.6
        plan.append(Kill(step, during, rng.uniform(0.05, 0.8)))
    return plan


@pytest.mark.timeout(150)
@pytest.mark.parametrize("seed", SEEDS)
async def test_a_chain_survives_a_worker_killed_at_random_points(seed, api, env, smtp, workers, engine):
    smtp.quit_delay = 0.2  # a slow goodbye widens the window between SMTP accept and the DB commit
    plan = {k.step: k for k in kill_plan(seed)}
    await skip_to(env, london(2027, 1, 4, 9))
    await workers.start_ready()
    chain = Chain(api, env)
    restarting = None
    for index, step in enumerate(STEPS):
        kill = plan.get(index)
        if kill and restarting:
            await restarting  # this kill needs a worker to kill, not one still starting
        if kill and kill.during:
            await _crash_during(env, workers, step(chain), kill.delay)
        else:
            await letting_time_pass(env, step(chain))
        if kill and not kill.during:
            workers.kill()
            restarting = asyncio.create_task(_restart_after(workers, kill.delay))
    if restarting:
        await restarting

    result = await asyncio.wait_for(outcome(env.client, chain.audit_id), 60)
    assert workers.kills == KILLS_PER_RUN, f"plan {plan}"
    assert (result.stage, result.chain_outcome, result.reaudit.final_overall_grade) == ("completed", "closed", "good")
    assert (result.dispute_outcome.status, result.dispute_outcome.level) == ("resolved", "informal")
    assert result.final_overall_grade == "requires_improvement"
    rows = notification_rows(engine)
    assert Counter(r.channel for r in rows) == EXPECTED_NOTIFICATIONS, f"seed {seed}, plan {plan}"
    assert delivery_faults(engine, smtp) == [], f"seed {seed}, plan {plan}"


async def _crash_during(env, workers, step, delay: float) -> None:
    """Start the step, SIGKILL the worker `delay` seconds in, start a new one; the step must finish."""
    task = asyncio.create_task(step)
    await asyncio.sleep(delay)
    workers.kill()
    await workers.start_ready()
    await letting_time_pass(env, task)


async def _restart_after(workers, delay: float) -> None:
    await asyncio.sleep(delay)
    await workers.start_ready()


async def _view(c: Chain, audit_id: str) -> dict | None:
    r = await c.api.as_("piat1").get(f"/audits/{audit_id}")
    return r.json() if r.status_code == 200 else None


async def until(read, ok, what: str, attempts: int = 100):
    """Poll `read()` (bounded) until `ok` holds of it: a restarted worker catches up in its own time."""
    for _ in range(attempts):
        value = await read()
        if ok(value):
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not there after {attempts} polls")
