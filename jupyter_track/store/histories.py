"""Metric histories of several runs in one call, downsampled in the store, and their rollup.

Charts never need every point: a 1M-point series is drawn with about a thousand. Reading a
million rows just to drop them costs about a second, so the write path keeps a **rollup**: the
points of each (run, key) series, in arrival order, are grouped in buckets of
:data:`ROLLUP_SIZE`, and each bucket stores its count, its min point and its max point
(``metric_rollups``, migration 3). :func:`update_rollups` folds every batch in, inside the
same ``BEGIN IMMEDIATE`` transaction that inserts the points.

A series shorter than :data:`ROLLUP_SIZE` has no rollup: it is always read point by point, and
most series (a run's final scores, a short sweep's curves) stay that short, so a run with a few
metrics writes no rollup rows at all. The batch in which a series reaches ``ROLLUP_SIZE`` points
writes its rollup from the start, folding in the points stored before it (fewer than
``ROLLUP_SIZE``, read in arrival order); from then on every batch is folded in as it comes.

Reading (:meth:`HistoriesMixin.metric_histories`): a series of at most :data:`RAW_LIMIT`
points is read point by point and downsampled (:func:`downsample.downsample_points`); a longer
one is read from its rollup (about ``count / 1024`` rows) and merged to at most ``max_points``
(:func:`downsample.merge_buckets`). The rollup is used only when its counts add up to the
series' count in ``metric_summaries`` (read in the same snapshot); otherwise the points are read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from .db import Database
from .downsample import Bucket, Point, downsample_points, merge_buckets
from .errors import InvalidInput, NotFound

ROLLUP_SIZE = 1024
"""Points per rollup bucket (the backfill in migration 3 uses the same number)."""

RAW_LIMIT = 50_000
"""Series with more points than this are read from the rollup."""

MetricRow = tuple[int, str, int, int, float]

_LOWER = "t.lo IS NULL OR excluded.lo < t.lo"
_HIGHER = "t.hi IS NULL OR excluded.hi > t.hi"
_UPSERT_ROLLUP = f"""
INSERT INTO metric_rollups AS t (run, key, bucket, n, lo, lo_step, lo_ts, hi, hi_step, hi_ts)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run, key, bucket) DO UPDATE SET
    n = t.n + excluded.n,
    lo_step = CASE WHEN {_LOWER} THEN excluded.lo_step ELSE t.lo_step END,
    lo_ts = CASE WHEN {_LOWER} THEN excluded.lo_ts ELSE t.lo_ts END,
    lo = CASE WHEN {_LOWER} THEN excluded.lo ELSE t.lo END,
    hi_step = CASE WHEN {_HIGHER} THEN excluded.hi_step ELSE t.hi_step END,
    hi_ts = CASE WHEN {_HIGHER} THEN excluded.hi_ts ELSE t.hi_ts END,
    hi = CASE WHEN {_HIGHER} THEN excluded.hi ELSE t.hi END
