"""Keeping live chart data small before it is synced to the browser.

:class:`StreamDecimator` receives a series' points in batches and keeps at most ``max_points``
of them by M4 decimation: the first, lowest, highest and last point of each x bucket, which
draws the same line as every point at screen resolution, spikes included. Buckets start one x
unit wide (one step), so a short series is drawn point for point; when there would be too many
their width doubles and neighbours merge. Each batch returns the delta for the browser: "keep
your first ``keep`` points, then append these".

A batch is bucketed with numpy (sorts and reductions in C), so the Python work per batch is per
touched bucket, not per point: a live chart's polling thread must not hold the GIL away from a
training loop that logs ten thousand points a second.

Static charts (``jt.compare``) read histories already downsampled by the store
(``SQLiteStore.metric_histories``, min/max buckets kept while logging).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

Point = tuple[float, float, int, int]
"""(x, value, step, timestamp ms)."""


class _Bucket:
    __slots__ = ("_points", "first", "high", "index", "last", "low")

    def __init__(self, index: int, first: Point, low: Point, high: Point, last: Point):
        self.index = index
        self.first, self.low, self.high, self.last = first, low, high, last
        self._points: list[Point] | None = None

    def merge(self, first: Point, low: Point, high: Point, last: Point) -> None:
        if first[0] < self.first[0]:
            self.first = first
        if last[0] >= self.last[0]:
            self.last = last
        if low[1] < self.low[1]:
            self.low = low
        if high[1] > self.high[1]:
            self.high = high
        self._points = None

    def points(self) -> list[Point]:
        """The bucket's points in x order (cached until the bucket changes)."""
        if self._points is None:
            chosen: list[Point] = []
            for point in sorted((self.first, self.low, self.high, self.last), key=_x):
                if point not in chosen:  # one point can be first, lowest... at once
                    chosen.append(point)
            self._points = chosen
        return self._points


def _x(point: Point) -> float:
    return point[0]


class StreamDecimator:
    """M4 decimation of one series whose points arrive in batches (usually in x order)."""

    def __init__(self, max_points: int = 1000, width: float = 1.0):
        if max_points < 8:
            raise ValueError("max_points must be at least 8")
        if width <= 0:
            raise ValueError("width must be positive")
        self.max_buckets = max_points // 4
        self.width = float(width)
        self.origin: float | None = None
        self.buckets: list[_Bucket] = []
        self._keys: list[int] = []
        self.total = 0
        self.skipped = 0
        self.first_step: int | None = None
        self.steps_vary = False  # False while every point has the same step (MLflow's 0)

    def add(
        self,
        xs: Sequence[float],
        values: Sequence[float],
        steps: Sequence[int] | None = None,
        stamps: Sequence[int] | None = None,
    ) -> tuple[int, list[Point]] | None:
        """Add a batch; return ``(keep, points)`` -- the browser keeps its first ``keep`` points
        and appends ``points`` -- or None when nothing drawn changed. Non-finite values are
        counted in ``skipped`` and not drawn. ``steps`` / ``stamps`` ride along (default 0).
        """
        import numpy as np

        n = len(xs)
        if n == 0:
            return None
        self.total += n
        x = np.asarray(xs, dtype=float)
        v = np.asarray(values, dtype=float)
        step = np.zeros(n, dtype=np.int64) if steps is None else np.asarray(steps, dtype=np.int64)
        stamp = (
            np.zeros(n, dtype=np.int64) if stamps is None else np.asarray(stamps, dtype=np.int64)
        )
        finite = np.isfinite(v) & np.isfinite(x)
        if not finite.all():
            self.skipped += int(n - finite.sum())
            x, v, step, stamp = x[finite], v[finite], step[finite], stamp[finite]
            if not len(x):
                return None
        if not self.steps_vary:
            if self.first_step is None:
                self.first_step = int(step[0])
            self.steps_vary = bool((step != self.first_step).any())
        if self.origin is None:
            self.origin = float(x[0])
        idx = np.floor((x - self.origin) / self.width).astype(np.int64)
        coarsened = self._fit(int(idx.min()), int(idx.max()))
        if coarsened:
            idx >>= coarsened  # floor division by 2**k, negatives included
        # per bucket: first and last by x, lowest and highest by value (all in C)
        by_x = np.lexsort((x, idx))
        sorted_idx = idx[by_x]
        starts = np.flatnonzero(np.r_[True, sorted_idx[1:] != sorted_idx[:-1]])
        ends = np.r_[starts[1:], len(sorted_idx)] - 1
        lows = np.lexsort((v, idx))[starts]
        highs = np.lexsort((-v, idx))[starts]
        firsts, lasts = by_x[starts], by_x[ends]
        # only the chosen points leave numpy
        chosen = np.concatenate((firsts, lows, highs, lasts))
        m = len(starts)
        cx, cv = x[chosen].tolist(), v[chosen].tolist()
        cs, ct = step[chosen].tolist(), stamp[chosen].tolist()
        picked = list(zip(cx, cv, cs, ct))
        first_touched: int | None = 0 if coarsened else None
        for j, bucket_index in enumerate(sorted_idx[starts].tolist()):
            position = self._merge(
                bucket_index, picked[j], picked[m + j], picked[2 * m + j], picked[3 * m + j]
            )
            if first_touched is None or position < first_touched:
                first_touched = position
        if first_touched is None:
            return None
        keep = sum(len(b.points()) for b in self.buckets[:first_touched])
        return keep, [p for b in self.buckets[first_touched:] for p in b.points()]

    def points(self) -> list[Point]:
        """Every point currently drawn, in x order."""
        return [p for b in self.buckets for p in b.points()]

    @property
    def drawn(self) -> int:
        """How many points are drawn."""
        return sum(len(b.points()) for b in self.buckets)

    def _merge(self, index: int, first: Point, low: Point, high: Point, last: Point) -> int:
        keys = self._keys
        if keys and index == keys[-1]:  # the usual case: the open bucket
            self.buckets[-1].merge(first, low, high, last)
            return len(keys) - 1
        if not keys or index > keys[-1]:
            keys.append(index)
            self.buckets.append(_Bucket(index, first, low, high, last))
            return len(keys) - 1
        position = bisect.bisect_left(keys, index)
        if keys[position] == index:
            self.buckets[position].merge(first, low, high, last)
        else:
            keys.insert(position, index)
            self.buckets.insert(position, _Bucket(index, first, low, high, last))
        return position

    def _fit(self, lo: int, hi: int) -> int:
        """Coarsen (double the width, merge neighbours) until the buckets so far and bucket
        indices ``lo..hi`` span at most ``max_buckets``; how many doublings that took."""
        if self._keys:
            lo, hi = min(lo, self._keys[0]), max(hi, self._keys[-1])
        k = 0
        while (hi >> k) - (lo >> k) + 1 > self.max_buckets:
            k += 1
        if k == 0:
            return 0
        self.width *= 2**k
        merged: list[_Bucket] = []
        for bucket in self.buckets:
            index = bucket.index >> k
            if merged and merged[-1].index == index:
                merged[-1].merge(bucket.first, bucket.low, bucket.high, bucket.last)
            else:
                bucket.index = index
                merged.append(bucket)
        self.buckets = merged
        self._keys = [b.index for b in merged]
        return k
