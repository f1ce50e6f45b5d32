"""MLflow's ``mlflow.genai.scorers``: the built-in scorers and ``scorer``
(:mod:`jupyter_track.tracing.scorers`)."""

from __future__ import annotations

from ..tracing.scorers import (
    Contains,
    ExactMatch,
    FunctionScorer,
    JsonValid,
    Latency,
    RegexMatch,
    Scorer,
    TokenCount,
    scorer,
)

__all__ = [
    "Contains",
    "ExactMatch",
    "FunctionScorer",
    "JsonValid",
    "Latency",
    "RegexMatch",
    "Scorer",
    "TokenCount",
    "scorer",
]
