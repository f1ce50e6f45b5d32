"""Load on the team service: many logging processes and pollers, against ``mlflow server``.

One run of this script measures both sides with the same workload and the same engine
(SQLite on the local disk):

* jupyter-track: a real JupyterHub (``tests/hubtools.py``, the example config) with the team
  service; ``--kernels`` processes log through it with the kernel API (``JUPYTER_TRACK_URI``
  naming the service, a hub token), at a combined ``--rate`` points/s for ``--seconds``, while
  ``--pollers`` clients poll ``GET runs`` (100 newest runs);
* MLflow 3.17.2: ``mlflow server`` (its defaults) with a SQLite backend; the same processes
  log the same points with MLflow's REST client (``log_batch`` every 0.2 s, as the kernel
  writer flushes), while the pollers call ``runs/search``.

Reported per side: the points/s achieved, points lost (logged minus stored, counted from the
store afterwards), request errors, p50/p99 latency of the requests that carry points, p50 of
the polls, the server's CPU (its whole process tree, in % of one core) and memory (RSS at 10%
of the run and at its end: flat memory means no growth).

    python benchmarks/bench_hub.py [--kernels 20] [--rate 50000] [--seconds 60] [--pollers 5]
                                   [--no-mlflow] [--json FILE]

Needs configurable-http-proxy (``bash .ci/run`` installs it into ``.hub-tools/``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _common import Row, clean_env, mlflow_python, print_table  # noqa: E402

WORKER = HERE / "_hub_load_worker.py"


@dataclass
class Side:
    """What one system did under the load."""

    logged: int = 0
    stored: int = 0
    seconds: float = 0.0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    polls: list[float] = field(default_factory=list)
    poll_errors: int = 0
    cpu: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    spooled: int = 0
    drain: float = 0.0
    unsent: int = 0

    @property
    def rate(self) -> float:
        return self.stored / self.seconds if self.seconds else 0.0


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Monitor(threading.Thread):
    """Samples CPU (% of one core) and RSS (MB) of a process tree every second."""

    def __init__(self, root: Callable[[], int | None], side: Side):
        super().__init__(daemon=True)
        self.root, self.side, self.stop = root, side, threading.Event()
        self._procs: dict[int, psutil.Process] = {}

    def _tree(self) -> list[psutil.Process]:
        pid = self.root()
        if pid is None:
            return []
        try:
            top = psutil.Process(pid)
            tree = [top, *top.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        found = []
        for proc in tree:
            known = self._procs.setdefault(proc.pid, proc)
            found.append(known)
        return found

    def run(self) -> None:
        for proc in self._tree():
            proc.cpu_percent(None)
        while not self.stop.wait(1.0):
            cpu = rss = 0.0
            for proc in self._tree():
                try:
                    cpu += proc.cpu_percent(None)
                    rss += proc.memory_info().rss / 2**20
                except psutil.NoSuchProcess:
                    continue
            self.side.cpu.append(cpu)
            self.side.rss.append(rss)


def poll_loop(fn: Callable[[], None], side: Side, stop: threading.Event) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            fn()
            side.polls.append(time.perf_counter() - t0)
        except Exception:
            side.poll_errors += 1
            time.sleep(0.1)


def drive(
    python: str,
    kind: str,
    env: dict[str, str],
    args: argparse.Namespace,
    side: Side,
    poll: Callable[[], None],
    server: Callable[[], int | None],
) -> list[dict[str, Any]]:
    """Start the loggers and pollers, monitor the server, collect the loggers' reports."""
    monitor = Monitor(server, side)
    monitor.start()
    stop = threading.Event()
    pollers = [
        threading.Thread(target=poll_loop, args=(poll, side, stop), daemon=True)
        for _ in range(args.pollers)
    ]
    for p in pollers:
        p.start()
    rate = args.rate / args.kernels
    procs = [
        subprocess.Popen(
            [python, str(WORKER), kind, str(rate), str(args.seconds), f"{kind}-{i}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(args.kernels)
    ]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=args.seconds * 20 + 300)
        if proc.returncode != 0 or not out.strip():
            side.errors += 1
            print(f"[bench_hub] a {kind} logger failed:\n{err[-2000:]}", file=sys.stderr)
            continue
        reports.append(json.loads(out.strip().splitlines()[-1]))
    stop.set()
    monitor.stop.set()
    for p in pollers:
        p.join(10)
    monitor.join(5)
    side.logged = sum(r["points"] for r in reports)
    side.seconds = max((r["seconds"] for r in reports), default=0.0)
    side.drain = max((r.get("drain", 0.0) for r in reports), default=0.0)
    side.latencies = [x for r in reports for x in r["latencies"]]
    side.spooled = sum(r.get("spooled", 0) for r in reports)
    side.unsent = sum(r.get("unsent", 0) for r in reports)
    return reports


# ---------------------------------------------------------------------------- jupyter-track


def run_ours(args: argparse.Namespace, folder: Path) -> Side:
    import hubtools

    side = Side()
    hub = hubtools.start_hub(folder / "hub")
    try:
        token = hub.service_token("alice")
        base = hub.service_direct_url  # as kernels reach it (the hub's services API)
        env = clean_env(
            JUPYTER_TRACK_URI=base,
            JUPYTER_TRACK_TOKEN=token,
            JUPYTER_DATA_DIR=str(folder / "data"),
        )
        client = httpx.Client(headers={"Authorization": f"token {token}"}, timeout=60)

        def poll() -> None:
            r = client.get(base + "api/runs", params={"limit": 100, "total": "false"})
            r.raise_for_status()

        reports = drive(sys.executable, "jt", env, args, side, poll, hub.service_pid)
        for report in reports:
            r = client.post(base + "api/store/get_run", json={"args": [report["run_id"]]})
            r.raise_for_status()
            summaries = r.json()["result"]["summaries"]
            side.stored += summaries["loss"]["count"] if "loss" in summaries else 0
        client.close()
    finally:
        hub.stop()
    return side


# ---------------------------------------------------------------------------------- MLflow


def run_mlflow(args: argparse.Namespace, folder: Path, python: Path) -> Side:
    import hubtools

    side = Side()
    port = hubtools.free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "mlflow-server.log").open("w")
    server = subprocess.Popen(
        [
            str(python),
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--default-artifact-root",
            str(folder / "mlartifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=clean_env(),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise RuntimeError("mlflow server did not start; see mlflow-server.log")
        api = url + "/api/2.0/mlflow/"
        client = httpx.Client(timeout=60)
        experiment = client.post(api + "experiments/create", json={"name": "hub-load"}).json()
        experiment_id = experiment["experiment_id"]

        def poll() -> None:
            r = client.post(
                api + "runs/search",
                json={"experiment_ids": [experiment_id], "max_results": 100},
            )
            r.raise_for_status()

        env = clean_env(MLFLOW_TRACKING_URI=url)
        reports = drive(str(python), "mlflow", env, args, side, poll, lambda: server.pid)
        for report in reports:
            token = None
            while True:
                params: dict[str, Any] = {
                    "run_id": report["run_id"],
                    "metric_key": "loss",
                    "max_results": 25000,
                }
                if token:
                    params["page_token"] = token
                page = client.get(api + "metrics/get-history", params=params).json()
                side.stored += len(page.get("metrics", []))
                token = page.get("next_page_token")
                if not token:
                    break
        client.close()
    finally:
        try:
            family = [psutil.Process(server.pid), *psutil.Process(server.pid).children(True)]
        except psutil.NoSuchProcess:
            family = []
        for proc in family:
            try:
                proc.terminate()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(family, timeout=15)
        log.close()
    return side


# --------------------------------------------------------------------------------- report


def rows(ours: Side, mlflow: Side | None, args: argparse.Namespace) -> list[Row]:
    def ms(x: float | None) -> float | None:
        return None if x is None else x * 1000

    def rss_at(side: Side, frac: float) -> float | None:
        return side.rss[min(len(side.rss) - 1, int(frac * len(side.rss)))] if side.rss else None

    m = mlflow
    target = f">= 95% of {args.rate:,.0f}"
    out = [
        Row(
            "points/s stored",
            "pt/s",
            ours.rate,
            m.rate if m else None,
            goal=target,
            ok=ours.rate >= 0.95 * args.rate,
            lower_is_better=False,
        ),
        Row(
            "points lost",
            "pt",
            ours.logged - ours.stored,
            (m.logged - m.stored) if m else None,
            goal="0",
            ok=ours.logged == ours.stored,
        ),
        Row(
            "request errors",
            "n",
            ours.errors + ours.poll_errors,
            (m.errors + m.poll_errors) if m else None,
            goal="0",
            ok=ours.errors + ours.poll_errors == 0,
        ),
        Row(
            "batch latency p50",
            "ms",
            ms(pct(ours.latencies, 0.5)),
            ms(pct(m.latencies, 0.5)) if m else None,
        ),
        Row(
            "batch latency p99",
            "ms",
            ms(pct(ours.latencies, 0.99)),
            ms(pct(m.latencies, 0.99)) if m else None,
        ),
        Row("drain after the loop", "s", ours.drain, m.drain if m else None),
        Row(
            "runs-list poll p50",
            "ms",
            ms(pct(ours.polls, 0.5)),
            ms(pct(m.polls, 0.5)) if m else None,
        ),
        Row(
            "server RSS max",
            "MB",
            max(ours.rss, default=0.0),
            max(m.rss, default=0.0) if m else None,
        ),
        Row(
            "server CPU (mean)",
            "% core",
            statistics.fmean(ours.cpu) if ours.cpu else 0.0,
            statistics.fmean(m.cpu) if m and m.cpu else None,
        ),
        Row("server RSS at 10%", "MB", rss_at(ours, 0.1) or 0.0, rss_at(m, 0.1) if m else None),
        Row("server RSS at 50%", "MB", rss_at(ours, 0.5) or 0.0, rss_at(m, 0.5) if m else None),
        Row("server RSS at end", "MB", rss_at(ours, 1.0) or 0.0, rss_at(m, 1.0) if m else None),
    ]
    out[0].notes.append(
        f"{args.kernels} logging processes x {args.rate / args.kernels:,.0f} points/s for "
        f"{args.seconds:g} s, {args.pollers} pollers; logged {ours.logged:,} (jupyter-track)"
        + (f", {m.logged:,} (MLflow)" if m else "")
        + f"; requests carrying points: {len(ours.latencies):,}"
        + f"; a logger behind its pace gives up after {3 * args.seconds:g} s"
        + (f" vs {len(m.latencies):,}" if m else "")
    )
    if m is not None and m.unsent:
        out[1].notes.append(
            f"MLflow: {m.unsent:,} points were never sent (its loggers gave up after "
            f"{3 * args.seconds:g} s behind their pace)"
        )
    if ours.spooled:
        out[1].notes.append(f"{ours.spooled} batches were still in spools at the end")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kernels", type=int, default=20)
    p.add_argument("--rate", type=float, default=50_000, help="combined points/s")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--pollers", type=int, default=5)
    p.add_argument("--no-mlflow", action="store_true")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument(
        "--quick",
        action="store_true",
        help="2 loggers, 1,000 points/s, 3 s, no MLflow: a smoke test",
    )
    args = p.parse_args()
    if args.quick:
        args.kernels, args.rate, args.seconds, args.pollers, args.no_mlflow = 2, 1000, 3, 1, True
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        folder = Path(tmp)
        (folder / "ours").mkdir()
        print("[bench_hub] jupyter-track service ...", file=sys.stderr, flush=True)
        ours = run_ours(args, folder / "ours")
        print_table(rows(ours, None, args), file=sys.stderr)  # in case MLflow's side fails
        mlflow = None
        python = None if args.no_mlflow else mlflow_python()
        if python is not None:
            (folder / "mlflow").mkdir()
            print("[bench_hub] mlflow server ...", file=sys.stderr, flush=True)
            mlflow = run_mlflow(args, folder / "mlflow", python)
    table = rows(ours, mlflow, args)
    print_table(table)
    if args.json:
        args.json.write_text(json.dumps([r.as_dict() for r in table], indent=2))


if __name__ == "__main__":
    main()
