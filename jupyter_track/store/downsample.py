"""Shape-keeping downsampling of metric series (pure Python, no SQL).

A series is cut into equal-count groups and each group keeps its lowest and its highest point,
in x order, so spikes and dips survive at any zoom-out (the min/max-bucket scheme charting
libraries use). The first and the last point of the series are always kept. NaN values (None
or float NaN) are never chosen as min or max; a group holding only NaN keeps its first point, so
gaps stay visible.

Two inputs:

* raw points ``(step, timestamp, value)`` -- :func:`downsample_points`;
* rollup buckets written by the store while logging (``histories.py``) -- :func:`merge_buckets`,
  which combines consecutive buckets into groups the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

Point = tuple[int, int, float | None]
"""(step, timestamp ms, value); value None or NaN means NaN."""

Bucket = tuple[int, float | None, int | None, int | None, float | None, int | None, int | None]
"""(count, min, min step, min timestamp, max, max step, max timestamp) of consecutive points."""


def _finite_index(values: Sequence[float | None], lo: int, hi: int) -> tuple[int, int] | None:
    """Indices of the min and the max non-NaN value in ``values[lo:hi]``, or None."""
    best_lo = best_hi = -1
    vmin = vmax = 0.0
    for i in range(lo, hi):
        v = values[i]
        if v is None or v != v:
            continue
        if best_lo < 0:
            best_lo = best_hi = i
            vmin = vmax = v
            continue
        if v < vmin:
            vmin, best_lo = v, i
        elif v > vmax:
            vmax, best_hi = v, i
    return None if best_lo < 0 else (best_lo, best_hi)


def downsample_points(points: Sequence[Point], max_points: int) -> list[Point]:
    """At most ``max_points`` (>= 4) of ``points``, keeping first, last and every group's
    extremes, in the original order."""
    n = len(points)
    if n <= max_points:
        return list(points)
    if max_points < 4:
        raise ValueError("max_points must be at least 4")
    inner = points[1:-1]
    values = [p[2] for p in inner]
    groups = (max_points - 2) // 2
    keep: list[int] = []
    m = len(inner)
    for g in range(groups):
        lo, hi = g * m // groups, (g + 1) * m // groups
        if lo >= hi:
            continue
        found = _finite_index(values, lo, hi)
        if found is None:
            keep.append(lo)
        else:
            a, b = found
            keep.extend((a,) if a == b else (min(a, b), max(a, b)))
    return [points[0], *(inner[i] for i in keep), points[-1]]


def merge_buckets(
    buckets: Sequence[Bucket], max_points: int, last: Point | None = None
) -> list[Point]:
    """Points (at most ``max_points``) from consecutive rollup buckets, in bucket order.

    Consecutive buckets are merged into groups; each group contributes its min and max points,
    ordered by (step, timestamp). ``last`` (the series' final point, from the summary) is
    appended when it is not already the final point.
    """
    if max_points < 3:
        raise ValueError("max_points must be at least 3")
    groups = max(1, (max_points - 1) // 2)
    nb = len(buckets)
    count = min(groups, nb)
    out: list[Point] = []
    for g in range(count):
        lo_i, hi_i = g * nb // count, (g + 1) * nb // count
        best_lo: Point | None = None
        best_hi: Point | None = None
        low = high = 0.0
        for n, vmin, min_step, min_ts, vmax, max_step, max_ts in buckets[lo_i:hi_i]:
            if not n:
                continue
            if vmin is not None and (best_lo is None or vmin < low):
                low, best_lo = vmin, (int(min_step or 0), int(min_ts or 0), vmin)
            if vmax is not None and (best_hi is None or vmax > high):
                high, best_hi = vmax, (int(max_step or 0), int(max_ts or 0), vmax)
        if best_lo is None or best_hi is None:
            continue
        if best_lo[:2] == best_hi[:2]:
            out.append(best_lo)
        else:
            out.extend(sorted((best_lo, best_hi), key=lambda p: (p[0], p[1])))
    if last is not None and (not out or out[-1][:2] != last[:2]):
        out.append(last)
    return out
