"""One measurement of ``bench_floor.py`` in a fresh interpreter; prints one JSON line.

    python _floor_worker.py '{"system": "jt", "workload": "first_use", "folder": "...", ...}'

Run by jupyter-track's interpreter (systems ``jt`` and ``raw``), by ``benchmarks/.trackio-venv``
(``trackio``) or by ``benchmarks/.mlflow-venv`` (``mlflow``): only the standard library is
imported at module level. Every workload leaves its data durable (committed, WAL +
``synchronous=NORMAL`` or the peer's own default) before the clock stops, and checks what it
wrote after the clock stopped.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
import uuid
from itertools import chain, islice
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PARAMS = 10
METRICS = 5


def _raw_connect(path: str | Path) -> sqlite3.Connection:
    """stdlib sqlite3 as the store opens SQLite: WAL, synchronous=NORMAL, autocommit."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _quiet_peer_logging() -> None:
    import logging

    logging.disable(logging.WARNING)


# ------------------------------------------------------------------------------- first use


def first_use(system: str, folder: str, schema: list[str] | None = None) -> dict[str, Any]:
    """After the import: create a new store, start a run, log one metric, end it (durable)."""
    path = Path(folder)
    if system == "jt":
        import jupyter_track as jt

        start = time.perf_counter()
        jt.set_tracking_uri(path / "track.db")
        with jt.start_run() as run:
            jt.log_metric("x", 1.0)
        seconds = time.perf_counter() - start
        assert jt.get_run(run.info.run_id).data.metrics["x"] == 1.0
        return {"seconds": seconds}
    if system == "trackio":
        with _stdout_to_stderr():
            import trackio

            start = time.perf_counter()
            trackio.init(project="first-use", name="run-0")
            trackio.log({"x": 1.0})
            trackio.finish()
            seconds = time.perf_counter() - start
        return {"seconds": seconds}
    if system == "mlflow":
        _quiet_peer_logging()
        import mlflow

        start = time.perf_counter()
        mlflow.set_tracking_uri(f"sqlite:///{path / 'mlflow.db'}")
        with mlflow.start_run():
            mlflow.log_metric("x", 1.0)
        return {"seconds": time.perf_counter() - start}
    # raw: the same schema as plain SQL, one run row and one point, committed
    start = time.perf_counter()
    conn = _raw_connect(path / "raw.db")
    conn.execute("BEGIN IMMEDIATE")
    for statement in schema or []:
        conn.execute(statement)
    now = int(time.time() * 1000)
    pk = conn.execute(
        "INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, lifecycle_stage) "
        "VALUES (?, 0, 'first', 'RUNNING', ?, 'active')",
        (uuid.uuid4().hex, now),
    ).lastrowid
    conn.execute(
        "INSERT INTO metrics (run, key, step, timestamp, value) VALUES (?, 'x', 0, ?, 1.0)",
        (pk, now),
    )
    conn.execute(
        "UPDATE runs SET status = 'FINISHED', end_time = ? WHERE id = ?",
        (int(time.time() * 1000), pk),
    )
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return {"seconds": seconds}


# ------------------------------------------------------------------------------------ runs


