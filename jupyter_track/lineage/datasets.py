"""The dataset view: every run and model version that read a dataset (by digest or name),
and where one dataset name had different digests across runs.

``jt.dataset_usage(...)``, ``jupyter-track datasets``, the REST route ``datasets`` and the
compare views' warning ("these runs trained on different data named `train`") use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .inputs import run_inputs


def dataset_view(
    store: Any, *, digest: str | None = None, name: str | None = None, limit: int = 10_000
) -> dict[str, Any]:
    """``{"runs": [...], "model_versions": [...], "digests": {name: [digest, ...]},
    "warnings": [...]}`` for the runs that read ``digest`` and/or a dataset named ``name``."""
    runs = store.dataset_usage(digest=digest, name=name, limit=limit)
    versions = store.model_versions_of_runs(sorted({r["run_id"] for r in runs}))
    digests: dict[str, list[str]] = {}
    for row in runs:
        seen = digests.setdefault(row["name"], [])
        if row["digest"] not in seen:
            seen.append(row["digest"])
    warnings = [
        f"runs read {len(found)} different versions of the data named `{dataset}`"
        for dataset, found in sorted(digests.items())
        if len(found) > 1
    ]
    return {
        "query": {"digest": digest, "name": name},
        "runs": runs,
        "model_versions": versions,
        "digests": digests,
        "warnings": warnings,
        "truncated": len(runs) >= limit,
    }


def comparison_rows(runs: Sequence[Any]) -> dict[str, Any]:
    """The compare view's data section: one row per input name (its digest per run) and a
    warning for each name read with different digests."""
    per_run = [{i["name"]: i for i in run_inputs(r.data.tags)} for r in runs]
    names = sorted({n for inputs in per_run for n in inputs})
    rows = []
    warnings = []
    for dataset in names:
        values = [inputs.get(dataset, {}).get("digest") for inputs in per_run]
        present = {v for v in values if v is not None}
        differs = len(set(values)) > 1
        rows.append({"key": dataset, "values": values, "differs": differs})
        if len(present) > 1:
            warnings.append(f"these runs trained on different data named `{dataset}`")
    return {"rows": rows, "warnings": warnings}
