"""What the fault tests share: a worker in its own process (to SIGKILL), an SMTP server that can
go down and come back on the same port, the real Temporal dev server, an API client that retries
like a real one, and the check that every notification was delivered exactly once.

Every wait here is a bounded loop; every process started here is killed in a `finally`.
"""

import asyncio
import contextlib
import uuid
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlmodel import Session, select
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporal_client import codec_for, data_converter, dev_server_flags
from temporalio.service import RPCError, RPCStatusCode

from models.settings import ROOT, Settings
from models.tables import MosaicOutbox, NotificationRecord
from tests.helpers.smtp import Inbox
from tests.helpers import LONDON, free_port

PYTHON = sys.executable
BIN = Path(sys.executable).parent  # the venv: temporal, temporal-test-server


# ---- SMTP that can fail ---------------------------------------------------------------------------


class SmtpServer(Inbox):
    """The tests' inbox on a fixed port, stopped and started again at will; keeps every message."""

    def __init__(self) -> None:
        super().__init__()
        self.port = free_port()  # aiosmtpd cannot start on port 0
        self.after_accepting: Callable[[int], None] | None = None  # called with how many so far
        self._told = 0
        self._controller: Controller | None = None

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        # The message is accepted (250 after DATA) and the sender waits for this reply inside its
        # SMTP session, not yet past recording the delivery: the moment a crash costs the most.
        accepted = len(self.messages)
        if self.after_accepting is not None and accepted > self._told:
            self._told = accepted  # once per message, whatever sessions end without one
            self.after_accepting(accepted)
        return "221 Bye"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def keys(self) -> Counter:
        return Counter(m["X-QSAF-Key"] for m in self.messages)


# ---- the worker as a process -----------------------------------------------------------------------


def worker_environment(settings: Settings, temporal_address: str, cached_workflows: int = 0) -> dict[str, str]:
    """What `python worker.py` reads, pointing at the test's servers and files."""
    return os.environ | {
        "TEMPORAL_ADDRESS": temporal_address,
        "TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        "DATABASE_URL": settings.database_url,
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": str(settings.smtp_port),
        "STAFF_DIRECTORY": str(settings.staff_directory),
        "PAYLOAD_KEYS_FILE": str(settings.payload_keys_file or ""),
        # No cache, so no sticky queue: the time-skipping server never hands a killed worker's
        # sticky tasks back to the shared queue, so each task must be one any worker can take.
        "WORKER_MAX_CACHED_WORKFLOWS": str(cached_workflows),
        "WORKER_METRICS_PORT": "0",  # workers side by side would share the default port
    }


