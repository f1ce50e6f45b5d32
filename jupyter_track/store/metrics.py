"""Metric history and per-run summaries.

``write_metric_rows`` is the hot path used by the kernel's background writer: rows arrive already
validated in the table's own shape ``(run, key, step, timestamp, value)``; one transaction inserts
them with ``executemany`` and folds them into ``metric_summaries`` (last, min, max, count).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import chain
from operator import countOf, itemgetter
from typing import TYPE_CHECKING, Any

from .db import Database
from .entities import Metric
from .errors import InvalidInput
from .histories import INSERT_ROLLUP, new_series_rollups, update_rollups
from .validation import check_key, metric_step, metric_timestamp, metric_value

MetricRow = tuple[int, str, int, int, float]
"""(run pk, key, step, timestamp ms, value) -- NaN is stored as NULL."""

_UPSERT_SUMMARY = """
INSERT INTO metric_summaries (run, key, last, step, timestamp, min, max, count)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run, key) DO UPDATE SET
    last = CASE WHEN (excluded.step, excluded.timestamp) >= (step, timestamp)
                THEN excluded.last ELSE last END,
    timestamp = CASE WHEN (excluded.step, excluded.timestamp) >= (step, timestamp)
                THEN excluded.timestamp ELSE timestamp END,
    step = max(step, excluded.step),
    min = CASE WHEN min IS NULL THEN excluded.min WHEN excluded.min IS NULL THEN min
               ELSE min(min, excluded.min) END,
    max = CASE WHEN max IS NULL THEN excluded.max WHEN excluded.max IS NULL THEN max
               ELSE max(max, excluded.max) END,
    count = count + excluded.count
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


_INSERT_POINTS = "INSERT INTO metrics (run, key, step, timestamp, value) VALUES "


@lru_cache(maxsize=32)
def _insert_sql(rows: int) -> str:
    return _INSERT_POINTS + ", ".join(["(?, ?, ?, ?, ?)"] * rows)


@lru_cache(maxsize=8)
def _rows_per_statement(limit: int) -> int:
    """The largest power of two of rows whose parameters fit in ``limit`` (at most 4096)."""
    rows = 4096
    while rows > 1 and rows * 5 > limit:
        rows //= 2
    return rows


def _variable_limit(conn: sqlite3.Connection) -> int:
    getlimit = getattr(conn, "getlimit", None)  # Python >= 3.11
    which = getattr(sqlite3, "SQLITE_LIMIT_VARIABLE_NUMBER", None)
    if getlimit is not None and which is not None:
        return int(getlimit(which))
    return 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


def insert_points(conn: sqlite3.Connection, rows: Sequence[MetricRow]) -> None:
    """Insert metric rows with multi-row ``INSERT ... VALUES (...), (...)`` statements.

    Against ``executemany`` (one bind + step + reset per row, and the GIL given up and taken
    back around every row) this binds up to 4,096 rows in one C call and inserts them in one
    step without the GIL: about half the CPU per point, and a logging thread runs meanwhile
    (it can hold the GIL up to the switch interval when the writer wants it back: once per
    statement, not once per row). Statements have a power-of-two number of rows (4096, then
    2048, 1024, ... for the rest), so their prepared forms stay in ``sqlite3``'s statement
    cache. Values are bound exactly as
    ``executemany`` binds them (a NaN becomes NULL).
    """
    n = len(rows)
    size = _rows_per_statement(_variable_limit(conn))
    flat = chain.from_iterable
    i = 0
    while i < n:
        while size > n - i:
            size //= 2
        conn.execute(_insert_sql(size), list(flat(rows[i : i + size])))
        i += size


class MetricsMixin:
    db: Database

    if TYPE_CHECKING:  # provided by another part of the store

        def run_pk(self, run_id: str) -> int: ...

    @staticmethod
    def _write_new_run_points(conn: sqlite3.Connection, rows: Sequence[MetricRow]) -> None:
        """The points of a run created in this transaction (:meth:`RunsMixin.write_run`): the
        same rows, summaries and rollups as :meth:`write_metric_rows`, without the reads and
        upserts that existing series need."""
        if set(map(len, rows)) != {5}:
            raise InvalidInput("metric rows must be (run, key, step, timestamp, value) tuples")
        groups = group_rows(rows)
        insert_points(conn, rows)
        # a purged run's leftovers under the same key (purge deletes them; older files may not)
        conn.execute("DELETE FROM metric_rollups WHERE run = ?", (rows[0][0],))
        conn.executemany(INSERT_ROLLUP, new_series_rollups(groups))
        conn.executemany(
            "INSERT INTO metric_summaries (run, key, last, step, timestamp, min, max, count) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [summarize_group(run, key, g) for (run, key), g in groups.items()],
        )

    def write_metric_rows(self, rows: Sequence[MetricRow]) -> None:
        """Insert validated rows and update the summaries, in one transaction."""
        if not rows:
            return
        if set(map(len, rows)) != {5}:  # flattened below: a short row would shift the rest
            raise InvalidInput("metric rows must be (run, key, step, timestamp, value) tuples")
        groups = group_rows(rows)  # grouped once, for the summaries and the rollups
        summaries = [summarize_group(run, key, g) for (run, key), g in groups.items()]
        with self.db.write() as conn:
            insert_points(conn, rows)
            # before the summaries: it reads their counts
            update_rollups(conn, rows, groups=groups)
            conn.executemany(_UPSERT_SUMMARY, summaries)

    def log_metrics(self, run_id: str, metrics: Iterable[Metric | tuple[Any, ...]]) -> None:
        """Validate and store metric points synchronously.

        Accepts :class:`Metric` objects or ``(key, value, timestamp, step)`` tuples. Invalid
        points raise ``InvalidInput`` naming each bad key, after the valid ones are stored.
        """
        pk = self.run_pk(run_id)
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
        pk = self.run_pk(run_id)
        nan = math.nan
        limit = -1 if max_results is None else max_results
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
        pk = self.run_pk(run_id)
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
        pk = self.run_pk(run_id)
        return [
            k
            for (k,) in self.db.conn().execute(
                "SELECT key FROM metric_summaries WHERE run = ? ORDER BY key", (pk,)
            )
        ]

    def validate_metric_point(self, key: Any, value: Any, step: Any) -> tuple[float, int]:
        check_key(key, "metric")
        return metric_value(key, value), metric_step(key, step)
