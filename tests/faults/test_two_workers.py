"""Production's shape: several `python worker.py` processes on one task queue, each with its email
relay over the one outbox, and workers stopped with SIGTERM (`docker compose stop`, a rolling
deploy) rather than killed. A stopped worker finishes what it holds, the email it is handing to
the mail server included, takes nothing new and exits 0; nothing is lost or sent twice.
"""

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import yaml

from models.settings import ROOT, Settings
from tests.helpers.email_checks import assert_plain
from tests.faults.harness import (
    SmtpServer,
    delivery_faults,
    letting_time_pass,
    notification_rows,
    outbox_settled,
    until,
)
from tests.faults.chain import EXPECTED_NOTIFICATIONS, SKIPPING, START, STEPS, Chain
from tests.helpers import allocate, outcome, skip_to

pytestmark = pytest.mark.faults

SHUTDOWN_SECONDS = 10  # the workers' WORKER_SHUTDOWN_SECONDS here: a test need not wait production's 30
SMTP_DATA_SECONDS = 3  # how long the slow mail server takes to accept the first message
TERMINATE_DURING = {STEPS.index(Chain.accept), STEPS.index(Chain.reaudit)}  # a report's emails, a child's start
TERMINATE_AFTER = 0.3  # real seconds into the step


class SlowSmtp(SmtpServer):
    """The fault suite's mail server, which can be made to take its time over a message (after
    DATA, before its 250): the moment a relay cut off leaves an email uncertain."""

    def __init__(self) -> None:
        super().__init__()
        self.delay = 0.0  # for the next message only
        self.receiving = threading.Event()  # set as a slow message starts to be taken

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if delay := self.delay:
            self.delay = 0.0
            self.receiving.set()
            await asyncio.sleep(delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp() -> Iterator[SlowSmtp]:
    server = SlowSmtp()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert_plain(server.messages)


@pytest.fixture
def workers(workers):
    """Stopping within a test's patience, and a relay that looks again soon after a failure."""
    workers.environment |= {
        "WORKER_SHUTDOWN_SECONDS": str(SHUTDOWN_SECONDS),
        "EMAIL_RELAY_POLL_SECONDS": "0.2",
        "EMAIL_RETRY_MAX_SECONDS": "1",
    }
    return workers


@pytest.mark.timeout(240)
@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_two_workers_carry_a_chain_through_a_sigterm(database_url, api, env, smtp, workers, engine):
    workers.count = 2  # two workers, and so two relays, on one task queue and one outbox
    await skip_to(env, START)
    supervisor = asyncio.create_task(workers.supervise())
    try:
        chain = Chain(api, env)
        for index, step in enumerate(STEPS):
            if index in TERMINATE_DURING:
                await _both_polling(workers)
            work = asyncio.ensure_future(step(chain))
            if index in TERMINATE_DURING:
                await asyncio.sleep(TERMINATE_AFTER)
                workers.terminate(workers.running[0])  # the older one; its replacement starts at once
            await (work if step in SKIPPING else letting_time_pass(env, work))
        result = await asyncio.wait_for(outcome(env.client, chain.audit_id), 60)
    finally:
        supervisor.cancel()

    assert (result.stage, result.chain_outcome, result.reaudit.final_overall_grade) == ("completed", "closed", "good")
    assert (result.dispute_outcome.status, result.dispute_outcome.level) == ("resolved", "informal")
    assert result.final_overall_grade == "requires_improvement"
    assert Counter(r.channel for r in notification_rows(engine)) == EXPECTED_NOTIFICATIONS
    await outbox_settled(engine)
    assert delivery_faults(engine, smtp) == []  # every key once: no relay sent another's message
    for proc in workers.terminated:
        assert proc.wait(SHUTDOWN_SECONDS + 5) == 0, workers.log_of(proc)
        assert "worker stopped" in workers.log_of(proc)
    assert len(workers.terminated) == len(TERMINATE_DURING)
    assert len(await _identities(env.client, chain)) >= 2, "the chain's tasks all went to one worker"


@pytest.mark.timeout(120)
async def test_sigterm_while_the_mail_server_takes_an_email_lets_it_finish(api, env, smtp, workers, engine):
    await skip_to(env, START)
    smtp.stop()  # the allocations' emails wait in the outbox, all due together when it is back
    worker = await workers.start_ready()
    for n in range(3):
        await allocate(api, case_ref=f"C-20000{n}")
    await until(lambda: _all_waiting(engine, at_least=3), "the allocations' emails waiting for the mail server")

    smtp.delay = SMTP_DATA_SECONDS
    smtp.start()  # same port
    await until(smtp.receiving.is_set, "the relay offering the first email", polls=300)
    stopped_at = time.monotonic()
    workers.terminate(worker)
    code = await asyncio.to_thread(worker.wait, SHUTDOWN_SECONDS + 20)
    took = time.monotonic() - stopped_at

    assert code == 0, workers.log_of(worker)
    assert took < SHUTDOWN_SECONDS, f"stopped after {took:.1f} s"
    rows = notification_rows(engine)
    delivered = [r for r in rows if r.delivery != "pending"]
    # The email on the wire was finished and recorded, not cut off (it would be `not_delivered`,
    # uncertain, after its lease), and the stopping relay took no other.
    assert [(r.key, r.delivery) for r in delivered] == [(smtp.messages[0]["X-QSAF-Key"], "sent")]
    assert len(smtp.messages) == 1

    await workers.start_ready()  # the next worker's relay delivers the rest
    await until(lambda: all(r.delivery == "sent" for r in notification_rows(engine)), "the rest delivered", polls=300)
    await outbox_settled(engine)
    assert delivery_faults(engine, smtp) == []


def test_compose_gives_the_worker_longer_than_its_shutdown_timeout():
    """Docker's SIGKILL must not cut off the graceful shutdown it asked for."""
    worker = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["worker"]
    shutdown = float(worker.get("environment", {}).get("WORKER_SHUTDOWN_SECONDS", Settings().worker_shutdown_seconds))
    grace = worker["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) >= shutdown + 10, (grace, shutdown)


async def _both_polling(workers, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not (len(running := workers.running) >= 2 and all([await workers.ready(p) for p in running])):
        assert time.monotonic() < deadline, "two workers not polling"
        await asyncio.sleep(0.05)


async def _identities(client, chain: Chain) -> set[str]:
    """The workers that completed the chain's workflow tasks (each process's `pid@host`)."""
    found = set()
    for workflow_id in (f"audit-{chain.audit_id}", f"dispute-{chain.audit_id}", f"audit-{chain.r1}"):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        found |= {
            e.workflow_task_completed_event_attributes.identity
            for e in history.events
            if e.HasField("workflow_task_completed_event_attributes")
        }
    return found


def _all_waiting(engine, at_least: int) -> bool:
    rows = notification_rows(engine)
    return len(rows) >= at_least and all(r.delivery == "pending" and r.last_error for r in rows)
