"""Figure 6: a simulated council year on the time-skipping test server (and figure 5's history of
a full audit, to its end). The project: N standard audits spread over 2027's standard cycles,
driven through the API in-process (tests/helpers.py's building blocks) with a worker from
`worker.run_worker` in this process (the time-skipping server needs its worker beside the test):
allocation, grading and conversation, submission, QA (one in five returned and amended), the
findings discussion for a Requires Improvement or Inadequate report, and the re-audits those plan
(allocated by the workflow at a later cycle's start to a senior manager, done through the API).
The bare side: the same number of update → activity steps, batched by the same months, on the
same server (no time skips: bare workflows have no deadlines to reach)."""

import asyncio
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

from bench.server import BIN, SmtpSink

MONTHS = (1, 2, 4, 7, 9, 11)  # 2027's standard cycles (models.cycles.STANDARD_MONTHS)
ALL_CYCLE_MONTHS = (1, 2, 3, 4, 5, 6, 7, 9, 10, 11)


def first_weekday(year: int, month: int) -> date:
    d = date(year, month, 1)
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


class Counter:
    def __init__(self) -> None:
        self.steps = 0
        self.errors: list[str] = []


async def year_figures(args, results: dict, workdir: Path) -> None:
    from temporalio.client import Client
    from temporalio.testing import WorkflowEnvironment

    from api.deps import Services
    from api.main import create_app
    from bench import bare as bare_mod
    from bench.__main__ import history_figures
    from bench.project import bench_settings
    from models.staff import StaffDirectory
    from database import make_engine
    from temporal_client import codec_for, data_converter
    from tests.conftest import Api
    from worker import register_search_attributes, run_worker

    workdir.mkdir(parents=True, exist_ok=True)
    n = args.year_audits
    print(f"bench: 6 council year on the time-skipping server: {n} audits", flush=True)
    with SmtpSink() as smtp:
        settings = bench_settings(workdir, "time-skipping", smtp.port, task_queue="audits-year")
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=data_converter(codec_for(settings)), test_server_existing_path=str(BIN / "temporal-test-server")
        )
        try:
            await register_search_attributes(env.client, env.client.namespace)
            engine = make_engine(settings.database_url, settings.sqlite_synchronous)
            app = create_app(
                Services(
                    settings=settings, client=env.client, engine=engine, directory=StaffDirectory.load(settings.staff_directory)
                )
            )
            async with (
                run_worker(env.client, settings),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120) as http,
            ):
                api = Api(http)
                counter = Counter()
                t = time.perf_counter()
                firsts = await simulate_year(api, env, n, counter)
                wall = time.perf_counter() - t
                project = {
                    "wall_s": wall,
                    "steps": counter.steps,
                    "steps_per_s": counter.steps / wall,
                    "errors": len(counter.errors),
                    "error_samples": counter.errors[:5],
                }
                # Figure 5, to the end: the January audits' histories, now that their runs are over.
                full = []
                for audit_id, grade in firsts:
                    handle = env.client.get_workflow_handle(f"audit-{audit_id}")
                    full.append((grade, await raw_status(env.client, handle.id), history_figures(await handle.fetch_history())))
            # bare: the same number of steps, in the same monthly batches
            bare_client = Client(env.client.service_client, namespace=env.client.namespace)  # default converter
            async with bare_mod.build_worker(bare_client, "bare-year", str(workdir / "bare.db")):
                side = bare_mod.BareSide(bare_client, "bare-year", "year")
                t = time.perf_counter()
                steps = await bare_year(side, n, counter.steps)
                wall = time.perf_counter() - t
                bare = {"wall_s": wall, "steps": steps, "steps_per_s": steps / wall, "errors": len(side.errors)}
        finally:
            await env.shutdown()
    results["figures"]["year"] = {"audits": n, "project": project, "bare": bare}
    if full:
        largest = max(full, key=lambda f: f[2]["json_bytes"])
        good = [f for f in full if f[0] == "good"]  # straight through: allocate → ... → QA accept → end
        pick = good[0] if good else largest
        results["figures"]["history_full"] = pick[2] | {
            "reached": f"{pick[0]} audit, workflow {pick[1].lower()}",
            "january_audits": [
                {
                    "grade": g,
                    "status": s,
                    "json_bytes": h["json_bytes"],
                    "events": h["events"],
                    "largest_payload_bytes": h["largest_payload_bytes"],
                }
                for g, s, h in full
            ],
            "largest_of_january": {
                "grade": largest[0],
                "status": largest[1],
                "json_bytes": largest[2]["json_bytes"],
                "largest_payload_bytes": largest[2]["largest_payload_bytes"],
                "growing_payloads": largest[2]["growing_payloads"],
            },
        }


async def raw_status(client, workflow_id: str) -> str:
    """Read raw: the time-skipping server keeps unset search attributes empty, which the typed
    `describe()` cannot decode (as tests/helpers.py's search_attributes says)."""
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.enums.v1 import WorkflowExecutionStatus
    from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

    described = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id))
    )
    return WorkflowExecutionStatus.Name(described.workflow_execution_info.status).removeprefix("WORKFLOW_EXECUTION_STATUS_")


GRADES = ["good", "good", "requires_improvement", "good", "inadequate", "requires_improvement", "outstanding", "good"]


