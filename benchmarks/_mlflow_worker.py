"""MLflow's side of the benchmarks; run by the MLflow venv's interpreter, driven over stdin.

One JSON command per line in, one JSON answer per line out (``{"error": ...}`` on failure).
Every store is MLflow's SQLite backend (``sqlite:///...``) in a folder the driver names.
MLflow's own logging goes to stderr, which the driver sends to a log file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import mlflow
from _mlflow_tracing import COMMANDS as TRACING_COMMANDS
from _search_data import FILTER, METRIC_KEYS, ORDER_BY, synthetic_runs
from mlflow import MlflowClient
from mlflow.entities import Metric

_state: dict[str, Any] = {}


def _use_store(folder: str, uri: str | None = None) -> str:
    """Point MLflow at a new SQLite file in ``folder`` (or at ``uri``, an empty PostgreSQL
    database) and return its URI."""
    if mlflow.active_run() is not None:
        mlflow.end_run()
    if uri is None:
        uri = f"sqlite:///{Path(folder) / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    return uri


def setup_run(folder: str, uri: str | None = None) -> dict[str, Any]:
    """New store, experiment and active run (for log_metric)."""
    _use_store(folder, uri)
    mlflow.set_experiment("bench")
    run = mlflow.start_run()
    mlflow.log_metric("warmup", 0.0)
    return {"run_id": run.info.run_id}


def log_metric(calls: int, blocks: int, synchronous: bool) -> dict[str, Any]:
    """Time ``blocks`` blocks of ``calls`` log_metric calls on the active run; per-call times."""
    per_call = []
    step = 0
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            mlflow.log_metric("loss", step * 0.5, step=step, synchronous=synchronous)
            step += 1
        per_call.append((time.perf_counter() - start) / calls)
    if not synchronous:
        start = time.perf_counter()
        mlflow.flush_async_logging()
        drain = time.perf_counter() - start
    else:
        drain = 0.0
    return {"per_call": per_call, "drain": drain}


def end_run() -> dict[str, Any]:
    mlflow.end_run()
    return {}


def log_batch(folder: str, points: int, batch: int, uri: str | None = None) -> dict[str, Any]:
    """``points`` points of one metric into one run with log_batch (``batch`` per call)."""
    setup_run(folder, uri)
    run_id = mlflow.active_run().info.run_id
    client = MlflowClient()
    now = int(time.time() * 1000)
    start = time.perf_counter()
    step = 0
    while step < points:
        n = min(batch, points - step)
        client.log_batch(
            run_id,
            metrics=[Metric("loss", (step + i) * 0.5, now, step + i) for i in range(n)],
            synchronous=True,
        )
        step += n
    seconds = time.perf_counter() - start
    mlflow.end_run()
    return {"seconds": seconds, "points": points}


def runs(folder: str, n: int, params: int, metrics: int, uri: str | None = None) -> dict[str, Any]:
    """``n`` runs, each with ``params`` params (log_params) and ``metrics`` metrics (log_metrics).

    One warm-up run first (store creation and first-run costs are not timed).
    """
    _use_store(folder, uri)
    mlflow.set_experiment("bench-runs")
    with mlflow.start_run():
        mlflow.log_params({f"p{j}": j for j in range(params)})
    start = time.perf_counter()
    for i in range(n):
        with mlflow.start_run():
            mlflow.log_params({f"p{j}": j * i for j in range(params)})
            mlflow.log_metrics({f"m{k}": k * 0.5 + i for k in range(metrics)})
    return {"seconds": time.perf_counter() - start, "runs": n}


def search_build(folder: str, n: int) -> dict[str, Any]:
    """Fill a new MLflow store with ``n`` synthetic runs by direct SQL into MLflow's tables."""
    start = time.perf_counter()
    uri = _use_store(folder)
    experiment_id = mlflow.create_experiment("bench-search")
    path = uri[len("sqlite:///") :]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    run_rows, param_rows, tag_rows, metric_rows, latest_rows = [], [], [], [], []
    for run in synthetic_runs(n):
        run_rows.append(
            (
                run.run_id,
                run.name,
                "LOCAL",
                "bench",
                "",
                "bench",
                "FINISHED",
                run.start_time,
                run.start_time + 500,
                "",
                "active",
                f"{folder}/artifacts/{run.run_id}",
                int(experiment_id),
            )
        )
        param_rows.extend((k, v, run.run_id) for k, v in run.params.items())
        tags = {**run.tags, "mlflow.runName": run.name}
        tag_rows.extend((k, v, run.run_id) for k, v in tags.items())
        for k in METRIC_KEYS:
            value = run.metrics[k]
            metric_rows.append((k, value, run.start_time, run.run_id, 0, 0))
            latest_rows.append((k, value, run.start_time, 0, 0, run.run_id))
    conn.executemany(
        "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, "
        "status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, "
        "experiment_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        run_rows,
    )
    conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", param_rows)
    conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tag_rows)
    conn.executemany(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        metric_rows,
    )
    conn.executemany(
        "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        latest_rows,
    )
    conn.execute("COMMIT")
    conn.close()
    _state["search_experiment"] = experiment_id
    return {"seconds": time.perf_counter() - start, "runs": n, "experiment_id": experiment_id}


def search(max_results: int) -> dict[str, Any]:
    """One ``mlflow.search_runs`` (DataFrame) with the shared filter and order."""
    start = time.perf_counter()
    frame = mlflow.search_runs(
        experiment_ids=[_state["search_experiment"]],
        filter_string=FILTER,
        order_by=ORDER_BY,
        max_results=max_results,
    )
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": len(frame), "first": str(frame["run_id"].iloc[0])}


def empty_runs(folder: str, n: int) -> dict[str, Any]:
    """Per-call time of ``with mlflow.start_run(): pass`` (what a tracked empty cell costs)."""
    _use_store(folder)
    mlflow.set_experiment("bench-cells")
    with mlflow.start_run():
        pass
    times = []
    for _ in range(n):
        start = time.perf_counter()
        with mlflow.start_run():
            pass
        times.append(time.perf_counter() - start)
    return {"per_call": times}


def rest_run(uri: str, token: str, steps: int, metrics: int) -> dict[str, Any]:
    """One run of ``steps`` x ``log_metrics({metrics}, step=i)`` against a tracking server."""
    if mlflow.active_run() is not None:
        mlflow.end_run()
    if token:
        os.environ["MLFLOW_TRACKING_TOKEN"] = token
    else:
        os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("bench-rest")
    keys = [f"m{k}" for k in range(metrics)]
    start = time.perf_counter()
    with mlflow.start_run() as run:
        for step in range(steps):
            mlflow.log_metrics({k: step * 0.001 + i for i, k in enumerate(keys)}, step=step)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "run_id": run.info.run_id}


COMMANDS = {
    "setup_run": setup_run,
    "log_metric": log_metric,
    "end_run": end_run,
    "log_batch": log_batch,
    "runs": runs,
    "search_build": search_build,
    "search": search,
    "empty_runs": empty_runs,
    "rest_run": rest_run,
    "ping": lambda: {"mlflow": mlflow.__version__},
    **TRACING_COMMANDS,
}


def main() -> None:
    """Answer commands until stdin closes (MLflow's own prints go to stderr, the log)."""
    answers = sys.stdout
    sys.stdout = sys.stderr  # e.g. "View run ... at: <url>" against a tracking server
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        command = request.pop("command")
        try:
            answer = COMMANDS[command](**request)
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
