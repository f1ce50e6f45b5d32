"""What an MLflow store holds, as the importer reads it, whatever the kind of store.

Each source (:mod:`.sqlite_source`, :mod:`.file_source`, :mod:`.http_source`) yields these
records; :mod:`.importer` writes them into jupyter-track. Artifacts are named by an opaque
``location`` the same source lists and copies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..store.errors import TrackError

STATUS_BY_NUMBER = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
PROMPT_TAG = "mlflow.prompt.is_prompt"


@dataclass
class SourceExperiment:
    """An MLflow experiment (``key`` is its id in the source)."""

    key: str
    name: str
    lifecycle_stage: str = "active"
    creation_time: int | None = None
    last_update_time: int | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class SourceLoggedModel:
    """An MLflow 3 logged model: its files live outside the run's artifacts."""

    model_id: str
    name: str
    source_run_id: str | None
    location: Any


@dataclass
class SourceRun:
    """An MLflow run; ``metric_keys`` name its metrics, whose points come from the source."""

    run_id: str
    experiment_key: str
    name: str | None
    status: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    user_id: str | None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metric_keys: list[str] = field(default_factory=list)
    artifacts: Any = None  # the source's location of the run's artifacts (None: none known)
    artifact_uri: str = ""


@dataclass
class SourceModel:
    """A registered model and its aliases (alias -> version number)."""

    name: str
    description: str | None = None
    creation_time: int | None = None
    last_updated_time: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)

    @property
    def is_prompt(self) -> bool:
        """MLflow 3 keeps prompts as registered models with this tag."""
        return self.tags.get(PROMPT_TAG, "").lower() == "true"


@dataclass
class SourceVersion:
    """One version of a registered model (``model_id``: the logged model it registers)."""

    version: int
    source: str
    run_id: str | None = None
    description: str | None = None
    user_id: str | None = None
    status: str = "READY"
    creation_time: int | None = None
    last_updated_time: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    model_id: str | None = None


@dataclass(frozen=True)
class ArtifactFile:
    """A file among a location's artifacts: its path below the location and its size."""

    path: str
    size: int | None


class Source(Protocol):
    """An MLflow store being read."""

    uri: str  # what to record as the runs' origin (credentials removed)

    def experiments(self) -> Iterator[SourceExperiment]: ...

    def runs(self, experiment: SourceExperiment) -> Iterator[SourceRun]: ...

    def metric_history(self, run: SourceRun, key: str) -> Iterator[tuple[float, int, int]]:
        """``(value, timestamp, step)`` of every point of one metric."""
        ...

    def logged_models(self, run: SourceRun) -> list[SourceLoggedModel]: ...

    def artifact_files(self, location: Any) -> Iterator[ArtifactFile]: ...

    def copy_artifact(self, location: Any, path: str, target: Path) -> None: ...

    def models(self) -> Iterator[SourceModel]: ...

    def versions(self, model: SourceModel) -> Iterator[SourceVersion]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> None: ...


class Closing:
    """``with open_source(...) as source:`` closes the source (connection, HTTP client)."""

    def close(self) -> None:
        return None

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SourceError(TrackError):
    """The source cannot be read (missing, not an MLflow store, server error ...)."""
