"""Keeping live chart data small before it is synced to the browser.

:class:`StreamDecimator` -- for live charts: points arrive in batches; it keeps at most
  ``max_points`` of them per series by M4 decimation (the first, lowest, highest and last point
of each x bucket, which draws the same line as every point at screen resolution). Buckets
start one x unit wide (one step), so a short series is drawn point for point; when there are
too many, their width doubles and neighbours merge. Each batch returns the delta for the
browser: "keep your first ``keep`` points, then append these".

Static charts (``jt.compare``) read histories already downsampled by the store
(``SQLiteStore.metric_histories``, min/max buckets kept while logging).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from typing import Any

Point = tuple[float, dict[str, Any]]
"""(x, row); the row is what the chart draws and has at least ``value``."""


class _Bucket:
    __slots__ = ("first", "high", "index", "last", "low")

    def __init__(self, index: int, point: Point):
        self.index = index
        self.first = self.low = self.high = self.last = point

    def add(self, point: Point) -> None:
        x = point[0]
        value = point[1]["value"]
        if x < self.first[0]:
            self.first = point
        if x >= self.last[0]:
            self.last = point
        if value < self.low[1]["value"]:
            self.low = point
        if value > self.high[1]["value"]:
            self.high = point

    def merge(self, other: _Bucket) -> None:
        for point in (other.first, other.low, other.high, other.last):
            self.add(point)

    def points(self) -> list[Point]:
        chosen: list[Point] = []
        for point in sorted((self.first, self.low, self.high, self.last), key=lambda p: p[0]):
            if not any(point is seen for seen in chosen):
                chosen.append(point)
        return chosen


class StreamDecimator:
    """M4 decimation of one series whose points arrive over time (usually in x order)."""

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

    def add(self, points: Iterable[Point]) -> tuple[int, list[dict[str, Any]]] | None:
        """Add points; return ``(keep, rows)`` -- the browser keeps its first ``keep`` rows and
        appends ``rows`` -- or None when nothing visible changed. Non-finite values are
        counted in ``skipped`` and not drawn.
        """
        first_touched: int | None = None
        for point in points:
            self.total += 1
            value = point[1]["value"]
            if value is None or not math.isfinite(value):
                self.skipped += 1
                continue
            position = self._insert(point)
            if first_touched is None or position < first_touched:
                first_touched = position
        if len(self.buckets) > self.max_buckets:
            self._coarsen()
            first_touched = 0
        if first_touched is None:
            return None
        keep = sum(len(b.points()) for b in self.buckets[:first_touched])
        return keep, [p[1] for b in self.buckets[first_touched:] for p in b.points()]

    def rows(self) -> list[dict[str, Any]]:
        """Every row currently drawn, in x order."""
        return [p[1] for b in self.buckets for p in b.points()]

    def _insert(self, point: Point) -> int:
        x = point[0]
        if self.origin is None:
            self.origin = x
        index = math.floor((x - self.origin) / self.width)
        keys = self._keys
        if keys and index == keys[-1]:  # the usual case: the open bucket
            self.buckets[-1].add(point)
            return len(keys) - 1
        if not keys or index > keys[-1]:
            keys.append(index)
            self.buckets.append(_Bucket(index, point))
            return len(keys) - 1
        position = bisect.bisect_left(keys, index)
        if keys[position] == index:
            self.buckets[position].add(point)
        else:
            keys.insert(position, index)
            self.buckets.insert(position, _Bucket(index, point))
        return position

    def _coarsen(self) -> None:
        """Double the bucket width until the buckets fit, merging neighbours."""
        while len(self.buckets) > self.max_buckets:
            self.width *= 2
            merged: list[_Bucket] = []
            for bucket in self.buckets:
                index = bucket.index // 2
                if merged and merged[-1].index == index:
                    merged[-1].merge(bucket)
                else:
                    bucket.index = index
                    merged.append(bucket)
            self.buckets = merged
        self._keys = [b.index for b in self.buckets]
