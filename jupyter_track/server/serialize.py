"""Store records -> the JSON shapes of docs/openapi.yaml (NaN and infinities as strings)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..store import ArtifactInfo, CellExecution, Experiment, Run, RunInfo
from ..store.entities import json_number

SYSTEM_TAG_PREFIXES = ("mlflow.", "jt.")
NOTE_TAG = "mlflow.note.content"


def is_system_tag(key: str) -> bool:
    """Tags jupyter-track and MLflow set themselves (provenance, notes, attribution)."""
    return key.startswith(SYSTEM_TAG_PREFIXES)


def attributes(info: RunInfo) -> dict[str, Any]:
    """The ``RunAttributes`` of a run."""
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "duration_ms": info.duration_ms,
        "lifecycle_stage": info.lifecycle_stage,
        "user_id": info.user_id,
        "parent_run_id": info.parent_run_id,
        "notebook": info.notebook,
        "cell_id": info.cell_id,
        "execution_count": info.execution_count,
    }


def metric_values(metrics: Mapping[str, float | None]) -> dict[str, Any]:
    return {k: json_number(v) for k, v in metrics.items()}


def run_row(info: RunInfo, columns: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A ``RunRow``: attributes plus the chosen params, metrics (last values) and tags."""
    row = attributes(info)
    row["params"] = dict(columns.get("params", {}))
    row["metrics"] = metric_values(columns.get("metrics", {}))
    row["tags"] = dict(columns.get("tags", {}))
    return row


def full_row(run: Run) -> dict[str, Any]:
    """A ``RunRow`` with every param, metric and tag of a hydrated run."""
    return run_row(
        run.info, {"params": run.data.params, "metrics": run.data.metrics, "tags": run.data.tags}
    )


def experiment(exp: Experiment, run_count: int) -> dict[str, Any]:
    return {**exp.to_dict(), "run_count": run_count}


def _flag(value: str | None) -> bool | None:
    return None if value is None else value == "true"


def provenance(run: Run, environment: Mapping[str, Any] | None) -> dict[str, Any]:
    """Where the run came from, gathered from its attributes and its ``jt.*`` tags."""
    tags = run.data.tags
    git = None
    if any(k.startswith("jt.git.") for k in tags):
        git = {
            "root": tags.get("jt.git.root"),
            "commit": tags.get("jt.git.commit"),
            "branch": tags.get("jt.git.branch"),
            "remote": tags.get("jt.git.remote"),
            "dirty": _flag(tags.get("jt.git.dirty")),
        }
    return {
        "user": tags.get("jt.user") or run.info.user_id,
        "user_verified": _flag(tags.get("jt.user.verified")),
        "host": tags.get("jt.host"),
        "python": tags.get("jt.python"),
        "platform": tags.get("jt.platform"),
        "notebook": run.info.notebook or tags.get("jt.notebook"),
        "cell_id": run.info.cell_id,
        "execution_count": run.info.execution_count,
        "git": git,
        "environment": dict(environment) if environment else None,
    }


def run_detail(
    run: Run,
    *,
    environment: Mapping[str, Any] | None,
    artifacts: Sequence[ArtifactInfo],
    artifacts_truncated: bool,
    children: Sequence[str],
) -> dict[str, Any]:
    """A ``RunDetail``."""
    detail = attributes(run.info)
    detail.update(
        {
            "params": dict(run.data.params),
            "metrics": {k: s.to_dict() for k, s in run.summaries.items()},
            "tags": dict(run.data.tags),
            "note": run.data.tags.get(NOTE_TAG),
            "source": run.source,
            "error": run.info.error,
            "artifact_uri": run.info.artifact_uri,
            "provenance": provenance(run, environment),
            "artifacts": [a.to_dict() for a in artifacts],
            "artifacts_truncated": artifacts_truncated,
            "children": list(children),
        }
    )
    return detail


def _aligned(key: str, values: list[Any]) -> dict[str, Any]:
    return {"key": key, "values": values, "differs": len({repr(v) for v in values}) > 1}


def comparison(runs: Sequence[Run]) -> dict[str, Any]:
    """A ``Comparison``: values aligned by key, ``values[i]`` belonging to ``runs[i]``."""
    param_keys = sorted({k for r in runs for k in r.data.params})
    metric_keys = sorted({k for r in runs for k in r.summaries})
    tag_keys = sorted({k for r in runs for k in r.data.tags if not is_system_tag(k)})
    metrics = []
    for key in metric_keys:
        summaries = [r.summaries.get(key) for r in runs]
        entry = _aligned(key, [None if s is None else json_number(s.last) for s in summaries])
        entry["min"] = [None if s is None else json_number(s.min) for s in summaries]
        entry["max"] = [None if s is None else json_number(s.max) for s in summaries]
        metrics.append(entry)
    return {
        "runs": [attributes(r.info) for r in runs],
        "params": [_aligned(k, [r.data.params.get(k) for r in runs]) for k in param_keys],
        "metrics": metrics,
        "tags": [_aligned(k, [r.data.tags.get(k) for r in runs]) for k in tag_keys],
    }


def series(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``MetricSeries`` from :meth:`SQLiteStore.metric_histories` (values JSON-safe)."""
    return [{**s, "value": [json_number(v) for v in s["value"]]} for s in items]


def cell_execution(execution: CellExecution) -> dict[str, Any]:
    return execution.to_dict()
