"""The benchmark scripts run (quick mode, tiny sizes); no timing is asserted."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.slow
def test_run_all_quick_prints_every_row(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _common import mlflow_python
    finally:
        sys.path.remove(str(BENCHMARKS))
    # MLflow's side only when its venv already exists (creating it takes minutes)
    with_mlflow = mlflow_python(create=False) is not None
    out = tmp_path / "rows.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_TRACK_")}
    cmd = [sys.executable, str(BENCHMARKS / "run_all.py"), "--quick", "--json", str(out)]
    if not with_mlflow:
        cmd.append("--no-mlflow")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {row["name"]: row for row in json.loads(out.read_text())}
    expected = [
        "import jupyter_track",
        "first use of a new DB",
        "log_metric, caller's thread",
        "%%track overhead, empty cell",
        "cell-log overhead, untracked cell",
    ]
    for name in expected:
        ours = rows[name]["ours"] if name in rows else None
        assert isinstance(ours, (int, float)) and math.isfinite(ours), (name, ours)
        # a measured time is positive; an overhead is a median of paired differences, which
        # the quick mode's few turns on a loaded machine can put slightly below zero
        assert ours > 0 or ("overhead" in name and ours > -50), (name, ours)
    assert any(name.endswith("points into one run, sustained") for name in rows)
    assert any(name.startswith("search_runs over") for name in rows)
    assert any("runs x (10 params + 5 metrics)" in name for name in rows)
    postgres = [name for name in rows if name.startswith("PostgreSQL: ")]
    assert len(postgres) == 4, postgres  # runs, points, search, 8 writers
    assert all(rows[name]["ours"] == rows[name]["ours"] for name in postgres)
    assert all(row["ok"] is None for row in rows.values())  # quick mode judges nothing
    if with_mlflow:
        assert rows["log_metric, caller's thread"]["mlflow"] is not None
    assert "jupyter-track" in done.stdout and "raw SQLite" in done.stdout


@pytest.mark.slow
def test_bench_hub_quick_stores_every_point(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1]))
    import hubtools

    if hubtools.proxy_command() is None:
        pytest.skip("configurable-http-proxy is not installed (bash .ci/run installs it)")
    out = tmp_path / "rows.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_TRACK_")}
    cmd = [sys.executable, str(BENCHMARKS / "bench_hub.py"), "--quick", "--json", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {row["name"]: row for row in json.loads(out.read_text())}
    assert rows["points lost"]["ours"] == 0
    assert rows["request errors"]["ours"] == 0
    assert rows["batch latency p99"]["ours"] is not None


@pytest.mark.slow
def test_bench_mlflow_rest_quick_logs_through_both_servers(tmp_path: Path) -> None:
    """The REST benchmark (real MLflow client vs jupyter-track and mlflow server) runs; it
    checks itself that every point reached both stores."""
    from _mlflow_venv import mlflow_python

    mlflow_python()  # skips (or fails under CI) without the MLflow venv
    out = tmp_path / "rows.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_TRACK_")}
    cmd = [sys.executable, str(BENCHMARKS / "bench_mlflow_rest.py"), "--quick", "--json", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert rows[0]["name"].startswith("MLflow client over REST")
    assert all(row["ours"] > 0 and row["mlflow"] > 0 for row in rows)
    assert any("server CPU per request" in note for note in rows[0]["notes"])


@pytest.mark.slow
def test_bench_tracing_quick_prints_every_row(tmp_path: Path) -> None:
    """bench_tracing.py runs (quick: tiny sizes); it checks itself that every trace and span
    reached the store and that the view drew every span. The browser row needs chromium."""
    import shutil

    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _common import mlflow_python
    finally:
        sys.path.remove(str(BENCHMARKS))
    with_mlflow = mlflow_python(create=False) is not None
    out = tmp_path / "rows.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_TRACK_")}
    cmd = [sys.executable, str(BENCHMARKS / "bench_tracing.py"), "--quick", "--json", str(out)]
    if not with_mlflow:
        cmd.append("--no-mlflow")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {row["name"]: row for row in json.loads(out.read_text())}
    names = list(rows)
    assert names[0] == "@trace caller overhead" and "first traced call, fresh process" in rows
    assert any(n.endswith("traces x 5 spans, durable") for n in names)
    assert any(n.startswith("search_traces, ") for n in names)
    view = [n for n in names if n.startswith("trace view, ")]
    assert len(view) == 1
    measured = [n for n in names if not n.startswith("trace view, ")]
    if shutil.which("chromium"):
        measured += view
    for name in measured:
        ours = rows[name]["ours"]
        assert isinstance(ours, (int, float)) and math.isfinite(ours) and ours > 0, (name, ours)
    if with_mlflow:
        assert rows["@trace caller overhead"]["mlflow"] is not None
    assert all(row["ok"] is None for row in rows.values())
