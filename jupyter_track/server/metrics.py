"""``GET metrics/history``: histories of several runs in one call, downsampled in the store."""

from __future__ import annotations

from typing import Any

from .. import payloads
from ..store.interface import Store
from .base import TrackHandler
from .query import int_arg, list_arg
from .runs import MAX_RUN_IDS

MAX_POINTS = 100_000


class MetricHistoryHandler(TrackHandler):
    """At most ``max_points`` points per (run, key) series; see ``store/histories.py``."""

    async def get(self) -> None:
        run_ids = list_arg(self, "run_ids", required=True, max_items=MAX_RUN_IDS)
        keys = list_arg(self, "keys", required=True, max_items=100, split=True)
        max_points = int_arg(self, "max_points", 1000, lo=10, hi=MAX_POINTS) or 1000

        def work(store: Store) -> dict[str, Any]:
            found = store.metric_histories(run_ids, keys, max_points=max_points)
            return {"max_points": max_points, "series": payloads.series(found)}

        await self.read_json(work)
