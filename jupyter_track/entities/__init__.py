"""MLflow's entities under their MLflow names: ``from jupyter_track.entities import Run, Metric``.

The run and registry entities are the records the store returns
(:mod:`jupyter_track.store.entities`), the tracing ones live in
:mod:`jupyter_track.tracing.entities` (``from jupyter_track.entities import SpanType``); none is a
copy:
``jt.get_run(...)`` is a :class:`Run`, ``client.get_metric_history(...)`` a list of
:class:`Metric`. As MLflow's, ``dict(entity)`` gives MLflow's attributes and ``Run``,
``RunData``, ``RunInputs``, ``DatasetInput``, ``Dataset`` and ``Metric`` have
``to_dictionary()``. Differences: :class:`RunStatus`'s constants are the states' names
(``"FINISHED"``) where MLflow's are numbers (``to_string``/``from_string`` take either), and
``Metric``'s ``model_id``/``dataset_*``/``run_id`` are always None.
"""

from __future__ import annotations

from ..store.artifacts import ArtifactInfo as FileInfo
from ..store.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    InputTag,
    LifecycleStage,
    Metric,
    MlflowObject,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
    ViewType,
)
from ..tracing.entities import (
    Assessment,
    AssessmentSource,
    AssessmentSourceType,
    Expectation,
    Feedback,
    Span,
    SpanEvent,
    SpanStatus,
    SpanStatusCode,
    SpanType,
    Trace,
    TraceData,
    TraceInfo,
    TraceState,
    TraceStatus,
)
from .model_registry import ModelVersion, ModelVersionTag, RegisteredModel, RegisteredModelTag

__all__ = [
    "Assessment",
    "AssessmentSource",
    "AssessmentSourceType",
    "Dataset",
    "DatasetInput",
    "Expectation",
    "Experiment",
    "ExperimentTag",
    "Feedback",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "Metric",
    "MlflowObject",
    "ModelVersion",
    "ModelVersionTag",
    "Param",
    "RegisteredModel",
    "RegisteredModelTag",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "Span",
    "SpanEvent",
    "SpanStatus",
    "SpanStatusCode",
    "SpanType",
    "Trace",
    "TraceData",
    "TraceInfo",
    "TraceState",
    "TraceStatus",
    "ViewType",
]
