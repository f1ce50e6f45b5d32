"""A real PostgreSQL server for tests and benchmarks, started from Debian's binaries.

PostgreSQL refuses to run as root (CI runs as root): the server runs as the ``postgres`` user
(``runuser``) in a temporary folder owned by it, on a free port, listening on 127.0.0.1 only,
with trust authentication for loopback. Nothing depends on a server someone started by hand.

``PostgresServer.start()`` -> ``.uri(dbname)``, ``.create_database(name, template=...)``,
``.restart()``, ``.stop()``. Used by the session fixture ``postgres_server`` (tests/conftest.py)
and by ``benchmarks/`` (``--postgres``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bin_dir() -> Path | None:
    """The folder of ``initdb`` / ``pg_ctl`` (``$JT_PG_BIN``, Debian's versioned folder, PATH)."""
    env = os.environ.get("JT_PG_BIN")
    if env and (Path(env) / "pg_ctl").exists():
        return Path(env)
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One throw-away PostgreSQL cluster (see the module docstring)."""

    def __init__(
        self, bin_dir: Path, *, durable: bool = False, settings: dict[str, str] | None = None
    ):
        self.bin_dir = bin_dir
        self.durable = durable
        self.settings = settings or {}
        self.port = 0
        self.dir = Path(tempfile.mkdtemp(prefix="jt-pg-"))
        self.data = self.dir / "data"
        self.as_root = os.geteuid() == 0
        self.log = self.dir / "server.log"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> PostgresServer:
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self.port = free_port()
        self._pg_ctl_start()
        return self

    def _pg_ctl_start(self) -> None:
        options = [
            f"-p {self.port}",
            f"-k {self.dir}",
            "-c listen_addresses=127.0.0.1",
            "-c max_connections=200",
        ]
        if not self.durable:  # tests: a crash loses the cluster anyway
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        options += [f"-c {name}={value}" for name, value in self.settings.items()]
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            " ".join(options),
            "-w",
            "start",
        )

    def stop(self, *, remove: bool = True) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def restart(self, *, down_for: float = 0.0) -> None:
        """Stop (dropping every connection) and start again on the same port."""
        self.pause()
        time.sleep(down_for)
        self.resume()

    def pause(self) -> None:
        """Stop the server (every connection dropped), keeping its data and port."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start a paused server again on the same port."""
        self._pg_ctl_start()

    def uri(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres") -> None:
        """Run one statement in autocommit (CREATE DATABASE and the like)."""
        import psycopg

        with psycopg.connect(self.uri(dbname), autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """A new database (copied from ``template`` when given); its URI."""
        tail = f" TEMPLATE {template}" if template else ""
        self.sql(f'CREATE DATABASE "{name}"{tail}')
        return self.uri(name)
