"""``jt.sklearn``: MLflow's ``mlflow.sklearn`` -- log, save and load scikit-learn models.

``jt.sklearn.log_model(sk_model, name="model", input_example=X[:5])`` saves the estimator or
pipeline in the active run (pickled with cloudpickle, or ``serialization_format="pickle"``);
``jt.sklearn.load_model(uri)`` returns the estimator itself, ``jt.pyfunc.load_model(uri)`` the
predict wrapper. ``jt.sklearn.autolog()`` logs every ``fit``: params, training metrics, the
model, parameter searches as child runs (:mod:`jupyter_track.autologging.sklearn`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .autologging.sklearn import autolog
from .models.flavor_api import flavor_load_model, flavor_log_model, flavor_save_model

FLAVOR_NAME = "sklearn"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_CLOUDPICKLE = "cloudpickle"
SUPPORTED_SERIALIZATION_FORMATS = [SERIALIZATION_FORMAT_PICKLE, SERIALIZATION_FORMAT_CLOUDPICKLE]

__all__ = ["autolog", "load_model", "log_model", "save_model"]


def log_model(
    sk_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    serialization_format: str = SERIALIZATION_FORMAT_CLOUDPICKLE,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> Any:
    """Log a scikit-learn estimator or pipeline in the active run (started if none) as
    ``name``; returns a ModelInfo (``model_uri``, ``signature``, ``registered_model_version``)."""
    return flavor_log_model(
        FLAVOR_NAME,
        sk_model,
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        signature=signature,
        input_example=input_example,
        conda_env=conda_env,
        code_paths=code_paths,
        serialization_format=serialization_format,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        predict_fn=pyfunc_predict_fn,
        metadata=metadata,
        **kwargs,
    )


def save_model(
    sk_model: Any,
    path: str | Path,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    mlflow_model: Any = None,
    serialization_format: str = SERIALIZATION_FORMAT_CLOUDPICKLE,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save a scikit-learn estimator into the folder ``path`` (created; must be empty)."""
    flavor_save_model(
        FLAVOR_NAME,
        sk_model,
        path,
        signature=signature,
        input_example=input_example,
        conda_env=conda_env,
        code_paths=code_paths,
        serialization_format=serialization_format,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        predict_fn=pyfunc_predict_fn,
        metadata=metadata,
    )


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """The scikit-learn estimator saved at ``model_uri`` (``runs:/``, ``models:/`` or a
    folder), as it was logged."""
    return flavor_load_model(FLAVOR_NAME, model_uri)
