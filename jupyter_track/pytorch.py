"""``jt.pytorch``: MLflow's ``mlflow.pytorch`` -- log, save and load PyTorch modules.

``jt.pytorch.log_model(pytorch_model, name="model")`` saves the whole ``nn.Module`` in the
active run (``torch.save`` with cloudpickle, or ``pickle_module=pickle``);
``jt.pytorch.load_model(uri)`` returns the module itself, ``jt.pyfunc.load_model(uri)`` the
predict wrapper (numpy in, numpy out). ``jt.pytorch.autolog()`` logs PyTorch Lightning's
``Trainer.fit`` (:mod:`jupyter_track.autologging.lightning`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .autologging.lightning import autolog
from .models.flavor_api import flavor_load_model, flavor_log_model, flavor_save_model

FLAVOR_NAME = "pytorch"

__all__ = ["autolog", "load_model", "log_model", "save_model"]


def log_model(
    pytorch_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    pickle_module: Any = None,
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
        pytorch_model,
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
        **_serialization(pickle_module, kwargs),
    )


def _serialization(pickle_module: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """MLflow's ``pickle_module`` (``pickle`` or ``cloudpickle``, the default)."""
    if pickle_module is not None:
        kwargs["serialization_format"] = getattr(pickle_module, "__name__", str(pickle_module))
    return kwargs


def save_model(
    pytorch_model: Any,
    path: str | Path,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    mlflow_model: Any = None,
    pickle_module: Any = None,
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
        pytorch_model,
        path,
        signature=signature,
        input_example=input_example,
        conda_env=conda_env,
        code_paths=code_paths,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        **_serialization(pickle_module, kwargs),
    )


def load_model(model_uri: str, dst_path: str | None = None, **kwargs: Any) -> Any:
    """The model saved at ``model_uri`` (``runs:/``, ``models:/`` or a folder), as logged."""
    return flavor_load_model(FLAVOR_NAME, model_uri)
