"""MLflow's ``mlflow.genai.judges``: ``make_judge`` (:mod:`jupyter_track.tracing.judges`)."""

from __future__ import annotations

from ..tracing.judges import Judge, make_judge

__all__ = ["Judge", "make_judge"]
