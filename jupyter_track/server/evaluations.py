"""Routes about evaluation runs (``jt.evaluate``): one run's per-row results, and two runs
compared row by row (which rows got worse)."""

from __future__ import annotations

from typing import Any

from ..store import SQLiteStore
from .base import TrackHandler
from .errors import ApiError
from .policy import READ
from .query import list_arg


def _payload(store: SQLiteStore, run_id: str) -> dict[str, Any]:
    from ..tracing.evaluation import load_table

    table = load_table(store, run_id)
    return {
        "run_id": run_id,
        "columns": table["columns"],
        "data": table["data"],
        "scorers": table.get("scorers") or {},
    }


class EvaluationHandler(TrackHandler):
    """``GET evaluations/{run_id}``: the per-row results table of an evaluation run."""

    async def get(self, run_id: str) -> None:
        who = self.principal

        def table(store: SQLiteStore) -> dict[str, Any]:
            self.policy.check_run(store, who, run_id, READ)
            store.get_run(run_id)  # 404 for an unknown run
            return _payload(store, run_id)

        await self.read_json(table)


class EvaluationCompareHandler(TrackHandler):
    """``GET evaluations/compare?run_ids=A,B``: two evaluation runs row by row, the older run
    as A (the baseline), the newer as B."""

    async def get(self) -> None:
        run_ids = list_arg(self, "run_ids")
        if len(run_ids) != 2:
            raise ApiError(400, "bad_request", "run_ids: give exactly two evaluation runs")
        who = self.principal

        def compare(store: SQLiteStore) -> dict[str, Any]:
            from ..tracing.evaluation import comparison, load_table

            runs = []
            for run_id in run_ids:
                self.policy.check_run(store, who, run_id, READ)
                runs.append(store.get_run(run_id).info)
            runs.sort(key=lambda info: (info.start_time, info.run_id))  # A: the older run
            ordered = [info.run_id for info in runs]
            result = comparison(load_table(store, ordered[0]), load_table(store, ordered[1]))
            result["run_ids"] = ordered
            result["runs"] = [{"run_id": i.run_id, "run_name": i.run_name} for i in runs]
            return result

        await self.read_json(compare)


EVALUATION_ROUTES: list[tuple[str, type[TrackHandler]]] = [
    ("/evaluations/compare", EvaluationCompareHandler),
    ("/evaluations/{run_id}", EvaluationHandler),
]
