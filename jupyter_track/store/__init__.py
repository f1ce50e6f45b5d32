"""The store: the only place in jupyter-track that speaks SQL.

``open_store(uri)`` returns the store for a URI (today ``sqlite:///path`` or a path); the kernel
API, the magics, the CLI and the server call its methods only, so other backends (PostgreSQL,
an HTTP client for a team service) can be added behind the same methods, chosen by the URI.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ..paths import artifact_root_for, resolve_db_path
from .access import AccessMixin
from .artifacts import ArtifactInfo, ArtifactsMixin
from .cells import CellsMixin
from .db import Database
from .entities import (
    CellExecution,
    Experiment,
    LifecycleStage,
    Metric,
    MetricSummary,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from .errors import (
    Conflict,
    FilterSyntaxError,
    InvalidInput,
    NotFound,
    StoreUnavailable,
    TrackError,
)
from .experiments import ExperimentsMixin
from .histories import HistoriesMixin
from .imports import ImportsMixin
from .lineage import LineageMixin
from .maintenance import MaintenanceMixin
from .metrics import MetricsMixin
from .registry import RegistryMixin
from .runs import NewRun, ParamConflict, RunPage, RunsMixin
from .schema import SCHEMA_VERSION
from .series import SeriesMixin
from .traces import StoredTrace, TracePage, TraceRecord, TracesMixin
from .views import ViewsMixin

__all__ = [
    "ArtifactInfo",
    "CellExecution",
    "Conflict",
    "Experiment",
    "FilterSyntaxError",
    "InvalidInput",
    "LifecycleStage",
    "Metric",
    "MetricSummary",
    "NewRun",
    "NotFound",
    "Param",
    "ParamConflict",
    "Run",
    "RunData",
    "RunInfo",
    "RunPage",
    "RunStatus",
    "RunTag",
    "SQLiteStore",
    "StoreUnavailable",
    "StoredTrace",
    "TracePage",
    "TraceRecord",
    "TrackError",
    "ViewType",
    "open_store",
]


class SQLiteStore(
    ExperimentsMixin,
    RunsMixin,
    MetricsMixin,
    SeriesMixin,
    CellsMixin,
    ArtifactsMixin,
    RegistryMixin,
    HistoriesMixin,
    LineageMixin,
    ViewsMixin,
    MaintenanceMixin,
    AccessMixin,
    TracesMixin,
    ImportsMixin,
):
    """Experiments, runs, metrics, artifacts, the cell log and traces in one SQLite file.

    Safe to share between threads (each thread gets its own connection) and between processes
    (WAL, busy timeout, ``BEGIN IMMEDIATE`` writes). ``readonly=True`` opens the file without
    ever taking the write lock, as the server does for reads.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        readonly: bool = False,
        artifact_root: str | os.PathLike[str] | None = None,
    ):
        self.path = Path(path).absolute()
        self.db = Database(self.path, readonly=readonly)
        self.artifact_root = (
            Path(artifact_root).absolute() if artifact_root else artifact_root_for(self.path)
        )
        self._run_pks: dict[str, int] = {}

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.path}"

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION

    def close(self) -> None:
        self.db.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"


_stores: dict[tuple[str, bool], SQLiteStore] = {}
_stores_lock = threading.Lock()


def open_store(uri: str | os.PathLike[str] | None = None, *, readonly: bool = False) -> SQLiteStore:
    """The store for ``uri`` (None: ``JUPYTER_TRACK_URI`` / ``JUPYTER_TRACK_DB`` / default).

    ``jupyterhub``, ``jupyterhub://<service>`` and ``http(s)://.../services/<name>/`` select the
    team service's HTTP client store (:mod:`jupyter_track.client`). Stores are cached per path
    or URI, so repeated calls are cheap.
    """
    from ..paths import team_uri

    team = team_uri(uri)
    if team is not None:
        with _stores_lock:
            store = _stores.get((team, False))
            if store is None:
                from ..client import HttpStore

                store = _stores[(team, False)] = HttpStore(team)
            return store
    path = resolve_db_path(uri)
    key = (str(path), readonly)
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = SQLiteStore(path, readonly=readonly)
        return store
