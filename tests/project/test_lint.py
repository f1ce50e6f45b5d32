"""Style checks run as tests, so the one pytest run CI reads also covers them:
ruff (lint + format) and mypy for Python, eslint + prettier for TypeScript."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON_PATHS = ["jupyter_track", "tests", "ui-tests", "benchmarks", "conftest.py"]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_lint() -> None:
    out = run(sys.executable, "-m", "ruff", "check", *PYTHON_PATHS)
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format() -> None:
    out = run(sys.executable, "-m", "ruff", "format", "--check", "jupyter_track")
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_on_store_and_tracking() -> None:
    out = run(sys.executable, "-m", "mypy")
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.skipif(not (ROOT / "node_modules").exists(), reason="node_modules not installed")
def test_eslint_and_prettier() -> None:
    jlpm = shutil.which("jlpm")
    assert jlpm, "jlpm comes with jupyterlab"
    out = run(jlpm, "lint:check")
    assert out.returncode == 0, out.stdout + out.stderr