async def simulate_year(api, env, n: int, counter: Counter) -> list[tuple[str, str]]:
    """Returns the January audits (id, grade): figure 5 reads their histories at the year's end."""
    from tests import helpers as h

    per_month = [n // len(MONTHS) + (1 if i < n % len(MONTHS) else 0) for i in range(len(MONTHS))]
    januaries: list[tuple[str, str]] = []
    case = 0

    async def step(coro):
        try:
            result = await coro
            counter.steps += 1
            return result
        except AssertionError as error:  # tests.helpers assert the status: count, report, go on
            counter.errors.append(str(error)[:300])
            raise

    async def one_audit(i: int, grade: str, month: int) -> tuple[str, str] | None:
        try:
            audit_id = (await step(h.allocate(api, case_ref=f"C-Y{i:06d}", cycle=f"2027-{month:02d}")))["audit_id"]
            r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=h.grading(grade=grade))
            assert r.status_code == 200, r.text
            counter.steps += 1
            r = await api.as_("tm2").post(
                f"/audits/{audit_id}/practitioner-conversation", json=h.conversation(await h.today(env), grade=grade)
            )
            assert r.status_code == 200, r.text
            counter.steps += 1
            await step(h.submit(api, audit_id))
            if i % 5 == 0:  # returned, amended, resubmitted
                await step(h.qa(api, audit_id, "return", details="please evidence the child's voice"))
                r = await api.as_("tm2").put(f"/audits/{audit_id}/grading", json=h.grading(grade=grade))
                assert r.status_code == 200, r.text
                counter.steps += 1
                await step(h.submit(api, audit_id))
            await step(h.qa(api, audit_id))
            if grade in ("requires_improvement", "inadequate"):
                await discussion(api, env, audit_id, counter)
            return audit_id, grade if i % 5 else f"{grade}, returned once"
        except AssertionError as error:
            if not counter.errors or str(error)[:300] != counter.errors[-1]:
                counter.errors.append(str(error)[:300])
            return None

    for month in ALL_CYCLE_MONTHS:
        start = first_weekday(2027, month)
        await h.skip_to(env, h.london(start.year, start.month, start.day, 10))
        await reaudits(api, env, counter)  # those the workflows allocated at 09:00
        if month in MONTHS:
            batch = per_month[MONTHS.index(month)]
            done = await asyncio.gather(*(one_audit(case + k, GRADES[(case + k) % len(GRADES)], month) for k in range(batch)))
            case += batch
            if month == 1:
                januaries = [d for d in done if d]
        # past the dispute window (5 working days): the upload, the re-audit plans
        await h.skip_to(env, h.london(start.year, start.month, start.day, 10) + timedelta(days=12))
        print(f"bench: 6 … 2027-{month:02d} done, {counter.steps} steps", flush=True)
    await h.skip_to(env, h.london(2027, 12, 31, 12))
    return januaries


async def discussion(api, env, audit_id: str, counter: Counter) -> None:
    from tests import helpers as h

    r = await api.as_("tm1").post(f"/audits/{audit_id}/findings-discussion", json=h.findings_discussion(await h.today(env)))
    assert r.status_code == 200, r.text
    counter.steps += 1
    r = await api.as_("piat1").post(f"/audits/{audit_id}/findings-discussion/review", json={"decision": "accept"})
    assert r.status_code == 200, r.text
    counter.steps += 1


async def reaudits(api, env, counter: Counter) -> None:
    """Re-audits allocated at this cycle's start: their auditor (a senior manager) completes them, Good."""
    from tests import helpers as h

    for _ in range(20):  # the projection catches up just after the allocation
        r = await api.as_("piat1").get("/audits", params={"stage": "allocated", "limit": 500})
        pending = [a for a in r.json() if a["reaudit_round"] >= 1]
        if pending:
            break
        await asyncio.sleep(0.05)

    async def one(a):
        try:
            aid, auditor = a["audit_id"], a["auditor_id"]
            await h.complete(api, env, aid, grade="good", auditor=auditor)
            counter.steps += 2
            await h.submit(api, aid, auditor)
            counter.steps += 1
            await h.qa(api, aid)
            counter.steps += 1
        except AssertionError as error:
            counter.errors.append(str(error)[:300])

    await asyncio.gather(*(one(a) for a in pending))


async def bare_year(side, audits: int, steps: int) -> int:
    """`steps` update → activity steps over `audits` bare workflows, in six monthly batches."""
    per_audit = max(1, steps // audits)
    extra = steps - per_audit * audits
    done = 0

    async def one(i: int, k: int) -> int:
        workflow_id = await side.allocate(i)
        handle = side.client.get_workflow_handle(workflow_id)
        for s in range(k - 1):
            await handle.execute_update(bare_mod_act(), args=[f"step-{s}", "{}"])
        return k

    sizes = [per_audit + (1 if i < extra else 0) for i in range(audits)]
    batches = [list(range(audits))[b :: len(MONTHS)] for b in range(len(MONTHS))]
    for batch in batches:
        done += sum(await asyncio.gather(*(one(i, sizes[i]) for i in batch)))
    return done


def bare_mod_act():
    from bench.bare import BareAudit

    return BareAudit.act
