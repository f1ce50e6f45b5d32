"""Kernel side: the fluent API, the active-run stack, the background metric writer.

As MLflow's ``mlflow.tracking``: ``from jupyter_track.tracking import MlflowClient`` (the
:class:`~.client.TrackClient` under MLflow's name), ``get_tracking_uri``, ``set_tracking_uri``,
``set_registry_uri`` and ``get_registry_uri``; loaded on first use.
"""

from __future__ import annotations

from typing import Any

_FLUENT = ("get_tracking_uri", "set_tracking_uri", "set_registry_uri", "get_registry_uri")

__all__ = ["MlflowClient", "TrackClient", *_FLUENT]


def __getattr__(name: str) -> Any:
    if name in ("MlflowClient", "TrackClient"):
        from .client import TrackClient

        return TrackClient
    if name in _FLUENT:
        import importlib

        return getattr(importlib.import_module(".fluent", __name__), name)
    raise AttributeError(f"module 'jupyter_track.tracking' has no attribute {name!r}")