def runs(system: str, folder: str, n: int, schema: list[str] | None = None) -> dict[str, Any]:
    """``n`` runs x (10 params + 5 metrics) through each system's run API; one warm-up run
    first (store creation and the first run are ``first_use``'s business)."""
    path = Path(folder)
    if system == "jt":
        import jupyter_track as jt

        jt.set_tracking_uri(path / "track.db")
        experiment_id = jt.set_experiment("bench-runs").experiment_id
        with jt.start_run():
            jt.log_params({f"p{j}": j for j in range(PARAMS)})
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(n):
            with jt.start_run():
                jt.log_params({f"p{j}": j * i for j in range(PARAMS)})
                jt.log_metrics({f"m{k}": k * 0.5 + i for k in range(METRICS)})
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        found = jt.search_runs(
            [experiment_id], "metrics.m4 >= 0", max_results=n + 10, output_format="list"
        )
        assert len(found) == n and all(r.info.status == "FINISHED" for r in found), len(found)
        return {"seconds": seconds, "runs": n, "cpu": cpu}
    if system == "trackio":
        with _stdout_to_stderr():
            import trackio

            trackio.init(project="bench-runs", name="warm-up", config={"p0": 0})
            trackio.finish()
            start = time.perf_counter()
            for i in range(n):
                trackio.init(
                    project="bench-runs",
                    name=f"run-{i}",
                    config={f"p{j}": j * i for j in range(PARAMS)},
                )
                trackio.log({f"m{k}": k * 0.5 + i for k in range(METRICS)})
                trackio.finish()
            seconds = time.perf_counter() - start
        return {"seconds": seconds, "runs": n}
    if system == "mlflow":
        _quiet_peer_logging()
        import mlflow

        mlflow.set_tracking_uri(f"sqlite:///{path / 'mlflow.db'}")
        mlflow.set_experiment("bench-runs")
        with mlflow.start_run():
            mlflow.log_params({f"p{j}": j for j in range(PARAMS)})
        start = time.perf_counter()
        for i in range(n):
            with mlflow.start_run():
                mlflow.log_params({f"p{j}": j * i for j in range(PARAMS)})
                mlflow.log_metrics({f"m{k}": k * 0.5 + i for k in range(METRICS)})
        return {"seconds": time.perf_counter() - start, "runs": n}
    # raw: the store's own tables, one transaction per run: run row with its system tags,
    # params, points, summaries, end
    conn = _raw_connect(path / "raw.db")
    conn.execute("BEGIN IMMEDIATE")
    for statement in schema or []:
        conn.execute(statement)
    conn.execute("COMMIT")
    tags = _system_tags()
    now = time.time
    start, cpu = time.perf_counter(), time.process_time()
    artifacts = f"file://{path.resolve() / 'artifacts'}"
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        ts = int(now() * 1000)
        run_id = uuid.uuid4().hex
        pk = conn.execute(
            "INSERT INTO runs (run_id, experiment_id, run_name, status, user_id, start_time, "
            "lifecycle_stage, artifact_uri, environment) "
            "VALUES (?, 0, ?, 'RUNNING', 'bench', ?, 'active', ?, '0123456789abcdef')",
            (run_id, f"run-{i}", ts, f"{artifacts}/{run_id}"),
        ).lastrowid
        conn.executemany(
            "INSERT INTO tags (run, key, value) VALUES (?, ?, ?)",
            [(pk, k, v) for k, v in tags.items()],
        )
        conn.executemany(
            "INSERT INTO params (run, key, value, num) VALUES (?, ?, ?, ?)",
            [(pk, f"p{j}", str(j * i), float(j * i)) for j in range(PARAMS)],
        )
        points = [(pk, f"m{k}", 0, ts, k * 0.5 + i) for k in range(METRICS)]
        conn.executemany(
            "INSERT INTO metrics (run, key, step, timestamp, value) VALUES (?, ?, ?, ?, ?)",
            points,
        )
        conn.executemany(
            "INSERT INTO metric_summaries (run, key, last, step, timestamp, min, max, count) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
            [(r, k, v, s, t, v, v) for r, k, s, t, v in points],
        )
        conn.execute(
            "UPDATE runs SET status = 'FINISHED', end_time = ? WHERE id = ?",
            (int(now() * 1000), pk),
        )
        conn.execute("COMMIT")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    conn.close()
    return {"seconds": seconds, "runs": n, "cpu": cpu}


def _system_tags() -> dict[str, str]:
    """The tags every jupyter-track run carries outside git and notebooks, MLflow's source tags
    included (raw writes them too: the same rows), and below the run row's same columns."""
    return {
        "mlflow.runName": "run",
        "jt.user": "bench",
        "jt.user.verified": "false",
        "jt.host": "host",
        "jt.python": "3.11.7",
        "jt.platform": "Linux",
        "jt.environment": "0123456789abcdef",
        "mlflow.user": "bench",
        "mlflow.source.name": "/tmp/bench/_floor_worker.py",
        "mlflow.source.type": "LOCAL",
    }


# ------------------------------------------------------------------------------ throughput


