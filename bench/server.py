"""Lifecycles the bench owns: one fresh Temporal dev server (SQLite file in a temp dir, free
ports), an SMTP sink, worker subprocesses. Everything started here is killed on exit, by its own
process id (try/finally in the caller, and atexit as a backstop)."""

import asyncio
import atexit
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError

from temporal_client import dev_server_flags

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv: temporal, temporal-test-server
_started: list[subprocess.Popen] = []


def _kill_all() -> None:
    for proc in _started:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: reaches anything it spawned
            except ProcessLookupError:
                pass
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass


atexit.register(_kill_all)


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    _started.append(proc)
    return proc


def stop(proc: subprocess.Popen | None, timeout: float = 15) -> None:
    """SIGTERM to its group, SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mib(pid: int) -> float:
    """Resident set size of one process (VmRSS from /proc), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class DevServer:
    """`temporal server start-dev --headless` on a SQLite file, on free ports."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port, self.ui_port = free_port(), free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [
            str(BIN / "temporal"), "server", "start-dev", "--headless", "--db-filename", str(self.workdir / "temporal.db"),
            "--ip", "127.0.0.1", "--port", str(self.port), "--ui-port", str(self.ui_port),
            "--log-level", "error", *dev_server_flags(),
        ]  # fmt: skip
        self.proc = spawn(args, self.workdir / "temporal.log")

    async def wait_ready(self, timeout: float = 60) -> None:
        """Poll, boundedly, until the server answers for its namespace."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"temporal exited:\n{(self.workdir / 'temporal.log').read_text(errors='replace')}")
            try:
                client = await Client.connect(self.address)
                await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace="default"))
                return
            except (RPCError, RuntimeError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"temporal not ready after {timeout} s") from None
                await asyncio.sleep(0.25)

    def stop(self) -> None:
        stop(self.proc)


class SmtpSink:
    """A local SMTP server that accepts and counts every message (the relay's real destination)."""

    def __init__(self) -> None:
        self.port = free_port()  # aiosmtpd cannot start on port 0
        self.received = 0
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.received += 1
        return "250 OK"

    def __enter__(self) -> "SmtpSink":
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()


async def wait_for_line(proc: subprocess.Popen, log: Path, line: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while line not in log.read_text(errors="replace"):
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{proc.args} not ready after {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")
        await asyncio.sleep(0.1)
