"""MLflow's ``mlflow.genai`` names: ``evaluate``, ``scorer``, ``scorers``, ``judges``.

``jt.genai.evaluate(data, predict_fn=..., scorers=[...])`` is ``jt.evaluate``
(:mod:`jupyter_track.tracing.evaluation`); ``from jupyter_track.genai.scorers import
Contains`` and ``from jupyter_track.genai.judges import make_judge`` work as in MLflow.
"""

from __future__ import annotations

from ..tracing.evaluation import EvaluationResult, compare_evaluations, evaluate
from ..tracing.scorers import scorer
from . import judges, scorers

__all__ = [
    "EvaluationResult",
    "compare_evaluations",
    "evaluate",
    "judges",
    "scorer",
    "scorers",
]
