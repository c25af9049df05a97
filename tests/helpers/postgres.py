"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries, a directory of its own,
a free port on 127.0.0.1, removed afterwards. The app runs on PostgreSQL in production; this is
where its migrations, triggers, locking and queries meet the real thing.

PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user the Debian
package creates (`make postgres` installs it when missing)."""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

from database import make_engine
from models.settings import ROOT
from tests.helpers import free_port

USER = "qsaf"  # the cluster's superuser: trust authentication, on 127.0.0.1 only


def server_binaries() -> Path:
    """Where `initdb` and `pg_ctl` are: Debian keeps them off the PATH, one directory per version."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    if on_path := shutil.which("initdb"):
        return Path(on_path).parent
    raise RuntimeError("no PostgreSQL server binaries (initdb): `make postgres` installs Debian's postgresql")


class Cluster:
    def __init__(self, durable: bool = False, superuser: str = USER) -> None:
        self.durable = durable  # fsync on, as production runs it: for measuring, not for the tests
        # Another name where the test needs production's roles, `qsaf` among them (deploy/postgres/).
        self.superuser = superuser
        self.bin = server_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="qsaf-pg-"))
        self.data, self.port = self.root / "data", free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> "Cluster":
        if self.as_root:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", self.superuser, "--auth=trust", "-E", "UTF8", "--no-sync")
        # Durability is not what is tested: without fsync a test's database costs milliseconds.
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return self

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.superuser}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """An empty database of its own for one test: its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={self.superuser} dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


# The roles script takes its roles' passwords from the environment.
PASSWORDS = {"TEMPORAL_DB_PASSWORD": "t", "QSAF_OWNER_DB_PASSWORD": "o", "QSAF_DB_PASSWORD": "a"}


class ProductionRoles:
    """A cluster of its own (its superuser `postgres`, as the image's), set up by the roles script."""

    def __init__(self) -> None:
        self.cluster = Cluster(superuser="postgres").start()
        done = subprocess.run(
            [
                str(self.cluster.bin / "psql"),
                "-v",
                "ON_ERROR_STOP=1",
                "--no-psqlrc",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.cluster.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-f",
                str(ROOT / "deploy" / "postgres" / "10-roles.sql"),
            ],
            env={"PATH": os.environ["PATH"], **PASSWORDS},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr

    def new_database(self) -> tuple[str, str]:
        """A fresh copy of the script's `qsaf` database (its default privileges with it), migrated
        as the owner as compose's `migrate` job does: the owner's URL and the app's."""
        name = f"q_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.cluster.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}" OWNER qsaf_owner TEMPLATE qsaf')
            c.execute(f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC')
            c.execute(f'GRANT CONNECT ON DATABASE "{name}" TO qsaf')
        owner, app = (f"postgresql+psycopg://{role}@127.0.0.1:{self.cluster.port}/{name}" for role in ("qsaf_owner", "qsaf"))
        make_engine(owner).dispose()
        return owner, app
