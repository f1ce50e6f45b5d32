"""Routes about what exists: info, experiments, keys, a cell's history."""

from __future__ import annotations

from typing import Any

from .. import __version__, payloads
from ..store.interface import Store
from ..store.schema import SCHEMA_VERSION
from .base import TrackHandler
from .query import bool_arg, int_arg, list_arg


class InfoHandler(TrackHandler):
    """``GET info``: versions and the store location."""

    async def get(self) -> None:
        self.send_json(
            {
                "name": "jupyter-track",
                "version": __version__,
                "schema_version": SCHEMA_VERSION,
                "store": self.access.location,
                "engine": self.access.engine,
                "artifact_root": await self.read_store(lambda s: str(s.artifact_root)),
                "user": self.principal.name,
                "user_verified": self.principal.verified,
                "user_source": self.principal.source,
            }
        )


class ExperimentsHandler(TrackHandler):
    """``GET experiments``: experiments with their active run counts."""

    async def get(self) -> None:
        include_deleted = bool_arg(self, "include_deleted", False)
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            counts = store.experiment_run_counts()
            experiments = store.search_experiments(include_deleted=include_deleted)
            readable = self.policy.readable_experiments(store, who)  # private ones left out
            if readable is not None:
                experiments = [e for e in experiments if e.experiment_id in readable]
            return {
                "experiments": [
                    payloads.experiment(e, counts.get(e.experiment_id, 0)) for e in experiments
                ]
            }

        await self.read_json(work)


class KeysHandler(TrackHandler):
    """``GET keys``: param, metric and tag keys (for a column chooser)."""

    async def get(self) -> None:
        experiment_ids = list_arg(self, "experiment_ids") or None
        await self.read_json(lambda s: s.param_and_metric_keys(experiment_ids))


class CellRunsHandler(TrackHandler):
    """``GET cells/{cell_id}/runs``: runs a cell produced and its execution log."""

    async def get(self, cell_id: str) -> None:
        limit = int_arg(self, "limit", 100, lo=1, hi=1000) or 100

        def work(store: Store) -> dict[str, Any]:
            return {
                "cell_id": cell_id,
                "runs": [payloads.full_row(r) for r in store.cell_runs(cell_id, limit=limit)],
                "executions": [
                    payloads.cell_execution(e)
                    for e in store.cell_executions(cell_id=cell_id, limit=limit)
                ],
            }

        await self.read_json(work)
