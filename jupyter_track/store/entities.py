"""Plain records returned by the store: MLflow's entities (``jupyter_track.entities``).

``Run.info`` / ``Run.data.params|metrics|tags`` / ``Run.inputs.dataset_inputs`` match MLflow, so
code written against ``mlflow.get_run`` reads a jupyter-track run unchanged; ``dict(entity)``
gives MLflow's attributes (as MLflow's ``_MlflowObject``), ``Run.to_dictionary()`` MLflow's
nested dict. ``to_dict()`` is jupyter-track's own JSON shape (with its extra fields).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


def _invalid(message: str) -> Exception:
    from .errors import InvalidInput  # errors imports nothing of ours but exceptions

    return InvalidInput(message)


class MlflowObject:
    """MLflow's entity protocol: ``dict(entity)`` (and ``iter``) gives the attributes MLflow's
    entity of the same name has, in MLflow's (sorted) order; ``from_dictionary`` builds one."""

    _mlflow_properties: ClassVar[tuple[str, ...]] = ()

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        for name in self._mlflow_properties:
            yield name, getattr(self, name)

    @classmethod
    def _properties(cls) -> list[str]:
        return list(cls._mlflow_properties)

    @classmethod
    def from_dictionary(cls, the_dict: Mapping[str, Any]) -> Any:
        """An entity from a dict, keeping the keys the entity knows (as MLflow's)."""
        return cls(**{k: v for k, v in the_dict.items() if k in cls._mlflow_properties})


