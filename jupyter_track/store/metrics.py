"""Metric history and per-run summaries.

``write_metric_rows`` is the hot path used by the kernel's background writer: rows arrive already
validated in the table's own shape ``(run handle, key, step, timestamp, value)``; one transaction
inserts them (the engine's fastest way: :meth:`Dialect.insert_metric_points`) and folds them into
``metric_summaries`` (last, min, max, count) and ``metric_rollups``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from operator import countOf, itemgetter
from typing import TYPE_CHECKING, Any

from .db import Database
from .dialects.base import Dialect
from .entities import Metric
from .errors import InvalidInput
from .histories import INSERT_ROLLUP, new_series_rollups, update_rollups
from .validation import check_key, metric_step, metric_timestamp, metric_value

REMOTE_CHUNK = 50_000
"""On a network engine, a batch larger than this is written as several transactions: the
metric lock is held for a bounded time (other writers, live charts)."""

MetricRow = tuple[int, str, int, int, float]
"""(run handle, key, step, timestamp ms, value) -- NaN is stored as NULL."""


@lru_cache(maxsize=4)
def upsert_summary_sql(dialect: Dialect) -> str:
    """Fold a summary row into ``metric_summaries`` (last by (step, timestamp); NULL min/max
    stand for "no finite value yet")."""
    t = "metric_summaries"
    newer = f"(excluded.step, excluded.timestamp) >= ({t}.step, {t}.timestamp)"
    return f"""
INSERT INTO {t} (run, key, last, step, timestamp, min, max, count)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run, key) DO UPDATE SET
    last = CASE WHEN {newer} THEN excluded.last ELSE {t}.last END,
    timestamp = CASE WHEN {newer} THEN excluded.timestamp ELSE {t}.timestamp END,
    step = {dialect.greatest(f"{t}.step", "excluded.step")},
    min = CASE WHEN {t}.min IS NULL THEN excluded.min WHEN excluded.min IS NULL THEN {t}.min
               ELSE {dialect.least(f"{t}.min", "excluded.min")} END,
    max = CASE WHEN {t}.max IS NULL THEN excluded.max WHEN excluded.max IS NULL THEN {t}.max
               ELSE {dialect.greatest(f"{t}.max", "excluded.max")} END,
    count = {t}.count + excluded.count
