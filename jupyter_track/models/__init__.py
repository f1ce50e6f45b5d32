"""Models: log and load them in one format for several frameworks, register them, serve them.

``jt.log_model`` saves scikit-learn, XGBoost, PyTorch or any object with ``predict`` in a run,
with a manifest (flavor, library versions, Python version, pinned requirements, signature, input
example); ``jt.load_model`` returns a model whose ``predict`` takes a DataFrame, a numpy array or
a list of dicts. The registry functions (``jt.register_model``, aliases, rollback, audit trail)
live in :mod:`jupyter_track.models.fluent`; serving in :mod:`jupyter_track.models.serving`.
"""

from __future__ import annotations

from typing import Any

_FLUENT = (
    "ModelInfo alias_history create_registered_model delete_model_version "
    "delete_model_version_tag delete_registered_model delete_registered_model_alias "
    "delete_registered_model_tag get_model_version get_model_version_by_alias "
    "get_registered_model load_model log_model register_model registry_audit rollback_alias "
    "search_model_versions search_registered_models set_model_version_tag "
    "set_registered_model_alias set_registered_model_tag update_model_version "
    "update_registered_model"
).split()
_OTHER = {
    "ModelSignature": "signature",
    "infer_signature": "signature",
    "Model": "mlmodel",
    "SignatureError": "signature",
    "PyFuncModel": "model",
    "save_model": "model",
    "Router": "router",
}

PUBLIC_NAMES = (*_FLUENT, *_OTHER)
__all__ = list(PUBLIC_NAMES)


def __getattr__(name: str) -> Any:
    import importlib

    if name in _FLUENT:
        return getattr(importlib.import_module(".fluent", __name__), name)
    if name in _OTHER:
        return getattr(importlib.import_module(f".{_OTHER[name]}", __name__), name)
    raise AttributeError(f"module 'jupyter_track.models' has no attribute {name!r}")
