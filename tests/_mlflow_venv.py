"""The real ``mlflow`` client (3.17.2), in its own virtualenv, for protocol and import tests.

The venv is ``benchmarks/.mlflow-venv`` (the benchmarks' peer, created by ``.ci/run``). Tests
that need it skip when it is missing, unless ``JUPYTER_TRACK_REQUIRE_MLFLOW=1`` (set by CI),
where a missing venv fails them. MLflow runs as a subprocess: ``await run_mlflow(code, ...)``
executes a script and returns what it printed as JSON on its last line.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
MLFLOW_VERSION = "3.17.2"
VENV = ROOT / "benchmarks" / ".mlflow-venv"


def mlflow_python() -> Path:
    """The venv's interpreter (skip, or fail under CI, when it is missing)."""
    python = VENV / "bin" / "python"
    if python.exists():
        probe = subprocess.run(
            [str(python), "-c", "import importlib.metadata as m; print(m.version('mlflow'))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == MLFLOW_VERSION:
            return python
    message = (
        f"the MLflow {MLFLOW_VERSION} venv is missing: python3 -m venv {VENV} && "
        f"{VENV}/bin/pip install mlflow=={MLFLOW_VERSION}"
    )
    if os.environ.get("JUPYTER_TRACK_REQUIRE_MLFLOW") == "1":
        pytest.fail(message)
    pytest.skip(message)


def client_env(**extra: str) -> dict[str, str]:
    """Environment for an MLflow process: no jupyter-track store, no telemetry, no retries."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER_TRACK_", "MLFLOW_", "PYTHON"))
    }
    env.update(
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="1",
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
        MLFLOW_HTTP_REQUEST_TIMEOUT="60",
        GIT_PYTHON_REFRESH="quiet",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _script(code: str, workdir: Path) -> Path:
    path = workdir / f"mlflow_script_{abs(hash(code))}.py"
    path.write_text(textwrap.dedent(code))
    return path


def _answer(returncode: int, out: str, err: str) -> Any:
    if returncode != 0:
        raise AssertionError(f"the MLflow script failed ({returncode}):\n{err[-6000:]}")
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines, f"the MLflow script printed nothing:\n{err[-3000:]}"
    return json.loads(lines[-1])


async def run_mlflow(code: str, workdir: Path, **env: str) -> Any:
    """Run ``code`` with the venv's Python without blocking the event loop (the test's Jupyter
    server runs on it); return the JSON it printed last."""
    python = mlflow_python()
    proc = await asyncio.create_subprocess_exec(
        str(python),
        str(_script(code, workdir)),
        cwd=workdir,
        env=client_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=600)
    return _answer(proc.returncode or 0, out.decode(), err.decode())


def run_mlflow_sync(code: str, workdir: Path, **env: str) -> Any:
    """Like :func:`run_mlflow`, blocking (for tests without a server on the loop)."""
    python = mlflow_python()
    done = subprocess.run(
        [str(python), str(_script(code, workdir))],
        cwd=workdir,
        env=client_env(**env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return _answer(done.returncode, done.stdout, done.stderr)


__all__ = ["client_env", "mlflow_python", "run_mlflow", "run_mlflow_sync"]
