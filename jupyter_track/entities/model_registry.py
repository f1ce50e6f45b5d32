"""MLflow's registry entities (``mlflow.entities.model_registry``): the store's own records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..store.entities import MlflowObject, ModelVersion, RegisteredModel


@dataclass(frozen=True)
class RegisteredModelTag(MlflowObject):
    """A tag of a registered model (MLflow's ``RegisteredModelTag``)."""

    key: str
    value: str

    _mlflow_properties: ClassVar[tuple[str, ...]] = ("key", "value")


@dataclass(frozen=True)
class ModelVersionTag(MlflowObject):
    """A tag of a model version (MLflow's ``ModelVersionTag``)."""

    key: str
    value: str

    _mlflow_properties: ClassVar[tuple[str, ...]] = ("key", "value")


__all__ = ["ModelVersion", "ModelVersionTag", "RegisteredModel", "RegisteredModelTag"]
