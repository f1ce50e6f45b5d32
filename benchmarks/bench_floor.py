"""Issue 15's table in one command: cold paths and run bookkeeping against raw sqlite3 and peers.

    python benchmarks/bench_floor.py                 # every row, 5 repetitions, medians
    python benchmarks/bench_floor.py --contended     # the same with one core kept busy
    python benchmarks/bench_floor.py --quick         # smoke test (tiny sizes, 1 repetition)
    python benchmarks/bench_floor.py --only first_use runs

Every repetition of every measurement runs in a **fresh interpreter** (``_floor_worker.py``),
and the systems take turns in an order that rotates from one repetition to the next
(jupyter-track, Trackio, MLflow, raw sqlite3; then Trackio, MLflow, raw, jupyter-track; ...),
so drifting load hits every side alike. Figures are medians. Peers live in their own venvs,
created on first use: ``benchmarks/.trackio-venv`` (``trackio==0.43.*``: it pins numpy, gradio's
client and huggingface_hub versions of its own) and ``benchmarks/.mlflow-venv`` (MLflow 3.17.2);
``--no-trackio`` / ``--no-mlflow`` skip them. Raw = stdlib ``sqlite3`` with WAL and
``synchronous=NORMAL`` into the same table shape (jupyter-track's own schema). The load average
is printed before and after; ``--contended`` starts a process spinning on one core for the
whole measurement (the throughput row is also measured that way in a normal run).

Rows (targets from issue 15):

* ``import``: ``import jupyter_track`` (guards the next row against moving work into the import);
* ``first_use``: after the import, a new store: create, start a run, log one metric, end it
  (durable when ``end_run`` returns) -- <= 10 ms;
* ``runs``: 1,000 runs x (10 params + 5 metrics) via ``start_run``/``log_params``/``log_metrics``
  -- <= 1.5x raw (raw: one transaction per run writing the same rows: run, system tags,
  params, points, summaries, end); peers on 100 runs, scaled;
* ``throughput``: 1M points into one run until durable -- >= 80% of raw ``executemany``, quiet
  and with the other core busy;
* ``search``: the first ``search_runs`` of a fresh process over 100,000 runs (two clauses + an
  order, top 100, a DataFrame) -- <= 100 ms once pandas is imported (the DataFrame contract
  imports it: a second line includes that import); the first ``GET runs`` page of a fresh
  ``jupyter server`` over the same store -- <= 100 ms, with pandas never loaded there;
* ``magic``: ``%%track`` on an empty cell in a real IPython shell -- <= 1 ms (its run summary,
  display data, also timed alone).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import HERE, MlflowWorker, Row, clean_env, median, mlflow_python, print_table

WORKER = HERE / "_floor_worker.py"
TRACKIO_SPEC = "trackio==0.43.*"
TRACKIO_VENV = HERE / ".trackio-venv"
SYSTEMS = ("jt", "trackio", "mlflow", "raw")
NAMES = {"jt": "jupyter-track", "trackio": "Trackio", "mlflow": "MLflow", "raw": "raw"}
ALL = ("import", "first_use", "runs", "throughput", "search", "magic")


def trackio_python(*, create: bool = True) -> Path | None:
    """The interpreter of ``benchmarks/.trackio-venv`` (created with trackio 0.43 if missing)."""
    python = TRACKIO_VENV / "bin" / "python"
    probe = [str(python), "-c", "import importlib.metadata as m; print(m.version('trackio'))"]
    if python.exists():
        out = subprocess.run(probe, capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.startswith("0.43"):
            return python
    if not create:
        return None
    print(f"[benchmarks] creating {TRACKIO_VENV.name} with {TRACKIO_SPEC}...", file=sys.stderr)
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(TRACKIO_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", TRACKIO_SPEC], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"[benchmarks] could not create the Trackio venv: {exc}", file=sys.stderr)
        return None
    return python


class Bench:
    """Runs workloads in fresh interpreters of each system, in rotating order."""

    def __init__(self, workdir: Path, pythons: dict[str, Path | None], rounds: int):
        self.workdir = workdir
        self.pythons = pythons
        self.rounds = rounds
        self.systems = [s for s in SYSTEMS if pythons.get(s) is not None]
        bytecode = workdir / "pycache"
        # byte-code cached for every side, as after pip install (this machine sets
        # PYTHONDONTWRITEBYTECODE=1, and an editable install has no .pyc of its own)
        self.env = clean_env(PYTHONPYCACHEPREFIX=str(bytecode), TRACKIO_DIR=str(workdir / "tk"))
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env["HF_HUB_OFFLINE"] = "1"
        self.env["GIT_PYTHON_REFRESH"] = "quiet"
        self.env["PYTHONPATH"] = str(HERE)

    def scratch(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.workdir))

    def run(self, system: str, workload: str, **args: Any) -> dict[str, Any]:
        """One measurement in a new interpreter of ``system``."""
        python = self.pythons[system]
        assert python is not None
        request = {"workload": workload, **args}
        if workload not in ("throughput_multi_row", "magic"):
            request["system"] = system
        out = subprocess.run(
            [str(python), str(WORKER), json.dumps(request)],
            capture_output=True,
            text=True,
            cwd=self.workdir,
            env={**self.env, "TRACKIO_DIR": str(self.scratch(f"trackio-{workload}"))}
            if system == "trackio" and workload not in ("first_search", "trackio_search_build")
            else self.env,
            check=False,
            timeout=1800,
        )
        if out.returncode != 0:
            raise RuntimeError(f"{system} {workload} failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    def rotating(
        self, measure: Callable[[str, int], float], systems: list[str] | None = None
    ) -> dict[str, list[float]]:
        """``rounds`` repetitions of ``measure(system, repetition)``; the order rotates."""
        systems = systems or self.systems
        results: dict[str, list[float]] = {s: [] for s in systems}
        for r in range(self.rounds):
            order = systems[r % len(systems) :] + systems[: r % len(systems)]
            for system in order:
                results[system].append(measure(system, r))
        return results

    def warm(self, workload: str, systems: list[str] | None = None, **args: Any) -> None:
        """One untimed run per system (writes the byte-code caches)."""
        for system in systems or self.systems:
            folder = self.scratch(f"warm-{workload}-{system}")
            self.run(system, workload, folder=str(folder), **args)


def _row(
    name: str, unit: str, results: dict[str, list[float]], *, lower_is_better: bool = True
) -> Row:
    def m(system: str) -> float | None:
        values = results.get(system)
        return median(values) if values else None

    ours = m("jt")
    return Row(
        name,
        unit,
        ours if ours is not None else float("nan"),
        mlflow=m("mlflow"),
        raw=m("raw"),
        trackio=m("trackio"),
        lower_is_better=lower_is_better,
    )


def _per_round(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    return ", ".join(f"{v * scale:.{digits}f}" for v in values)


# --------------------------------------------------------------------------------- the rows


def bench_import(b: Bench, quick: bool) -> list[Row]:
    code = {
        "jt": "import jupyter_track",
        "trackio": "import trackio",
        "mlflow": "import mlflow",
    }
    systems = [s for s in b.systems if s in code]

    def measure(system: str, _r: int) -> float:
        snippet = f"import time; t = time.perf_counter(); {code[system]}; "
        snippet += "print(time.perf_counter() - t)"
        out = subprocess.run(
            [str(b.pythons[system]), "-c", snippet],
            capture_output=True,
            text=True,
            cwd=b.workdir,
            env=b.env,
            check=True,
        )
        return float(out.stdout.strip().splitlines()[-1]) * 1000

    for system in systems:
        measure(system, 0)  # byte-code caches
    results = b.rotating(measure, systems)
    row = _row("import (jupyter_track / trackio / mlflow)", "ms", results)
    row.goal, row.ok = "<= 150 ms", row.ours <= 150
    row.notes.append("fresh interpreter each time; ours per run: " + _per_round(results["jt"]))
    return [row]


def bench_first_use(b: Bench, quick: bool, schema: list[str]) -> list[Row]:
    b.warm("first_use", schema=schema)

    def measure(system: str, _r: int) -> float:
        folder = b.scratch(f"first-{system}")
        return b.run(system, "first_use", folder=str(folder), schema=schema)["seconds"] * 1000

    results = b.rotating(measure)
    row = _row("first use of a new store, after import", "ms", results)
    row.goal, row.ok = "<= 10 ms", row.ours <= 10
    row.notes.append(
        "create the store, start a run, log 1 metric, end it (durable); raw: connect + the same "
        "schema as plain SQL + run row + point + end, one transaction; ours per run: "
        + _per_round(results["jt"])
    )
    return [row]


def bench_runs(b: Bench, quick: bool, schema: list[str]) -> list[Row]:
    n = 50 if quick else 1000
    peer_n = 5 if quick else 100
    counts = {"jt": n, "raw": n, "trackio": peer_n, "mlflow": peer_n}

    def measure(system: str, _r: int) -> float:
        folder = b.scratch(f"runs-{system}")
        answer = b.run(system, "runs", folder=str(folder), n=counts[system], schema=schema)
        return answer["seconds"] * n / counts[system]

    results = b.rotating(measure)
    row = _row(f"{n:,} runs x (10 params + 5 metrics)", "s", results)
    ratio = median(o / r for o, r in zip(results["jt"], results["raw"]))
    row.goal, row.ok = "<= 1.5x raw", ratio <= 1.5
    row.notes.append(
        f"ours/raw per repetition (back to back), median: {ratio:.2f}x; ours per run: "
        + _per_round(results["jt"], digits=2)
        + "; raw: "
        + _per_round(results["raw"], digits=2)
        + "; raw = one transaction per run with the same rows (run, its system tags, "
        f"params, points, summaries, end); Trackio and MLflow on {peer_n} runs, scaled "
        f"x{n // peer_n}"
    )
    return [row]


def bench_throughput(b: Bench, quick: bool, contended_too: bool) -> list[Row]:
    points = 20_000 if quick else 1_000_000
    peer_points = {"trackio": 2_000 if quick else 200_000, "mlflow": 2_000 if quick else 50_000}
    rows = []
    for busy in (False, True) if contended_too else (b.env.get("JT_BENCH_CONTENDED") == "1",):
        spinner = _Spinner() if busy and b.env.get("JT_BENCH_CONTENDED") != "1" else None
        try:

            def measure(system: str, _r: int) -> float:
                folder = b.scratch(f"throughput-{system}")
                count = peer_points.get(system, points)
                return b.run(system, "throughput", folder=str(folder), points=count)["rate"]

            results = b.rotating(measure)
        finally:
            if spinner is not None:
                spinner.stop()
        label = f"{points:,} points into one run, to durable"
        label += ", other core busy" if busy else ""
        row = _row(label, "points/s", results, lower_is_better=False)
        paired = median(o / r for o, r in zip(results["jt"], results["raw"]))
        row.goal, row.ok = ">= 80% of raw", paired >= 0.8
        row.notes.append(
            f"ours/raw per repetition (back to back), median {paired:.0%}; ours: "
            + _per_round(results["jt"], 1e-3, 0)
            + "k; raw: "
            + _per_round(results["raw"], 1e-3, 0)
            + "k; raw = generator -> executemany, one transaction, same columns + index"
            + (
                f"; Trackio on {peer_points['trackio']:,} points, MLflow log_batch(1,000) on "
                f"{peer_points['mlflow']:,}"
            )
        )
        rows.append(row)
    return rows


def bench_search(b: Bench, quick: bool) -> list[Row]:
    sys.path.insert(0, str(HERE))
    from bench_search import build_store

    n = 2_000 if quick else 100_000
    stores: dict[str, tuple[str, str]] = {}
    folder = b.scratch("search-jt")
    path = folder / "track.db"
    experiment_id = build_store(path, n)
    stores["jt"] = stores["raw"] = (str(path), experiment_id)
    if b.pythons.get("mlflow") is not None:
        ml_folder = b.scratch("search-mlflow")
        with MlflowWorker(b.pythons["mlflow"], ml_folder) as worker:  # type: ignore[arg-type]
            exp = worker.call("search_build", folder=str(ml_folder), n=n)["experiment_id"]
        stores["mlflow"] = (str(ml_folder / "mlflow.db"), exp)
    if b.pythons.get("trackio") is not None:
        tk = b.scratch("search-trackio")
        b.env["TRACKIO_DIR"] = str(tk)
        b.run("trackio", "trackio_search_build", n=n)
        stores["trackio"] = (str(tk), "")
    rows = []
    for pandas_first in (True, False):
        systems = list(b.systems)

        def measure(system: str, _r: int, pandas_first: bool = pandas_first) -> float:
            store, exp = stores[system]
            answer = b.run(
                system, "first_search", store=store, experiment_id=exp, pandas_first=pandas_first
            )
            return answer["seconds"] * 1000

        for system in systems:  # warm: byte-code caches, the OS's page cache
            measure(system, 0)
        results = b.rotating(measure, systems)
        if pandas_first:
            row = _row(f"first search_runs, fresh process, {n:,} runs", "ms", results)
            row.goal, row.ok = "<= 100 ms", row.ours <= 100
            row.notes.append(
                "pandas imported before the clock starts (the DataFrame contract imports it; "
                "next line with it); set_tracking_uri + search_runs(filter, order, top 100) -> "
                "DataFrame; raw: connect + the hand-written JOIN returning 100 ids; Trackio has "
                "no search: its run listing, Api().runs(project); ours: "
                + _per_round(results["jt"])
            )
        else:
            row = _row("  same, including import pandas", "ms", results)
        rows.append(row)
    rows.append(_first_page(b, stores["jt"][0]))
    return rows


def _first_page(b: Bench, store: str) -> Row:
    """First ``GET runs`` page of a fresh jupyter server (Server-Timing), pandas never loaded."""
    from _search_data import FILTER, ORDER_BY
    from bench_server import Server

    # the search row's query on the same store (bench_server's own queries name params this
    # store does not have: they would match nothing)
    filter_text, order = FILTER, list(ORDER_BY)
    server_ms, client_ms, pandas_loaded = [], [], []
    for _ in range(b.rounds):
        server = Server(Path(store))
        try:
            start = time.perf_counter()
            body = server.get("runs", {"limit": 100, "filter": filter_text, "order_by": order})
            client_ms.append((time.perf_counter() - start) * 1000)
            server_ms.append(server.server_ms[-1])
            pandas_loaded.append(_maps_pandas(server.proc.pid))
        finally:
            server.stop()
    row = Row(
        "first GET runs page, fresh jupyter server",
        "ms",
        median(server_ms),
        goal="<= 100 ms, no pandas",
    )
    row.ok = row.ours <= 100 and not any(pandas_loaded)
    row.notes.append(
        f"filter {filter_text!r}, order {order}, 100 rows + total ({body['total']:,}); handler "
        f"time (Server-Timing), client-measured {median(client_ms):.1f} ms; pandas loaded in "
        f"the server: {'yes' if any(pandas_loaded) else 'no'}; each time a new server process"
    )
    return row


def _maps_pandas(pid: int) -> bool:
    """Whether process ``pid`` (or a child) has pandas' extension modules mapped."""
    try:
        return "/pandas/" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def bench_magic(b: Bench, quick: bool) -> list[Row]:
    turns = 10 if quick else 60
    quiet: list[float] = []
    summary: list[float] = []

    def measure(system: str, _r: int) -> float:
        answer = b.run("jt", "magic", folder=str(b.scratch("magic")), turns=turns)
        quiet.append(answer["quiet"] * 1000)
        summary.append(answer["summary"] * 1000)
        return answer["seconds"] * 1000

    results = b.rotating(measure, ["jt"])
    row = _row("%%track on an empty cell", "ms", results)
    row.goal, row.ok = "<= 1 ms", row.ours <= 1
    row.notes.append(
        f"real InteractiveShell, median over {turns} turns of (tracked - plain) cell, run "
        f"summary included; -q (no summary): {median(quiet):.2f} ms; the summary alone (two "
        f"store reads, display data) timed directly: {median(summary):.3f} ms; per process: "
        + _per_round(results["jt"], digits=2)
    )
    return [row]


