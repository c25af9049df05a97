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

from tests.faults.chain import EXPECTED_NOTIFICATIONS, NOT_DURING, SKIPPING, START, STEPS, Chain
from tests.faults.harness import delivery_faults, letting_time_pass, notification_rows, outbox_settled
from tests.helpers import outcome, skip_to

pytestmark = pytest.mark.faults

SEEDS = [1, 2, 3]
KILLS_PER_RUN = 3
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
