"""This project, driven as staff drive it: real actions through the FastAPI app, called
in-process over httpx's ASGI transport (as tests/conftest.py's `api` fixture does, so no HTTP
socket), against the dev server; `python worker.py` runs in its own process with the settings
passed as environment variables (as `make dev` runs it)."""

import asyncio
import contextlib
import os
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bench.server import ROOT, spawn, wait_for_line

LONDON = ZoneInfo("Europe/London")
ACTIONS = ["allocate", "grading", "conversation", "submit", "qa"]
WORKER_READY = "worker polling task queue"
RELAY_READY = "email relay delivering the outbox"
CYCLE = "2027-01"  # a future cycle holding standard audits: allocation checks the real date


def bench_settings(workdir: Path, temporal_address: str, smtp_port: int, task_queue: str = "audits"):
    from models.settings import Settings
    from temporal_client import new_key_file

    staff = workdir / "staff.toml"
    if not staff.exists():
        staff.write_text((ROOT / "data" / "staff.dev.toml").read_text() + bench_teams())
    keys = workdir / "payload-keys.json"
    if not keys.exists():
        new_key_file(keys, "bench-key")  # every payload encrypted, as in `make dev`
    return Settings(
        temporal_address=temporal_address,
        temporal_task_queue=task_queue,
        # BENCH_DATABASE_URL: an empty app database elsewhere, e.g. PostgreSQL as production runs it.
        database_url=os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'qsaf.db'}",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        staff_directory=staff,
        payload_keys_file=keys,
        auth_mode="dev",
        allow_dev_auth=True,
    )


SETTLE_LIMIT_S = 600  # a confirmed month whose audits never all settle fails the figure, not the run forever
BENCH_TEAMS = 20  # figure 3's selection: up to 50 cases a team, so up to 1,000 cases


def bench_teams() -> str:
    """The dev directory has two teams; a large council's month needs more, each a Team Manager
    (an auditor of the other teams' cases) and a practitioner."""

    def member(id_, roles, team, manager):
        return (
            f'\n[[staff]]\nid = "{id_}"\nname = "Bench {id_}"\nemail = "{id_}@council.example"\nroles = {roles}\n'
            f'team = "{team}"\nservice_area = "safeguarding"\nmanager_id = "{manager}"\n'
        )

    return "".join(
        member(f"btm{t}", '["team_manager", "auditor"]', f"Bench Team {t}", "hos1")
        + member(f"bsw{t}", '["practitioner"]', f"Bench Team {t}", f"btm{t}")
        for t in range(1, BENCH_TEAMS + 1)
    )


def worker_env(settings, max_cached: int) -> dict[str, str]:
    return os.environ | {
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        "DATABASE_URL": settings.database_url,
        "SQLITE_SYNCHRONOUS": settings.sqlite_synchronous,
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": str(settings.smtp_port),
        "STAFF_DIRECTORY": str(settings.staff_directory),
        "PAYLOAD_KEYS_FILE": str(settings.payload_keys_file),
        "WORKER_MAX_CACHED_WORKFLOWS": str(max_cached),
    }


def relay_process_env(env: dict[str, str]) -> dict[str, str]:
    """`--relay-process`: the worker without its relay, which `start_relay` runs on its own."""
    return env | {"WORKER_EMAIL_RELAY": "false", "EMAIL_RELAY_POLL_SECONDS": "1"}


async def start_worker(settings, log: Path, max_cached: int = 1000, relay_process: bool = False):
    """`python worker.py`, polling once its log says so."""
    import sys

    env = worker_env(settings, max_cached)
    proc = spawn([sys.executable, "worker.py"], log, relay_process_env(env) if relay_process else env)
    await wait_for_line(proc, log, WORKER_READY)
    return proc


async def start_relay(settings, log: Path):
    """`python worker.py --relay`, delivering once its log says so."""
    import sys

    proc = spawn([sys.executable, "worker.py", "--relay"], log, relay_process_env(worker_env(settings, 0)))
    await wait_for_line(proc, log, RELAY_READY)
    return proc


def grades(grade: str = "good") -> dict:
    from models.audit_tools import tool_for
    from models.enums import ServiceArea

    domains = [
        {"domain": d.name, "grade": grade, "rationale": f"evidence for {d.name}"}
        for d in tool_for(ServiceArea("safeguarding")).domains
    ]
    return {"domains": domains, "overall": {"grade": grade, "rationale": "overall rationale"}}


class ActionFailed(Exception):
    pass


