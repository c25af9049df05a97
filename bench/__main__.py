"""`python -m bench [--quick]`: this project against a bare Temporal workflow of the same shape,
on one fresh dev server, printed as a Markdown table of ratios (also bench/results/*.json, *.md).

Figures: 1 one action at a time; 2 N audits at once; 3 bulk allocation; 4 worker RSS
with N open audits; 5 history size of a full audit; 6 a council year on the time-skipping server.
Medians and ratios only; nothing here asserts a time.
"""

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.server import BIN, ROOT, DevServer, SmtpSink, rss_mib, spawn, stop, wait_for_line

RESULTS = ROOT / "bench" / "results"


# ---- statistics ------------------------------------------------------------------------------------


def pct(values: list[float], p: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def summary(timings: list[tuple[str, float]]) -> dict:
    """p50/p95 over every action (ms), and p50 per action."""
    all_ms = [s * 1000 for _, s in timings]
    per = {}
    for name, _ in timings:
        per.setdefault(name, [])
    for name, s in timings:
        per[name].append(s * 1000)
    return {
        "n": len(all_ms),
        "p50_ms": pct(all_ms, 50),
        "p95_ms": pct(all_ms, 95),
        "per_action_p50_ms": {k: pct(v, 50) for k, v in per.items()},
    }


# ---- figures on the dev server ---------------------------------------------------------------------


async def one_at_a_time(side, audits: int, start: int) -> dict:
    timings = []
    for i in range(audits):
        timings += await side.sequence(start + i)
    return summary(timings) | {"audits": audits, "errors": len(side.errors)}


async def at_once(side, n: int, start: int) -> dict:
    errors_before = len(side.errors)
    t = time.perf_counter()
    runs = await asyncio.gather(*(side.sequence(start + i) for i in range(n)))
    wall = time.perf_counter() - t
    timings = [x for run in runs for x in run]
    return {
        "audits": n,
        "actions": len(timings),
        "wall_s": wall,
        "actions_per_s": len(timings) / wall,
        "p50_ms": pct([s * 1000 for _, s in timings], 50),
        "p95_ms": pct([s * 1000 for _, s in timings], 95),
        "errors": len(side.errors) - errors_before,
    }


def median_round(runs: list[dict]) -> dict:
    """The round of median throughput, with every round's throughput and the errors of all, and
    each process's processor time per action as the median over the rounds."""
    middle = sorted(runs, key=lambda run: run["actions_per_s"])[len(runs) // 2]
    cpu = {
        proc: statistics.median(run["cpu_ms_per_action"][proc] for run in runs) for proc in runs[0].get("cpu_ms_per_action", {})
    }
    return middle | {
        "rounds_actions_per_s": [round(run["actions_per_s"], 1) for run in runs],
        "errors": sum(run["errors"] for run in runs),
        "cpu_ms_per_action": cpu,
    }


def processor_seconds(pids: dict[str, list[int]]) -> dict[str, float]:
    """Each process's processor seconds so far; "bench" is this process (the API and the SMTP
    sink for the project, the client for bare)."""
    return {name: sum(cpu_seconds(pid) for pid in group) for name, group in pids.items()} | {"bench": time.process_time()}


def per_action_ms(before: dict[str, float], after: dict[str, float], actions: int) -> dict[str, float]:
    return {name: round((after[name] - before[name]) * 1000 / max(actions, 1), 2) for name in before}


async def bulk_allocation(side, n: int, start: int, concurrency: int, method: str = "allocate") -> dict:
    gate = asyncio.Semaphore(concurrency)
    done = 0
    errors_before = len(side.errors)

    async def one(i):
        nonlocal done
        async with gate:
            try:
                await getattr(side, method)(start + i)
                done += 1
            except Exception as error:  # noqa: BLE001 - counted and reported
                if not side.errors or len(side.errors) == errors_before:
                    side.errors.append(repr(error))

    t = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    wall = time.perf_counter() - t
    return {
        "audits": n,
        "allocated": done,
        "concurrency": concurrency,
        "wall_s": wall,
        "audits_per_s": done / wall,
        "errors": n - done,
    }


def rows_saved(settings):
    """Whether every one of these cases' audits has saved its row: its allocation step done."""
    from sqlmodel import Session, func, select

    from database import make_engine
    from models.tables import AuditRecord

    engine = make_engine(settings.database_url, settings.sqlite_synchronous)

    def saved(case_refs: list[str]) -> bool:
        with Session(engine) as session:
            query = select(func.count()).select_from(AuditRecord).where(AuditRecord.case_ref.in_(case_refs))
            return session.exec(query).one() == len(case_refs)

    return saved


def payload_sizes(node, path="", out=None):
    """Every payload in a history's JSON: (bytes of its data, where)."""
    import base64

    out = [] if out is None else out
    if isinstance(node, dict):
        if "data" in node and "metadata" in node and isinstance(node["data"], str):
            out.append((len(base64.b64decode(node["data"])), path))
        for k, v in node.items():
            payload_sizes(v, f"{path}.{k}" if path else k, out)
    elif isinstance(node, list):
        for v in node:
            payload_sizes(v, path, out)
    return out


def marker_label(attrs: dict) -> str:
    """A marker by what it records: a local activity by its type (its marker's `data` detail is
    the SDK's own JSON, never encrypted), a patch or anything else by its name."""
    import base64

    if attrs["markerName"] != "core_local_activity":
        return f"marker {attrs['markerName']}"
    data = json.loads(base64.b64decode(attrs["details"]["data"]["payloads"][0]["data"]))
    return f"local activity {data['activity_type']}"


def history_figures(history) -> dict:
    """Total JSON bytes, the largest payload, and — per activity type and per update name — the
    first and last payload sizes, to see whether any payload grows as the audit goes on."""
    text = history.to_json()
    events = json.loads(text)["events"]
    largest = (0, "")
    series: dict[str, list[int]] = {}
    names_by_id = {}
    for e in events:
        kind = e.get("eventType", "")
        sizes = payload_sizes(e)
        total = sum(s for s, _ in sizes)
        label = kind
        if attrs := e.get("activityTaskScheduledEventAttributes"):
            label = f"activity {attrs['activityType']['name']} input"
            names_by_id[e["eventId"]] = attrs["activityType"]["name"]
        elif attrs := e.get("activityTaskCompletedEventAttributes"):
            label = f"activity {names_by_id.get(attrs.get('scheduledEventId'), '?')} result"
        elif attrs := e.get("workflowExecutionUpdateAcceptedEventAttributes"):
            label = f"update {attrs['acceptedRequest']['input']['name']} input"
        elif attrs := e.get("markerRecordedEventAttributes"):
            label = marker_label(attrs)
        for s, where in sizes:
            if s > largest[0]:
                largest = (s, f"{label} ({where})")
        if sizes and label != kind or kind.endswith("MARKER_RECORDED") or "UPSERT" in kind:
            series.setdefault(label, []).append(total)

    # A payload "grows with the audit's age" when the same kind of payload is bigger later on. The
    # first and last save of the row carry the whole view (at first appearance and at the run's
    # end): they are left out of the trend and reported on their own.
    def trend(v):
        mid = v[1:-1]
        return len(mid) >= 2 and max(mid[len(mid) // 2 :]) > max(mid[: max(1, len(mid) // 4)]) * 1.25 + 128

    growing = {k: v for k, v in series.items() if trend(v)}
    whole_view = series.get("activity save_audit_row input", [])
    return {
        "events": len(events),
        "json_bytes": len(text.encode()),
        "largest_payload_bytes": largest[0],
        "largest_payload": largest[1],
        "growing_payloads": growing,
        "row_saves_bytes": whole_view,
        "repeated_payloads_first_last": {k: [v[0], v[-1], len(v)] for k, v in series.items() if len(v) >= 2},
    }


async def settled_history(client, workflow_id: str, quiet: float = 2.0, timeout: float = 30.0):
    """The history once no event has been added for `quiet` seconds (the projection coalesces)."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while True:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        if len(history.events) != last:
            last, since = len(history.events), time.monotonic()
        elif time.monotonic() - since >= quiet or time.monotonic() > deadline:
            return history
        await asyncio.sleep(0.25)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def quiesce(pids: list[int], idle_share: float = 0.05, timeout: float = 120.0) -> float:
    """Wait until the workers have nothing left to do (each below 5 % of a core over a second),
    so work a figure left behind (e.g. audits whose POST answered 504 but whose workflow runs on)
    is not billed to the next figure. Returns the seconds waited."""
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        before = [cpu_seconds(p) for p in pids]
        await asyncio.sleep(1.0)
        if all(cpu_seconds(p) - b < idle_share for p, b in zip(pids, before)):
            break
    return time.monotonic() - t


async def settled_rss(pid: int, quiet: float = 3.0, timeout: float = 60.0) -> float:
    """RSS once it has moved by less than 1 % for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    ref, since = rss_mib(pid), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = rss_mib(pid)
        if abs(now - ref) > ref * 0.01:
            ref, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return rss_mib(pid)


# ---- the run ---------------------------------------------------------------------------------------


def machine() -> dict:
    import temporalio

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    try:
        cli = subprocess.run([str(BIN / "temporal"), "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        cli = "?"
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "temporalio": temporalio.__version__,
        "temporal_cli": cli,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


async def dev_server_figures(args, results: dict, workdir: Path) -> None:
    from temporalio.client import Client

    from bench import bare as bare_mod
    from bench.project import ProjectSide, api_client, bench_settings, start_relay, start_worker

    figures = results["figures"]
    server = DevServer(workdir)
    procs = []
    with SmtpSink() as smtp:
        try:
            server.start()
            await server.wait_ready()
            print(f"bench: dev server on {server.address}, state in {workdir}", flush=True)
            settings = bench_settings(workdir, server.address, smtp.port)
            for n in range(args.workers):  # one by default, as `make dev` runs it
                log = workdir / ("worker.log" if n == 0 else f"worker-{n}.log")
                procs.append(await start_worker(settings, log, relay_process=args.relay_process))
            if args.relay_process:
                procs.append(await start_relay(settings, workdir / "relay.log"))
            bare_log = workdir / "bare-worker.log"
            procs.append(
                spawn(
                    [
                        sys.executable,
                        "-m",
                        "bench.bare",
                        "--address",
                        server.address,
                        "--task-queue",
                        "bare",
                        "--db",
                        str(workdir / "bare.db"),
                    ],
                    bare_log,
                )
            )
            await wait_for_line(procs[-1], bare_log, bare_mod.READY_LINE)
            bare_client = await Client.connect(server.address)
            async with api_client(settings) as (http, project_client):
                sides = {"bare": bare_mod.BareSide(bare_client, "bare", "a"), "project": ProjectSide(http, "a")}
                next_i = {"bare": 0, "project": 0}

                def take(name, n):
                    start = next_i[name]
                    next_i[name] += n
                    return start

                for name, side in sides.items():  # warm-up: imports, connections, caches
                    await one_at_a_time(side, 2, take(name, 2))
                    side.errors.clear()

                pids = [p.pid for p in procs]
                # Figure 2's processor time per action: the dev server and each side's own processes.
                round_pids = {
                    "bare": {"server": [server.proc.pid], "worker": [procs[-1].pid]},
                    "project": {"server": [server.proc.pid], "worker": pids[:-1]},
                }

                async def quiet():
                    waited = await quiesce(pids)
                    if waited > 5:
                        print(f"bench: waited {waited:.0f} s for the workers to finish what the last figure left", flush=True)
                    results.setdefault("quiesce_waits_s", []).append(round(waited, 1))

                if "1" in args.figures:
                    figures["one_at_a_time"] = {}
                    for name, side in sides.items():
                        await quiet()
                        print(f"bench: 1 one action at a time, {name}: {args.seq_audits} audits", flush=True)
                        figures["one_at_a_time"][name] = await one_at_a_time(side, args.seq_audits, take(name, args.seq_audits))
                if "2" in args.figures:
                    figures["at_once"] = {}
                    for n in args.concurrency:
                        # A round of 20 lasts seconds: the sides take turns, round after round, and
                        # the median round is reported, so one slow moment of the machine counts once.
                        rounds = {name: [] for name in sides}
                        for r in range(args.rounds):
                            for name, side in sides.items():
                                await quiet()
                                print(f"bench: 2 {n} audits at once, {name}, round {r + 1} of {args.rounds}", flush=True)
                                before = processor_seconds(round_pids[name])
                                run = await at_once(side, n, take(name, n))
                                await quiet()  # what the round left (emails, rows) is billed to it
                                run["cpu_ms_per_action"] = per_action_ms(
                                    before, processor_seconds(round_pids[name]), run["actions"]
                                )
                                rounds[name].append(run)
                        figures["at_once"][str(n)] = {name: median_round(runs) for name, runs in rounds.items()}
                if "3" in args.figures:
                    figures["bulk_allocation"] = {}
                    for name, side in sides.items():
                        await quiet()
                        print(f"bench: 3 bulk allocation of {args.bulk}, {name}", flush=True)
                        before = processor_seconds(round_pids[name])
                        run = await bulk_allocation(side, args.bulk, take(name, args.bulk), args.bulk_concurrency)
                        await quiet()
                        run["cpu_ms_per_audit"] = per_action_ms(before, processor_seconds(round_pids[name]), run["allocated"])
                        figures["bulk_allocation"][name] = run
                    await quiet()
                    print(f"bench: 3 a selection of {args.bulk} confirmed at once, bare starts", flush=True)
                    figures["bulk_selection"] = {"concurrency": settings.allocation_concurrency}
                    figures["bulk_selection"]["bare"] = await bulk_allocation(
                        sides["bare"], args.bulk, take("bare", args.bulk), settings.allocation_concurrency, "start_only"
                    )
                    await quiet()
                    print(f"bench: 3 a selection of {args.bulk} confirmed at once, project", flush=True)
                    figures["bulk_selection"]["project"] = await sides["project"].select_and_confirm(
                        args.bulk, rows_saved(settings)
                    )
                if "5" in args.figures:
                    await quiet()
                    print("bench: 5 history of one audit (dev server)", flush=True)
                    project = sides["project"]
                    i = take("project", 1)
                    timings = await project.sequence(i)
                    audit_id = __import__("services.allocation", fromlist=["audit_id_for"]).audit_id_for(
                        project.cycle,
                        __import__("models.enums", fromlist=["AuditKind"]).AuditKind.STANDARD,
                        project.allocation(i)["case_ref"],
                        __import__("temporal_client").workflow_id_key(settings),
                    )
                    history = await settled_history(project_client, f"audit-{audit_id}")
                    view = (await http.get(f"/audits/{audit_id}", headers={"Authorization": "Bearer dev-piat1"})).json()
                    figures["history_dev"] = {"reached": view.get("stage"), "actions": [n for n, _ in timings]} | history_figures(
                        history
                    )
                    bare_id = await sides["bare"].allocate(take("bare", 1))
                    for _, call in sides["bare"].steps(bare_id):
                        await call()
                    figures["history_dev"]["bare_json_bytes"] = len(
                        (await bare_client.get_workflow_handle(bare_id).fetch_history()).to_json().encode()
                    )
                for name, side in sides.items():
                    if side.errors:
                        results.setdefault("errors", {})[name] = side.errors[:10]
            await quiesce([p.pid for p in procs])
            for proc in procs:
                stop(proc)
            procs.clear()
            if "4" in args.figures:
                figures["worker_rss"] = await worker_rss(args, server, smtp, workdir)
        finally:
            for proc in procs:
                stop(proc)
            server.stop()


async def worker_rss(args, server: DevServer, smtp, workdir: Path) -> dict:
    """A fresh worker process per side on its own task queue, its cache big enough for every open
    audit; RSS idle, then after each level of open audits (allocated and waiting on the auditor)."""
    from temporalio.client import Client

    from bench import bare as bare_mod
    from bench.project import ProjectSide, api_client, bench_settings, start_worker

    levels = sorted(args.rss)
    # The worker's sticky cache: what fits (the production default, WORKER_MAX_CACHED_WORKFLOWS),
    # or with --rss-cache 0 every open audit. An audit out of the cache costs no memory; its next
    # task replays its history.
    cache = args.rss_cache or levels[-1] + 100
    out = {"levels": levels, "max_cached_workflows": cache}
    # bare
    log = workdir / "bare-rss-worker.log"
    proc = spawn(
        [
            sys.executable,
            "-m",
            "bench.bare",
            "--address",
            server.address,
            "--task-queue",
            "bare-rss",
            "--db",
            str(workdir / "bare.db"),
            "--max-cached",
            str(cache),
        ],
        log,
    )
    try:
        await wait_for_line(proc, log, bare_mod.READY_LINE)
        client = await Client.connect(server.address)
        side = bare_mod.BareSide(client, "bare-rss", "rss")
        out["bare"] = await rss_levels(side, proc.pid, levels, args.bulk_concurrency)
    finally:
        stop(proc)
    settings = bench_settings(workdir, server.address, smtp.port, task_queue="audits-rss")
    proc = await start_worker(settings, workdir / "rss-worker.log", max_cached=cache)
    try:
        async with api_client(settings) as (http, _):
            side = ProjectSide(http, "rss", cycle="2027-02")
            out["project"] = await rss_levels(side, proc.pid, levels, args.bulk_concurrency)
    finally:
        stop(proc)
    return out


async def rss_levels(side, pid: int, levels: list[int], concurrency: int) -> dict:
    idle = await settled_rss(pid)
    print(f"bench: 4 {side.name} worker idle RSS {idle:.0f} MiB", flush=True)
    out = {"idle_mib": idle, "at": {}}
    opened = 0
    for level in levels:
        t = time.perf_counter()
        result = await bulk_allocation(side, level - opened, opened, concurrency)
        opened = level
        rss = await settled_rss(pid)
        out["at"][str(level)] = {
            "rss_mib": rss,
            "allocated": result["allocated"],
            "errors": result["errors"],
            "alloc_s": time.perf_counter() - t,
            "per_audit_mib": (rss - idle) / max(1, level),
        }
        print(f"bench: 4 {side.name} {level} open audits: RSS {rss:.0f} MiB ({time.perf_counter() - t:.0f} s)", flush=True)
    top = out["at"][str(levels[-1])]
    if len(levels) >= 2:  # the marginal cost between the last two levels: no one-off warm-up in it
        below = out["at"][str(levels[-2])]
        out["marginal_per_audit_mib"] = (top["rss_mib"] - below["rss_mib"]) / (levels[-1] - levels[-2])
    else:
        out["marginal_per_audit_mib"] = top["per_audit_mib"]
    out["extrapolated_10000_mib"] = top["rss_mib"] + out["marginal_per_audit_mib"] * (10000 - levels[-1])
    return out


# ---- the table --------------------------------------------------------------------------------------


def fmt(v, unit=""):
    if v is None:
        return "—"
    if isinstance(v, float):
        v = f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
    return f"{v}{unit}"


def ratio(project, bare):
    return f"{project / bare:.2f}×" if project and bare else "—"


def verdict(ok):
    return "—" if ok is None else ("met" if ok else "**missed**")


CPU_LABELS = {
    "server": "dev server",
    "worker": "worker processes",
    "bench": "bench process (project: the API and the SMTP sink; bare: its client)",
}


def table(results: dict) -> str:
    f = results["figures"]
    rows = []
    if one := f.get("one_at_a_time"):
        b, p = one["bare"], one["project"]
        rows.append(
            (
                "1 one action at a time: p50 (ms)",
                fmt(b["p50_ms"]),
                fmt(p["p50_ms"]),
                ratio(p["p50_ms"], b["p50_ms"]),
                "≤ 1.3× bare",
                verdict(p["p50_ms"] <= 1.3 * b["p50_ms"]),
            )
        )
        rows.append(
            (
                "1 one action at a time: p95 (ms)",
                fmt(b["p95_ms"]),
                fmt(p["p95_ms"]),
                ratio(p["p95_ms"], b["p95_ms"]),
                "≤ 1.5× bare",
                verdict(p["p95_ms"] <= 1.5 * b["p95_ms"]),
            )
        )
        for action in ("allocate", "grading", "conversation", "submit", "qa"):
            bp, pp = b["per_action_p50_ms"].get(action), p["per_action_p50_ms"].get(action)
            rows.append((f"1 … {action}: p50 (ms)", fmt(bp), fmt(pp), ratio(pp, bp), "", ""))
    for n, sides in (f.get("at_once") or {}).items():
        b, p = sides["bare"], sides["project"]
        target = "≥ 0.75× bare" if n == "20" else ""
        tries = len(p.get("rounds_actions_per_s", [0]))
        failed = "".join(
            f" ({x['errors']} of {int(n) * tries} {nm} audits stopped by an error, e.g. a 504)"
            for nm, x in sides.items()
            if x["errors"]
        )
        spread = (
            f", median of {tries} rounds (bare {', '.join(map(str, b['rounds_actions_per_s']))}; "
            f"project {', '.join(map(str, p['rounds_actions_per_s']))})"
            if tries > 1
            else ""
        )
        rows.append(
            (
                f"2 {n} audits at once: throughput (actions/s){spread}{failed}",
                fmt(b["actions_per_s"]),
                fmt(p["actions_per_s"]),
                ratio(p["actions_per_s"], b["actions_per_s"]),
                target,
                verdict(p["actions_per_s"] >= 0.75 * b["actions_per_s"]) if target else "",
            )
        )
        rows.append(
            (f"2 {n} audits at once: p95 (ms)", fmt(b["p95_ms"]), fmt(p["p95_ms"]), ratio(p["p95_ms"], b["p95_ms"]), "", "")
        )
        for proc, label in CPU_LABELS.items():
            if proc in p.get("cpu_ms_per_action", {}):
                bc, pc = b["cpu_ms_per_action"][proc], p["cpu_ms_per_action"][proc]
                rows.append((f"2 {n} … processor time per action, {label} (ms)", fmt(bc), fmt(pc), ratio(pc, bc), "", ""))
    if bulk := f.get("bulk_allocation"):
        b, p = bulk["bare"], bulk["project"]
        failed = "".join(
            f" ({x['audits'] - x['allocated']} {nm} allocations failed)" for nm, x in bulk.items() if x["allocated"] < x["audits"]
        )
        rows.append(
            (
                f"3 bulk allocation of {p['audits']} ({p['concurrency']} at a time): audits/s{failed}",
                fmt(b["audits_per_s"]),
                fmt(p["audits_per_s"]),
                ratio(p["audits_per_s"], b["audits_per_s"]),
                "≥ 20 audits/s",
                verdict(p["audits_per_s"] >= 20),
            )
        )
        for proc, label in CPU_LABELS.items():
            if proc in p.get("cpu_ms_per_audit", {}):
                bc, pc = b["cpu_ms_per_audit"][proc], p["cpu_ms_per_audit"][proc]
                rows.append((f"3 … processor time per allocation, {label} (ms)", fmt(bc), fmt(pc), ratio(pc, bc), "", ""))
    if sel := f.get("bulk_selection"):
        b, p = sel["bare"], sel["project"]
        refused = f" ({p['audits'] - p['allocated']} refused)" if p["allocated"] < p["audits"] else ""
        rows.append(
            (
                f"3 a selection of {p['audits']} confirmed in one request ({sel['concurrency']} started side by side): "
                f"audits/s to the answer{refused} (bare: `start_workflow` alone)",
                fmt(b["audits_per_s"]),
                fmt(p["answered_per_s"]),
                ratio(p["answered_per_s"], b["audits_per_s"]),
                "",
                "",
            )
        )
        rows.append(
            (
                "3 … audits/s until every audit's allocation step is done (people told, deadlines set)",
                "",
                fmt(p["settled_per_s"]),
                "",
                "≥ 20 audits/s",
                verdict(p["settled_per_s"] >= 20),
            )
        )
    if rss := f.get("worker_rss"):
        b, p = rss["bare"], rss["project"]
        rows.append(
            ("4 worker RSS idle (MiB)", fmt(b["idle_mib"]), fmt(p["idle_mib"]), ratio(p["idle_mib"], b["idle_mib"]), "", "")
        )
        for level in rss["levels"]:
            bl, pl = b["at"][str(level)], p["at"][str(level)]
            rows.append(
                (
                    f"4 worker RSS, {level:,} open audits, cache {rss['max_cached_workflows']:,} (MiB)",
                    fmt(bl["rss_mib"]),
                    fmt(pl["rss_mib"]),
                    ratio(pl["rss_mib"], bl["rss_mib"]),
                    "" if level != 10000 else "< 1024 MiB",
                    "" if level != 10000 else verdict(pl["rss_mib"] < 1024),
                )
            )
        top = str(rss["levels"][-1])
        rows.append(
            (
                f"4 … per open audit above idle, at {int(top):,} (KiB)",
                fmt(b["at"][top]["per_audit_mib"] * 1024),
                fmt(p["at"][top]["per_audit_mib"] * 1024),
                ratio(p["at"][top]["per_audit_mib"], b["at"][top]["per_audit_mib"]),
                "",
                "",
            )
        )
        if len(rss["levels"]) >= 2:
            lo = rss["levels"][-2]
            rows.append(
                (
                    f"4 … marginal per open audit, {lo:,} → {int(top):,} (KiB)",
                    fmt(b["marginal_per_audit_mib"] * 1024),
                    fmt(p["marginal_per_audit_mib"] * 1024),
                    ratio(p["marginal_per_audit_mib"], b["marginal_per_audit_mib"]),
                    "",
                    "",
                )
            )
        if 10000 not in rss["levels"]:
            rows.append(
                (
                    f"4 10,000 open audits, **extrapolated** linearly from {int(top):,} (MiB)",
                    fmt(b["extrapolated_10000_mib"]),
                    fmt(p["extrapolated_10000_mib"]),
                    ratio(p["extrapolated_10000_mib"], b["extrapolated_10000_mib"]),
                    "< 1024 MiB",
                    verdict(p["extrapolated_10000_mib"] < 1024) + " (extrapolated)",
                )
            )
    if h := f.get("history_dev"):
        rows.append(
            (
                f"5 history, allocate → QA accepted ({h['reached']}; dev server): JSON bytes",
                fmt(h["bare_json_bytes"]),
                fmt(h["json_bytes"]),
                ratio(h["json_bytes"], h["bare_json_bytes"]),
                "< 60 KB",
                verdict(h["json_bytes"] < 60_000),
            )
        )
        rows.append(("5 … largest payload (bytes)", "", f"{h['largest_payload_bytes']} ({h['largest_payload']})", "", "", ""))
    if h := f.get("history_full"):
        rows.append(
            (
                f"5 history of a full audit to its end ({h['reached']}; time-skipping): JSON bytes",
                "",
                fmt(h["json_bytes"]),
                "",
                "< 60 KB",
                verdict(h["json_bytes"] < 60_000),
            )
        )
        rows.append(("5 … largest payload (bytes)", "", f"{h['largest_payload_bytes']} ({h['largest_payload']})", "", "", ""))
        saves = h.get("row_saves_bytes")
        held = (
            f"row saves {min(saves[1:-1] or saves)}–{max(saves[1:-1] or saves)} B; the whole view saved at the end: "
            f"{saves[-1]} B vs {saves[0]} B at the start"
            if saves
            else "the row's saves are local activities: their input, the whole view, is not in the history"
        )
        rows.append(
            (
                "5 … payloads growing with the audit's age",
                "",
                f"{', '.join(h['growing_payloads']) or 'none'} ({held})",
                "",
                "none",
                verdict(not h["growing_payloads"]),
            )
        )
    if y := f.get("year"):
        b, p = y["bare"], y["project"]
        rows.append(
            (
                f"6 council year, {y['audits']} audits (time-skipping): wall (s)",
                fmt(b["wall_s"]),
                fmt(p["wall_s"]),
                ratio(p["wall_s"], b["wall_s"]),
                "",
                "",
            )
        )
        rows.append(
            (
                f"6 … steps/s ({p['steps']} steps)",
                fmt(b["steps_per_s"]),
                fmt(p["steps_per_s"]),
                ratio(p["steps_per_s"], b["steps_per_s"]),
                "",
                "",
            )
        )
    lines = ["| figure | bare Temporal | this project | ratio | target | |", "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    m = results["machine"]
    lines.append("")
    lines.append(f"App database: {m.get('app_database', 'a SQLite file')}.")
    lines.append(
        f"Measured {m['date']} on {m['cores']} cores ({m['cpu']}), Python {m['python']}, temporalio {m['temporalio']}, "
        f"{m['temporal_cli'].splitlines()[0] if m['temporal_cli'] else 'temporal CLI ?'}; `{results['command']}`."
    )
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small counts (< 2 minutes); writes bench/results/quick.*")
    p.add_argument("--figures", default="123456", help="which figures to run, e.g. 125")
    p.add_argument("--seq-audits", type=int, help="figure 1: audits taken one action at a time (default 30)")
    p.add_argument("--concurrency", help="figure 2: audits at once, comma-separated (default 20,100)")
    p.add_argument("--rounds", type=int, help="figure 2: rounds of each side, taking turns; the median is reported (default 3)")
    p.add_argument("--bulk", type=int, help="figure 3: audits allocated (default 300)")
    p.add_argument("--bulk-concurrency", type=int, default=50, help="figures 3 and 4: allocations in flight (default 50)")
    p.add_argument("--rss", help="figure 4: open-audit levels, comma-separated (default $BENCH_SCALE or 1000,3000)")
    p.add_argument(
        "--rss-cache",
        type=int,
        help="figure 4: the worker's sticky cache (default the worker's own, WORKER_MAX_CACHED_WORKFLOWS; 0: every open audit)",
    )
    p.add_argument("--year-audits", type=int, help="figure 6: audits in the simulated year (default 60)")
    p.add_argument("--workers", type=int, default=1, help="figures 1 to 3 and 5: the project's worker processes (default 1)")
    p.add_argument(
        "--relay-process",
        action="store_true",
        help="figures 1 to 3 and 5: the email relay as its own process (python worker.py --relay), not in the worker",
    )
    p.add_argument(
        "--postgres",
        action="store_true",
        help="the project's app database on a throwaway PostgreSQL cluster (tests/helpers/postgres.py), as "
        "production runs it, instead of a SQLite file; the bare side keeps its SQLite file",
    )
    p.add_argument("--out", help="results name under bench/results (default latest, or quick)")
    a = p.parse_args(argv)
    q = a.quick
    a.seq_audits = a.seq_audits or (8 if q else 30)
    a.concurrency = [int(x) for x in (a.concurrency or ("20" if q else "20,100")).split(",")]
    a.bulk = a.bulk or (60 if q else 300)
    a.rounds = a.rounds or (1 if q else 3)
    if a.rss_cache is None:
        from models.settings import Settings

        a.rss_cache = Settings().worker_max_cached_workflows
    a.rss = [int(x) for x in (a.rss or os.environ.get("BENCH_SCALE") or ("200" if q else "1000,3000")).split(",")]
    a.year_audits = a.year_audits or (12 if q else 60)
    a.out = a.out or ("quick" if q else "latest") + ("-postgres" if a.postgres else "")
    return a


async def main(argv=None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C: every `finally` and atexit stops the server and the workers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = {
        "machine": machine(),
        "command": "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "config": {k: v for k, v in vars(args).items()},
        "figures": {},
    }
    started = time.perf_counter()
    cluster = None
    if args.postgres:
        from tests.helpers.postgres import Cluster

        cluster = Cluster(durable=True).start()
        os.environ["BENCH_DATABASE_URL"] = cluster.new_database()  # read by bench/project.py's settings
        results["machine"]["app_database"] = f"PostgreSQL ({cluster.bin.parent.name}, throwaway cluster, fsync on)"
    try:
        with tempfile.TemporaryDirectory(prefix="qsaf-bench-") as tmp:
            await _figures(args, results, Path(tmp))
    finally:
        if cluster:
            cluster.stop()
    results["wall_s"] = time.perf_counter() - started
    md = table(results)
    print("\n" + md + "\n", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (RESULTS / f"{args.out}.md").write_text(md + "\n")
    print(f"bench: wrote bench/results/{args.out}.json and .md ({results['wall_s']:.0f} s)")
    if results.get("errors"):
        print(f"bench: errors (see the JSON): {json.dumps(results['errors'], indent=1)[:2000]}")
    return 0


async def _figures(args, results: dict, tmp: Path) -> None:
    if set(args.figures) & set("12345"):
        await dev_server_figures(args, results, tmp)
    if "6" in args.figures:
        from bench.year import year_figures

        await year_figures(args, results, tmp / "year")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