# ------------------------------------------------------------------------------- plumbing


class _Spinner:
    """A process keeping one core busy (``--contended``)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def raw_schema(workdir: Path) -> list[str]:
    """jupyter-track's schema as the plain SQL statements SQLite holds for a new store."""
    import sqlite3

    from jupyter_track.store import open_store

    folder = Path(tempfile.mkdtemp(dir=workdir))
    store = open_store(folder / "schema.db")
    store.search_experiments()  # opening is lazy: the first call creates the schema
    store.close()
    conn = sqlite3.connect(folder / "schema.db")
    statements = [
        sql
        for (sql,) in conn.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY rowid"
        )
    ]
    conn.close()
    return statements


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (5 min: {five:.1f})"


def main() -> int:
    """Parse the command line, run the chosen rows, print one table."""
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repetition")
    p.add_argument("--rounds", type=int, default=None, help="repetitions (default 5)")
    p.add_argument("--contended", action="store_true", help="keep one core busy throughout")
    p.add_argument("--no-trackio", action="store_true", help="skip Trackio")
    p.add_argument("--no-mlflow", action="store_true", help="skip MLflow")
    p.add_argument("--only", nargs="+", choices=ALL, default=None)
    p.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = p.parse_args()
    rounds = args.rounds or (1 if args.quick else 5)
    pythons: dict[str, Path | None] = {"jt": Path(sys.executable), "raw": Path(sys.executable)}
    pythons["trackio"] = None if args.no_trackio else trackio_python()
    pythons["mlflow"] = None if args.no_mlflow else mlflow_python()
    chosen = args.only or list(ALL)
    load_before = _load()
    spinner = _Spinner() if args.contended else None
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory(prefix="jt-floor-") as tmp:
            b = Bench(Path(tmp), pythons, rounds)
            if args.contended:
                b.env["JT_BENCH_CONTENDED"] = "1"
            schema = raw_schema(b.workdir)
            steps: dict[str, Callable[[], list[Row]]] = {
                "import": lambda: bench_import(b, args.quick),
                "first_use": lambda: bench_first_use(b, args.quick, schema),
                "runs": lambda: bench_runs(b, args.quick, schema),
                "throughput": lambda: bench_throughput(b, args.quick, not args.contended),
                "search": lambda: bench_search(b, args.quick),
                "magic": lambda: bench_magic(b, args.quick),
            }
            for name in chosen:
                started = time.perf_counter()
                rows.extend(steps[name]())
                print(
                    f"[bench_floor] {name}: {time.perf_counter() - started:.0f} s, load {_load()}",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        if spinner is not None:
            spinner.stop()
    if args.quick:
        for row in rows:
            row.ok = None
    skipped = [NAMES[s] for s in ("trackio", "mlflow") if pythons[s] is None]
    import sqlite3

    print(
        f"\njupyter-track vs Trackio 0.43 vs MLflow 3.17.2 vs raw sqlite3 (WAL, "
        f"synchronous=NORMAL); {'quick' if args.quick else 'full'}, {rounds} repetition(s) in "
        f"fresh processes, systems alternating, medians; "
        f"{'ONE CORE KEPT BUSY (--contended); ' if args.contended else ''}"
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} "
        f"CPUs; load average {load_before} before, {_load()} after"
        + (f"; skipped: {', '.join(skipped)}" if skipped else "")
        + "\n"
    )
    print_table(rows)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([r.as_dict() for r in rows], indent=2))
    missed = [r.name for r in rows if r.ok is False]
    if missed:
        print(f"\ntargets missed: {'; '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
