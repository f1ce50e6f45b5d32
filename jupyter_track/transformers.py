"""``jt.transformers``: autologging for Hugging Face ``transformers``' ``Trainer``.

``jt.transformers.autolog()`` adds :class:`JupyterTrackCallback` to every ``Trainer`` created
afterwards; or pass ``callbacks=[jt.transformers.JupyterTrackCallback()]`` yourself. The
callback logs the ``TrainingArguments`` and the model config as params and every ``log``
(``loss``, ``learning_rate``, ``eval_loss``, ...) at the global step, as transformers'
``MLflowCallback`` does with MLflow (see :mod:`jupyter_track.autologging.transformers`).
"""

from __future__ import annotations

from typing import Any

from .autologging.transformers import autolog

__all__ = ["JupyterTrackCallback", "autolog"]  # noqa: F822 (defined on first use)


def __getattr__(name: str) -> Any:
    if name in ("JupyterTrackCallback", "MlflowCallback"):
        from .autologging.transformers import _callback_type

        return _callback_type()
    raise AttributeError(f"module 'jupyter_track.transformers' has no attribute {name!r}")
