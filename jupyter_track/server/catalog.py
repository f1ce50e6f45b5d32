"""Routes about what exists: info, experiments, keys, a cell's history."""

from __future__ import annotations

from typing import Any

from .. import __version__, payloads
from ..store import NotFound
from ..store.interface import Store
from ..store.schema import SCHEMA_VERSION
from .base import TrackHandler
from .policy import visible_experiments
from .query import bool_arg, int_arg, list_arg
from .uploads import max_artifact_bytes


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
                "max_artifact_bytes": max_artifact_bytes(self.settings),
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
        who = self.principal

        def work(store: Store) -> dict[str, list[str]]:
            # only the runs of experiments the user may read (private ones left out)
            visible = visible_experiments(self.policy, store, who, experiment_ids)
            return store.param_and_metric_keys(visible)

        await self.read_json(work)


class CellRunsHandler(TrackHandler):
    """``GET cells/{cell_id}/runs``: runs a cell produced and its execution log."""

    async def get(self, cell_id: str) -> None:
        limit = int_arg(self, "limit", 100, lo=1, hi=1000) or 100
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            readable = self.policy.readable_experiments(store, who)
            runs = store.cell_runs(cell_id, limit=limit)
            executions = store.cell_executions(cell_id=cell_id, limit=limit)
            if readable is not None:  # runs (and their executions) private to others left out
                hidden = {r.info.run_id for r in runs if r.info.experiment_id not in readable}
                runs = [r for r in runs if r.info.run_id not in hidden]
                executions = [
                    e
                    for e in executions
                    if not e.run_id or _run_readable(store, e.run_id, readable, hidden)
                ]
            return {
                "cell_id": cell_id,
                "runs": [payloads.full_row(r) for r in runs],
                "executions": [payloads.cell_execution(e) for e in executions],
            }

        await self.read_json(work)


def _run_readable(store: Store, run_id: str, readable: set[str], hidden: set[str]) -> bool:
    if run_id in hidden:
        return False
    try:
        return store.get_run(run_id).info.experiment_id in readable
    except NotFound:
        return False
