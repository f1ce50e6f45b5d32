"""Reads shaped for list views (the sidebar's run table, column chooser, run detail).

* :meth:`ViewsMixin.count_runs` -- the total of a search, on its own, so a caller can run it
  beside the page query;
* :meth:`ViewsMixin.run_columns` -- only the chosen params, metrics and tags of many runs;
* :meth:`ViewsMixin.artifact_tree` -- every artifact of a run, recursively, with a cap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .artifacts import ArtifactInfo
from .db import Database
from .entities import ViewType

KeySelection = Sequence[str] | str | None
"""None: none of this kind; ``"*"``: every key; a sequence: these keys."""

_TABLES = (
    ("params", "params", "value"),
    ("metrics", "metric_summaries", "last"),
    ("tags", "tags", "value"),
)

if TYPE_CHECKING:
    from . import search as grammar
else:  # the filter grammar: imported by the first search, not by the first run
    from ..lazy import lazy_module

    grammar = lazy_module(globals(), "grammar", "jupyter_track.store.search")


class ViewsMixin:
    db: Database

    if TYPE_CHECKING:  # provided by other parts of the store

        @staticmethod
        def _scope(
            experiment_ids: Sequence[str | int] | None, run_view_type: int
        ) -> tuple[list[str], list[Any]]: ...

        def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]: ...

    def count_runs(
        self,
        experiment_ids: Sequence[str | int] | None = None,
        filter_string: str | None = None,
        *,
        run_view_type: int = ViewType.ACTIVE_ONLY,
    ) -> int:
        """How many runs ``search_runs`` with the same arguments would find in all."""
        where = grammar.compile_filter(grammar.parse_filter(filter_string), self.db.dialect)
        conditions, params = self._scope(experiment_ids, run_view_type)
        row = (
            self.db.conn()
            .execute(
                f"SELECT count(*) FROM runs r WHERE {' AND '.join(conditions)} AND {where.sql}",
                [*params, *where.params],
            )
            .fetchone()
        )
        return int(row[0])

    def run_columns(
        self,
        run_ids: Sequence[str],
        *,
        params: KeySelection = None,
        metrics: KeySelection = None,
        tags: KeySelection = None,
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """``{run_id: {"params": {...}, "metrics": {...}, "tags": {...}}}`` for chosen keys.

        Metrics are last values (NaN as float NaN). Runs that do not exist are left out.
        """
        result: dict[str, dict[str, dict[str, Any]]] = {
            r: {"params": {}, "metrics": {}, "tags": {}} for r in run_ids
        }
        conn = self.db.conn()
        selections = {"params": params, "metrics": metrics, "tags": tags}
        ids = list(result)
        for kind, table, column in _TABLES:
            chosen = selections[kind]
            if chosen is None or (not isinstance(chosen, str) and not chosen):
                continue
            key_sql, key_params = "", []
            if not isinstance(chosen, str):
                key_params = list(dict.fromkeys(chosen))
                key_sql = f" AND t.key IN ({', '.join('?' * len(key_params))})"
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = conn.execute(
                    f"SELECT r.run_id, t.key, t.{column} FROM runs r JOIN {table} t "
                    f"ON t.run = r.id WHERE r.run_id IN ({', '.join('?' * len(chunk))})" + key_sql,
                    [*chunk, *key_params],
                )
                nan_for_null = kind == "metrics"  # a stored NULL metric value is NaN
                for run_id, key, value in rows:
                    if value is None and nan_for_null:
                        value = math.nan
                    result[run_id][kind][key] = value
        return result

    def artifact_tree(self, run_id: str, *, limit: int = 1000) -> tuple[list[ArtifactInfo], bool]:
        """Every file and folder under the run's artifacts (folders before their contents),
        at most ``limit`` entries; the flag says whether the list was cut."""
        found: list[ArtifactInfo] = []
        pending: list[str | None] = [None]
        while pending:
            folder = pending.pop(0)
            for item in self.list_artifacts(run_id, folder):
                if len(found) >= limit:
                    return found, True
                found.append(item)
                if item.is_dir:
                    pending.append(item.path)
        return found, False
