"""What the compare views add about lineage: the environment diff and the data each run read.

The REST comparison and ``jt.compare`` both merge :func:`comparison_extras` into the shared
comparison payload (``payloads.comparison``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import datasets, envdiff


def comparison_extras(store: Any, runs: Sequence[Any]) -> dict[str, Any]:
    """``environment`` (rows of packages that differ, per-run counts against the first run),
    ``data`` (digest per input name) and ``warnings`` (different data under one name)."""
    environment = envdiff.comparison_rows(store, runs) if runs else {"rows": [], "summary": []}
    data = datasets.comparison_rows(runs)
    return {"environment": environment, "data": data["rows"], "warnings": data["warnings"]}
