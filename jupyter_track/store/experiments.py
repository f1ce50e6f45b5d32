"""Experiments: named groups of runs."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .db import Database
from .entities import Experiment, LifecycleStage
from .errors import Conflict, InvalidInput, NotFound
from .validation import MAX_TAG_VALUE_LENGTH, check_id_number, check_key, check_name, text_value

_UPSERT_TAG = (
    "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) "
    "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value"
)


def now_ms() -> int:
    return int(time.time() * 1000)


class ExperimentsMixin:
    db: Database

    def _experiment_from_row(self, row: tuple[Any, ...]) -> Experiment:
        experiment_id = row[0]
        tags = dict(
            self.db.conn()
            .execute(
                "SELECT key, value FROM experiment_tags WHERE experiment_id = ?", (experiment_id,)
            )
            .fetchall()
        )
        return Experiment(str(experiment_id), row[1], row[2] or "", row[3], row[4], row[5], tags)

    _EXPERIMENT_COLUMNS = (
        "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"
    )

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
    ) -> str:
        """Create an experiment and return its id; a name already taken is a ``Conflict``."""
        check_name(name, "experiment name")
        tag_rows = [
            (check_key(k, "tag"), text_value(k, v, "tag", MAX_TAG_VALUE_LENGTH))
            for k, v in (tags or {}).items()
        ]
        with self.db.write() as conn:
            now = now_ms()
            try:
                cur = conn.execute(
                    "INSERT INTO experiments (name, artifact_location, lifecycle_stage, "
                    "creation_time, last_update_time) VALUES (?, ?, 'active', ?, ?) "
                    "RETURNING experiment_id",
                    (name, artifact_location, now, now),
                )
            except self.db.dialect.integrity_errors as exc:
                raise Conflict(f"experiment {name!r} already exists") from exc
            experiment_id = int(cur.fetchone()[0])
            for key, value in tag_rows:
                conn.execute(_UPSERT_TAG, (experiment_id, key, value))
        return str(experiment_id)

    def get_or_create_experiment(self, name: str) -> Experiment:
        """The experiment called ``name``, created when missing (safe across processes)."""
        found = self.get_experiment_by_name(name)
        if found is not None:
            if found.lifecycle_stage == LifecycleStage.DELETED:
                raise Conflict(f"experiment {name!r} is deleted; restore it or choose another name")
            return found
        try:
            self.create_experiment(name)
        except Conflict:
            pass  # another process created it between our read and our write
        experiment = self.get_experiment_by_name(name)
        assert experiment is not None
        return experiment

    def get_experiment(self, experiment_id: str | int) -> Experiment:
        try:
            key = check_id_number(experiment_id, "experiment_id")
        except InvalidInput as exc:
            raise NotFound(f"experiment {experiment_id!r} does not exist") from exc
        row = (
            self.db.conn()
            .execute(
                f"SELECT {self._EXPERIMENT_COLUMNS} FROM experiments WHERE experiment_id = ?",
                (key,),
            )
            .fetchone()
        )
        if row is None:
            raise NotFound(f"experiment {experiment_id!r} does not exist")
        return self._experiment_from_row(row)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        row = (
            self.db.conn()
            .execute(f"SELECT {self._EXPERIMENT_COLUMNS} FROM experiments WHERE name = ?", (name,))
            .fetchone()
        )
        return None if row is None else self._experiment_from_row(row)

    def search_experiments(
        self, *, include_deleted: bool = False, name_like: str | None = None
    ) -> list[Experiment]:
        """Experiments by name; ``name_like`` is a LIKE pattern on the name (``%`` and ``_``,
        ASCII letters in either case)."""
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if not include_deleted:
            where.append("lifecycle_stage = 'active'")
        if name_like:
            where.append(self.db.dialect.like("name", "ILIKE", name_like, params))
        rows = (
            self.db.conn()
            .execute(
                f"SELECT {self._EXPERIMENT_COLUMNS} FROM experiments WHERE {' AND '.join(where)} "
                "ORDER BY experiment_id",
                params,
            )
            .fetchall()
        )
        return [self._experiment_from_row(r) for r in rows]

    def experiment_run_counts(self) -> dict[str, int]:
        """Active runs per experiment id."""
        rows = (
            self.db.conn()
            .execute(
                "SELECT experiment_id, count(*) FROM runs WHERE lifecycle_stage = 'active' "
                "GROUP BY experiment_id"
            )
            .fetchall()
        )
        return {str(e): n for e, n in rows}

    def set_experiment_lifecycle(self, experiment_id: str | int, stage: str) -> None:
        experiment = self.get_experiment(experiment_id)
        with self.db.write() as conn:
            conn.execute(
                "UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? "
                "WHERE experiment_id = ?",
                (stage, now_ms(), int(experiment.experiment_id)),
            )

    def set_experiment_tag(self, experiment_id: str | int, key: str, value: Any) -> None:
        experiment = self.get_experiment(experiment_id)
        row = (check_key(key, "tag"), text_value(key, value, "tag", MAX_TAG_VALUE_LENGTH))
        with self.db.write() as conn:
            conn.execute(
                _UPSERT_TAG,
                (int(experiment.experiment_id), *row),
            )

    def rename_experiment(self, experiment_id: str | int, new_name: str) -> None:
        """Give an experiment another name; a name already taken is a ``Conflict``."""
        if not isinstance(new_name, str) or not new_name.strip():
            raise InvalidInput(f"experiment name {new_name!r}: must be a non-empty string")
        self.get_experiment(experiment_id)
        with self.db.write() as conn:
            try:
                conn.execute(
                    "UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?",
                    (new_name, now_ms(), int(experiment_id)),
                )
            except self.db.dialect.integrity_errors as exc:
                raise Conflict(f"experiment {new_name!r} already exists") from exc

    def delete_experiment_tag(self, experiment_id: str | int, key: str) -> None:
        """Remove a tag from an experiment; ``NotFound`` when it is not set."""
        self.get_experiment(experiment_id)
        with self.db.write() as conn:
            cur = conn.execute(
                "DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?",
                (int(experiment_id), key),
            )
            if cur.rowcount == 0:
                raise NotFound(f"tag {key!r} is not set on experiment {experiment_id}")

    def search_experiments_page(
        self,
        filter_string: str | None = None,
        *,
        view_type: int = 1,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> tuple[list[Experiment], str | None]:
        """One page of experiments matching ``filter_string`` and the next page's token.

        The filter language of :mod:`.search` (``name``, ``experiment_id``, ``creation_time``,
        ``last_update_time``, ``tags.<key>``; OR, NOT and parentheses too); ``view_type`` is
        MLflow's (1 active, 2 deleted, 3 all). Default order: newest first, as MLflow.
        """
        from . import search as grammar
        from .paging import decode_page_token, encode_page_token

        if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
            raise InvalidInput(f"max_results {max_results!r}: must be a positive integer")
        where, params = _view_condition(view_type)
        fields = grammar.EXPERIMENTS
        tree = grammar.parse_filter(filter_string, fields)
        compiled = grammar.compile_filter(tree, self.db.dialect, fields=fields)
        order_params: list[Any] = []
        joins, terms = grammar.compile_order_by(
            grammar.parse_order_by(order_by, fields), order_params, fields
        )
        where.append(compiled.sql)
        params = [*order_params, *params, *compiled.params]
        order = ", ".join([*terms, "e.creation_time DESC", "e.experiment_id ASC"])
        offset = decode_page_token(page_token)
        columns = ", ".join(f"e.{c.strip()}" for c in self._EXPERIMENT_COLUMNS.split(","))
        rows = (
            self.db.conn()
            .execute(
                f"SELECT {columns} FROM experiments e {' '.join(joins)} "
                f"WHERE {' AND '.join(where)} "
                f"ORDER BY {order} LIMIT ? OFFSET ?",
                (*params, max_results + 1, offset),
            )
            .fetchall()
        )
        token = encode_page_token(offset + max_results) if len(rows) > max_results else None
        return [self._experiment_from_row(r) for r in rows[:max_results]], token


def _view_condition(view_type: int) -> tuple[list[str], list[Any]]:
    if view_type == 1:
        return ["e.lifecycle_stage = 'active'"], []
    if view_type == 2:
        return ["e.lifecycle_stage = 'deleted'"], []
    if view_type == 3:
        return ["1 = 1"], []
    raise InvalidInput(f"view_type {view_type!r}: must be 1 (active), 2 (deleted) or 3 (all)")
