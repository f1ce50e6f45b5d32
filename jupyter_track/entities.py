"""MLflow's ``mlflow.entities`` names: ``from jupyter_track.entities import SpanType`` (or
``mlflow.entities.SpanType`` with ``import jupyter_track as mlflow``).

The run and registry entities live in :mod:`jupyter_track.store.entities`, the tracing ones in
:mod:`jupyter_track.tracing.entities`; this module only gathers them under MLflow's path.
"""

from __future__ import annotations

from .store.entities import (
    Experiment,
    LifecycleStage,
    Metric,
    ModelVersion,
    Param,
    RegisteredModel,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from .tracing.entities import (
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

__all__ = [
    "Assessment",
    "AssessmentSource",
    "AssessmentSourceType",
    "Expectation",
    "Experiment",
    "Feedback",
    "LifecycleStage",
    "Metric",
    "ModelVersion",
    "Param",
    "RegisteredModel",
    "Run",
    "RunData",
    "RunInfo",
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
