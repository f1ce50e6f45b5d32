"""MLflow's own client over REST: jupyter-track's protocol vs ``mlflow server`` (goal: >= 5x).

The same MLflow 3.17.2 client (one worker process of the MLflow venv) logs a run of 1,000
steps x 10 metrics the way training code does, ``mlflow.log_metrics({10 metrics}, step=i)``
per step (one synchronous ``log-batch`` request each), inside ``with mlflow.start_run()``
(``runs/create`` and ``runs/update`` included), against two servers started by this script on
loopback, side by side, in interleaved rounds:

* ours: ``jupyter server`` with the jupyter-track extension (a fresh SQLite store), tracking
  URI ``http://127.0.0.1:<port>/jupyter-track/mlflow`` with the server's token;
* MLflow's: ``mlflow server --backend-store-uri sqlite:///...`` with its defaults.

While one side is measured the other server is paused (SIGSTOP to its process group, SIGCONT
after): ``mlflow server`` keeps 4 uvicorn workers and 7 job consumers polling in the background,
which on a 2-CPU machine would otherwise slow whatever runs beside it, ours included. Every
round checks afterwards that both stores hold all 10,000 points. Raw SQLite is not a meaningful
peer for an HTTP round trip and is left out.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from _common import Context, Row, clean_env, median, parser, run_benchmarks

GOAL = 5.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server process started for the benchmark, stopped (by its pid) at the end."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path, ready: str):
        self.name = name
        self.log_path = cwd / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: paused and stopped as one
        )
        try:
            self._wait(ready)
        except BaseException:
            self.stop()
            raise

    def _wait(self, url: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5):
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.25)
        raise RuntimeError(f"{self.name} did not answer in {timeout} s")

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes (its process group, from /proc)."""
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # the process group id
                total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / os.sysconf("SC_CLK_TCK")

    def _signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)  # the group this script started, by its id

    def pause(self) -> None:
        """Freeze the server and its workers (no CPU taken from the side being measured)."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def stop(self) -> None:
        """Stop the server and the workers it started (its process group)."""
        self.resume()
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait(10)
        self._log.close()


def _jupyter(workdir: Path) -> tuple[Server, str, str, Path]:
    port, token = _free_port(), "bench-" + os.urandom(8).hex()
    db = workdir / "jt-store" / "track.db"
    root = workdir / "jt-root"
    root.mkdir()
    env = clean_env(JUPYTER_TRACK_DB=str(db))
    cmd = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--allow-root",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.log_level=WARN",
    ]
    base = f"http://127.0.0.1:{port}"
    server = Server("jupyter", cmd, env, workdir, f"{base}/api/status?token={token}")
    return server, f"{base}/jupyter-track/mlflow", token, db


def _mlflow_server(python: Path, workdir: Path, name: str, **env: str) -> tuple[Server, str, Path]:
    port = _free_port()
    db = workdir / f"{name}.db"
    mlflow_bin = python.parent / "mlflow"
    server_env = clean_env(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1", **env)
    cmd = [
        str(mlflow_bin),
        "server",
        "--backend-store-uri",
        f"sqlite:///{db}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    base = f"http://127.0.0.1:{port}"
    return Server(name, cmd, server_env, workdir, f"{base}/health"), base, db


def _points_ours(db: Path, run_id: str) -> int:
    from jupyter_track.store import SQLiteStore

    store = SQLiteStore(db, readonly=True)
    try:
        return sum(s.count for s in store.get_run(run_id).summaries.values())
    finally:
        store.close()


def _points_mlflow(db: Path, run_id: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(
            conn.execute("SELECT count(*) FROM metrics WHERE run_uuid = ?", (run_id,)).fetchone()[0]
        )
    finally:
        conn.close()


@dataclass
class Side:
    """One server the client logs to, and the times measured against it."""

    label: str
    uri: str
    token: str
    server: Server
    db: Path
    count: Callable[[Path, str], int]
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # server CPU seconds per run


def _measure(
    ctx: Context, sides: list[Side], side: Side, steps: int, metrics: int
) -> tuple[float, float]:
    """One run against ``side`` with every other server paused: (seconds, server CPU s)."""
    assert ctx.mlflow is not None
    others = [s for s in sides if s is not side]
    for other in others:
        other.server.pause()
    try:
        cpu = side.server.cpu_seconds()
        answer = ctx.mlflow.call(
            "rest_run", uri=side.uri, token=side.token, steps=steps, metrics=metrics
        )
        cpu = side.server.cpu_seconds() - cpu
    finally:
        for other in others:
            other.server.resume()
    count = side.count(side.db, answer["run_id"])
    assert count == steps * metrics, (side.label, count)
    return float(answer["seconds"]), cpu


def bench(ctx: Context) -> list[Row]:
    steps, metrics = (50, 10) if ctx.quick else (1000, 10)
    name = f"MLflow client over REST: {steps:,} steps x {metrics} metrics"
    lean_name = "  same, vs mlflow server without its job runner"
    if ctx.mlflow is None or ctx.mlflow_python is None:
        return [
            Row(
                name,
                "s",
                float("nan"),
                notes=[f"skipped: {ctx.skip_reason} (both sides need the MLflow client)"],
            )
        ]
    workdir = ctx.scratch("rest")
    with ExitStack() as stack:
        jupyter, jt_uri, token, jt_db = _jupyter(workdir)
        stack.callback(jupyter.stop)
        sides = [Side("ours", jt_uri, token, jupyter, jt_db, _points_ours)]
        for label, env in (
            ("mlflow", {}),
            ("mlflow-lean", {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}),
        ):
            server, uri, db = _mlflow_server(ctx.mlflow_python, workdir, label, **env)
            stack.callback(server.stop)
            sides.append(Side(label, uri, "", server, db, _points_mlflow))
        for side in sides:  # warm-up: imports, connections, first requests
            _measure(ctx, sides, side, 5, metrics)
        for _ in range(ctx.rounds):
            for side in sides:
                seconds, cpu = _measure(ctx, sides, side, steps, metrics)
                side.seconds.append(seconds)
                side.cpu.append(cpu)
    shutil.rmtree(workdir, ignore_errors=True)
    ours, default, lean = sides
    rows = []
    for row_name, peer in ((name, default), (lean_name, lean)):
        row = Row(
            row_name,
            "s",
            median(ours.seconds),
            mlflow=median(peer.seconds),
            goal=f">= {GOAL:.0f}x mlflow server" if peer is default else "",
        )
        ratios = [t / o for o, t in zip(ours.seconds, peer.seconds)]
        if peer is default:
            row.ok = median(ratios) >= GOAL
        row.notes.append(
            f"per round ours {', '.join(f'{t:.2f}' for t in ours.seconds)} s, {peer.label} "
            f"{', '.join(f'{t:.2f}' for t in peer.seconds)} s (ratios "
            f"{', '.join(f'{r:.1f}x' for r in ratios)}, median {median(ratios):.1f}x)"
        )
        rows.append(row)
    requests = steps + 2
    rows[0].notes.append(
        "server CPU per request (median): "
        + ", ".join(f"{s.label} {1000 * median(s.cpu) / requests:.2f} ms" for s in sides)
        + " (the servers' whole process trees; the client is the same process for all)"
    )
    rows[0].notes.append(
        f"each run is runs/create + {steps:,} log-batch requests of {metrics} metrics + "
        "runs/update from one MLflow 3.17.2 client process; the other servers are paused while "
        "one side runs; every point is checked in the stores afterwards. mlflow server runs "
        "with its defaults (4 uvicorn workers, job runner on); the second line turns its job "
        "runner off (MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false)"
    )
    return rows


def main() -> int:
    args = parser(__doc__.splitlines()[0]).parse_args()
    run_benchmarks([bench], args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
