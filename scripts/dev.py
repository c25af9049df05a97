"""`make dev`: the Temporal dev server, a mail catcher, the worker and the API; Ctrl-C stops them all.

A deliberately small supervisor (standard library only). Everything it keeps lives in `.data/`,
so stopping and starting again carries on with every audit where it was.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv `make dev` runs us from: temporal, uvicorn, python
DATA = ROOT / ".data"
TEMPORAL_DB = DATA / "temporal.db"
MAILBOX = DATA / "mailbox"
APP_DB = DATA / "qsaf.db"  # models.settings' default DATABASE_URL
PAYLOAD_KEYS = DATA / "payload-keys.json"  # a local key for workflow payloads, made on first start
WORKFLOW_ID_KEY = DATA / "workflow-id-key"  # a local key for audit IDs, made on first start
PORTS = {
    "Temporal": 7233,
    "Temporal Web UI": 8233,
    "mail catcher": 1025,
    "API": 8000,
    "worker metrics": 9464,
    "API metrics": 9465,
}  # models.settings' WORKER_/API_METRICS_PORT
STOP_GRACE_SECONDS = 10

sys.path.insert(0, str(ROOT))
from temporal_client import dev_server_flags, new_id_key_file, new_key_file  # noqa: E402  (needs the repo root on sys.path)


class Stop(Exception):
    """Leaves the main loop: a signal (a normal stop) or a failure (exit status 1)."""

    def __init__(self, reason: str, failed: bool = True) -> None:
        super().__init__(reason)
        self.failed = failed


children: list[tuple[str, subprocess.Popen]] = []  # in start order


def start(name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    # A new session (and so process group) per child: Ctrl-C reaches only this supervisor,
    # which then stops each child once, in order, instead of all of them at the same instant.
    print(f"dev: starting {name}", flush=True)
    proc = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)
    children.append((name, proc))
    return proc


def check_children() -> None:
    for name, proc in children:
        if proc.poll() is not None:
            raise Stop(f"{name} exited unexpectedly with code {proc.returncode}")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(ready, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        check_children()  # a child that died (e.g. a port clash) fails fast, not after a minute
        if time.monotonic() > deadline:
            raise Stop(f"{what} was not ready after {timeout:.0f} s; see the output above")
        time.sleep(0.5)


def api_healthy() -> bool:
    try:
        with urllib.request.urlopen("http://127.0.0.1:8000/readyz", timeout=2):
            return True
    except (urllib.error.URLError, OSError):
        return False


def ignore_signals() -> None:
    # One stop is enough: a second Ctrl-C must not cut the clean-up short and orphan a child.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def stop_all() -> None:
    ignore_signals()
    for name, proc in reversed(children):  # API and worker go before the server they talk to
        if proc.poll() is not None:
            continue
        print(f"dev: stopping {name}", flush=True)
        signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            print(f"dev: {name} did not stop within {STOP_GRACE_SECONDS} s; killing it", flush=True)
            signal_group(proc, signal.SIGKILL)
            proc.wait()


def signal_group(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)  # the child leads its own group: this reaches anything it spawned
    except ProcessLookupError:
        pass  # it exited in the meantime


def banner() -> None:
    staff_file = Path(os.environ.get("STAFF_DIRECTORY") or "data/staff.dev.toml")  # as the API reads it
    with open(ROOT / staff_file, "rb") as f:  # an absolute STAFF_DIRECTORY wins over ROOT
        staff = tomllib.load(f)["staff"]
    app_db = os.environ.get("DATABASE_URL") or APP_DB.relative_to(ROOT)
    tokens = "\n".join(f"     dev-{s['id']:<10} {', '.join(s['roles'])}" for s in staff)
    print(
        f"""