class ProjectSide:
    """One audit's staff actions through the API; each call timed."""

    name = "project"

    def __init__(self, http: httpx.AsyncClient, tag: str, cycle: str = CYCLE) -> None:
        self.http, self.tag, self.cycle = http, tag, cycle
        self.errors: list[str] = []

    async def _call(self, method: str, url: str, actor: str, json=None, expect=(200, 201)) -> dict:
        r = await self.http.request(method, url, json=json, headers={"Authorization": f"Bearer dev-{actor}"})
        if r.status_code not in expect:
            self.errors.append(f"{method} {url}: {r.status_code} {r.text[:200]}")
            raise ActionFailed(self.errors[-1])
        return r.json()

    def allocation(self, i: int) -> dict:
        return {
            "case_ref": f"C-{self.tag}{i:06d}",
            "service_area": "safeguarding",
            "kind": "standard",
            "cycle": self.cycle,
            "auditor_id": "tm2",
            "practitioner_id": "sw1",
            "involvement_start": "2026-03-01",
            "cp_chair_or_iro_id": "iro1",
        }

    async def allocate(self, i: int) -> str:
        return (await self._call("POST", "/audits", "piat1", self.allocation(i)))["audit_id"]

    async def select_and_confirm(self, n: int, allocated) -> dict:
        """A month's allocation as PIAT makes it: the open-case list imported, a selection of `n`
        cases proposed (n / BENCH_TEAMS a team), then confirmed in one request. Timed to the
        confirmation's answer, and on to when `allocated(case_refs)` (every audit's row saved
        at the end of its allocation step: people told, deadlines set) holds."""
        per_team = -(-n // BENCH_TEAMS)
        cases = [f"C-{self.tag}S{i:05d}" for i in range(per_team * BENCH_TEAMS)]
        csv = "case_ref,service_area,practitioner_id,involvement_start,cp_chair_or_iro_id\n" + "".join(
            f"{c},safeguarding,bsw{i % BENCH_TEAMS + 1},2026-03-01,\n" for i, c in enumerate(cases)
        )
        r = await self.http.post(
            "/cases/import", content=csv.encode(), headers={"Authorization": "Bearer dev-piat1", "Content-Type": "text/csv"}
        )
        if r.status_code != 200:
            raise ActionFailed(f"import: {r.status_code} {r.text[:200]}")
        selection = await self._call("POST", f"/cycles/{self.cycle}/selections", "piat1", {"per_team": per_team, "seed": 1})
        chosen = selection["proposal"][:n]
        t = time.perf_counter()
        confirmed = (
            await self._call("POST", f"/selections/{selection['selection_id']}/confirm", "piat1", {"allocations": chosen})
        )["confirmed"]
        answered = time.perf_counter() - t
        started = [c["case_ref"] for c in confirmed if c["audit_id"]]
        while not allocated(started):
            if time.perf_counter() - t > SETTLE_LIMIT_S:
                raise ActionFailed(f"the confirmed audits' rows were not all saved within {SETTLE_LIMIT_S} s")
            await asyncio.sleep(0.1)
        settled = time.perf_counter() - t
        refused = [c["refused"] for c in confirmed if c["refused"]]
        return {
            "audits": len(chosen),
            "allocated": len(started),
            "refused": refused[:5],
            "answered_s": answered,
            "settled_s": settled,
            "answered_per_s": len(started) / answered,
            "settled_per_s": len(started) / settled,
        }

    def steps(self, audit_id: str, today: date | None = None):
        today = today or datetime.now(LONDON).date()
        grading = grades() | {
            "improvement_plan": [{"action": "Update the chronology", "owner_id": "sw1", "due_on": "2027-03-01"}]
        }
        conversation = {"held_on": today.isoformat(), "notes": "reflective discussion of strengths and gaps"} | grades()
        a = f"/audits/{audit_id}"
        return [
            ("grading", lambda: self._call("PUT", f"{a}/grading", "tm2", grading)),
            ("conversation", lambda: self._call("POST", f"{a}/practitioner-conversation", "tm2", conversation)),
            ("submit", lambda: self._call("POST", f"{a}/submit", "tm2")),
            (
                "qa",
                lambda: self._call(
                    "POST", f"{a}/qa", "piat1", {"decision": "accept", "details": "", "discussion_offered": False}
                ),
            ),
        ]

    async def sequence(self, i: int) -> list[tuple[str, float]]:
        """allocate → grading → conversation → submit → QA accept; (action, seconds) for each done."""
        timings = []
        try:
            t = time.perf_counter()
            audit_id = await self.allocate(i)
            timings.append(("allocate", time.perf_counter() - t))
            for name, call in self.steps(audit_id):
                t = time.perf_counter()
                await call()
                timings.append((name, time.perf_counter() - t))
        except (ActionFailed, httpx.HTTPError) as error:
            if not isinstance(error, ActionFailed):
                self.errors.append(repr(error))
        return timings


@contextlib.asynccontextmanager
async def api_client(settings):
    """The app over the dev server, in this process (its own Temporal client with the codec)."""
    from api.deps import Services
    from api.main import create_app
    from models.staff import StaffDirectory
    from database import make_engine
    from temporal_client import connect

    client = await connect(settings)
    app = create_app(
        Services(
            settings=settings,
            client=client,
            engine=make_engine(settings.database_url, settings.sqlite_synchronous),
            directory=StaffDirectory.load(settings.staff_directory),
        )
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120) as http:
        yield http, client
