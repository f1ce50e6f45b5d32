"""jupyter-track's records in MLflow's JSON shapes (``Run``, ``Experiment``, ``ModelVersion``...).

As MLflow's server writes them: unset fields are left out, enums are names (``"FINISHED"``),
int64 values are numbers, NaN and infinities are the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``, a model version's number is text (``"3"``). Artifacts are always addressed
through the server's artifact proxy: a run's ``artifact_uri`` is
``mlflow-artifacts:/<experiment_id>/<run_id>/artifacts``, which MLflow's client resolves against
the tracking URI, so a client on another machine reads and writes them over HTTP.
"""

from __future__ import annotations

from typing import Any

from ..store.entities import Experiment, Metric, Run, RunInfo, json_number
from ..store.registry import ModelVersion, RegisteredModel


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def run_artifact_uri(experiment_id: str, run_id: str) -> str:
    """The run's artifact root as MLflow's client sees it (through the artifact proxy)."""
    return f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"


def experiment(exp: Experiment) -> dict[str, Any]:
    """MLflow's ``Experiment``."""
    return _compact(
        {
            "experiment_id": exp.experiment_id,
            "name": exp.name,
            "artifact_location": exp.artifact_location or f"mlflow-artifacts:/{exp.experiment_id}",
            "lifecycle_stage": exp.lifecycle_stage,
            "last_update_time": exp.last_update_time,
            "creation_time": exp.creation_time,
            "tags": [{"key": k, "value": v} for k, v in exp.tags.items()] or None,
        }
    )


def run_info(info: RunInfo) -> dict[str, Any]:
    """MLflow's ``RunInfo``."""
    return _compact(
        {
            "run_id": info.run_id,
            "run_uuid": info.run_id,
            "run_name": info.run_name,
            "experiment_id": info.experiment_id,
            "user_id": info.user_id,
            "status": info.status,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "artifact_uri": run_artifact_uri(info.experiment_id, info.run_id),
            "lifecycle_stage": info.lifecycle_stage,
        }
    )


def metric(point: Metric) -> dict[str, Any]:
    """MLflow's ``Metric``."""
    return {
        "key": point.key,
        "value": json_number(point.value),
        "timestamp": point.timestamp,
        "step": point.step,
    }


def run(record: Run) -> dict[str, Any]:
    """MLflow's ``Run``: info, and data with the latest value of each metric."""
    metrics = []
    for key, value in record.data.metrics.items():
        summary = record.summaries.get(key)
        metrics.append(
            {
                "key": key,
                "value": json_number(value),
                "timestamp": summary.timestamp if summary else 0,
                "step": summary.step if summary else 0,
            }
        )
    data = _compact(
        {
            "metrics": metrics or None,
            "params": [{"key": k, "value": v} for k, v in record.data.params.items()] or None,
            "tags": [{"key": k, "value": v} for k, v in record.data.tags.items()] or None,
        }
    )
    return {"info": run_info(record.info), "data": data, "inputs": run_inputs(record)}


def run_inputs(record: Run) -> dict[str, Any]:
    """MLflow's ``RunInputs``: the datasets the run recorded (``record.inputs``)."""
    inputs = [
        {
            "tags": [{"key": t.key, "value": t.value} for t in item.tags] or None,
            "dataset": _compact(item.dataset.to_dictionary()),
        }
        for item in record.inputs.dataset_inputs
    ]
    return {"dataset_inputs": [_compact(i) for i in inputs]} if inputs else {}


def model_version(mv: ModelVersion) -> dict[str, Any]:
    """MLflow's ``ModelVersion`` (its number as text, as MLflow's protocol has it)."""
    return _compact(
        {
            "name": mv.name,
            "version": str(mv.version),
            "creation_timestamp": mv.creation_timestamp,
            "last_updated_timestamp": mv.last_updated_timestamp,
            "user_id": mv.user_id,
            "current_stage": mv.current_stage or "None",
            "description": mv.description or "",
            "source": mv.source,
            "run_id": mv.run_id,
            "status": mv.status or "READY",
            "tags": [{"key": k, "value": v} for k, v in mv.tags.items()] or None,
            "aliases": list(mv.aliases) or None,
        }
    )


def registered_model(model: RegisteredModel) -> dict[str, Any]:
    """MLflow's ``RegisteredModel`` (latest version, tags and aliases)."""
    return _compact(
        {
            "name": model.name,
            "creation_timestamp": model.creation_timestamp,
            "last_updated_timestamp": model.last_updated_timestamp,
            "description": model.description or None,
            "latest_versions": [model_version(v) for v in model.latest_versions] or None,
            "tags": [{"key": k, "value": v} for k, v in model.tags.items()] or None,
            "aliases": [{"alias": a, "version": str(v)} for a, v in model.aliases.items()] or None,
        }
    )
