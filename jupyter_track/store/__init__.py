"""The store: the only place in jupyter-track that speaks SQL.

``open_store(uri)`` returns the store for a URI; every caller (the kernel API, the magics, the
CLI, the server, widgets, serving) uses only the methods of the documented
:class:`~.interface.Store` protocol, so the engine behind it is chosen by the URI:

* a path or ``sqlite:///path`` -- :class:`SQLiteStore` (the default: one file, no server);
* ``postgresql://user:password@host:port/database`` (also ``postgresql+psycopg://``) --
  ``PostgresStore`` (:mod:`.postgres`, imported only when used);
* ``jupyterhub``, ``jupyterhub://<service>``, ``http(s)://.../services/<name>/`` -- the team
  service's HTTP client (:class:`jupyter_track.client.HttpStore`).
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from ..paths import redact_uri, resolve_uri, store_kind
from .artifacts import ArtifactInfo
from .entities import (
    UNSET,
    Experiment,
    LifecycleStage,
    Metric,
    MetricSummary,
    PagedList,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    ViewType,
)
from .errors import (
    AliasConflict,
    Conflict,
    FilterSyntaxError,
    InvalidInput,
    NotFound,
    SchemaMismatch,
    StoreUnavailable,
    TrackError,
)
from .runs import GcReport, NewRun, ParamConflict, RunPage
from .schema import SCHEMA_VERSION
from .sqlite import SQLiteStore
from .sqlstore import SQLStore

if TYPE_CHECKING:
    from .interface import Store
    from .records import AuditEntry, CellExecution, ModelVersion, Param, RegisteredModel, RunTag
    from .trace_records import StoredTrace, TracePage, TraceRecord

__all__ = [
    "SCHEMA_VERSION",
    "UNSET",
    "AliasConflict",
    "ArtifactInfo",
    "AuditEntry",
    "CellExecution",
    "Conflict",
    "Experiment",
    "FilterSyntaxError",
    "GcReport",
    "InvalidInput",
    "LifecycleStage",
    "Metric",
    "MetricSummary",
    "ModelVersion",
    "NewRun",
    "NotFound",
    "PagedList",
    "Param",
    "ParamConflict",
    "RegisteredModel",
    "Run",
    "RunData",
    "RunInfo",
    "RunPage",
    "RunStatus",
    "RunTag",
    "SQLStore",
    "SQLiteStore",
    "SchemaMismatch",
    "StoreUnavailable",
    "StoredTrace",
    "TracePage",
    "TraceRecord",
    "TrackError",
    "ViewType",
    "connect_store",
    "open_store",
    "redact_uri",
]


def __getattr__(name: str) -> object:
    # records a run does not need load on first use, not with the store
    if name in ("StoredTrace", "TracePage", "TraceRecord"):
        from . import trace_records

        return getattr(trace_records, name)
    if name in (
        "AuditEntry",
        "CellExecution",
        "ModelVersion",
        "Param",
        "RegisteredModel",
        "RunTag",
    ):
        from . import records

        return getattr(records, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_stores: dict[tuple[str, bool], Store] = {}
_stores_lock = threading.Lock()


def connect_store(uri: str | os.PathLike[str] | None = None, *, readonly: bool = False) -> Store:
    """A new store object for ``uri`` (not shared, unlike :func:`open_store`): what a server
    that owns its connections uses."""
    resolved = resolve_uri(uri)
    kind = store_kind(resolved)
    if kind == "http":
        from ..client import HttpStore

        return HttpStore(resolved)
    if kind == "postgresql":
        try:
            from .postgres import PostgresStore
        except ImportError as exc:
            raise StoreUnavailable(
                f"{redact_uri(resolved)}: PostgreSQL stores need psycopg 3 "
                "(pip install 'jupyter-track[postgresql]')"
            ) from exc

        return PostgresStore(resolved, readonly=readonly)
    return SQLiteStore(resolved[len("sqlite:///") :], readonly=readonly)


def open_store(uri: str | os.PathLike[str] | None = None, *, readonly: bool = False) -> Store:
    """The store for ``uri`` (None: ``JUPYTER_TRACK_URI`` / ``JUPYTER_TRACK_DB`` / default).

    Stores are cached per URI (one HTTP client per team service), so repeated calls are cheap.
    An unknown scheme is a ``ValueError`` that lists the supported ones.
    """
    resolved = resolve_uri(uri)
    key = (resolved, readonly and store_kind(resolved) != "http")
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = connect_store(resolved, readonly=readonly)
        return store


def _forget_stores() -> None:  # a forked child opens its own connections
    _stores.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_stores)
