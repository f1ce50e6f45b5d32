"""Run one MLflow-style snippet twice: with ``import jupyter_track as mlflow`` (this package)
and with the real ``mlflow`` 3.17.2 (its own venv, the control), each in a fresh process on its
own SQLite store, and return what each printed as JSON on its last line.

A snippet is written against the name ``mlflow``; ``{m}`` stands for the package path where a
submodule is imported (``from {m}.entities import Metric``). Each process starts in its own
empty folder (``workdir``), outside any git repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from _mlflow_venv import run_mlflow_sync

PRELUDE = "import json\n"


def _source(snippet: str, package: str) -> str:
    body = textwrap.dedent(snippet).replace("{m}", package)
    head = "import jupyter_track as mlflow\n" if package == "jupyter_track" else "import mlflow\n"
    return PRELUDE + head + body


def run_ours(snippet: str, workdir: Path, **env: str) -> Any:
    """The snippet with ``import jupyter_track as mlflow`` in a fresh interpreter."""
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "snippet.py"
    script.write_text(_source(snippet, "jupyter_track"))
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER_TRACK_", "MLFLOW_", "PYTHON"))
    }
    clean.update(JUPYTER_TRACK_DB=str(workdir / "track.db"), GIT_CEILING_DIRECTORIES="/")
    clean.update(env)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=workdir,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"the jupyter-track snippet failed:\n{done.stderr[-6000:]}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines, f"the snippet printed nothing:\n{done.stderr[-3000:]}"
    return json.loads(lines[-1])


def run_control(snippet: str, workdir: Path, **env: str) -> Any:
    """The same snippet with the real ``mlflow`` (skipped when its venv is missing)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{workdir / 'mlflow.db'}")
    env.setdefault("GIT_CEILING_DIRECTORIES", "/")
    return run_mlflow_sync(_source(snippet, "mlflow"), workdir, **env)


def run_both(snippet: str, tmp_path: Path, **env: str) -> tuple[Any, Any]:
    """``(ours, mlflow's)`` answers of one snippet."""
    return run_ours(snippet, tmp_path / "ours", **env), run_control(
        snippet, tmp_path / "control", **env
    )
