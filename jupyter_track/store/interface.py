"""The store interface: every method the rest of jupyter-track calls on a store.

:class:`Store` is the contract between the store and its callers -- the tracking API and
``%%track`` (kernel), the cell log, widgets, the registry, the server extension, model serving
and the CLI. Nothing outside ``jupyter_track/store/`` touches connections, transactions, SQL or
row keys: an edit that must be atomic is one method here (``edit_run``, ``edit_registered_model``,
``delete_run(actor=...)``).

Implementations: :class:`~jupyter_track.store.sqlite.SQLiteStore`,
``jupyter_track.store.postgres.PostgresStore`` (both :class:`~.sqlstore.SQLStore`), and later an
HTTP client of the team service. All of them pass one conformance suite (``tests/store/``);
run it against another implementation by adding a parameter to the ``store`` fixture there.

Conventions shared by every method:

* ids are strings (``run_id``, ``experiment_id``); model versions are positive integers (text of
  one is accepted);
* errors: :class:`~.errors.NotFound`, :class:`~.errors.Conflict` (:class:`~.errors.AliasConflict`
  for a failed compare-and-set), :class:`~.errors.InvalidInput` (naming the field and the
  reason; :class:`~.errors.FilterSyntaxError` with a position), :class:`~.errors.StoreUnavailable`
  (:class:`~.errors.SchemaMismatch`);
* batch writes (``log_params``, ``set_tags``, ``log_metrics``) store every valid entry before
  raising for the invalid ones;
* ``actor`` / ``verified``: who made a change and whether the server authenticated them; a
  kernel passes nothing (the OS or hub user, unverified).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from .access import AuditEntry as ServiceAuditEntry
from .access import Grant
from .artifacts import ArtifactInfo
from .entities import (
    Experiment,
    Metric,
    PagedList,
    Run,
    RunInfo,
)
from .runs import GcReport, RunPage

if TYPE_CHECKING:  # annotations only: these records load on first use
    from .records import AuditEntry, CellExecution, ModelVersion, RegisteredModel
    from .traces import StoredAssessment, StoredTrace, TracePage, TraceRecord

RunHandle = Any
"""An opaque handle of a run (:meth:`Store.run_handle`): the first item of the rows given to
:meth:`Store.write_metric_rows`. Callers keep it and pass it back, never look inside."""

MetricRow = tuple[Any, str, int, int, float]
"""``(run handle, key, step, timestamp ms, value)``, already validated (see
:meth:`Store.validate_metric_point`); NaN and +/-inf are values."""

CellRow = tuple[
    str | None, str | None, str | None, int | None, str, int, float, str, str | None, str | None
]
"""``(session, notebook, cell_id, execution_count, source, start ms, duration ms, status,
error name, run id)`` -- one executed cell."""

T = TypeVar("T")

KeySelection = Sequence[str] | str | None
"""None: no key of this kind; ``"*"``: every key; a sequence: these keys."""


@runtime_checkable
class Store(Protocol):
    """What every store engine provides (see the module docstring for the conventions)."""

    # -------------------------------------------------------------------------- the store

    @property
    def uri(self) -> str:
        """The store's URI with any password redacted (safe to print)."""
        ...

    @property
    def location(self) -> str:
        """A SQLite file's path, else the URI with its password redacted."""
        ...

    @property
    def engine(self) -> str:
        """``"sqlite"``, ``"postgresql"`` (the HTTP client: ``"http"``)."""
        ...

    @property
    def schema_version(self) -> int:
        """The schema version this code reads and writes."""
        ...

    artifact_root: Path
    """The folder holding every run's artifacts (``<root>/<run_id>/artifacts``)."""

    def prepare(self) -> None:
        """Connect once and check the schema (a new SQLite file is created and migrated);
        ``StoreUnavailable`` / ``SchemaMismatch`` with a message that says what to do."""
        ...

    def stored_schema_version(self) -> int:
        """The migration number the database is at (0: empty)."""
        ...

    def upgrade(self) -> tuple[int, int]:
        """Apply missing migrations (``jupyter-track db upgrade``): (before, after). Safe when
        several processes run it at once."""
        ...

    def stats(self) -> dict[str, Any]:
        """``engine``, ``location`` (no password), ``schema_version``, ``code_schema_version``,
        ``tables`` (rows per table) and engine-specific facts."""
        ...

    def vacuum(self) -> None:
        """Give the space of deleted rows back (after ``gc``)."""
        ...

    def close(self) -> None:
        """Release this thread's connection (the store stays usable; it reconnects)."""
        ...

    def defer_checkpoints(self) -> None:
        """The calling process's background thread runs :meth:`checkpoint` from now on, so
        commits on the user's thread do not (SQLite's write-ahead log; a no-op elsewhere)."""
        ...

    def checkpoint(self) -> None:
        """Housekeeping for a background thread: copy the write-ahead log into the database
        file when due, without blocking anyone (SQLite; a no-op elsewhere)."""
        ...

    def atomically(self, fn: Callable[[Store], T]) -> T:
        """``fn(self)`` as one unit of work: on a SQL engine one write transaction that every
        store call ``fn`` makes joins, so a change and the answer read back after it are
        consistent (nothing committed by others in between shows in that answer; the
        registry's row locks are held until the end). Raising in ``fn`` undoes all of it. The
        HTTP client sends the calls one by one (the service answers each from its own
        transaction)."""
        ...

    # ------------------------------------------------------------------------- experiments

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
    ) -> str:
        """A new experiment's id; a name already taken is a ``Conflict``."""
        ...

    def get_or_create_experiment(self, name: str) -> Experiment:
        """The experiment called ``name``, created when missing (safe across processes);
        ``Conflict`` when it is deleted."""
        ...

    def get_experiment(self, experiment_id: str | int) -> Experiment: ...

    def get_experiment_by_name(self, name: str) -> Experiment | None: ...

    def search_experiments(
        self, *, include_deleted: bool = False, name_like: str | None = None
    ) -> list[Experiment]:
        """Experiments in id order; ``name_like`` is a LIKE pattern on the name."""
        ...

    def experiment_run_counts(self) -> dict[str, int]:
        """Active runs per experiment id."""
        ...

    def set_experiment_lifecycle(self, experiment_id: str | int, stage: str) -> None:
        """``"active"`` or ``"deleted"``."""
        ...

    def set_experiment_tag(self, experiment_id: str | int, key: str, value: Any) -> None: ...

    # -------------------------------------------------------------------------------- runs

    def create_run(
        self,
        experiment_id: str | int,
        *,
        run_name: str | None = None,
        user_id: str | None = None,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
        notebook: str | None = None,
        cell_id: str | None = None,
        execution_count: int | None = None,
        source: str | None = None,
        environment: str | None = None,
        run_id: str | None = None,
    ) -> RunInfo:
        """A new RUNNING run (a random name when none is given; ``run_id``: the id the caller
        chose, as the kernel's writer does)."""
        ...

    def run_handle(self, run_id: str) -> RunHandle:
        """The opaque handle the metric buffer keeps for ``run_id``; ``NotFound``."""
        ...

    def resolve_run_id(self, prefix: str) -> str:
        """A full run id, or the one run whose id starts with ``prefix``; ``NotFound``, or
        ``InvalidInput`` when it is ambiguous."""
        ...

    def run_ids_with_prefix(self, prefix: str, limit: int = 10) -> list[str]: ...

    def update_run(
        self,
        run_id: str,
        *,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
        error: str | None = None,
        environment: str | None = None,
        execution_count: int | None = None,
    ) -> None:
        """Change the given fields (None: unchanged)."""
        ...

    def edit_run(
        self,
        run_id: str,
        *,
        run_name: str | None = None,
        set_tags: Mapping[str, Any] | None = None,
        delete_tags: Sequence[str] = (),
        actor: str | None = None,
        verified: bool = False,
        actor_source: str | None = None,
    ) -> None:
        """Rename, set and delete tags in one transaction (deleting a missing tag is fine);
        with ``actor``, tags ``jt.edited_by`` (``.verified``, ``.source``) and
        ``jt.edited_time`` record who, how sure and when."""
        ...

    def delete_run(
        self,
        run_id: str,
        *,
        actor: str | None = None,
        verified: bool = False,
        actor_source: str | None = None,
    ) -> None:
        """Soft-delete; with ``actor``, attributed as in :meth:`edit_run` and appended to the
        service audit log, in the same transaction."""
        ...

    def restore_run(
        self,
        run_id: str,
        *,
        actor: str | None = None,
        verified: bool = False,
        actor_source: str | None = None,
    ) -> None:
        """Undo a soft delete (attributed and audited the same way); ``NotFound`` once purged."""
        ...

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Params are immutable: the same value again is a no-op, another one a
        ``ParamConflict`` naming both; valid entries are stored before any error."""
        ...

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        """Set or overwrite tags (``mlflow.runName`` also renames the run)."""
        ...

    def delete_tag(self, run_id: str, key: str) -> None:
        """``NotFound`` when the tag is not set."""
        ...

    def get_run(self, run_id: str) -> Run:
        """The run with params, tags, metric summaries and its cell's source."""
        ...

    def get_runs(self, run_ids: Sequence[str]) -> list[Run]:
        """In the order asked; ``NotFound`` names the first missing id."""
        ...

    def get_source(self, run_id: str) -> str | None: ...

    def search_runs(
        self,
        experiment_ids: Sequence[str | int] | None = None,
        filter_string: str | None = None,
        *,
        run_view_type: int = 1,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        offset: int | None = None,
        with_total: bool = False,
        hydrate: bool = True,
    ) -> RunPage:
        """Runs matching the filter language (:mod:`jupyter_track.store.search`), ordered
        (missing values last, then newest first), one page at a time."""
        ...

    def count_runs(
        self,
        experiment_ids: Sequence[str | int] | None = None,
        filter_string: str | None = None,
        *,
        run_view_type: int = 1,
    ) -> int: ...

    def run_columns(
        self,
        run_ids: Sequence[str],
        *,
        params: KeySelection = None,
        metrics: KeySelection = None,
        tags: KeySelection = None,
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """Chosen params, metric last values and tags of many runs."""
        ...

    def param_and_metric_keys(
        self, experiment_ids: Sequence[str | int] | None = None
    ) -> dict[str, list[str]]:
        """Distinct ``params``, ``metrics`` and ``tags`` keys of active runs."""
        ...

    def cell_runs(self, cell_id: str, *, limit: int = 100) -> list[Run]: ...

    def previous_cell_run(self, cell_id: str, before_run_id: str) -> Run | None: ...

    def child_run_ids(self, run_id: str) -> list[str]: ...

    def deleted_run_ids(self, older_than_ms: int | None = None) -> list[str]: ...

    def purge_runs(self, run_ids: Iterable[str], *, deleted_before: int | None = None) -> list[str]:
        """Remove deleted runs and their data (re-checked in the deleting transaction: runs
        restored, deleted too recently or holding registered versions are kept); the ids
        purged. Their artifact folders go with the next :meth:`gc`."""
        ...

    def gc(self, *, deleted_before: int | None = None, dry_run: bool = False) -> GcReport:
        """Purge deleted runs and their artifact folders (``jupyter-track gc``)."""
        ...

    # ----------------------------------------------------------------------------- metrics

    def validate_metric_point(self, key: Any, value: Any, step: Any) -> tuple[float, int]:
        """(value, step) checked on the caller's thread; ``InvalidInput`` naming the key."""
        ...

    def write_metric_rows(self, rows: Sequence[MetricRow]) -> None:
        """The background writer's batch: one transaction for points, summaries and rollups."""
        ...

    def log_metrics(self, run_id: str, metrics: Iterable[Metric | tuple[Any, ...]]) -> None:
        """Validate and store synchronously (``Metric`` or ``(key, value, ts, step)``)."""
        ...

    def get_metric_history(
        self, run_id: str, key: str, *, max_results: int | None = None, offset: int = 0
    ) -> list[Metric]: ...

    def metric_keys(self, run_id: str) -> list[str]: ...

    def metric_series(
        self, run_id: str, key: str, *, after_rowid: int = 0
    ) -> tuple[list[tuple[int, int, float]], int]: ...

    def metric_histories(
        self, run_ids: Sequence[str], keys: Sequence[str], *, max_points: int = 1000
    ) -> list[dict[str, Any]]:
        """Downsampled series of several runs, read from one snapshot."""
        ...

    def last_metric_rowid(self) -> int:
        """Where a live chart starts following the store."""
        ...

    def metric_rows_since(
        self, run_ids: Sequence[str] | None, after_rowid: int, *, limit: int = 200_000
    ) -> tuple[list[tuple[str, str, int, int, float]], int]: ...

    def metric_series_since(
        self, run_ids: Sequence[str] | None, after_rowid: int, *, limit: int = 200_000
    ) -> tuple[list[tuple[str, str, list[int], list[int], list[float | str | None]]], int]: ...

    def metric_rows_until(
        self, run_id: str, until_rowid: int
    ) -> list[tuple[str, int, int, float]]: ...

    # -------------------------------------------------------------- cell log, environments

    def write_cell_executions(self, rows: Sequence[CellRow]) -> None: ...

    def cell_executions(
        self,
        *,
        notebook: str | None = None,
        cell_id: str | None = None,
        session: str | None = None,
        limit: int = 1000,
    ) -> list[CellExecution]: ...

    def put_environment(
        self, env_hash: str, python: str, platform: str, packages: Mapping[str, str]
    ) -> None: ...

    def get_environment(self, env_hash: str) -> dict[str, Any]: ...

    # --------------------------------------------------------------------------- artifacts

    def artifact_dir(self, run_id: str) -> Path: ...

    def artifact_uri_for(self, run_id: str) -> str: ...

    def artifact_path(self, run_id: str, path: str | None) -> Path:
        """``path`` inside the run's artifacts, never outside (``InvalidInput``)."""
        ...

    def artifact_file(self, run_id: str, path: str) -> Path: ...

    def record_artifacts(self, run_id: str, files: list[tuple[str, int]]) -> None: ...

    def add_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[str]: ...

    def write_artifact_bytes(self, run_id: str, artifact_file: str, data: bytes) -> str: ...

    def write_shared_artifact(self, run_id: str, artifact_file: str, data: bytes) -> str: ...

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]: ...

    def artifact_tree(
        self, run_id: str, *, limit: int = 1000
    ) -> tuple[list[ArtifactInfo], bool]: ...

    def remove_artifact_folder(self, run_id: str) -> None: ...

    # ---------------------------------------------------------------------------- registry

    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        *,
        actor: str | None = None,
        verified: bool = False,
    ) -> RegisteredModel: ...

    def get_registered_model(self, name: str) -> RegisteredModel: ...

    def update_registered_model(
        self,
        name: str,
        description: str | None,
        *,
        actor: str | None = None,
        verified: bool = False,
    ) -> RegisteredModel: ...

    def edit_registered_model(
        self,
        name: str,
        *,
        description: Any = ...,
        set_tags: Mapping[str, Any] | None = None,
        delete_tags: Sequence[str] = (),
        actor: str | None = None,
        verified: bool = False,
    ) -> RegisteredModel:
        """Description (unless ``UNSET``), tags set and deleted: one transaction."""
        ...

    def delete_registered_model(
        self, name: str, *, actor: str | None = None, verified: bool = False
    ) -> None: ...

    def set_registered_model_tag(
        self, name: str, key: str, value: Any, *, actor: str | None = None, verified: bool = False
    ) -> None: ...

    def delete_registered_model_tag(
        self, name: str, key: str, *, actor: str | None = None, verified: bool = False
    ) -> None: ...

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList: ...

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        *,
        artifact_path: str | None = None,
        create_model: bool = False,
        actor: str | None = None,
        verified: bool = False,
    ) -> ModelVersion: ...

    def get_model_version(self, name: str, version: int | str) -> ModelVersion: ...

    def get_model_versions(self, name: str) -> list[ModelVersion]: ...

    def get_latest_model_version(self, name: str) -> ModelVersion: ...

    def update_model_version(
        self,
        name: str,
        version: int | str,
        description: str | None,
        *,
        actor: str | None = None,
        verified: bool = False,
    ) -> ModelVersion: ...

    def edit_model_version(
        self,
        name: str,
        version: int | str,
        *,
        description: Any = ...,
        set_tags: Mapping[str, Any] | None = None,
        delete_tags: Sequence[str] = (),
        actor: str | None = None,
        verified: bool = False,
    ) -> ModelVersion: ...

    def delete_model_version(
        self, name: str, version: int | str, *, actor: str | None = None, verified: bool = False
    ) -> None: ...

    def set_model_version_tag(
        self,
        name: str,
        version: int | str,
        key: str,
        value: Any,
        *,
        actor: str | None = None,
        verified: bool = False,
    ) -> None: ...

    def delete_model_version_tag(
        self,
        name: str,
        version: int | str,
        key: str,
        *,
        actor: str | None = None,
        verified: bool = False,
    ) -> None: ...

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList: ...

    def registered_run_ids(self) -> set[str]: ...

    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: int | str,
        *,
        expected_version: Any = ...,
        actor: str | None = None,
        verified: bool = False,
    ) -> ModelVersion:
        """Point ``alias`` at ``version``; with ``expected_version`` a compare-and-set
        (``AliasConflict`` naming the current version; nothing written)."""
        ...

    def delete_registered_model_alias(
        self,
        name: str,
        alias: str,
        *,
        expected_version: Any = ...,
        actor: str | None = None,
        verified: bool = False,
    ) -> None: ...

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...

    def get_aliases(self, name: str) -> dict[str, int]: ...

    def rollback_alias(
        self,
        name: str,
        alias: str,
        *,
        expected_version: Any = ...,
        actor: str | None = None,
        verified: bool = False,
    ) -> ModelVersion:
        """Move the alias back to where it pointed before its last move."""
        ...

    def registry_audit(
        self,
        name: str | None = None,
        alias: str | None = None,
        *,
        version: int | str | None = None,
        max_results: int = 1000,
        before_id: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEntry]:
        """The append-only audit trail, filtered."""
        ...

    def alias_history(self, name: str, alias: str) -> list[AuditEntry]: ...

    # ----------------------------------------------------------------------------- lineage

    def put_run_lineage(self, run_id: str, record: Mapping[str, Any]) -> None:
        """Store (or replace) a run's lineage record (a JSON object)."""
        ...

    def get_run_lineage(self, run_id: str) -> dict[str, Any] | None: ...

    def dataset_usage(
        self, *, digest: str | None = None, name: str | None = None, limit: int = 10_000
    ) -> list[dict[str, Any]]:
        """Active runs that recorded an input with this ``digest`` and/or ``name``."""
        ...

    def model_versions_of_runs(self, run_ids: list[str]) -> list[dict[str, Any]]:
        """Registered model versions whose source run is one of ``run_ids``."""
        ...

    # ------------------------------------------------------- team service: grants and audit

    def list_permissions(
        self, object_type: str | None = None, object_id: str | None = None
    ) -> list[Grant]: ...

    def permissions_of(
        self, user: str, groups: Iterable[str], object_type: str, object_ids: Sequence[str] | None
    ) -> list[Grant]: ...

    def set_permission(
        self,
        object_type: str,
        object_id: str,
        principal_type: str,
        principal: str,
        permission: str | None,
        *,
        actor: str,
        verified: bool = True,
    ) -> Grant | None: ...

    def audit_service_action(
        self,
        action: str,
        object_type: str,
        object_id: str,
        *,
        actor: str,
        verified: bool = True,
        old: str | None = None,
        new: str | None = None,
    ) -> None: ...

    def service_audit(
        self,
        object_type: str | None = None,
        object_id: str | None = None,
        *,
        limit: int = 1000,
    ) -> list[ServiceAuditEntry]: ...

    # ------------------------------------------------------------------------------ traces

    def assessments_for(self, trace_ids: Iterable[str]) -> dict[str, list[StoredAssessment]]:
        """Assessments of several traces, by trace id (traces without any are left out)."""
        ...

    def count_traces(self, run_ids: Sequence[str]) -> dict[str, int]:
        """How many traces each run has (runs without traces are left out)."""
        ...

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None: ...

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        """Remove one tag from a trace; raises ``NotFound`` when it is not set."""
        ...

    def delete_traces(
        self,
        experiment_id: str | int | None = None,
        *,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        """Delete traces (with their spans, tags, metadata and assessments); return how many."""
        ...

    def get_assessment(self, trace_id: str, assessment_id: str) -> StoredAssessment: ...

    def get_trace(self, trace_id: str, *, include_spans: bool = True) -> StoredTrace:
        """One trace with its spans and assessments; raises ``NotFound``."""
        ...

    def log_assessment(
        self,
        trace_id: str,
        kind: str,
        name: str,
        value: Any,
        *,
        rationale: str | None = None,
        error: str | None = None,
        source_type: str = "CODE",
        source_id: str | None = None,
        span_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        run_id: str | None = None,
    ) -> StoredAssessment:
        """Attach a feedback or an expectation to a trace and return it."""
        ...

    def search_traces(
        self,
        experiment_ids: Sequence[str | int] | None = None,
        filter_string: str | None = None,
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        run_id: str | None = None,
        include_spans: bool = True,
    ) -> TracePage:
        """Traces matching ``filter_string`` (the filter grammar with the traces' fields),"""
        ...

    def set_trace_tag(self, trace_id: str, key: str, value: Any) -> None:
        """Set one tag on a trace (a non-string value is stored as JSON)."""
        ...

    def trace_exists(self, trace_id: str) -> bool: ...

    def write_traces(self, records: Sequence[TraceRecord]) -> None:
        """Upsert ``records`` (see :class:`TraceRecord`) in one transaction."""
        ...


__all__ = ["CellRow", "KeySelection", "MetricRow", "RunHandle", "Store"]