def throughput(system: str, folder: str, points: int) -> dict[str, Any]:
    """``points`` points of one metric into one run, until durable; points/s."""
    path = Path(folder)
    if system == "jt":
        import jupyter_track as jt

        jt.set_tracking_uri(path / "track.db")
        run = jt.start_run()
        jt.log_metric("warmup", 0.0)
        jt.flush()
        log_metric = jt.log_metric
        start = time.perf_counter()
        for i in range(points):
            log_metric("loss", i * 0.5, step=i)
        jt.flush()
        seconds = time.perf_counter() - start
        jt.end_run()
        history = jt.get_run(run.info.run_id)
        assert history.data.metrics["loss"] == (points - 1) * 0.5
        return {"rate": points / seconds, "seconds": seconds}
    if system == "trackio":
        with _stdout_to_stderr():
            import trackio

            trackio.init(project="throughput", name="run-0")
            trackio.log({"warmup": 0.0})
            log = trackio.log
            start = time.perf_counter()
            for i in range(points):
                log({"loss": i * 0.5}, step=i)
            trackio.finish()
            seconds = time.perf_counter() - start
        return {"rate": points / seconds, "seconds": seconds}
    if system == "mlflow":
        _quiet_peer_logging()
        import mlflow
        from mlflow import MlflowClient
        from mlflow.entities import Metric

        mlflow.set_tracking_uri(f"sqlite:///{path / 'mlflow.db'}")
        run = mlflow.start_run()
        client = MlflowClient()
        now = int(time.time() * 1000)
        start = time.perf_counter()
        step = 0
        while step < points:
            count = min(1000, points - step)  # log_batch's maximum per call
            client.log_batch(
                run.info.run_id,
                metrics=[Metric("loss", (step + i) * 0.5, now, step + i) for i in range(count)],
                synchronous=True,
            )
            step += count
        seconds = time.perf_counter() - start
        mlflow.end_run()
        return {"rate": points / seconds, "seconds": seconds}
    # raw: a generator into executemany, one transaction, the store's metrics table shape
    conn = _raw_connect(path / "raw.db")
    conn.execute(
        "CREATE TABLE metrics (run INTEGER NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, "
        "timestamp INTEGER NOT NULL, value REAL)"
    )
    conn.execute("CREATE INDEX metrics_by_run_key ON metrics (run, key, step)")
    now = time.time
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO metrics (run, key, step, timestamp, value) VALUES (?, ?, ?, ?, ?)",
        ((1, "loss", i, int(now() * 1000), i * 0.5) for i in range(points)),
    )
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return {"rate": points / seconds, "seconds": seconds}


def throughput_multi_row(folder: str, points: int) -> dict[str, Any]:
    """Raw with multi-row ``INSERT ... VALUES`` of 4,096 rows (the store's insert method)."""
    conn = _raw_connect(Path(folder) / "raw-multi.db")
    conn.execute(
        "CREATE TABLE metrics (run INTEGER NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, "
        "timestamp INTEGER NOT NULL, value REAL)"
    )
    conn.execute("CREATE INDEX metrics_by_run_key ON metrics (run, key, step)")
    now = time.time
    per = 4096
    sql = "INSERT INTO metrics (run, key, step, timestamp, value) VALUES " + ", ".join(
        ["(?, ?, ?, ?, ?)"] * per
    )
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    rows = ((1, "loss", i, int(now() * 1000), i * 0.5) for i in range(points))
    while True:
        chunk = list(islice(rows, per))
        if len(chunk) < per:
            break
        conn.execute(sql, list(chain.from_iterable(chunk)))
    if chunk:
        conn.executemany(
            "INSERT INTO metrics (run, key, step, timestamp, value) VALUES (?, ?, ?, ?, ?)", chunk
        )
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return {"rate": points / seconds, "seconds": seconds}


# ---------------------------------------------------------------------------------- search


def first_search(
    system: str, store: str, experiment_id: str = "", pandas_first: bool = False
) -> dict[str, Any]:
    """The first search of a fresh process over a 100k-run store (after the import).

    ``pandas_first``: pandas is imported before the clock starts (a notebook that already
    uses it); otherwise its import is part of the figure, as a plain script pays it.
    """
    from _search_data import FILTER, ORDER_BY

    if pandas_first:
        try:
            import pandas  # noqa: F401
        except ImportError:  # Trackio's venv: its run listing returns no DataFrame
            if system in ("jt", "mlflow"):
                raise
    if system == "jt":
        import jupyter_track as jt

        start = time.perf_counter()
        jt.set_tracking_uri(store)
        frame = jt.search_runs(
            experiment_ids=[experiment_id],
            filter_string=FILTER,
            order_by=ORDER_BY,
            max_results=100,
        )
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "rows": len(frame), "first": str(frame["run_id"].iloc[0])}
    if system == "mlflow":
        _quiet_peer_logging()
        import mlflow

        start = time.perf_counter()
        mlflow.set_tracking_uri(f"sqlite:///{store}")
        frame = mlflow.search_runs(
            experiment_ids=[experiment_id],
            filter_string=FILTER,
            order_by=ORDER_BY,
            max_results=100,
        )
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "rows": len(frame), "first": str(frame["run_id"].iloc[0])}
    if system == "trackio":
        with _stdout_to_stderr():
            import trackio

            start = time.perf_counter()
            listed = trackio.Api().runs("search")
            count = len(listed)
            seconds = time.perf_counter() - start
        return {"seconds": seconds, "rows": count}
    # raw: connect + the hand-written query returning the 100 run ids
    from bench_search import RAW_QUERY

    start = time.perf_counter()
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    rows = conn.execute(RAW_QUERY, (int(experiment_id), 100)).fetchall()
    seconds = time.perf_counter() - start
    conn.close()
    return {"seconds": seconds, "rows": len(rows), "first": rows[0][0]}


