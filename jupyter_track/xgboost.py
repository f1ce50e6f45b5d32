"""``jt.xgboost``: MLflow's ``mlflow.xgboost`` -- log, save and load XGBoost models.

``jt.xgboost.log_model(xgb_model, name="model")`` saves a ``Booster`` or a scikit-learn API
model (``XGBClassifier``, ...) in the active run, in XGBoost's JSON format;
``jt.xgboost.load_model(uri)`` returns the model itself, ``jt.pyfunc.load_model(uri)`` the
predict wrapper. ``jt.xgboost.autolog()`` logs training: params, per-iteration metrics, feature
importances, the model (:mod:`jupyter_track.autologging.xgboost`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .autologging.xgboost import autolog
from .models.flavor_api import flavor_load_model, flavor_log_model, flavor_save_model

FLAVOR_NAME = "xgboost"

__all__ = ["autolog", "load_model", "log_model", "save_model"]


def log_model(
    xgb_model: Any,
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
        xgb_model,
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
    xgb_model: Any,
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
        xgb_model,
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