================================================================================
 Ready. Ctrl-C stops everything; `make dev` again carries on where you left off.

 Pages for staff  http://localhost:8000/app/  (sign in as anyone in the directory below)
 API docs         http://localhost:8000/docs
 Temporal Web UI  http://localhost:8233  (filter workflows with AuditStage="awaiting_qa")
 Metrics          http://localhost:9464/metrics (worker), http://localhost:9465/metrics (API)  (Prometheus)
 Mailbox          {(MAILBOX / "new").relative_to(ROOT)}/  (a Maildir: one file per email)
 Databases        {TEMPORAL_DB.relative_to(ROOT)} (Temporal), {app_db} (the app)

 Act as anyone in {staff_file} with the header
   Authorization: Bearer dev-<staff id>
{tokens}

 See one audit go through:  make demo
================================================================================
""",
        flush=True,
    )


def on_signal(signum: int, frame) -> None:
    ignore_signals()
    raise Stop(f"received {signal.Signals(signum).name}", failed=False)


def main() -> int:
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    busy = [f"{name} ({port})" for name, port in PORTS.items() if port_open(port)]
    if busy:
        print(f"dev: ports already in use: {', '.join(busy)}. Is `make dev` already running?", file=sys.stderr)
        return 1
    DATA.mkdir(exist_ok=True)
    env = os.environ.copy()
    # Dev sign-in (`dev-<staff id>`) on this machine only: the API refuses it without ALLOW_DEV_AUTH.
    dev = {
        "TEMPORAL_ADDRESS": "localhost:7233",
        "SMTP_HOST": "localhost",
        "SMTP_PORT": "1025",
        "AUTH_MODE": "dev",
        "ALLOW_DEV_AUTH": "true",
        "PAYLOAD_KEYS_FILE": str(PAYLOAD_KEYS),
        "WORKFLOW_ID_KEY_FILE": str(WORKFLOW_ID_KEY),
        "METRICS_HOST": "127.0.0.1",
    }  # the metrics on this machine only
    if not PAYLOAD_KEYS.exists():
        new_key_file(PAYLOAD_KEYS, "dev-1")
    if not WORKFLOW_ID_KEY.exists():
        new_id_key_file(WORKFLOW_ID_KEY)
    for key, value in dev.items():
        env.setdefault(key, value)

    # Re-passing the search attributes with an existing database neither fails nor adds new names
    # (temporal CLI 1.9.1); the worker registers any that are missing when it starts.
    try:
        start(
            "Temporal dev server",
            [
                str(BIN / "temporal"),
                "server",
                "start-dev",
                "--db-filename",
                str(TEMPORAL_DB),
                "--ip",
                "127.0.0.1",
                "--port",
                "7233",
                "--ui-port",
                "8233",
                "--namespace",
                "default",
                "--log-level",
                "warn",
                *dev_server_flags(),
                # The UI decodes encrypted payloads through the API's codec endpoint (api/codec.py).
                "--ui-codec-endpoint",
                "http://localhost:8000/codec",
            ],
        )
        wait_until(lambda: port_open(7233), "Temporal (127.0.0.1:7233)")
        # Every email the workflows send lands as a file in a Maildir under .data/.
        start(
            "mail catcher",
            [
                str(BIN / "python"),
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                "127.0.0.1:1025",
                "-c",
                "aiosmtpd.handlers.Mailbox",
                str(MAILBOX),
            ],
        )
        start("worker", [str(BIN / "python"), "worker.py"], env)
        start("API", [str(BIN / "uvicorn"), "api.main:app", "--host", "127.0.0.1", "--port", "8000"], env)
        wait_until(api_healthy, "the API (http://127.0.0.1:8000/readyz)")
        banner()
        while True:
            check_children()
            time.sleep(0.5)
    except Stop as stop:
        print(f"\ndev: {stop}; stopping", flush=True)
        failed = stop.failed
    except FileNotFoundError as error:  # e.g. the venv lacks the temporal CLI
        print(f"dev: cannot start: {error}. Run `make install`.", file=sys.stderr)
        failed = True
    stop_all()
    print("dev: all stopped", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
