"""Runs, their params and tags, and run search."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .db import Database
from .dialects.base import TimeLimitExceeded
from .entities import (
    LifecycleStage,
    MetricSummary,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    ViewType,
)
from .errors import Conflict, InvalidInput, NotFound
from .experiments import now_ms
from .names import random_run_name
from .paging import decode_page_token, encode_page_token
from .validation import (
    MAX_PARAM_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    check_id_number,
    check_key,
    check_name,
    metric_step,
    metric_value,
    numbered,
    param_number,
    text_problem,
    text_rows,
    text_value,
)

RUN_COLUMNS = (
    "r.id, r.run_id, r.experiment_id, r.run_name, r.status, r.start_time, r.end_time, "
    "r.lifecycle_stage, r.user_id, r.artifact_uri, r.parent_run_id, r.notebook, r.cell_id, "
    "r.execution_count, r.environment, r.error"
)
if TYPE_CHECKING:
    from . import search as grammar
else:  # the filter grammar: imported by the first search, not by the first run
    from ..lazy import lazy_module

    grammar = lazy_module(globals(), "grammar", "jupyter_track.store.search")


def _default_order() -> list[Any]:
    """The order every search ends with (newest first), after the caller's."""
    return [grammar.OrderBy(grammar.Field("attributes", "start_time"), True)]


ATTRIBUTION_TAGS = ("jt.edited_by", "jt.edited_time")
"""Tags a change made ``actor=`` someone sets on the run: who, and when (ms)."""

RunHandle = int
"""What :meth:`RunsMixin.run_handle` returns: opaque to callers (an integer key here)."""


RUN_NAME_TAG = "mlflow.runName"


class ParamConflict(Conflict, InvalidInput):
    """A param logged again with a different value (params are immutable, as in MLflow, which
    answers ``INVALID_PARAMETER_VALUE``)."""

    default_error_code = "INVALID_PARAMETER_VALUE"


@dataclass
class GcReport:
    """What :meth:`RunsMixin.gc` purged (or would purge, ``dry_run``) and the deleted runs it
    kept because they hold registered model versions."""

    purged: list[str]
    kept: list[str]
    dry_run: bool = False


@dataclass
class RunPage:
    """One page of a search: the runs, a token for the next page (or None), the total count."""

    runs: list[Run]
    next_page_token: str | None
    total: int | None = None


def _info_from_row(row: Sequence[Any]) -> RunInfo:
    return RunInfo(
        run_id=row[1],
        experiment_id=str(row[2]),
        run_name=row[3],
        status=row[4],
        start_time=row[5],
        end_time=row[6],
        lifecycle_stage=row[7],
        user_id=row[8],
        artifact_uri=row[9] or "",
        parent_run_id=row[10],
        notebook=row[11],
        cell_id=row[12],
        execution_count=row[13],
        environment=row[14],
        error=row[15],
    )


def _nan_if_none(value: float | None) -> float:
    return float("nan") if value is None else value


def param_conflict(key: str, old: str, new: str, run_id: str) -> ParamConflict:
    """The error for a param logged again with another value (params are immutable)."""
    return ParamConflict(
        f"param {key!r}: already logged as {old!r} in run {run_id}, cannot change it to "
        f"{new!r} (params are immutable; use a new run or a tag)"
    )


def raise_param_problems(errors: list[InvalidInput], conflicts: list[ParamConflict]) -> None:
    """Raise the one problem of a ``log_params`` call, or one error naming them all."""
    problems = [*errors, *conflicts]
    if len(problems) == 1:
        raise problems[0]
    if problems:
        kind = ParamConflict if conflicts and not errors else InvalidInput
        raise kind("; ".join(str(p) for p in problems))


_HEX = re.compile(r"[0-9a-f]{32}")


@dataclass
class NewRun:
    """A run written whole by :meth:`RunsMixin.write_run`: what ``create_run`` takes, its
    params, optionally the environment it refers to and its end. Values are already validated
    by the caller (the kernel checks them on the caller's thread); the store checks again."""

    run_id: str
    experiment_id: str
    run_name: str
    start_time: int
    user_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    parent_run_id: str | None = None
    notebook: str | None = None
    cell_id: str | None = None
    execution_count: int | None = None
    source: str | None = None
    environment: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    #: ``(hash, python, platform, packages)``: stored with the run unless already there
    environment_record: tuple[str, str, str, dict[str, str]] | None = None
    #: ``(status, end time ms, error text)`` of a run that ended before it was written
    end: tuple[str, int, str | None] | None = None
    #: the run's lineage record (``put_run_lineage``), written with it
    lineage: dict[str, Any] | None = None


