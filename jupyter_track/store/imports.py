"""Records copied from another store (``jupyter-track import-mlflow``), keeping their identity.

An imported experiment keeps its name, times and tags; an imported run keeps its run id, times,
status, lifecycle, params, tags and every metric point; an imported model version keeps its
number. Each run is written in one transaction (all of it or none of it), so an import stopped
half-way is picked up where it stopped: a run that exists is never written twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .db import Database
from .entities import LifecycleStage, RunStatus
from .errors import Conflict, InvalidInput, NotFound
from .experiments import now_ms
from .metrics import MetricRow
from .registry import RegistryMixin, check_model_name, check_version
from .validation import (
    MAX_PARAM_VALUE_LENGTH,
    check_key,
    metric_step,
    metric_value,
    text_value,
)
from .validation import description_text as _description
from .validation import model_tag as _tag

if TYPE_CHECKING:
    from . import search as grammar
else:  # the filter grammar: imported by the first search, not by the first run
    from ..lazy import lazy_module

    grammar = lazy_module(globals(), "grammar", "jupyter_track.store.search")

POINTS_PER_STATEMENT = 50_000


class ImportsMixin:
    """Writes that keep the source's ids, numbers and times (mixed into ``SQLiteStore``)."""

    db: Database
    _run_pks: dict[str, int]

    if TYPE_CHECKING:  # provided by other parts of the store

        def artifact_uri_for(self, run_id: str) -> str: ...

        def write_metric_rows(self, rows: list[MetricRow]) -> None: ...

        def _tag_row(self, key: Any, value: Any) -> tuple[str, str]: ...

    # ------------------------------------------------------------------------- experiments

    def import_experiment(
        self,
        name: str,
        *,
        lifecycle_stage: str = LifecycleStage.ACTIVE,
        creation_time: int | None = None,
        last_update_time: int | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create an experiment with the source's name, state, times and tags; its id."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"experiment name {name!r}: must be a non-empty string")
        if lifecycle_stage not in (LifecycleStage.ACTIVE, LifecycleStage.DELETED):
            raise InvalidInput(f"experiment {name!r}: lifecycle_stage {lifecycle_stage!r}")
        created = creation_time if creation_time is not None else now_ms()
        updated = last_update_time if last_update_time is not None else created
        rows = [self._tag_row(k, v) for k, v in (tags or {}).items()]
        with self.db.write() as conn:
            try:
                cur = conn.execute(
                    "INSERT INTO experiments (name, lifecycle_stage, creation_time, "
                    "last_update_time) VALUES (?, ?, ?, ?) RETURNING experiment_id",
                    (name, lifecycle_stage, created, updated),
                )
            except self.db.dialect.integrity_errors as exc:
                raise Conflict(f"experiment {name!r} already exists") from exc
            experiment_id = int(cur.fetchone()[0])
            conn.executemany(
                "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
                [(experiment_id, k, v) for k, v in rows],
            )
        return str(experiment_id)

    # -------------------------------------------------------------------------------- runs

    def run_exists(self, run_id: str) -> bool:
        """Whether a run with this id is in the store (deleted runs included)."""
        row = self.db.conn().execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return row is not None

    def import_run(
        self,
        run_id: str,
        experiment_id: str | int,
        *,
        run_name: str | None,
        status: str,
        start_time: int,
        end_time: int | None,
        lifecycle_stage: str = LifecycleStage.ACTIVE,
        user_id: str | None = None,
        parent_run_id: str | None = None,
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        metrics: Iterable[tuple[str, Any, int, Any]] = (),
        artifacts: Iterable[tuple[str, int]] = (),
    ) -> int:
        """Insert a run under its own id with its params, tags, every metric point
        ``(key, value, timestamp, step)`` and the index of its artifact files ``(path, size)``
        (already copied into :meth:`artifact_dir`), in one transaction; the number of points.

        ``Conflict`` when the id is taken. A value the store cannot hold raises
        ``InvalidInput`` naming it, and nothing of the run is written.
        """
        if not isinstance(run_id, str) or not run_id.isalnum() or len(run_id) > 64:
            raise InvalidInput(f"run id {run_id!r}: must be 1 to 64 letters and digits")
        if status not in RunStatus.ALL:
            raise InvalidInput(f"run {run_id}: status {status!r}")
        if lifecycle_stage not in (LifecycleStage.ACTIVE, LifecycleStage.DELETED):
            raise InvalidInput(f"run {run_id}: lifecycle_stage {lifecycle_stage!r}")
        param_rows = []
        for key, value in (params or {}).items():
            check_key(key, "param")
            text = text_value(key, value, "param", MAX_PARAM_VALUE_LENGTH)
            param_rows.append((key, text, grammar.param_number(text)))
        tag_rows = [self._tag_row(k, v) for k, v in (tags or {}).items()]
        points = 0
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone():
                raise Conflict(f"run {run_id} already exists")
            if (
                conn.execute(
                    "SELECT 1 FROM experiments WHERE experiment_id = ?", (int(experiment_id),)
                ).fetchone()
                is None
            ):
                raise NotFound(f"experiment {experiment_id!r} does not exist")
            cur = conn.execute(
                "INSERT INTO runs (run_id, experiment_id, run_name, status, user_id, start_time, "
                "end_time, lifecycle_stage, deleted_time, parent_run_id, artifact_uri) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    run_id,
                    int(experiment_id),
                    run_name,
                    status,
                    user_id,
                    start_time,
                    end_time,
                    lifecycle_stage,
                    now_ms() if lifecycle_stage == LifecycleStage.DELETED else None,
                    parent_run_id,
                    self.artifact_uri_for(run_id),
                ),
            )
            pk = int(cur.fetchone()[0])
            conn.executemany(
                "INSERT INTO params (run, key, value, num) VALUES (?, ?, ?, ?)",
                [(pk, k, v, n) for k, v, n in param_rows],
            )
            conn.executemany(
                "INSERT INTO tags (run, key, value, num) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (run, key) "
                "DO UPDATE SET value = excluded.value, num = excluded.num",
                [(pk, k, v, grammar.param_number(v)) for k, v in tag_rows],
            )
            batch: list[MetricRow] = []
            for key, value, timestamp, step in metrics:
                check_key(key, "metric")
                if isinstance(timestamp, bool) or not isinstance(timestamp, int):
                    raise InvalidInput(f"metric {key!r}: timestamp {timestamp!r} is not an integer")
                batch.append((pk, key, metric_step(key, step), timestamp, metric_value(key, value)))
                if len(batch) >= POINTS_PER_STATEMENT:
                    self.write_metric_rows(batch)
                    points += len(batch)
                    batch = []
            if batch:
                self.write_metric_rows(batch)
                points += len(batch)
            now = now_ms()
            conn.executemany(
                "INSERT INTO artifacts (run, path, size, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (run, path) DO UPDATE SET size = excluded.size, "
                "created = excluded.created",
                [(pk, path, size, now) for path, size in artifacts],
            )
        self._run_pks[run_id] = pk
        return points

    # ------------------------------------------------------------------------------ registry

    def import_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        creation_time: int | None = None,
        last_updated_time: int | None = None,
        actor: str | None = None,
    ) -> None:
        """Create a registered model with the source's times (audited as created by
        ``actor``, unverified: the import is not an authenticated change)."""
        check_model_name(name)
        text = _description(description)
        rows = [_tag(k, v) for k, v in (tags or {}).items()]
        who = RegistryMixin._actor(actor, False)
        created = creation_time if creation_time is not None else now_ms()
        with self.db.write() as conn:
            try:
                cur = conn.execute(
                    "INSERT INTO registered_models (name, description, creation_time, "
                    "last_updated_time) VALUES (?, ?, ?, ?) RETURNING id",
                    (name, text, created, last_updated_time or created),
                )
            except self.db.dialect.integrity_errors as exc:
                raise Conflict(f"registered model {name!r} already exists") from exc
            pk = int(cur.fetchone()[0])
            RegistryMixin._audit(conn, who, "create_registered_model", name, new=name)
            conn.executemany(
                "INSERT INTO registered_model_tags (model, key, value) VALUES (?, ?, ?)",
                [(pk, k, v) for k, v in rows],
            )
            for key, value in rows:
                RegistryMixin._audit(
                    conn, who, "set_registered_model_tag", name, key=key, new=value
                )

    def import_model_version(
        self,
        name: str,
        version: int,
        *,
        source: str,
        run_id: str | None = None,
        artifact_path: str | None = None,
        description: str | None = None,
        user_id: str | None = None,
        status: str = "READY",
        creation_time: int | None = None,
        last_updated_time: int | None = None,
        tags: Mapping[str, str] | None = None,
        actor: str | None = None,
    ) -> None:
        """Add version ``version`` of ``name`` under its own number (later versions keep
        counting from the highest); ``Conflict`` when that number exists."""
        number = check_version(version)
        if not isinstance(source, str) or not source:
            raise InvalidInput(f"version {number} of {name!r}: source {source!r}")
        text = _description(description)
        rows = [_tag(k, v) for k, v in (tags or {}).items()]
        who = RegistryMixin._actor(actor, False)
        created = creation_time if creation_time is not None else now_ms()
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT id, next_version FROM registered_models WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                raise NotFound(f"registered model {name!r} does not exist")
            model_pk, next_version = int(row[0]), int(row[1])
            try:
                cur = conn.execute(
                    "INSERT INTO model_versions (model, version, source, run_id, artifact_path, "
                    "description, user_id, status, creation_time, last_updated_time) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        model_pk,
                        number,
                        source,
                        run_id,
                        artifact_path,
                        text,
                        user_id,
                        status or "READY",
                        created,
                        last_updated_time or created,
                    ),
                )
            except self.db.dialect.integrity_errors as exc:
                raise Conflict(f"registered model {name!r} already has version {number}") from exc
            version_pk = int(cur.fetchone()[0])
            conn.execute(
                "UPDATE registered_models SET next_version = ? WHERE id = ?",
                (max(next_version, number + 1), model_pk),
            )
            RegistryMixin._audit(
                conn, who, "create_model_version", name, version=number, new=source
            )
            conn.executemany(
                "INSERT INTO model_version_tags (model_version, key, value) VALUES (?, ?, ?)",
                [(version_pk, k, v) for k, v in rows],
            )
            for key, value in rows:
                RegistryMixin._audit(
                    conn, who, "set_model_version_tag", name, version=number, key=key, new=value
                )

    def model_version_numbers(self, name: str) -> set[int]:
        """The version numbers ``name`` has now (empty for an unknown model)."""
        return {
            int(v)
            for (v,) in self.db.conn().execute(
                "SELECT v.version FROM model_versions v JOIN registered_models m "
                "ON m.id = v.model WHERE m.name = ?",
                (name,),
            )
        }
