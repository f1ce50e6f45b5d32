"""Runs as a pandas DataFrame, with MLflow's column names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..store import Run


def runs_to_frame(runs: Sequence[Run]) -> Any:
    """``run_id, experiment_id, status, artifact_uri, start_time, end_time, run_name,
    metrics.*, params.*, tags.*`` -- times as UTC timestamps, as ``mlflow.search_runs``."""
    import pandas as pd

    base: dict[str, list[Any]] = {
        "run_id": [],
        "experiment_id": [],
        "status": [],
        "artifact_uri": [],
        "start_time": [],
        "end_time": [],
        "run_name": [],
        "user_id": [],
        "parent_run_id": [],
        "notebook": [],
        "cell_id": [],
    }
    metric_keys = sorted({k for r in runs for k in r.data.metrics})
    param_keys = sorted({k for r in runs for k in r.data.params})
    tag_keys = sorted({k for r in runs for k in r.data.tags})
    columns: dict[str, list[Any]] = dict(base)
    for k in metric_keys:
        columns[f"metrics.{k}"] = []
    for k in param_keys:
        columns[f"params.{k}"] = []
    for k in tag_keys:
        columns[f"tags.{k}"] = []
    for run in runs:
        info = run.info
        columns["run_id"].append(info.run_id)
        columns["experiment_id"].append(info.experiment_id)
        columns["status"].append(info.status)
        columns["artifact_uri"].append(info.artifact_uri)
        columns["start_time"].append(info.start_time)
        columns["end_time"].append(info.end_time)
        columns["run_name"].append(info.run_name)
        columns["user_id"].append(info.user_id)
        columns["parent_run_id"].append(info.parent_run_id)
        columns["notebook"].append(info.notebook)
        columns["cell_id"].append(info.cell_id)
        metrics, params, tags = run.data.metrics, run.data.params, run.data.tags
        for k in metric_keys:
            columns[f"metrics.{k}"].append(metrics.get(k, float("nan")))
        for k in param_keys:
            columns[f"params.{k}"].append(params.get(k))
        for k in tag_keys:
            columns[f"tags.{k}"].append(tags.get(k))
    frame = pd.DataFrame(columns)
    for column in ("start_time", "end_time"):
        frame[column] = pd.to_datetime(frame[column], unit="ms", utc=True)
    for k in metric_keys:
        frame[f"metrics.{k}"] = frame[f"metrics.{k}"].astype("float64")
    return frame
