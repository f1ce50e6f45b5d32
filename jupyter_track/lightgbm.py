"""``jt.lightgbm``: MLflow's ``mlflow.lightgbm`` -- log, save and load LightGBM models.

``jt.lightgbm.log_model(lgb_model, name="model")`` saves a ``Booster`` (LightGBM's text format)
or a scikit-learn API model (``LGBMClassifier``, ..., pickled) in the active run;
``jt.lightgbm.load_model(uri)`` returns the model itself, ``jt.pyfunc.load_model(uri)`` the
predict wrapper. ``jt.lightgbm.autolog()`` logs training: params, per-iteration metrics, feature
importances, the model (:mod:`jupyter_track.autologging.lightgbm`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .autologging.lightgbm import autolog
from .models.flavor_api import flavor_load_model, flavor_log_model, flavor_save_model

FLAVOR_NAME = "lightgbm"

__all__ = ["autolog", "load_model", "log_model", "save_model"]


def log_model(
    lgb_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> Any:
    """Log the model in the active run (started if none) as ``name``; returns a ModelInfo."""
    return flavor_log_model(
        FLAVOR_NAME,
        lgb_model,
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        signature=signature,
        input_example=input_example,
        conda_env=conda_env,
        code_paths=code_paths,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        **kwargs,
    )


def save_model(
    lgb_model: Any,
    path: str | Path,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    mlflow_model: Any = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Save the model into the folder ``path`` (created; must be empty)."""
    flavor_save_model(
        FLAVOR_NAME,
        lgb_model,
        path,
        signature=signature,
        input_example=input_example,
        conda_env=conda_env,
        code_paths=code_paths,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        **kwargs,
    )


def load_model(model_uri: str, dst_path: str | None = None, **kwargs: Any) -> Any:
    """The model saved at ``model_uri`` (``runs:/``, ``models:/`` or a folder), as logged."""
    return flavor_load_model(FLAVOR_NAME, model_uri)
