"""Where a month's confirmed allocation spends its time (figure 3's second pair of rows, taken apart).

    .venv/bin/python -m bench.bulk_where [--audits 300] [--workers 1]

One fresh dev server, `--workers` copies of `python worker.py` on the same task queue, the API in
this process. A selection of `--audits` cases is confirmed in one request, as in `make bench`;
then, for a sample of the audits, each one's first workflow task is read from its history: how
long it waited on the task queue (scheduled → started) and how long the worker held it
(started → completed, its local activities included). While the audits settle, the processor
time each process used is read from /proc. Medians only; nothing asserts a time.
"""

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.__main__ import cpu_seconds, rows_saved
from bench.project import ProjectSide, api_client, bench_settings, start_worker
from bench.server import DevServer, SmtpSink, stop

SCHEDULED, STARTED, COMPLETED = 5, 6, 7  # temporalio.api.enums.v1.EventType: workflow task events


async def first_task_times(client, cycle: str, sample: int) -> dict[str, float]:
    waits, held = [], []
    async for execution in client.list_workflows(f"AuditCycle = '{cycle}'", limit=sample):
        events = (await client.get_workflow_handle(execution.id).fetch_history()).events
        at = {
            kind: next(e.event_time.ToDatetime().timestamp() for e in events if e.event_type == kind)
            for kind in (SCHEDULED, STARTED, COMPLETED)
        }
        waits.append(at[STARTED] - at[SCHEDULED])
        held.append(at[COMPLETED] - at[STARTED])
    return {
        "queue_wait_median_s": statistics.median(waits),
        "worker_held_median_s": statistics.median(held),
        "sampled": len(waits),
    }


async def main(audits: int, workers: int) -> None:
    with tempfile.TemporaryDirectory(prefix="qsaf-bulk-") as tmp, SmtpSink() as smtp:
        workdir = Path(tmp)
        server = DevServer(workdir)
        server.start()
        procs = []
        try:
            await server.wait_ready()
            settings = bench_settings(workdir, server.address, smtp.port)
            for n in range(workers):
                procs.append(await start_worker(settings, workdir / f"worker-{n}.log"))
            async with api_client(settings) as (http, client):
                side = ProjectSide(http, "w")
                await side.sequence(0)  # warm-up
                pids = {"server": server.proc.pid, "API (this process)": os.getpid()} | {
                    f"worker {n}": p.pid for n, p in enumerate(procs)
                }
                before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                t = time.perf_counter()
                result = await side.select_and_confirm(audits, rows_saved(settings))
                wall = time.perf_counter() - t
                used = {name: round((cpu_seconds(pid) - before[name]) / wall, 2) for name, pid in pids.items()}
                print({k: round(v, 2) if isinstance(v, float) else v for k, v in result.items() if k != "refused"})
                print("cores used on average while confirming and settling:", used)
                print(await first_task_times(client, side.cycle, 60))
        finally:
            for proc in procs:
                stop(proc)
            server.stop()
            for log in sorted(workdir.glob("worker-*.log")):
                text = log.read_text(errors="replace")
                slow = text.count("Workflow task duration exceeded")  # the SDK's warning past 5 s
                print(
                    f"{log.name}: {text.count('Traceback')} tracebacks, {slow} workflow tasks held over 5 s, "
                    f"{text.count('database is locked')} 'database is locked'"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        prog="python -m bench.bulk_where", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--audits", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1, help="copies of `python worker.py` on the task queue")
    args = parser.parse_args()
    asyncio.run(main(args.audits, args.workers))
