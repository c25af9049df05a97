"""The baseline: a bare Temporal workflow of the same shape as an audit, and its worker.

Each staff action is one Workflow Update whose handler runs one activity (a row written to a
SQLite file through a thread pool, as the project's persistence activities do) and answers; the
workflow otherwise sits on a timer waiting for the next update. Default data converter (no
payload encryption), no validators, no projection, no emails: what Temporal alone costs.

`python -m bench.bare --address HOST:PORT --task-queue Q --db FILE [--max-cached N]` runs its
worker (the bench starts it as a subprocess, like `python worker.py`).
"""

import argparse
import asyncio
import signal
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

READY_LINE = "bare worker polling"
_db_path = ""


@activity.defn
def write_row(workflow_id: str, action: str, body: str) -> int:
    """One row per action in a SQLite file (one connection per call, committed), synced as the
    project's app database is by default (WAL, `SQLITE_SYNCHRONOUS=normal`)."""
    with sqlite3.connect(_db_path, timeout=30) as db:
        db.execute("pragma synchronous=normal")
        cur = db.execute(
            "insert into action(workflow_id, action, body, at) values (?, ?, ?, ?)", (workflow_id, action, body, time.time())
        )
        return cur.lastrowid


@workflow.defn(name="BareAudit")
class BareAudit:
    def __init__(self) -> None:
        self.steps = 0
        self.closed = False

    @workflow.run
    async def run(self, audit_id: str) -> int:
        try:  # sits on a timer, as an audit sits on its deadline, until closed
            await workflow.wait_condition(lambda: self.closed, timeout=timedelta(days=400))
        except TimeoutError:
            pass
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.steps

    @workflow.update
    async def act(self, action: str, body: str) -> int:
        await workflow.execute_activity(
            write_row, args=[workflow.info().workflow_id, action, body], start_to_close_timeout=timedelta(seconds=30)
        )
        self.steps += 1
        return self.steps

    @workflow.update
    def close(self) -> int:
        self.closed = True
        return self.steps


def init_db(path: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute("pragma journal_mode=wal")
        db.execute("create table if not exists action(id integer primary key, workflow_id text, action text, body text, at real)")


def build_worker(client: Client, task_queue: str, db: str, **options) -> Worker:
    global _db_path
    _db_path = db
    init_db(db)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[BareAudit],
        activities=[write_row],
        max_concurrent_activities=50,
        activity_executor=ThreadPoolExecutor(max_workers=50),
        **options,
    )


async def _main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--max-cached", type=int, default=1000)
    args = parser.parse_args()
    client = await Client.connect(args.address)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    async with build_worker(client, args.task_queue, args.db, max_cached_workflows=args.max_cached):
        print(READY_LINE, flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(_main())


# ---- the driver: the same five actions, each an Update from the client ---------------------------

BODY = '{"domains": [{"domain": "d", "grade": "good", "rationale": "evidence"}], "overall": {"grade": "good"}}'


class BareSide:
    name = "bare"

    def __init__(self, client: Client, task_queue: str, tag: str) -> None:
        self.client, self.task_queue, self.tag = client, task_queue, tag
        self.errors: list[str] = []

    async def allocate(self, i: int) -> str:
        """Start the workflow, then its first update (the project's POST /audits starts, then
        waits for the allocation to be recorded)."""
        workflow_id = f"bare-{self.tag}-{i}"
        handle = await self.client.start_workflow(BareAudit.run, workflow_id, id=workflow_id, task_queue=self.task_queue)
        await handle.execute_update(BareAudit.act, args=["allocate", BODY])
        return workflow_id

    async def start_only(self, i: int) -> str:
        """A start with no update: the least a bulk allocation can cost the server."""
        workflow_id = f"bare-{self.tag}-{i}"
        await self.client.start_workflow(BareAudit.run, workflow_id, id=workflow_id, task_queue=self.task_queue)
        return workflow_id

    def steps(self, workflow_id: str):
        handle = self.client.get_workflow_handle(workflow_id)
        return [
            (name, (lambda n=name: handle.execute_update(BareAudit.act, args=[n, BODY])))
            for name in ("grading", "conversation", "submit", "qa")
        ]

    async def sequence(self, i: int) -> list[tuple[str, float]]:
        timings = []
        try:
            t = time.perf_counter()
            workflow_id = await self.allocate(i)
            timings.append(("allocate", time.perf_counter() - t))
            for name, call in self.steps(workflow_id):
                t = time.perf_counter()
                await call()
                timings.append((name, time.perf_counter() - t))
        except Exception as error:  # noqa: BLE001 - counted and reported, never hidden
            self.errors.append(repr(error))
        return timings