class RunStatus:
    """Run states, as in MLflow. The constants are the states' names (``"FINISHED"``; MLflow's
    are numbers 1-5): :meth:`to_string` and :meth:`from_string` accept either."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    ALL = (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED)
    TERMINAL = (FINISHED, FAILED, KILLED)
    #: MLflow's number of each state (``mlflow.entities.RunStatus.FINISHED == 3``)
    NUMBERS: ClassVar[dict[str, int]] = {s: i for i, s in enumerate(ALL, start=1)}

    @classmethod
    def _name(cls, status: Any, what: str) -> str:
        if isinstance(status, str):
            if status in cls.NUMBERS:
                return status
        elif isinstance(status, int) and not isinstance(status, bool):
            for name, number in cls.NUMBERS.items():
                if number == status:
                    return name
        raise _invalid(
            f"{what} {status!r}: not a run status; valid run statuses are "
            f"{', '.join(cls.ALL)} (or MLflow's numbers 1-5)"
        )

    @classmethod
    def from_string(cls, status_str: str) -> str:
        """The state for ``status_str`` (``"FINISHED"``, upper case as MLflow); ``MlflowException``
        (``INVALID_PARAMETER_VALUE``) naming the valid ones otherwise."""
        if not isinstance(status_str, str):
            raise _invalid(f"status {status_str!r}: expected a string such as 'FINISHED'")
        return cls._name(status_str, "status")

    @classmethod
    def to_string(cls, status: Any) -> str:
        """The name of ``status`` (a constant of this class or MLflow's number)."""
        return cls._name(status, "status")

    @classmethod
    def is_terminated(cls, status: Any) -> bool:
        """Whether ``status`` is FINISHED, FAILED or KILLED."""
        return cls._name(status, "status") in cls.TERMINAL

    @classmethod
    def all_status(cls) -> list[str]:
        return list(cls.ALL)


class LifecycleStage:
    """Soft deletion state of runs and experiments."""

    ACTIVE = "active"
    DELETED = "deleted"

    @classmethod
    def view_type_to_stages(cls, view_type: int = 3) -> list[str]:
        """The stages a search with ``view_type`` sees."""
        stages = []
        if view_type in (ViewType.ACTIVE_ONLY, ViewType.ALL):
            stages.append(cls.ACTIVE)
        if view_type in (ViewType.DELETED_ONLY, ViewType.ALL):
            stages.append(cls.DELETED)
        return stages

    @classmethod
    def is_valid(cls, lifecycle_stage: str) -> bool:
        return lifecycle_stage in (cls.ACTIVE, cls.DELETED)

    @classmethod
    def matches_view_type(cls, view_type: int, lifecycle_stage: str) -> bool:
        if not cls.is_valid(lifecycle_stage):
            raise _invalid(f"lifecycle_stage {lifecycle_stage!r}: must be 'active' or 'deleted'")
        return lifecycle_stage in cls.view_type_to_stages(view_type)


class ViewType:
    """Which runs a search sees, as MLflow's ``ViewType``."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    _NAMES: ClassVar[dict[str, int]] = {"active_only": 1, "deleted_only": 2, "all": 3}

    @classmethod
    def from_string(cls, view_str: str) -> int:
        """``"active_only"``, ``"deleted_only"`` or ``"all"`` (MLflow's names; upper case is
        accepted too) -> the number."""
        name = view_str.lower() if isinstance(view_str, str) else None
        if name not in cls._NAMES:
            raise _invalid(f"view type {view_str!r}: must be one of {', '.join(cls._NAMES)}")
        return cls._NAMES[name]

    @classmethod
    def to_string(cls, view_type: int) -> str:
        """MLflow's name of ``view_type`` (``"active_only"``, ``"deleted_only"``, ``"all"``)."""
        for name, number in cls._NAMES.items():
            if number == view_type:
                return name
        raise _invalid(f"view type {view_type!r}: must be 1, 2 or 3")


@dataclass(frozen=True)
class ExperimentTag(MlflowObject):
    """A tag of an experiment (MLflow's ``ExperimentTag``)."""

    key: str
    value: str

    _mlflow_properties: ClassVar[tuple[str, ...]] = ("key", "value")


@dataclass(frozen=True)
class Experiment(MlflowObject):
    """A named group of runs."""

    _mlflow_properties: ClassVar[tuple[str, ...]] = (
        "artifact_location",
        "creation_time",
        "experiment_id",
        "last_update_time",
        "lifecycle_stage",
        "name",
        "tags",
    )

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
class Metric(MlflowObject):
    """One point of a metric's history. ``value`` may be NaN or +/-inf.

    MLflow 3's ``model_id``, ``dataset_name``, ``dataset_digest`` and ``run_id`` are always
    None here (points are not linked to logged models or datasets)."""

    key: str
    value: float
    timestamp: int
    step: int

    model_id: ClassVar[str | None] = None
    dataset_name: ClassVar[str | None] = None
    dataset_digest: ClassVar[str | None] = None
    run_id: ClassVar[str | None] = None
    _mlflow_properties: ClassVar[tuple[str, ...]] = (
        "dataset_digest",
        "dataset_name",
        "key",
        "model_id",
        "run_id",
        "step",
        "timestamp",
        "value",
    )

    def to_dictionary(self) -> dict[str, Any]:
        """MLflow's ``Metric.to_dictionary()``."""
        return {k: v for k, v in self}

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
class RunInfo(MlflowObject):
    """Identity and state of a run (MLflow's ``RunInfo`` plus notebook provenance)."""

    _mlflow_properties: ClassVar[tuple[str, ...]] = (
        "artifact_uri",
        "end_time",
        "experiment_id",
        "lifecycle_stage",
        "run_id",
        "run_name",
        "start_time",
        "status",
        "user_id",
    )

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
class RunData(MlflowObject):
    """What was logged: params and tags as text, metrics as their last value."""

    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    _mlflow_properties: ClassVar[tuple[str, ...]] = ("metrics", "params", "tags")

    def to_dictionary(self) -> dict[str, Any]:
        """MLflow's ``RunData.to_dictionary()``: metrics, params and tags as dicts."""
        return {"metrics": dict(self.metrics), "params": dict(self.params), "tags": dict(self.tags)}


@dataclass(frozen=True)
class InputTag(MlflowObject):
    """A tag of a run input (MLflow's ``InputTag``; ``mlflow.data.context`` is the context)."""

    key: str
    value: str

    _mlflow_properties: ClassVar[tuple[str, ...]] = ("key", "value")


@dataclass(frozen=True)
class Dataset(MlflowObject):
    """A dataset a run used, as recorded (MLflow's ``mlflow.entities.Dataset``): ``source`` is
    where it came from (a path or URI as text), ``schema`` and ``profile`` JSON text or None."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None

    _mlflow_properties: ClassVar[tuple[str, ...]] = (
        "digest",
        "name",
        "profile",
        "schema",
        "source",
        "source_type",
    )

    def to_dictionary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "digest": self.digest,
            "source_type": self.source_type,
            "source": self.source,
            "schema": self.schema,
            "profile": self.profile,
        }


@dataclass(frozen=True)
class DatasetInput(MlflowObject):
    """A dataset and the tags of its use by a run (MLflow's ``DatasetInput``)."""

    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)

    _mlflow_properties: ClassVar[tuple[str, ...]] = ("dataset", "tags")

    def to_dictionary(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset.to_dictionary(),
            "tags": {t.key: t.value for t in self.tags},
        }


@dataclass(frozen=True)
class RunInputs(MlflowObject):
    """What a run read (MLflow's ``RunInputs``); ``model_inputs`` is always empty here."""

    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[Any] = field(default_factory=list)

    _mlflow_properties: ClassVar[tuple[str, ...]] = ("dataset_inputs", "model_inputs")

    def to_dictionary(self) -> dict[str, Any]:
        return {
            "model_inputs": [],
            "dataset_inputs": [d.to_dictionary() for d in self.dataset_inputs],
        }


@dataclass(frozen=True)
class RunOutputs(MlflowObject):
    """What a run produced as MLflow 3 logged models (MLflow's ``RunOutputs``); always empty
    here: models are the run's artifacts and registry versions."""

    model_outputs: list[Any] = field(default_factory=list)

    _mlflow_properties: ClassVar[tuple[str, ...]] = ("model_outputs",)

    def to_dictionary(self) -> dict[str, Any]:
        return {"model_outputs": list(self.model_outputs)}


@dataclass
class Run(MlflowObject):
    """A run: ``info``, ``data`` and ``inputs``; ``source`` is the code that produced it, when
    known.

    ``inputs`` are read from the run's ``jt.input.<name>.*`` tags; a client's ``get_run`` adds
    each input's schema and profile (kept in the run's ``inputs/<name>.json``)."""

    info: RunInfo
    data: RunData
    source: str | None = None
    summaries: dict[str, MetricSummary] = field(default_factory=dict)

    _mlflow_properties: ClassVar[tuple[str, ...]] = ("data", "info", "inputs", "outputs")

    @property
    def inputs(self) -> RunInputs:
        """The datasets the run recorded (``run.inputs.dataset_inputs``, as MLflow)."""
        known = self.__dict__.get("_inputs")
        if known is None:
            from ..lineage.inputs import dataset_inputs

            known = self.__dict__["_inputs"] = RunInputs(dataset_inputs(self.data.tags))
        return known

    @inputs.setter
    def inputs(self, value: RunInputs) -> None:
        self.__dict__["_inputs"] = value

    @property
    def outputs(self) -> RunOutputs:
        """MLflow 3's logged-model outputs: always empty here."""
        return RunOutputs()

    def to_dictionary(self) -> dict[str, Any]:
        """MLflow's ``Run.to_dictionary()``: ``info`` (``dict(run.info)``), ``data`` and
        ``inputs`` as nested dicts."""
        return {
            "info": dict(self.info),
            "data": self.data.to_dictionary(),
            "inputs": self.inputs.to_dictionary(),
            "outputs": self.outputs.to_dictionary(),
        }

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


def json_number(value: float | None) -> float | str | None:
    """JSON has no NaN/inf: send them as the strings "NaN", "Infinity", "-Infinity"."""
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


# ------------------------------------------------------------------------------ registry


class _Unset:
    """Marker for "no compare-and-set check" (distinct from None: "expected to be unset")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


class PagedList(list[Any]):
    """A page of search results; ``token`` fetches the next page (None: this was the last)."""

    def __init__(self, items: Sequence[Any], token: str | None):
        super().__init__(items)
        self.token = token


# Records a run does not need (the cell log's rows, log_batch's params and tags, the
# registry's): defined in :mod:`.records`, loaded on first use; importable from here too.
_RECORDS = frozenset(
    ("AuditEntry", "CellExecution", "ModelVersion", "Param", "RegisteredModel", "RunTag")
)


def __getattr__(name: str) -> Any:
    if name in _RECORDS:
        from . import records

        return getattr(records, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