"""


_value_of = itemgetter(4)


def _bucket_row(run: int, key: str, bucket: int, chunk: Sequence[MetricRow]) -> tuple[Any, ...]:
    values = list(map(_value_of, chunk))
    first = values[0]
    if first == first:  # builtin min/max skip NaN unless it comes first
        lo, hi = min(values), max(values)
    else:
        finite = [v for v in values if v == v]
        if not finite:
            return (run, key, bucket, len(chunk), None, None, None, None, None, None)
        lo, hi = min(finite), max(finite)
    low, high = chunk[values.index(lo)], chunk[values.index(hi)]
    return (run, key, bucket, len(chunk), lo, low[2], low[3], hi, high[2], high[3])


_KEYS_PER_STATEMENT = 500


def _keys_by_run(pairs: Sequence[tuple[int, str]]) -> list[tuple[int, list[str]]]:
    """(run, up to 500 keys) chunks: one indexed statement each instead of one per series."""
    by_run: dict[int, list[str]] = {}
    for run, key in pairs:
        by_run.setdefault(run, []).append(key)
    return [
        (run, keys[i : i + _KEYS_PER_STATEMENT])
        for run, keys in by_run.items()
        for i in range(0, len(keys), _KEYS_PER_STATEMENT)
    ]


def _series_counts(conn: Any, pairs: Sequence[tuple[int, str]]) -> dict[tuple[int, str], int]:
    counts: dict[tuple[int, str], int] = {}
    for run, keys in _keys_by_run(pairs):
        for key, count in conn.execute(
            "SELECT key, count FROM metric_summaries WHERE run = ? AND key IN "
            f"({', '.join('?' * len(keys))})",
            (run, *keys),
        ):
            counts[(run, key)] = count
    return counts


def _delete_rollups(conn: Any, pairs: Sequence[tuple[int, str]]) -> None:
    for run, keys in _keys_by_run(pairs):
        conn.execute(
            f"DELETE FROM metric_rollups WHERE run = ? AND key IN ({', '.join('?' * len(keys))})",
            (run, *keys),
        )


def _stored_points(conn: Any, run: int, key: str, count: int) -> list[MetricRow]:
    """The first ``count`` points of a series, in arrival order (the points stored before the
    batch being written); NaN, stored as NULL, back as NaN."""
    return [
        (run, key, step, ts, math.nan if value is None else value)
        for step, ts, value in conn.execute(
            "SELECT step, timestamp, value FROM metrics WHERE run = ? AND key = ? "
            "ORDER BY rowid LIMIT ?",
            (run, key, count),
        )
    ]


def update_rollups(
    conn: Any,
    rows: Sequence[MetricRow],
    *,
    groups: Mapping[tuple[int, str], Sequence[MetricRow]] | None = None,
) -> None:
    """Fold a batch of metric rows into ``metric_rollups``.

    Call inside the write transaction, after inserting the points and **before** updating
    ``metric_summaries`` (its ``count`` says where each series' batch starts). ``groups``: the
    same rows already grouped by (run, key) in arrival order (the write path groups once).
    Series that stay shorter than :data:`ROLLUP_SIZE` get no rollup; a series that reaches it
    in this batch gets its whole rollup, the points stored before the batch folded in (rows
    already under its key, as a purged run leaves under a reused run key, are replaced).
    """
    if groups is None:
        grouped: dict[tuple[int, str], list[MetricRow]] = {}
        for row in rows:
            k = (row[0], row[1])
            members = grouped.get(k)
            if members is None:
                grouped[k] = members = []
            members.append(row)
        groups = grouped
    counts = _series_counts(conn, list(groups))
    growing: dict[tuple[int, str], Sequence[MetricRow]] = {}
    starting: dict[tuple[int, str], Sequence[MetricRow]] = {}
    for k, group in groups.items():
        seq = counts.get(k, 0)
        if seq >= ROLLUP_SIZE:
            growing[k] = group
        elif seq + len(group) >= ROLLUP_SIZE:  # reaches the size now: its rollup from the start
            before = _stored_points(conn, k[0], k[1], seq) if seq else []
            starting[k] = [*before, *group]
    if starting:  # earlier rows under these keys: a purged run's leftovers, an older writer's
        _delete_rollups(conn, list(starting))
    out = new_series_rollups(starting)
    for (run, key), group in growing.items():
        seq = counts[(run, key)]
        i, n = 0, len(group)
        while i < n:
            bucket = seq // ROLLUP_SIZE
            take = min(n - i, (bucket + 1) * ROLLUP_SIZE - seq)
            out.append(_bucket_row(run, key, bucket, group[i : i + take]))
            i += take
            seq += take
    conn.executemany(_UPSERT_ROLLUP, out)


def new_series_rollups(
    groups: Mapping[tuple[int, str], Sequence[MetricRow]],
) -> list[tuple[Any, ...]]:
    """The rollup rows of series given from their first point (a run being created, or a
    series reaching :data:`ROLLUP_SIZE`): none for a series shorter than that."""
    return [
        _bucket_row(run, key, start // ROLLUP_SIZE, group[start : start + ROLLUP_SIZE])
        for (run, key), group in groups.items()
        if len(group) >= ROLLUP_SIZE
        for start in range(0, len(group), ROLLUP_SIZE)
    ]


INSERT_ROLLUP = (
    "INSERT INTO metric_rollups (run, key, bucket, n, lo, lo_step, lo_ts, hi, hi_step, hi_ts) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


class HistoriesMixin:
    db: Database

    def metric_histories(
        self, run_ids: Sequence[str], keys: Sequence[str], *, max_points: int = 1000
    ) -> list[dict[str, Any]]:
        """Series of ``keys`` for ``run_ids``, each at most ``max_points`` points.

        Returns one dict per (run, key) that has points, runs in the order given, then keys in
        the order given: ``run_id, run_name, key, start_time, count, downsampled`` and the
        columns ``step``, ``timestamp``, ``value`` (NaN as float NaN). Unknown run ids raise
        ``NotFound``. Read in one snapshot, so a concurrent writer never splits a series.
        """
        if not isinstance(max_points, int) or max_points < 10:
            raise InvalidInput(f"max_points {max_points!r}: must be an integer >= 10")
        run_ids = list(dict.fromkeys(run_ids))
        keys = list(dict.fromkeys(keys))
        with self.db.read() as conn:
            return self._histories(conn, run_ids, keys, max_points)

    def _histories(
        self, conn: Any, run_ids: list[str], keys: list[str], max_points: int
    ) -> list[dict[str, Any]]:
        runs: dict[str, tuple[int, str | None, int]] = {}
        for start in range(0, len(run_ids), 500):
            chunk = run_ids[start : start + 500]
            for pk, run_id, name, started in conn.execute(
                "SELECT id, run_id, run_name, start_time FROM runs WHERE run_id IN "
                f"({', '.join('?' * len(chunk))})",
                chunk,
            ):
                runs[run_id] = (pk, name, started)
        for run_id in run_ids:
            if run_id not in runs:
                raise NotFound(f"run {run_id!r} does not exist")
        if not keys:
            return []
        summaries: dict[tuple[int, str], tuple[int, float | None, int, int]] = {}
        pks = [runs[r][0] for r in run_ids]
        key_marks = ", ".join("?" * len(keys))
        for start in range(0, len(pks), 500):
            pk_chunk = pks[start : start + 500]
            for pk, key, count, last, step, ts in conn.execute(
                "SELECT run, key, count, last, step, timestamp FROM metric_summaries "
                f"WHERE run IN ({', '.join('?' * len(pk_chunk))}) AND key IN ({key_marks})",
                [*pk_chunk, *keys],
            ):
                summaries[(pk, key)] = (count, last, step, ts)
        series = []
        for run_id in run_ids:
            pk, name, started = runs[run_id]
            for key in keys:
                summary = summaries.get((pk, key))
                if summary is None:
                    continue
                count = summary[0]
                points = self._series_points(conn, pk, key, summary, max_points)
                series.append(
                    {
                        "run_id": run_id,
                        "run_name": name,
                        "key": key,
                        "start_time": started,
                        "count": count,
                        "downsampled": len(points) < count,
                        "step": [p[0] for p in points],
                        "timestamp": [p[1] for p in points],
                        "value": [_nan(p[2]) for p in points],
                    }
                )
        return series

    @staticmethod
    def _series_points(
        conn: Any,
        pk: int,
        key: str,
        summary: tuple[int, float | None, int, int],
        max_points: int,
    ) -> list[Point]:
        count, last, last_step, last_ts = summary
        if count > RAW_LIMIT:
            buckets: list[Bucket] = conn.execute(
                "SELECT n, lo, lo_step, lo_ts, hi, hi_step, hi_ts FROM metric_rollups "
                "WHERE run = ? AND key = ? ORDER BY bucket",
                (pk, key),
            ).fetchall()
            if sum(b[0] for b in buckets) == count:
                return merge_buckets(buckets, max_points, last=(last_step, last_ts, last))
        points: list[Point] = conn.execute(
            "SELECT step, timestamp, value FROM metrics WHERE run = ? AND key = ? "
            "ORDER BY step, timestamp, rowid",
            (pk, key),
        ).fetchall()
        return downsample_points(points, max_points)