class WorkerProcesses:
    """`python worker.py` subprocesses, `count` of them kept alive by `supervise` (one unless a
    test says otherwise); all killed in `close()`."""

    READY_LINE = "worker polling task queue"
    MAX_STARTS = 20  # a worker that dies on its own must fail the test, not restart forever

    def __init__(self, environment: dict[str, str], logs: Path, count: int = 1) -> None:
        self.environment, self.logs, self.count = environment, logs, count
        self.started: list[subprocess.Popen] = []
        self.terminated: list[subprocess.Popen] = []  # SIGTERMed: finishing their work, then gone
        self.kills = 0
        self.down_until = 0.0  # monotonic: `supervise` starts no worker before

    @property
    def running(self) -> list[subprocess.Popen]:
        """Alive and not told to stop, oldest first."""
        return [p for p in self.started if p.poll() is None and p not in self.terminated]

    @property
    def current(self) -> subprocess.Popen | None:
        running = self.running
        return running[-1] if running else None

    def start(self) -> subprocess.Popen:
        assert len(self.started) < self.MAX_STARTS, f"{self.MAX_STARTS} workers started; the last:\n{self._log(-1)}"
        log = self.logs / f"worker-{len(self.started)}.log"
        with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen([PYTHON, "worker.py"], cwd=ROOT, env=self.environment, stdout=out, stderr=subprocess.STDOUT)
        self.started.append(proc)
        return proc

    def _log(self, index: int) -> str:
        return (self.logs / f"worker-{index % len(self.started)}.log").read_text(errors="replace")

    def log_of(self, proc: subprocess.Popen) -> str:
        return self._log(self.started.index(proc))

    async def ready(self, proc: subprocess.Popen, timeout: float = 30) -> bool:
        """Polling, as its log says; False if it was killed or told to stop first (a kill may come
        from the SMTP server's thread at any moment). Fails with the log if it died of anything else."""
        index, deadline = self.started.index(proc), time.monotonic() + timeout
        while self.READY_LINE not in self._log(index):
            if proc.poll() is not None:
                assert proc.returncode == -signal.SIGKILL or proc in self.terminated, (
                    f"worker exited {proc.returncode}:\n{self._log(index)}"
                )
                return False
            assert time.monotonic() < deadline, f"worker not polling after {timeout} s:\n{self._log(index)}"
            await asyncio.sleep(0.1)
        return True

    async def start_ready(self) -> subprocess.Popen:
        proc = self.start()
        await self.ready(proc)
        return proc

    async def alive(self, timeout: float = 60) -> subprocess.Popen:
        """The running worker once it polls (`supervise` starts it)."""
        deadline = time.monotonic() + timeout
        while True:
            proc = self.current
            if proc is not None and await self.ready(proc):
                return proc
            assert time.monotonic() < deadline, f"no worker running after {timeout} s"
            await asyncio.sleep(0.05)

    async def supervise(self) -> None:
        """Keep `count` workers running, as a process manager would: start a new one whenever
        fewer are (one told to stop no longer counts), once a kill's chosen downtime is over.
        Runs until cancelled."""
        while True:
            if len(self.running) < self.count and time.monotonic() >= self.down_until:
                await self.start_ready()
            await asyncio.sleep(0.05)

    def kill(self, down_for: float = 0.0) -> None:
        """SIGKILL: no clean-up, no finishing of in-flight tasks, exactly as a crash. Safe to call
        from another thread; `supervise` reaps it and starts the next worker."""
        proc = self.current
        assert proc is not None, "no worker to kill"
        self.down_until = time.monotonic() + down_for
        os.kill(proc.pid, signal.SIGKILL)
        self.kills += 1

    def terminate(self, proc: subprocess.Popen | None = None) -> subprocess.Popen:
        """SIGTERM, as `docker compose stop` or a rolling deploy sends: the worker finishes what
        it holds and exits; `supervise` starts its replacement at once."""
        proc = proc or self.current
        assert proc is not None, "no worker to stop"
        self.terminated.append(proc)
        proc.send_signal(signal.SIGTERM)
        return proc

    def close(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


# ---- the Temporal dev server -----------------------------------------------------------------------


class DevServer:
    """`temporal server start-dev` on a SQLite file that outlives each run of the server."""

    def __init__(self, db_file: Path, logs: Path) -> None:
        self.db_file, self.logs = db_file, logs
        self.port, self.ui_port = free_port(), free_port()
        self.proc: subprocess.Popen | None = None
        self.runs = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.runs += 1
        args = [
            str(BIN / "temporal"), "server", "start-dev", "--headless", "--db-filename", str(self.db_file),
            "--ip", "127.0.0.1", "--port", str(self.port), "--ui-port", str(self.ui_port),
            "--log-level", "error", *dev_server_flags(),
        ]  # fmt: skip
        with open(self.logs / f"temporal-{self.runs}.log", "wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)

    async def connect(self, settings: Settings, timeout: float = 60) -> Client:
        """A client once the server answers for its namespace: poll, boundedly, from its start."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc is not None and self.proc.poll() is None, f"temporal exited:\n{self.log()}"
            try:
                client = await Client.connect(self.address, data_converter=data_converter(codec_for(settings)))
                await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=client.namespace))
                return client
            except (RPCError, RuntimeError):  # not listening yet, or the namespace not loaded yet
                assert time.monotonic() < deadline, f"temporal not ready after {timeout} s:\n{self.log()}"
                await asyncio.sleep(0.25)

    def log(self) -> str:
        return (self.logs / f"temporal-{self.runs}.log").read_text(errors="replace")

    @classmethod
    @contextlib.contextmanager
    def running(cls, workdir: Path):
        """A dev server on a SQLite file in `workdir`, stopped however the block ends."""
        server = cls(workdir / "temporal.db", workdir)
        server.start()
        try:
            yield server
        finally:
            server.stop()

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM, as an operator's restart does, and wait for it to be gone."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


# ---- time that a crash costs ----------------------------------------------------------------------

CRASH_TIMEOUTS = timedelta(seconds=35)  # past a workflow task's 10 s and an activity's 30 s


async def skip_server_time(env, delta: timedelta, chunk: timedelta = timedelta(days=1), lapses: int = 6) -> None:
    """`env.sleep(delta)`, a day at a time. A task lost with a killed worker holds the test
    server's clock until its timeout fires in real time, which can outlast the client's 30 s
    limit on one sleep call (it then fails CANCELLED): sleep again from wherever the clock is."""
    target = await env.get_current_time() + delta
    while (now := await env.get_current_time()) < target:
        try:
            await env.sleep(min(target - now, chunk))
        except RPCError as error:
            lapses -= 1
            if error.status is not RPCStatusCode.CANCELLED or lapses < 0:
                raise


async def skip_until(env, local) -> None:
    """tests.helpers.skip_to, through a killed worker's lost tasks."""
    now = await env.get_current_time()
    target = local.replace(tzinfo=LONDON) if local.tzinfo is None else local
    assert target > now, f"cannot go back in time to {target} from {now}"
    await skip_server_time(env, target - now)


async def letting_time_pass(env, work, patience: float = 2.0, rounds: int = 8):
    """Await `work`, an API step. A task a killed worker held comes back only when its timeout
    fires (10 s for a workflow task, 30 s for an activity), and while an Update waits the test
    server's clock runs at real speed. When `work` is stuck, skip the clock past those timeouts
    and the retry backoff after them (the server holds it, in real time, while it must)."""
    task = asyncio.ensure_future(work)
    for _ in range(rounds):
        done, _ = await asyncio.wait({task}, timeout=patience)
        if done:
            return task.result()
        await skip_server_time(env, CRASH_TIMEOUTS)
    return await asyncio.wait_for(task, patience)


# ---- the API, called as a real client would ------------------------------------------------------


class RetryingApi:
    """The in-process API; a call that finds no worker (it times out or answers 5xx) is sent
    again, boundedly, as a real client retries: with the same `Idempotency-Key` for every attempt
    of one write, so a first attempt that did its work and lost its answer is not repeated.
    `as_(...)` matches tests.conftest.Api."""

    def __init__(self, http, attempts: int = 6, attempt_timeout: float = 60.0) -> None:
        self.http, self.attempts, self.attempt_timeout = http, attempts, attempt_timeout
        self.retried = 0

    def as_(self, staff_id: str) -> "_RetryingAs":
        return _RetryingAs(self, {"Authorization": f"Bearer dev-{staff_id}"})

    async def call(self, method: str, url: str, headers: dict, **kw):
        if method != "GET":
            headers = headers | {"Idempotency-Key": uuid.uuid4().hex}
        for attempt in range(1, self.attempts + 1):
            try:
                response = await asyncio.wait_for(self.http.request(method, url, headers=headers, **kw), self.attempt_timeout)
            except TimeoutError:
                response = None  # cancelled: as a client that gave up waiting, try again
            if response is not None and response.status_code < 500:
                return response
            self.retried += 1
            await asyncio.sleep(min(0.2 * attempt, 1.0))
        raise AssertionError(f"{method} {url}: no answer after {self.attempts} attempts")


class _RetryingAs:
    def __init__(self, api: RetryingApi, headers: dict) -> None:
        self.api, self.headers = api, headers

    async def get(self, url, **kw):
        return await self.api.call("GET", url, self.headers, **kw)

    async def post(self, url, json=None, **kw):
        return await self.api.call("POST", url, self.headers, json=json, **kw)

    async def put(self, url, json=None, **kw):
        return await self.api.call("PUT", url, self.headers, json=json, **kw)


# ---- exactly once ----------------------------------------------------------------------------------


async def until(check, what: str, polls: int = 200, every: float = 0.05) -> None:
    """The relay works in real time (tests set its backoff to at most 0.5 s): poll, boundedly."""
    for _ in range(polls):
        if check():
            return
        await asyncio.sleep(every)
    raise AssertionError(f"not seen: {what}")


def notification_rows(engine) -> list[NotificationRecord]:
    with Session(engine) as session:
        return list(session.exec(select(NotificationRecord).order_by(NotificationRecord.id)))


async def outbox_settled(engine, polls: int = 300) -> None:
    """Real time: the relay delivers in its own time, just after a workflow's last step; wait,
    boundedly (30 s), until no notification is still pending or being sent."""
    for _ in range(polls):
        if all(r.delivery not in ("pending", "sending") for r in notification_rows(engine)):
            return
        await asyncio.sleep(0.1)


def delivery_faults(engine, smtp: SmtpServer) -> list[str]:
    """Every notification delivered exactly once: an email's key in exactly one message that
    reached the SMTP server, a case note's or alert's key in exactly one Mosaic outbox row.
    Returns what is wrong, so a failure lists every key at fault at once."""
    rows = notification_rows(engine)
    with Session(engine) as session:
        mosaic = Counter(session.exec(select(MosaicOutbox.key)))
    delivered = smtp.keys() + mosaic
    faults = [f"{r.key} ({r.channel}) delivered {delivered[r.key]} times" for r in rows if delivered[r.key] != 1]
    faults += [f"{r.key} ({r.channel}) is {r.delivery}, not sent" for r in rows if r.delivery != "sent"]
    recorded = {r.key for r in rows}
    faults += [f"{key} delivered without a notification row" for key in delivered if key not in recorded]
    return faults