class RunsMixin:
    db: Database
    _run_pks: dict[str, int]

    if TYPE_CHECKING:  # provided by another part of the store

        def artifact_uri_for(self, run_id: str) -> str: ...

        def write_metric_rows(
            self, rows: Sequence[tuple[int, str, int, int, float]], *, batch_id: str | None = None
        ) -> None: ...
        def registered_run_ids(self) -> set[str]: ...

        def remove_artifact_folder(self, run_id: str) -> None: ...

        def _write_new_run_points(self, conn: Any, rows: Sequence[Any]) -> None: ...

        def put_environment(
            self, env_hash: str, python: str, platform: str, packages: Mapping[str, str]
        ) -> None: ...

        def put_run_lineage(self, run_id: str, record: Mapping[str, Any]) -> None: ...

        @staticmethod
        def _service_audit(
            conn: Any,
            actor: str,
            verified: bool,
            action: str,
            object_type: str,
            object_id: str,
            *,
            principal_type: str | None = None,
            principal: str | None = None,
            old: str | None = None,
            new: str | None = None,
        ) -> None: ...

    # ----------------------------------------------------------------------------- identity

    on_missing_run: Callable[[str], bool] | None = None
    """Called with a run id no stored run has, before ``NotFound`` is raised; True means
    "written now, look again". The kernel session sets it: a run it buffered
    (:mod:`jupyter_track.tracking.pending`) is written the moment anything asks for it."""

    def _run_pk(self, run_id: str) -> int:
        """The internal integer key of ``run_id``; raises ``NotFound``."""
        pk = self._run_pks.get(run_id)
        if pk is None:
            row = self._find_run(run_id)
            if row is None and self.on_missing_run is not None and self.on_missing_run(run_id):
                row = self._find_run(run_id)
            if row is None:
                raise NotFound(f"run {run_id!r} does not exist")
            pk = self._run_pks[run_id] = row[0]
        return pk

    run_pk = _run_pk  # the name code written against the SQLite store used

    def _find_run(self, run_id: str) -> Any:
        return self.db.conn().execute("SELECT id FROM runs WHERE run_id = ?", (run_id,)).fetchone()

    def run_handle(self, run_id: str) -> RunHandle:
        """An opaque handle of ``run_id`` for :meth:`write_metric_rows` (the kernel's metric
        buffer keeps it instead of looking the run up per point); raises ``NotFound``."""
        return self._run_pk(run_id)

    def _lock_run(self, conn: Any, run_id: str) -> int:
        """The run's key, its row locked until the write transaction ends (on engines with row
        locks; SQLite's write transactions already exclude each other); ``NotFound`` if the run
        is gone (purged meanwhile)."""
        for_update = self.db.dialect.for_update
        if not for_update:
            return self._run_pk(run_id)
        row = conn.execute(
            f"SELECT id FROM runs WHERE run_id = ?{for_update}", (run_id,)
        ).fetchone()
        if row is None:
            self._run_pks.pop(run_id, None)
            raise NotFound(f"run {run_id!r} does not exist")
        return int(row[0])

    def resolve_run_id(self, prefix: str) -> str:
        """A full run id, or the one run whose id starts with ``prefix`` (the CLI accepts the
        short ids it prints); ``NotFound``, or ``InvalidInput`` when several runs match."""
        try:
            self._run_pk(prefix)
            return prefix
        except NotFound:
            pass
        matches = self.run_ids_with_prefix(prefix)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFound(f"run {prefix!r} does not exist")
        raise InvalidInput(f"run id prefix {prefix!r} is ambiguous ({len(matches)} runs)")

    # ------------------------------------------------------------------------------ create

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
        """Create a RUNNING run in ``experiment_id`` and return its info.

        ``run_id``: the id the caller chose (32 lowercase hex digits, as ``uuid4().hex``: the
        kernel names a run before it is written, :meth:`write_run`); a new one by default.
        """
        return self._insert_run(
            experiment_id,
            run_name=run_name,
            user_id=user_id,
            start_time=start_time,
            tags=tags,
            parent_run_id=parent_run_id,
            notebook=notebook,
            cell_id=cell_id,
            execution_count=execution_count,
            source=source,
            environment=environment,
            run_id=run_id,
        )

    def _insert_run(
        self,
        experiment_id: str | int,
        *,
        run_name: str | None,
        user_id: str | None,
        start_time: int | None,
        tags: Mapping[str, Any] | None,
        parent_run_id: str | None,
        notebook: str | None,
        cell_id: str | None,
        execution_count: int | None,
        source: str | None,
        environment: str | None,
        run_id: str | None,
        end: tuple[str, int, str | None] | None = None,
    ) -> RunInfo:
        """:meth:`create_run`; with ``end`` (``(status, end time, error)``) the run is inserted
        already ended (:meth:`write_run`: one statement instead of an insert and an update)."""
        try:
            experiment_key = check_id_number(experiment_id, "experiment_id")
        except InvalidInput as exc:
            raise NotFound(f"experiment {experiment_id!r} does not exist") from exc
        if run_id is None:
            run_id = uuid.uuid4().hex
        elif not (isinstance(run_id, str) and len(run_id) == 32 and _HEX.fullmatch(run_id)):
            raise InvalidInput(f"run_id {run_id!r}: must be 32 lowercase hexadecimal digits")
        name = check_name(run_name, "run_name") if run_name else random_run_name()
        start = start_time if start_time is not None else now_ms()
        status, end_time, error = RunStatus.RUNNING, None, None
        if end is not None:
            status, end_time, error = end
            if status not in RunStatus.ALL:
                raise InvalidInput(f"status {status!r}: must be one of {', '.join(RunStatus.ALL)}")
            if error is not None and text_problem(error):  # as update_run stores it
                error = error.encode("utf-8", "replace").decode("utf-8")
        tag_values = dict(text_rows((tags or {}).items(), "tag", MAX_TAG_VALUE_LENGTH))
        if parent_run_id:
            tag_values["mlflow.parentRunId"] = parent_run_id
        with self.db.write() as conn:
            if (
                parent_run_id is not None
                and conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (parent_run_id,)).fetchone()
                is None
            ):
                raise NotFound(f"parent run {parent_run_id!r} does not exist")
            # the experiment's existence checked by the insert itself (one round trip)
            cur = conn.execute(
                "INSERT INTO runs (run_id, experiment_id, run_name, status, user_id, start_time, "
                "end_time, error, lifecycle_stage, parent_run_id, artifact_uri, notebook, "
                "cell_id, execution_count, source, environment) "
                "SELECT ?, experiment_id, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ? "
                "FROM experiments WHERE experiment_id = ? RETURNING id",
                (
                    run_id,
                    name,
                    status,
                    user_id,
                    start,
                    end_time,
                    error,
                    parent_run_id,
                    self.artifact_uri_for(run_id),
                    notebook,
                    cell_id,
                    execution_count,
                    source,
                    environment,
                    experiment_key,
                ),
            )
            created = cur.fetchone()
            if created is None:
                raise NotFound(f"experiment {experiment_id!r} does not exist")
            pk = int(created[0])
            if tag_values:  # a new run: plain inserts, one row per key
                conn.executemany(
                    "INSERT INTO tags (run, key, value, num) VALUES (?, ?, ?, ?)",
                    [(pk, k, v, n) for k, v, n in numbered(tag_values.items())],
                )
        self._run_pks[run_id] = pk
        return RunInfo(
            run_id=run_id,
            experiment_id=str(experiment_key),
            run_name=name,
            status=status,
            start_time=start,
            end_time=end_time,
            lifecycle_stage=LifecycleStage.ACTIVE,
            user_id=user_id,
            artifact_uri=self.artifact_uri_for(run_id),
            parent_run_id=parent_run_id,
            notebook=notebook,
            cell_id=cell_id,
            execution_count=execution_count,
            environment=environment,
        )

    def write_run(self, run: NewRun, points: Sequence[tuple[str, int, int, float]] = ()) -> int:
        """Create ``run`` with its params, tags, environment, metric ``points``
        (``(key, step, timestamp ms, value)``, validated) and end, in **one** transaction;
        its handle for :meth:`write_metric_rows`.

        The kernel buffers a run this way: a short run costs one commit instead of one per
        call (create, params, metrics, end). Nothing is written when anything fails. On
        PostgreSQL the statements are pipelined (:meth:`Database.write_batch`): a run costs
        two round trips to the server, whatever it holds.
        """
        with self.db.write_batch() as conn:
            if run.environment_record is not None:
                self.put_environment(*run.environment_record)
            self._insert_run(
                run.experiment_id,
                run_name=run.run_name,
                user_id=run.user_id,
                start_time=run.start_time,
                tags=run.tags,
                parent_run_id=run.parent_run_id,
                notebook=run.notebook,
                cell_id=run.cell_id,
                execution_count=run.execution_count,
                source=run.source,
                environment=run.environment,
                run_id=run.run_id,
                end=run.end,  # an ended run is inserted ended: no UPDATE
            )
            handle = self._run_pk(run.run_id)
            if run.params:  # a new run has none yet: no read, no conflicts
                conn.executemany(
                    "INSERT INTO params (run, key, value, num) VALUES (?, ?, ?, ?)",
                    [
                        (handle, k, text, n)
                        for k, text, n in numbered(
                            text_rows(run.params.items(), "param", MAX_PARAM_VALUE_LENGTH)
                        )
                    ],
                )
            if points:
                self._write_new_run_points(conn, [(handle, k, s, t, v) for k, s, t, v in points])
            if run.lineage is not None:
                self.put_run_lineage(run.run_id, run.lineage)
        return handle

    # ------------------------------------------------------------------------------ update

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
        """Change a run's status, end time, name, error text, environment or cell count."""
        if status is not None and status not in RunStatus.ALL:
            raise InvalidInput(f"status {status!r}: must be one of {', '.join(RunStatus.ALL)}")
        if run_name is not None:
            check_name(run_name, "run_name")
        if error is not None and text_problem(error):  # a traceback: stored, never refused
            error = error.encode("utf-8", "replace").decode("utf-8")
        pk = self._run_pk(run_id)
        sets, params = [], []
        for column, value in (
            ("status", status),
            ("end_time", end_time),
            ("run_name", run_name),
            ("error", error),
            ("environment", environment),
            ("execution_count", execution_count),
        ):
            if value is not None:
                sets.append(f"{column} = ?")
                params.append(value)
        if not sets:
            return
        with self.db.write() as conn:
            conn.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?", (*params, pk))
            if run_name is not None:  # MLflow's tag names the run: it follows a rename
                self._insert_tags(conn, pk, [(RUN_NAME_TAG, run_name)])

    def _attribution(
        self,
        conn: Any,
        pk: int,
        actor: str | None,
        verified: bool,
        source: str | None,
        *,
        audit: tuple[str, str] | None = None,
    ) -> None:
        """The tags that say who changed a run (``jt.edited_by``, ``jt.edited_by.verified``,
        ``jt.edited_by.source``, ``jt.edited_time``); ``audit``: (action, run id) also appends
        the change to the service audit log, in the same transaction."""
        if actor is None:
            return
        rows = [
            (ATTRIBUTION_TAGS[0], str(actor)),
            ("jt.edited_by.verified", "true" if verified else "false"),
            (ATTRIBUTION_TAGS[1], str(now_ms())),
        ]
        if source:
            rows.append(("jt.edited_by.source", str(source)))
        self._insert_tags(conn, pk, rows)
        if audit is not None:
            action, run_id = audit
            self._service_audit(conn, str(actor), verified, action, "run", run_id)

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
        """Rename, set tags and delete tags in one transaction: all of it or nothing.

        Deleting a tag that is not set is not an error. With ``actor`` the change is attributed
        (tags ``jt.edited_by``, ``jt.edited_by.verified``: whether the server authenticated
        the actor, ``jt.edited_by.source``: how it knows, ``jt.edited_time``).
        """
        rows = [self._tag_row(k, v) for k, v in (set_tags or {}).items()]
        if run_name is not None:
            run_name = check_name(
                run_name.strip() if isinstance(run_name, str) else run_name, "run_name"
            )
        with self.db.write() as conn:
            pk = self._lock_run(conn, run_id)
            if run_name is not None:
                conn.execute("UPDATE runs SET run_name = ? WHERE id = ?", (run_name, pk))
                self._insert_tags(conn, pk, [(RUN_NAME_TAG, run_name)])  # MLflow's tag follows
            if rows:
                self._insert_tags(conn, pk, rows)
            for key in delete_tags:
                conn.execute("DELETE FROM tags WHERE run = ? AND key = ?", (pk, key))
            self._attribution(conn, pk, actor, verified, actor_source)

    def delete_run(
        self,
        run_id: str,
        *,
        actor: str | None = None,
        verified: bool = False,
        actor_source: str | None = None,
    ) -> None:
        """Soft-delete: the run disappears from searches until restored or purged by ``gc``.

        With ``actor`` the change is attributed (as in :meth:`edit_run`) and appended to the
        service audit log, in the same transaction."""
        with self.db.write() as conn:
            pk = self._lock_run(conn, run_id)
            conn.execute(
                "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE id = ?",
                (now_ms(), pk),
            )
            self._attribution(conn, pk, actor, verified, actor_source, audit=("delete_run", run_id))

    def restore_run(
        self,
        run_id: str,
        *,
        actor: str | None = None,
        verified: bool = False,
        actor_source: str | None = None,
    ) -> None:
        """Undo :meth:`delete_run` (attributed and audited the same way); ``NotFound`` once
        ``gc`` has purged the run."""
        with self.db.write() as conn:
            pk = self._lock_run(conn, run_id)
            cur = conn.execute(
                "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE id = ?",
                (pk,),
            )
            if cur.rowcount == 0:  # purged since this process looked the run up
                self._run_pks.pop(run_id, None)
                raise NotFound(f"run {run_id!r} does not exist")
            self._attribution(
                conn, pk, actor, verified, actor_source, audit=("restore_run", run_id)
            )

    _RUN_TABLES = (
        "params",
        "tags",
        "metrics",
        "metric_summaries",
        "metric_rollups",
        "artifacts",
        "run_lineage",
    )

    def purge_runs(self, run_ids: Iterable[str], *, deleted_before: int | None = None) -> list[str]:
        """Remove deleted runs and everything logged to them; returns the ids purged.

        Decided inside the deleting transaction, on what is stored at that moment: a run that
        is no longer deleted (restored meanwhile), was deleted after ``deleted_before`` (ms) or
        holds a registered model version is left alone. The purged runs' artifact folders are
        queued (``purged_runs``) in the same transaction and removed by :meth:`gc`, so a
        process killed in between leaves nothing half-done.
        """
        wanted = list(dict.fromkeys(run_ids))
        purged: list[str] = []
        with self.db.write() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                cutoff, cutoff_params = "", []
                if deleted_before is not None:
                    cutoff, cutoff_params = " AND deleted_time <= ?", [deleted_before]
                rows = conn.execute(
                    f"SELECT id, run_id FROM runs WHERE run_id IN ({marks}) "
                    f"AND lifecycle_stage = 'deleted'{cutoff}{self.db.dialect.for_update}",
                    [*chunk, *cutoff_params],
                ).fetchall()
                if not rows:
                    continue
                # a fresh read after the locks: a version registered meanwhile has committed
                registered = {
                    r[0]
                    for r in conn.execute(
                        "SELECT DISTINCT run_id FROM model_versions WHERE run_id IN "
                        f"({', '.join('?' * len(rows))})",
                        [r[1] for r in rows],
                    )
                }
                rows = [r for r in rows if r[1] not in registered]
                if not rows:
                    continue
                pks = [r[0] for r in rows]
                pk_marks = ", ".join("?" * len(pks))
                for table in self._RUN_TABLES:
                    conn.execute(f"DELETE FROM {table} WHERE run IN ({pk_marks})", pks)
                conn.execute(f"DELETE FROM runs WHERE id IN ({pk_marks})", pks)
                now = now_ms()
                conn.executemany(
                    "INSERT INTO purged_runs (run_id, purged_time) VALUES (?, ?) "
                    "ON CONFLICT (run_id) DO NOTHING",
                    [(r[1], now) for r in rows],
                )
                purged += [r[1] for r in rows]
        for run_id in purged:
            self._run_pks.pop(run_id, None)
        return purged

    def deleted_run_ids(self, older_than_ms: int | None = None) -> list[str]:
        """Runs deleted (at or before ``older_than_ms``, when given)."""
        sql = "SELECT run_id FROM runs WHERE lifecycle_stage = 'deleted'"
        params: list[Any] = []
        if older_than_ms is not None:
            sql += " AND deleted_time <= ?"
            params.append(older_than_ms)
        return [r[0] for r in self.db.conn().execute(sql, params)]

    def gc(self, *, deleted_before: int | None = None, dry_run: bool = False) -> GcReport:
        """Purge deleted runs (deleted at or before ``deleted_before`` ms, when given) and their
        artifact folders. Runs holding a registered model version are kept (a version loads its
        files from them). ``dry_run``: report what would be purged, change nothing."""
        if not dry_run:
            self._remove_purged_folders()
        candidates = self.deleted_run_ids(deleted_before)
        registered = self.registered_run_ids()
        kept = [r for r in candidates if r in registered]
        todo = [r for r in candidates if r not in registered]
        if dry_run:
            return GcReport(todo, kept, dry_run=True)
        purged = self.purge_runs(todo, deleted_before=deleted_before)
        self._remove_purged_folders()
        return GcReport(purged, kept)

    def _remove_purged_folders(self) -> None:
        """Remove the artifact folders of purged runs, then forget them (safe to repeat)."""
        queued = [r[0] for r in self.db.conn().execute("SELECT run_id FROM purged_runs")]
        for run_id in queued:
            self.remove_artifact_folder(run_id)
        for start in range(0, len(queued), 500):
            chunk = queued[start : start + 500]
            with self.db.write() as conn:
                conn.execute(
                    f"DELETE FROM purged_runs WHERE run_id IN ({', '.join('?' * len(chunk))})",
                    chunk,
                )

    # ---------------------------------------------------------------------- params and tags

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Log params. Same value again: no-op. Another value: ``ParamConflict`` naming both.

        Invalid entries raise after every valid entry of the batch has been stored.
        """
        rows, errors = [], []
        for key, value in params.items():
            try:
                check_key(key, "param")
                rows.append((key, text_value(key, value, "param", MAX_PARAM_VALUE_LENGTH)))
            except InvalidInput as exc:
                errors.append(exc)
        pk = self._run_pk(run_id)
        conflicts = []
        if rows:
            with self.db.write() as conn:
                pk = self._lock_run(conn, run_id)  # read-then-insert: one writer per run
                existing = dict(
                    conn.execute(
                        f"SELECT key, value FROM params WHERE run = ? AND key IN "
                        f"({', '.join('?' * len(rows))})",
                        (pk, *(k for k, _ in rows)),
                    ).fetchall()
                )
                new_rows = []
                for key, text in rows:
                    old = existing.get(key)
                    if old is None:
                        new_rows.append((pk, key, text, param_number(text)))
                        existing[key] = text
                    elif old != text:
                        conflicts.append(param_conflict(key, old, text, run_id))
                conn.executemany(
                    "INSERT INTO params (run, key, value, num) VALUES (?, ?, ?, ?)", new_rows
                )
        raise_param_problems(errors, conflicts)

    @staticmethod
    def _tag_row(key: Any, value: Any) -> tuple[str, str]:
        """(key, value as text), checked; raises ``InvalidInput`` naming the key."""
        return check_key(key, "tag"), text_value(key, value, "tag", MAX_TAG_VALUE_LENGTH)

    @staticmethod
    def _insert_tags(conn: Any, pk: int, rows: list[tuple[str, str]]) -> None:
        conn.executemany(
            "INSERT INTO tags (run, key, value, num) VALUES (?, ?, ?, ?) ON CONFLICT (run, key) "
            "DO UPDATE SET value = excluded.value, num = excluded.num",
            [(pk, k, v, param_number(v)) for k, v in rows],
        )

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        """Set (or overwrite) tags; invalid entries raise after the valid ones are stored."""
        rows, errors = [], []
        for key, value in tags.items():
            try:
                rows.append(self._tag_row(key, value))
            except InvalidInput as exc:
                errors.append(exc)
        pk = self._run_pk(run_id)
        if rows:
            with self.db.write() as conn:
                self._insert_tags(conn, pk, rows)
                if "mlflow.runName" in tags:
                    conn.execute(
                        "UPDATE runs SET run_name = ? WHERE id = ?",
                        (str(tags["mlflow.runName"]), pk),
                    )
        if errors:
            raise errors[0] if len(errors) == 1 else InvalidInput("; ".join(str(e) for e in errors))

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[tuple[Any, Any, Any, Any]] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        require_active: bool = False,
    ) -> None:
        """Params, tags and metric points ``(key, value, timestamp, step)`` in one transaction.

        All of it is stored or none of it: a bad value or a param logged again with another
        value raises and rolls the whole batch back (MLflow's ``log-batch``). With
        ``require_active`` a deleted run refuses the batch (``InvalidInput``).
        """
        pk = self._run_pk(run_id)
        rows: list[tuple[int, str, int, int, float]] = []
        for key, value, timestamp, step in metrics:
            check_key(key, "metric")
            if isinstance(timestamp, bool) or not isinstance(timestamp, int):
                raise InvalidInput(f"metric {key!r}: timestamp {timestamp!r} is not an integer")
            rows.append((pk, key, metric_step(key, step), timestamp, metric_value(key, value)))
        with self.db.write() as conn:
            if require_active:
                row = conn.execute(
                    "SELECT lifecycle_stage FROM runs WHERE id = ?", (pk,)
                ).fetchone()
                if row is None:
                    raise NotFound(f"run {run_id!r} does not exist")
                if row[0] != LifecycleStage.ACTIVE:
                    raise InvalidInput(f"run {run_id}: is deleted; restore it to log to it")
            if params:
                self.log_params(run_id, params)
            if tags:
                self.set_tags(run_id, tags)
            if rows:
                self.write_metric_rows(rows)

    def tags_with_prefix(
        self, prefix: str, experiment_ids: Sequence[str | int] | None = None
    ) -> list[tuple[str, str, str]]:
        """``(run_id, key, value)`` of every tag whose key starts with ``prefix`` (a range scan
        of the tag-key index), optionally in some experiments only, oldest run first."""
        if not prefix:
            raise InvalidInput("prefix: must not be empty")
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        sql = (
            "SELECT r.run_id, t.key, t.value FROM tags t JOIN runs r ON r.id = t.run "
            "WHERE t.key >= ? AND t.key < ?"
        )
        params: list[Any] = [prefix, upper]
        if experiment_ids is not None:
            ids = [check_id_number(e, "experiment_id") for e in experiment_ids]
            sql += f" AND r.experiment_id IN ({', '.join('?' * len(ids)) or 'NULL'})"
            params += ids
        return [
            (run_id, key, value)
            for run_id, key, value in self.db.conn().execute(sql + " ORDER BY r.id, t.key", params)
        ]

    def delete_tag(self, run_id: str, key: str) -> None:
        pk = self._run_pk(run_id)
        with self.db.write() as conn:
            cur = conn.execute("DELETE FROM tags WHERE run = ? AND key = ?", (pk, key))
            if cur.rowcount == 0:
                raise NotFound(f"tag {key!r} is not set on run {run_id}")

    # -------------------------------------------------------------------------------- read

    def get_run(self, run_id: str) -> Run:
        """The run with its params, tags, metric summaries and source."""
        conn = self.db.conn()
        sql = f"SELECT {RUN_COLUMNS}, r.source FROM runs r WHERE r.run_id = ?"
        row = conn.execute(sql, (run_id,)).fetchone()
        if row is None and self.on_missing_run is not None and self.on_missing_run(run_id):
            row = conn.execute(sql, (run_id,)).fetchone()
        if row is None:
            raise NotFound(f"run {run_id!r} does not exist")
        runs = self._hydrate([row[:-1]])
        run = runs[0]
        run.source = row[-1]
        return run

    def get_runs(self, run_ids: Sequence[str]) -> list[Run]:
        """Several runs in the order asked; raises ``NotFound`` naming the first missing id."""
        if not run_ids:
            return []
        rows = (
            self.db.conn()
            .execute(
                f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.run_id IN "
                f"({', '.join('?' * len(run_ids))})",
                list(run_ids),
            )
            .fetchall()
        )
        by_id = {r.info.run_id: r for r in self._hydrate(rows)}
        for run_id in run_ids:
            if run_id not in by_id:
                raise NotFound(f"run {run_id!r} does not exist")
        return [by_id[r] for r in run_ids]

    def get_source(self, run_id: str) -> str | None:
        row = (
            self.db.conn().execute("SELECT source FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        )
        if row is None:
            raise NotFound(f"run {run_id!r} does not exist")
        return row[0]

    def _hydrate(self, rows: Sequence[Sequence[Any]]) -> list[Run]:
        """Attach params, tags and metric summaries to run rows in three queries."""
        if not rows:
            return []
        runs: dict[int, Run] = {}
        for row in rows:
            runs[row[0]] = Run(_info_from_row(row), RunData())
            self._run_pks[row[1]] = row[0]
        pks = list(runs)
        for chunk_start in range(0, len(pks), 900):
            chunk = pks[chunk_start : chunk_start + 900]
            marks = ", ".join("?" * len(chunk))
            params, tags, summaries = self.db.fetch_many(  # one round trip on PostgreSQL
                [
                    (f"SELECT run, key, value FROM params WHERE run IN ({marks})", chunk),
                    (f"SELECT run, key, value FROM tags WHERE run IN ({marks})", chunk),
                    (
                        "SELECT run, key, last, step, timestamp, min, max, count "
                        f"FROM metric_summaries WHERE run IN ({marks})",
                        chunk,
                    ),
                ]
            )
            for pk, key, value in params:
                runs[pk].data.params[key] = value
            for pk, key, value in tags:
                runs[pk].data.tags[key] = value
            for pk, key, last, step, ts, lo, hi, count in summaries:
                value = _nan_if_none(last)
                runs[pk].data.metrics[key] = value
                runs[pk].summaries[key] = MetricSummary(
                    key, value, step, ts, _nan_if_none(lo), _nan_if_none(hi), count
                )
        return [runs[row[0]] for row in rows]

    # ------------------------------------------------------------------------------ search

    def search_runs(
        self,
        experiment_ids: Sequence[str | int] | None = None,
        filter_string: str | None = None,
        *,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        offset: int | None = None,
        with_total: bool = False,
        hydrate: bool = True,
    ) -> RunPage:
        """Runs matching ``filter_string`` (see :mod:`jupyter_track.store.search`).

        ``experiment_ids`` None searches every experiment. Pages come from ``page_token``
        (returned by the previous call) or an explicit ``offset``.
        """
        if not isinstance(max_results, int) or max_results < 0:
            raise InvalidInput(f"max_results {max_results!r}: must be a non-negative integer")
        tree = grammar.parse_filter(filter_string)
        order = grammar.parse_order_by(order_by) + _default_order()
        conditions, condition_params = self._scope(experiment_ids, run_view_type)
        scope = (" AND ".join(conditions), condition_params)
        start = offset if offset is not None else decode_page_token(page_token)
        conn = self.db.conn()
        ids = self._ordered_ids(conn, tree, order, scope, start, max_results + 1)
        more = len(ids) > max_results
        ids = ids[:max_results]
        total = None
        if with_total:
            where = grammar.compile_filter(tree, self.db.dialect)
            total = conn.execute(
                f"SELECT count(*) FROM runs r WHERE {scope[0]} AND {where.sql}",
                [*scope[1], *where.params],
            ).fetchone()[0]
        rows = self._rows_by_pk(conn, ids)
        runs = self._hydrate(rows) if hydrate else [Run(_info_from_row(r), RunData()) for r in rows]
        token = encode_page_token(start + len(ids)) if more else None
        return RunPage(runs, token, total)

    # Page queries select only run keys (a "deferred join": SQLite sorts narrow rows, and the
    # wide rows are read for one page only). Two plans give the same order:
    #  * fast path: walk an index in the requested order (the metric's (key, last) index, or
    #    start_time) and probe the filter per run with EXISTS, stopping at a full page;
    #  * set-based: evaluate the filter as IN (...) sets, then sort the matches.
    # The fast path wins when matches are common and loses when they are rare (it walks the
    # whole index), so it runs under a small time budget and falls back to the set-based plan.
    # PostgreSQL's planner makes that choice itself from its statistics: there the query
    # ordered by a metric is always written as the walk (driven by the metric's summaries,
    # which lets it use the (key, last) index's order) and the planner decides how to run it.

    FAST_PATH_SECONDS = 0.02

    def _ordered_ids(
        self,
        conn: Any,
        tree: grammar.Node | None,
        order: list[grammar.OrderBy],
        scope: tuple[str, list[Any]],
        start: int,
        limit: int,
    ) -> list[int]:
        if self.db.dialect.plans_by_cost:
            if order[0].field.entity == "metrics":
                return self._page_by_metric(conn, tree, order, scope, start, limit)
            return self._page_ids(conn, tree, order, scope, start, limit, False)
        time_limit = self.db.dialect.time_limit(conn, self.FAST_PATH_SECONDS)
        if self.FAST_PATH_SECONDS > 0 and time_limit is not None:
            try:
                with time_limit:
                    if order[0].field.entity == "metrics":
                        return self._page_by_metric(conn, tree, order, scope, start, limit)
                    return self._page_ids(conn, tree, order, scope, start, limit, True)
            except TimeLimitExceeded:
                pass
        return self._page_ids(conn, tree, order, scope, start, limit, False)

    def _page_ids(
        self,
        conn: Any,
        tree: grammar.Node | None,
        order: list[grammar.OrderBy],
        scope: tuple[str, list[Any]],
        start: int,
        limit: int,
        correlated: bool,
    ) -> list[int]:
        where = grammar.compile_filter(tree, self.db.dialect, correlated=correlated)
        params: list[Any] = []
        joins, terms = grammar.compile_order_by(order, params)
        sql = (
            f"SELECT r.id FROM runs r {' '.join(joins)} WHERE {scope[0]} AND {where.sql} "
            f"ORDER BY {', '.join(terms)}, r.id DESC LIMIT ? OFFSET ?"
        )
        return [
            pk for (pk,) in conn.execute(sql, [*params, *scope[1], *where.params, limit, start])
        ]

    def _page_by_metric(
        self,
        conn: Any,
        tree: grammar.Node | None,
        order: list[grammar.OrderBy],
        scope: tuple[str, list[Any]],
        start: int,
        limit: int,
    ) -> list[int]:
        """Order by a metric: the runs that have it, in the (key, last) index's order, then the
        runs without it (missing or NaN values sort last in either direction)."""
        first, rest = order[0], order[1:]
        direction = "DESC" if first.descending else "ASC"
        params: list[Any] = []
        joins, terms = grammar.compile_order_by(rest, params)
        tail = ", ".join([*terms, "r.id DESC"])
        # a top-level range on the same metric bounds the index walk (acc > 0.9 ORDER BY acc)
        # and is then tested there only (not again as an EXISTS probe of the same row)
        ranges, range_params, others = [], [], []
        for item in grammar.conjuncts(tree):
            if (
                isinstance(item, grammar.Compare)
                and item.field == first.field
                and item.op in ("=", "<", "<=", ">", ">=")
            ):
                ranges.append(f" AND d.last {item.op} ?")
                range_params.append(item.value)
            else:
                others.append(item)
        if ranges:
            tree = (
                None
                if not others
                else others[0]
                if len(others) == 1
                else grammar.And(tuple(others))
            )
        where = grammar.compile_filter(tree, self.db.dialect, correlated=True)
        with_metric = (
            f"FROM metric_summaries d JOIN runs r ON r.id = d.run {' '.join(joins)} "
            f"WHERE d.key = ? AND d.last IS NOT NULL{''.join(ranges)} AND {scope[0]} "
            f"AND {where.sql}"
        )
        with_params = [*params, first.field.key, *range_params, *scope[1], *where.params]
        ids = [
            pk
            for (pk,) in conn.execute(
                f"SELECT r.id {with_metric} ORDER BY d.last {direction}, {tail} LIMIT ? OFFSET ?",
                [*with_params, limit, start],
            )
        ]
        if len(ids) >= limit or ranges:  # a range on the metric excludes runs without it
            return ids
        if ids:
            with_count = start + len(ids)
        else:
            with_count = conn.execute(f"SELECT count(*) {with_metric}", with_params).fetchone()[0]
        without = (
            f"SELECT r.id FROM runs r {' '.join(joins)} WHERE {scope[0]} AND NOT EXISTS "
            "(SELECT 1 FROM metric_summaries d WHERE d.run = r.id AND d.key = ? "
            f"AND d.last IS NOT NULL) AND {where.sql} ORDER BY {tail} LIMIT ? OFFSET ?"
        )
        ids += [
            pk
            for (pk,) in conn.execute(
                without,
                [
                    *params,
                    *scope[1],
                    first.field.key,
                    *where.params,
                    limit - len(ids),
                    max(0, start - with_count),
                ],
            )
        ]
        return ids

    @staticmethod
    def _rows_by_pk(conn: Any, pks: list[int]) -> list[Any]:
        """Run rows for ``pks``, in that order."""
        found: dict[int, Any] = {}
        for chunk_start in range(0, len(pks), 900):
            chunk = pks[chunk_start : chunk_start + 900]
            for row in conn.execute(
                f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.id IN ({', '.join('?' * len(chunk))})",
                chunk,
            ):
                found[row[0]] = row
        return [found[pk] for pk in pks if pk in found]

    @staticmethod
    def _scope(
        experiment_ids: Sequence[str | int] | None, run_view_type: int
    ) -> tuple[list[str], list[Any]]:
        conditions: list[str] = []
        params: list[Any] = []
        if experiment_ids is not None:
            if isinstance(experiment_ids, (str, bytes)):
                raise InvalidInput(f"experiment_ids {experiment_ids!r}: must be a list of ids")
            ids = [check_id_number(e, "experiment_ids: id") for e in experiment_ids]
            conditions.append(f"r.experiment_id IN ({', '.join('?' * len(ids)) or 'NULL'})")
            params.extend(ids)
        if run_view_type == ViewType.ACTIVE_ONLY:
            conditions.append("r.lifecycle_stage = 'active'")
        elif run_view_type == ViewType.DELETED_ONLY:
            conditions.append("r.lifecycle_stage = 'deleted'")
        elif run_view_type != ViewType.ALL:
            raise InvalidInput(f"run_view_type {run_view_type!r}: must be 1, 2 or 3")
        return conditions or ["1 = 1"], params

    def param_and_metric_keys(
        self, experiment_ids: Sequence[str | int] | None = None
    ) -> dict[str, list[str]]:
        """Distinct param, metric and tag keys (for column choosers)."""
        conn = self.db.conn()
        conditions, params = self._scope(experiment_ids, ViewType.ACTIVE_ONLY)
        scope = f"SELECT r.id FROM runs r WHERE {' AND '.join(conditions)}"
        result = {}
        for entity, table in (
            ("params", "params"),
            ("metrics", "metric_summaries"),
            ("tags", "tags"),
        ):
            result[entity] = [
                k
                for (k,) in conn.execute(
                    f"SELECT DISTINCT key FROM {table} WHERE run IN ({scope}) ORDER BY key", params
                )
            ]
        return result

    def cell_runs(self, cell_id: str, *, limit: int = 100) -> list[Run]:
        """Runs produced by one notebook cell, newest first."""
        rows = (
            self.db.conn()
            .execute(
                f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.cell_id = ? AND "
                "r.lifecycle_stage = 'active' ORDER BY r.start_time DESC, r.id DESC LIMIT ?",
                (cell_id, limit),
            )
            .fetchall()
        )
        return self._hydrate(rows)

    def previous_cell_run(self, cell_id: str, before_run_id: str) -> Run | None:
        """The run of ``cell_id`` just before ``before_run_id`` (for the change summary)."""
        pk = self._run_pk(before_run_id)
        row = (
            self.db.conn()
            .execute(
                f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.cell_id = ? AND r.id < ? AND "
                "r.lifecycle_stage = 'active' AND r.start_time <= "
                "(SELECT start_time FROM runs WHERE id = ?) "
                "ORDER BY r.start_time DESC, r.id DESC LIMIT 1",  # the (cell_id, start_time) index
                (cell_id, pk, pk),
            )
            .fetchone()
        )
        return self._hydrate([row])[0] if row else None

    def run_ids_with_prefix(self, prefix: str, limit: int = 10) -> list[str]:
        """Run ids starting with ``prefix`` (a range on the unique index: no pattern syntax)."""
        if not prefix:
            return []
        upper = prefix[:-1] + chr(min(ord(prefix[-1]) + 1, 0x10FFFF))
        return [
            r[0]
            for r in self.db.conn().execute(
                "SELECT run_id FROM runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT ?",
                (prefix, upper, limit),
            )
        ]

    def child_run_ids(self, run_id: str) -> list[str]:
        return [
            r[0]
            for r in self.db.conn().execute(
                "SELECT run_id FROM runs WHERE parent_run_id = ? ORDER BY start_time", (run_id,)
            )
        ]