def trackio_search_build(system: str, n: int) -> dict[str, Any]:
    """Trackio's side of the search store: ``n`` runs of the same synthetic data (config and one
    log row each) written by direct SQL into the tables Trackio creates (``TRACKIO_DIR``)."""
    from _search_data import synthetic_runs
    from trackio.sqlite_storage import SQLiteStorage

    start = time.perf_counter()
    path = SQLiteStorage.init_db("search")
    conn = sqlite3.connect(path, isolation_level=None)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(metrics)")}
    configs, logs = [], []
    for run in synthetic_runs(n):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(run.start_time / 1000))
        configs.append((run.run_id, run.name, json.dumps(run.params), stamp))
        logs.append((run.run_id, stamp, run.name, 0, json.dumps(run.metrics)))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO configs (run_id, run_name, config, created_at) VALUES (?, ?, ?, ?)", configs
    )
    if "run_id" not in columns:  # an older table shape: no run ids
        logs = [row[1:] for row in logs]
        sql = "INSERT INTO metrics (timestamp, run_name, step, metrics) VALUES (?, ?, ?, ?)"
    else:
        sql = (
            "INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) "
            "VALUES (?, ?, ?, ?, ?)"
        )
    conn.executemany(sql, logs)
    conn.execute("COMMIT")
    conn.close()
    return {"seconds": time.perf_counter() - start, "runs": n}


# ----------------------------------------------------------------------------------- magic


def magic(folder: str, turns: int) -> dict[str, Any]:
    """``%%track`` on an empty cell in a real InteractiveShell: the median over ``turns`` of
    (tracked cell - plain cell), both with the extension loaded, alternating."""
    import contextlib
    import io
    import statistics

    from IPython.core.interactiveshell import InteractiveShell

    import jupyter_track as jt

    jt.set_tracking_uri(Path(folder) / "track.db")
    shell = InteractiveShell.instance()
    sink = io.StringIO()

    def cell(source: str) -> float:
        start = time.perf_counter()
        result = shell.run_cell(source, store_history=True)
        seconds = time.perf_counter() - start
        if not result.success:
            raise RuntimeError(f"cell {source!r} failed: {result.error_in_exec!r}")
        return seconds

    diffs, quiet_diffs = [], []
    with contextlib.redirect_stdout(sink):
        shell.run_cell("%load_ext jupyter_track", store_history=True)
        for _ in range(3):  # warm-up: the first run, imports of the summary
            cell("%%track\npass")
            cell("pass")
        for turn in range(turns):
            kinds = ["pass", "%%track\npass", "%%track -q\npass"]
            order = kinds[turn % 3 :] + kinds[: turn % 3]
            times = {source: cell(source) for source in order}
            diffs.append(times["%%track\npass"] - times["pass"])
            quiet_diffs.append(times["%%track -q\npass"] - times["pass"])
            sink.seek(0)
            sink.truncate()
        # the summary alone (read the run and the previous run of its cell, build the display
        # data, display it), timed directly: the per-turn differences above are noisier
        magics = shell._jupyter_track_magics
        run_id = jt.last_active_run().info.run_id
        summary_times = []
        for _ in range(turns * 3):
            start = time.perf_counter()
            magics._show_summary(run_id, [])
            summary_times.append(time.perf_counter() - start)
            sink.seek(0)
            sink.truncate()
    return {
        "seconds": statistics.median(diffs),
        "quiet": statistics.median(quiet_diffs),
        "summary": statistics.median(summary_times),
    }


class _stdout_to_stderr:
    """Peers print banners on stdout; this process's stdout carries the JSON answer only."""

    def __enter__(self) -> None:
        self._saved = sys.stdout
        sys.stdout = sys.stderr

    def __exit__(self, *exc: Any) -> None:
        sys.stdout = self._saved


WORKLOADS = {
    "first_use": first_use,
    "runs": runs,
    "throughput": throughput,
    "throughput_multi_row": throughput_multi_row,
    "first_search": first_search,
    "trackio_search_build": trackio_search_build,
    "magic": magic,
}


def main() -> None:
    """Run the workload named in the JSON argument and print its JSON answer."""
    request = json.loads(sys.argv[1])
    workload = request.pop("workload")
    os.chdir(request.pop("cwd", os.getcwd()))
    answer = WORKLOADS[workload](**request)
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
