"""Running a Python snippet in a fresh interpreter and reading its answer (tests that need a
process of their own: what it imported, what a first call does)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def python_json(script: str, *args: str, timeout: float = 300) -> Any:
    """Run ``script`` with this interpreter (``python -c script args...``) and return the JSON
    it printed on its last line; a failing script raises with the end of its stderr."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"the script failed ({done.returncode}):\n{done.stderr[-4000:]}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines, f"the script printed nothing:\n{done.stderr[-2000:]}"
    return json.loads(lines[-1])
