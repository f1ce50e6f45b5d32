"""Records a run does not need, defined apart from :mod:`.entities` so that a process's first
run does not define them: a cell-log row (:class:`CellExecution`), ``TrackClient.log_batch``'s
:class:`Param` and :class:`RunTag`, and the model registry's :class:`ModelVersion`,
:class:`RegisteredModel` and :class:`AuditEntry`. ``jupyter_track.store`` and
``jupyter_track.store.entities`` (and ``.registry``) name them too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from .entities import MlflowObject


@dataclass(frozen=True)
class CellExecution:
    """One execution of a notebook cell, tracked or not."""

    id: int
    session: str | None
    notebook: str | None
    cell_id: str | None
    execution_count: int | None
    source: str
    start_time: int
    duration_ms: float
    status: str
    error_name: str | None
    run_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Param(MlflowObject):
    """A param for ``TrackClient.log_batch`` (MLflow's ``Param``)."""

    key: str
    value: str

    _mlflow_properties: ClassVar[tuple[str, ...]] = ("key", "value")


@dataclass(frozen=True)
class RunTag(MlflowObject):
    """A tag for ``TrackClient.log_batch`` (MLflow's ``RunTag``)."""

    key: str
    value: str

    _mlflow_properties: ClassVar[tuple[str, ...]] = ("key", "value")


@dataclass
class ModelVersion(MlflowObject):
    """One version of a registered model (MLflow's ``ModelVersion``)."""

    run_link: ClassVar[str | None] = None
    status_message: ClassVar[str | None] = None
    _mlflow_properties: ClassVar[tuple[str, ...]] = (
        "aliases",
        "creation_timestamp",
        "current_stage",
        "description",
        "last_updated_timestamp",
        "name",
        "run_id",
        "run_link",
        "source",
        "status",
        "status_message",
        "tags",
        "user_id",
        "version",
    )

    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None
    user_id: str | None
    source: str
    run_id: str | None
    artifact_path: str | None
    status: str = "READY"
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    current_stage: str = "None"  # MLflow's deprecated stages; always "None" here

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RegisteredModel(MlflowObject):
    """A registered model (MLflow's ``RegisteredModel``); ``aliases`` maps alias -> version."""

    _mlflow_properties: ClassVar[tuple[str, ...]] = (
        "aliases",
        "creation_timestamp",
        "description",
        "last_updated_timestamp",
        "latest_versions",
        "name",
        "tags",
    )

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_versions: list[ModelVersion] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["latest_versions"] = [v.to_dict() for v in self.latest_versions]
        return d


@dataclass(frozen=True)
class AuditEntry:
    """One row of the registry's append-only audit log.

    ``action`` is one of ``create_registered_model``, ``update_registered_model``,
    ``rename_registered_model`` (one row under the old name, one under the new),
    ``delete_registered_model``, ``set_registered_model_tag``, ``delete_registered_model_tag``,
    ``create_model_version``, ``update_model_version``, ``delete_model_version``,
    ``set_model_version_tag``, ``delete_model_version_tag``, ``set_alias`` (``old_value`` None:
    the alias was created, else moved), ``delete_alias`` and ``rollback_alias``.
    """

    id: int
    timestamp: int
    actor: str
    actor_verified: bool
    action: str
    model: str
    version: int | None
    alias: str | None
    key: str | None
    old_value: str | None
    new_value: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
