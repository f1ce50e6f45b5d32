"""Per-version request counts, errors and latency, drained into metrics of the serving run."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class _Counter:
    requests: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    agree: int = 0
    compared: int = 0
    dirty: bool = False


class ServingStats:
    """Per-version counts, errors and latency; turned into metrics of the serving run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, _Counter] = {}

    def record(
        self, prefix: str, ms: float, ok: bool, *, agreement: tuple[int, int] | None = None
    ) -> None:
        with self._lock:
            c = self._counters.setdefault(prefix, _Counter())
            c.requests += 1
            c.errors += 0 if ok else 1
            c.latencies_ms.append(ms)
            if agreement is not None:
                c.agree += agreement[0]
                c.compared += agreement[1]
            c.dirty = True

    def totals(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                p: {"requests": c.requests, "errors": c.errors} for p, c in self._counters.items()
            }

    def drain(self) -> dict[str, float]:
        """Metrics since the last drain: cumulative counts, latency mean / p50 / p95."""
        out: dict[str, float] = {}
        with self._lock:
            for prefix, c in self._counters.items():
                if not c.dirty:
                    continue
                out[f"{prefix}.requests"] = c.requests
                out[f"{prefix}.errors"] = c.errors
                if c.latencies_ms:
                    lat = np.asarray(c.latencies_ms)
                    out[f"{prefix}.latency_ms_mean"] = float(lat.mean())
                    out[f"{prefix}.latency_ms_p50"] = float(np.percentile(lat, 50))
                    out[f"{prefix}.latency_ms_p95"] = float(np.percentile(lat, 95))
                if c.compared:
                    out[f"{prefix}.agreement"] = c.agree / c.compared
                c.latencies_ms = []
                c.dirty = False
        return out


def agreement(a: Any, b: Any) -> tuple[int, int] | None:
    try:
        x, y = np.asarray(a), np.asarray(b)
        if x.shape != y.shape or x.size == 0:
            return None
        if x.dtype.kind in "fc" or y.dtype.kind in "fc":
            same = np.isclose(x.astype(float), y.astype(float), equal_nan=True)
        else:
            same = x == y
        if same.ndim > 1:
            same = same.reshape(same.shape[0], -1).all(axis=1)
        return int(np.count_nonzero(same)), int(same.size)
    except Exception:
        return None