"""


_run_of = itemgetter(0)
_key_of = itemgetter(1)
_step_of = itemgetter(2)
_ts_of = itemgetter(3)
_value_of = itemgetter(4)

Groups = dict[tuple[int, str], Sequence[MetricRow]]
"""Rows of one batch grouped by (run, key), each group in arrival order."""


def group_rows(rows: Sequence[MetricRow]) -> Groups:
    """Group a batch by (run, key), keeping arrival order inside each group.

    The common batch -- one series logged in a loop -- is detected with two C-level passes
    and returned without copying.
    """
    keys = set(map(_key_of, rows))
    if len(keys) == 1 and len(set(map(_run_of, rows))) == 1:
        first = rows[0]
        return {(first[0], first[1]): rows}
    groups: dict[tuple[int, str], list[MetricRow]] = {}
    for row in rows:
        k = (row[0], row[1])
        group = groups.get(k)
        if group is None:
            groups[k] = group = []
        group.append(row)
    return groups  # type: ignore[return-value]


def summarize_group(run: int, key: str, group: Sequence[MetricRow]) -> tuple[Any, ...]:
    """One summary row ``(run, key, last, step, timestamp, min, max, count)`` for one series.

    "last" is the value of the point with the greatest (step, timestamp), the latest logged
    among equals; NaN counts and can be last, but is never min or max. The work is done by
    C-level passes (``map``, ``sum``, ``min``, ``max``) rather than a Python loop per point.
    """
    if len(group) == 1:  # a run's final scores: one point per key
        _, _, step, ts, value = group[0]
        if isinstance(value, float):
            extreme = value if value == value else None
            return (run, key, value, step, ts, extreme, extreme, 1)
    values = list(map(_value_of, group))
    try:
        total = sum(values)
    except TypeError:  # a value that is not a number (None): the per-point fold
        return _summarize_slow(group)[0]
    if total == total:  # no NaN (NaN always propagates through a sum)
        lo, hi = min(values), max(values)
    else:
        finite = [v for v in values if v == v]
        lo, hi = (min(finite), max(finite)) if finite else (None, None)
    top = max(map(_step_of, group))
    last = group[-1]
    if last[2] != top or countOf(map(_step_of, group), top) > 1:
        # the greatest step is not (only) the newest point: the latest (step, timestamp) wins,
        # the newest one among equals (several points at step 0 is MLflow's default)
        tied = [row for row in group if row[2] == top]
        newest = max(map(_ts_of, tied))
        last = next(row for row in reversed(tied) if row[3] == newest)
    return (run, key, last[4], last[2], last[3], lo, hi, len(values))


def summarize(rows: Sequence[MetricRow]) -> list[tuple[Any, ...]]:
    """Fold rows into one summary row per (run, key): last by (step, timestamp), min, max, count.

    NaN values count, and can be "last", but never become min or max.
    """
    if not rows:
        return []
    return [summarize_group(run, key, g) for (run, key), g in group_rows(rows).items()]


def _summarize_slow(rows: Iterable[MetricRow]) -> list[tuple[Any, ...]]:
    """The reference fold, one point at a time (used when a value is not a float)."""
    acc: dict[tuple[int, str], list[Any]] = {}
    for run, key, step, ts, value in rows:
        s = acc.get((run, key))
        finite = value is not None and value == value  # False for NaN
        if s is None:
            acc[(run, key)] = [
                value,
                step,
                ts,
                value if finite else None,
                value if finite else None,
                1,
            ]
            continue
        if (step, ts) >= (s[1], s[2]):
            s[0], s[1], s[2] = value, step, ts
        if finite:
            if s[3] is None or value < s[3]:
                s[3] = value
            if s[4] is None or value > s[4]:
                s[4] = value
        s[5] += 1
    return [(run, key, *s) for (run, key), s in acc.items()]


class MetricsMixin:
    db: Database

    if TYPE_CHECKING:  # provided by another part of the store

        def _run_pk(self, run_id: str) -> int: ...

        def batch_seen(self, conn: Any, batch_id: str) -> bool: ...

    def _write_new_run_points(self, conn: Any, rows: Sequence[MetricRow]) -> None:
        """The points of a run created in this transaction (:meth:`RunsMixin.write_run`): the
        same rows, summaries and rollups as :meth:`write_metric_rows`, without the reads and
        upserts that existing series need."""
        if set(map(len, rows)) != {5}:
            raise InvalidInput("metric rows must be (run, key, step, timestamp, value) tuples")
        groups = group_rows(rows)
        dialect = self.db.dialect
        dialect.insert_metric_points(conn, rows)
        rollups = new_series_rollups(groups)  # none unless a series is long already
        if rollups:
            if dialect.reuses_keys:  # a purged run's leftovers under the same key
                conn.execute("DELETE FROM metric_rollups WHERE run = ?", (rows[0][0],))
            conn.executemany(INSERT_ROLLUP, rollups)
        conn.executemany(
            "INSERT INTO metric_summaries (run, key, last, step, timestamp, min, max, count) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [summarize_group(run, key, g) for (run, key), g in groups.items()],
        )

    def write_metric_rows(self, rows: Sequence[MetricRow], *, batch_id: str | None = None) -> None:
        """Insert validated rows and update the summaries, in one transaction.

        ``batch_id``: the caller's name for this batch, the same on every retry. On a network
        engine, where a commit can fail without saying whether it happened, a batch id already
        written makes the call a no-op, so a retried batch is never written twice. There a
        batch of more than ``REMOTE_CHUNK`` rows is written in chunks, one transaction each.
        """
        if not rows:
            return
        if set(map(len, rows)) != {5}:  # flattened below: a short row would shift the rest
            raise InvalidInput("metric rows must be (run, key, step, timestamp, value) tuples")
        if self.db.remote and len(rows) > REMOTE_CHUNK:
            # one transaction per chunk, each under its own id derived from the batch's (the
            # same rows split the same way on a retry: chunks already committed are skipped)
            for n, start in enumerate(range(0, len(rows), REMOTE_CHUNK)):
                chunk_id = None if batch_id is None else f"{batch_id}.{n}"
                self.write_metric_rows(rows[start : start + REMOTE_CHUNK], batch_id=chunk_id)
            return
        groups = group_rows(rows)  # grouped once, for the summaries and the rollups
        summaries = [summarize_group(run, key, g) for (run, key), g in groups.items()]
        dialect = self.db.dialect
        with self.db.write_metrics() as conn:
            if batch_id is not None and self.db.remote and self.batch_seen(conn, batch_id):
                return
            dialect.insert_metric_points(conn, rows)
            # before the summaries: it reads their counts
            update_rollups(conn, rows, groups=groups)
            conn.executemany(upsert_summary_sql(dialect), summaries)

    def log_metrics(self, run_id: str, metrics: Iterable[Metric | tuple[Any, ...]]) -> None:
        """Validate and store metric points synchronously.

        Accepts :class:`Metric` objects or ``(key, value, timestamp, step)`` tuples. Invalid
        points raise ``InvalidInput`` naming each bad key, after the valid ones are stored.
        """
        pk = self._run_pk(run_id)
        rows: list[MetricRow] = []
        errors: list[str] = []
        for item in metrics:
            if isinstance(item, Metric):
                key, value, ts, step = item.key, item.value, item.timestamp, item.step
            else:
                try:
                    key, value, ts, step = item
                except (TypeError, ValueError):
                    errors.append(
                        f"metric {item!r}: expected a Metric or (key, value, timestamp, step)"
                    )
                    continue
            try:
                check_key(key, "metric")
                rows.append(
                    (
                        pk,
                        key,
                        metric_step(key, step),
                        metric_timestamp(key, ts),
                        metric_value(key, value),
                    )
                )
            except InvalidInput as exc:
                errors.append(str(exc))
        self.write_metric_rows(rows)
        if errors:
            raise InvalidInput("; ".join(errors))

    def get_metric_history(
        self, run_id: str, key: str, *, max_results: int | None = None, offset: int = 0
    ) -> list[Metric]:
        """Every point of one metric, in step order (NaN comes back as NaN); a page of them
        with ``max_results`` and ``offset``."""
        pk = self._run_pk(run_id)
        nan = math.nan
        limit = 2**62 if max_results is None else max_results  # no limit on every engine
        return [
            Metric(key, nan if v is None else v, ts, step)
            for step, ts, v in self.db.conn().execute(
                "SELECT step, timestamp, value FROM metrics WHERE run = ? AND key = ? "
                "ORDER BY step, timestamp, rowid LIMIT ? OFFSET ?",
                (pk, key, limit, offset),
            )
        ]

    def metric_series(
        self, run_id: str, key: str, *, after_rowid: int = 0
    ) -> tuple[list[tuple[int, int, float]], int]:
        """(step, timestamp, value) points with rowid > ``after_rowid`` and the last rowid seen.

        Live charts poll with the returned rowid to fetch only new points.
        """
        pk = self._run_pk(run_id)
        rows = (
            self.db.conn()
            .execute(
                "SELECT rowid, step, timestamp, value FROM metrics WHERE run = ? AND key = ? "
                "AND rowid > ? ORDER BY rowid",
                (pk, key, after_rowid),
            )
            .fetchall()
        )
        last = rows[-1][0] if rows else after_rowid
        nan = math.nan
        return [(s, t, nan if v is None else v) for _, s, t, v in rows], last

    def metric_keys(self, run_id: str) -> list[str]:
        pk = self._run_pk(run_id)
        return [
            k
            for (k,) in self.db.conn().execute(
                "SELECT key FROM metric_summaries WHERE run = ? ORDER BY key", (pk,)
            )
        ]

    def validate_metric_point(self, key: Any, value: Any, step: Any) -> tuple[float, int]:
        check_key(key, "metric")
        return metric_value(key, value), metric_step(key, step)
