"""Plain records returned by the store, shaped like MLflow's entities.

``Run.info`` / ``Run.data.params|metrics|tags`` match MLflow so code written against
``mlflow.get_run`` reads a jupyter-track run unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


class RunStatus:
    """Run states, as in MLflow."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    ALL = (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED)
    TERMINAL = (FINISHED, FAILED, KILLED)


class LifecycleStage:
    """Soft deletion state of runs and experiments."""

    ACTIVE = "active"
    DELETED = "deleted"


class ViewType:
    """Which runs a search sees, as MLflow's ``ViewType``."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3


@dataclass(frozen=True)
class Experiment:
    """A named group of runs."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Metric:
    """One point of a metric's history. ``value`` may be NaN or +/-inf."""

    key: str
    value: float
    timestamp: int
    step: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": json_number(self.value),
            "timestamp": self.timestamp,
            "step": self.step,
        }


@dataclass(frozen=True)
class MetricSummary:
    """Per-run, per-key summary kept current as points arrive."""

    key: str
    last: float
    step: int
    timestamp: int
    min: float
    max: float
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "last": json_number(self.last),
            "step": self.step,
            "timestamp": self.timestamp,
            "min": json_number(self.min),
            "max": json_number(self.max),
            "count": self.count,
        }


@dataclass
class RunInfo:
    """Identity and state of a run (MLflow's ``RunInfo`` plus notebook provenance)."""

    run_id: str
    experiment_id: str
    run_name: str | None
    status: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    user_id: str | None
    artifact_uri: str
    parent_run_id: str | None = None
    notebook: str | None = None
    cell_id: str | None = None
    execution_count: int | None = None
    environment: str | None = None
    error: str | None = None

    @property
    def run_uuid(self) -> str:
        return self.run_id

    @property
    def duration_ms(self) -> int | None:
        return None if self.end_time is None else self.end_time - self.start_time

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["duration_ms"] = self.duration_ms
        return d


@dataclass
class RunData:
    """What was logged: params and tags as text, metrics as their last value."""

    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Run:
    """A run: ``info`` and ``data``; ``source`` is the code that produced it, when known."""

    info: RunInfo
    data: RunData
    source: str | None = None
    summaries: dict[str, MetricSummary] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "info": self.info.to_dict(),
            "data": {
                "params": dict(self.data.params),
                "metrics": {k: json_number(v) for k, v in self.data.metrics.items()},
                "tags": dict(self.data.tags),
            },
            "source": self.source,
            "summaries": {k: s.to_dict() for k, s in self.summaries.items()},
        }


@dataclass(frozen=True)
class CellExecution:
    """One execution of a notebook cell, tracked or not."""

    id: int
    session: str | None
    notebook: str | None
    cell_id: str | None
    execution_count: int | None
    source: str
    start_time: int
    duration_ms: float
    status: str
    error_name: str | None
    run_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def json_number(value: float | None) -> float | str | None:
    """JSON has no NaN/inf: send them as the strings "NaN", "Infinity", "-Infinity"."""
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


@dataclass(frozen=True)
class Param:
    """A param for ``TrackClient.log_batch`` (MLflow's ``Param``)."""

    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    """A tag for ``TrackClient.log_batch`` (MLflow's ``RunTag``)."""

    key: str
    value: str


# ------------------------------------------------------------------------------ registry


class _Unset:
    """Marker for "no compare-and-set check" (distinct from None: "expected to be unset")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


@dataclass
class ModelVersion:
    """One version of a registered model (MLflow's ``ModelVersion``)."""

    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None
    user_id: str | None
    source: str
    run_id: str | None
    artifact_path: str | None
    status: str = "READY"
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    current_stage: str = "None"  # MLflow's deprecated stages; always "None" here

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RegisteredModel:
    """A registered model (MLflow's ``RegisteredModel``); ``aliases`` maps alias -> version."""

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_versions: list[ModelVersion] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["latest_versions"] = [v.to_dict() for v in self.latest_versions]
        return d


@dataclass(frozen=True)
class AuditEntry:
    """One row of the registry's append-only audit log.

    ``action`` is one of ``create_registered_model``, ``update_registered_model``,
    ``rename_registered_model`` (one row under the old name, one under the new),
    ``delete_registered_model``, ``set_registered_model_tag``, ``delete_registered_model_tag``,
    ``create_model_version``, ``update_model_version``, ``delete_model_version``,
    ``set_model_version_tag``, ``delete_model_version_tag``, ``set_alias`` (``old_value`` None:
    the alias was created, else moved), ``delete_alias`` and ``rollback_alias``.
    """

    id: int
    timestamp: int
    actor: str
    actor_verified: bool
    action: str
    model: str
    version: int | None
    alias: str | None
    key: str | None
    old_value: str | None
    new_value: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PagedList(list[Any]):
    """A page of search results; ``token`` fetches the next page (None: this was the last)."""

    def __init__(self, items: Sequence[Any], token: str | None):
        super().__init__(items)
        self.token = token
