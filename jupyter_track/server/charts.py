"""``GET charts/<kind>``: the Vega-Lite specs of ``jupyter_track.charts``, data inlined.

The widgets draw the same specs, so the sidebar and the notebook show the same charts. Specs
are built (Altair) and encoded in the read pool.
"""

from __future__ import annotations

import math
from typing import Any

from .. import charts as specs
from ..payloads import SYSTEM_METRIC_PREFIX as SYSTEM_PREFIX
from ..store.interface import Store
from .base import TrackHandler
from .errors import ApiError
from .query import bool_arg, choice_arg, int_arg, list_arg, str_arg
from .runs import MAX_RUN_IDS


def _spec(chart: Any) -> dict[str, Any]:
    # Not validated here (the specs these functions produce are validated by the tests), and
    # large inline data is not walked by Altair: see charts.spec_dict.
    return specs.spec_dict(chart)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _ChartHandler(TrackHandler):
    def run_ids(self) -> list[str]:
        return list(dict.fromkeys(list_arg(self, "run_ids", required=True, max_items=MAX_RUN_IDS)))


def altair_code(call: str, run_ids: list[str], *, histories: str | None = None) -> str:
    """Python that rebuilds the chart in a notebook cell (the sidebar's "Copy as code")."""
    lines = [
        "import jupyter_track as jt",
        "from jupyter_track import charts",
        "from jupyter_track.store import open_store",
        "",
        f"run_ids = {run_ids!r}",
    ]
    if histories is not None:
        lines.append(f"data = open_store().metric_histories(run_ids, [{histories!r}])")
    else:
        lines.append("data = open_store().get_runs(run_ids)")
    lines.append(f"chart = charts.{call}")
    lines.append("chart")
    return "\n".join(lines) + "\n"


class LearningCurvesHandler(_ChartHandler):
    """One metric across runs; x = step, wall time or relative time. With ``group_by``
    (``params.<key>`` or ``tags.<key>``) runs sharing a value are drawn as one line (the mean
    per step) with a band (lowest to highest)."""

    async def get(self) -> None:
        run_ids = self.run_ids()
        key = str_arg(self, "key", required=True) or ""
        x = choice_arg(self, "x", specs.X_MODES, "auto")
        log = bool_arg(self, "log", False)
        max_points = int_arg(self, "max_points", 1000, lo=10, hi=100_000) or 1000
        group_by = str_arg(self, "group_by") or ""
        entity, _, group_key = group_by.partition(".")
        if group_by and (entity not in ("params", "tags") or not group_key):
            raise ApiError(
                400,
                "bad_request",
                "group_by: write params.<key> or tags.<key>",
                parameter="group_by",
            )

        def work(store: Store) -> dict[str, Any]:
            series = store.metric_histories(run_ids, [key], max_points=max_points)
            if group_by:
                runs = store.get_runs(run_ids)
                source = {
                    r.info.run_id: (r.data.params if entity == "params" else r.data.tags)
                    for r in runs
                }
                groups = {
                    rid: values[group_key] for rid, values in source.items() if group_key in values
                }
                chart = specs.grouped_curves(series, groups, metric=key, group_title=group_key)
                call = f"grouped_curves(data, groups, metric={key!r}, group_title={group_key!r})"
                code = altair_code(call, run_ids, histories=key).replace(
                    "chart = charts.",
                    f"groups = {{r.info.run_id: r.data.{entity}.get({group_key!r}) "
                    "for r in open_store().get_runs(run_ids)}\n"
                    "groups = {k: v for k, v in groups.items() if v is not None}\n"
                    "chart = charts.",
                )
                return {"spec": _spec(chart), "code": code}
            chart = specs.learning_curves(series, metric=key, x=x, log_scale=log)
            call = f"learning_curves(data, metric={key!r}, x={x!r}, log_scale={log!r})"
            return {"spec": _spec(chart), "code": altair_code(call, run_ids, histories=key)}

        await self.read_json(work)


class ParallelCoordinatesHandler(_ChartHandler):
    """Chosen params and one metric as parallel axes."""

    async def get(self) -> None:
        run_ids = self.run_ids()
        metric = str_arg(self, "metric", required=True) or ""
        params = list_arg(self, "params") or None

        def work(store: Store) -> dict[str, Any]:
            runs = store.get_runs(run_ids)
            chart = specs.parallel_coordinates(runs, metric=metric, params=params)
            call = f"parallel_coordinates(data, metric={metric!r}, params={params!r})"
            return {"spec": _spec(chart), "code": altair_code(call, run_ids)}

        await self.read_json(work)


class ScatterHandler(_ChartHandler):
    """One param against one metric."""

    async def get(self) -> None:
        run_ids = self.run_ids()
        param = str_arg(self, "param", required=True) or ""
        metric = str_arg(self, "metric", required=True) or ""
        # absent: automatic (log for positive values spanning more than two decades)
        log_x = bool_arg(self, "log_x", False) if self.get_query_argument("log_x", "") else None
        log_y = bool_arg(self, "log_y", False)

        def work(store: Store) -> dict[str, Any]:
            chart = specs.scatter(
                store.get_runs(run_ids), param=param, metric=metric, log_x=log_x, log_y=log_y
            )
            call = f"scatter(data, param={param!r}, metric={metric!r}, log_x={log_x!r})"
            return {"spec": _spec(chart), "code": altair_code(call, run_ids)}

        await self.read_json(work)


class RunMetricsHandler(TrackHandler):
    """Every metric history of one run (or its ``system/`` metrics), one chart per metric."""

    async def get(self) -> None:
        run_id = str_arg(self, "run_id", required=True) or ""
        group = choice_arg(self, "group", ["metrics", "system"], "metrics")
        x = choice_arg(self, "x", ["auto", "step", "relative"], "auto")
        max_points = int_arg(self, "max_points", 500, lo=10, hi=100_000) or 500

        def work(store: Store) -> dict[str, Any]:
            summaries = store.get_run(run_id).summaries
            keys = sorted(summaries)
            system = [k for k in keys if k.startswith(SYSTEM_PREFIX)]
            candidates = system if group == "system" else [k for k in keys if k not in system]
            # A metric with one value is a number, not a curve: it is in the metrics table.
            # Chart the histories; when there is none, say so in words.
            chosen = [k for k in candidates if summaries[k].count > 1]
            if not chosen and candidates:
                names = ", ".join(candidates[:6]) + ("…" if len(candidates) > 6 else "")
                chart = specs.message_chart(
                    f"One value per metric ({names}): see the metrics table. "
                    "Log a metric at several steps to chart its history."
                )
                return {"spec": _spec(chart), "code": ""}
            series = (
                store.metric_histories([run_id], chosen[:60], max_points=max_points)
                if chosen
                else []
            )
            chart = specs.run_metrics(series, x=x)
            code = (
                "from jupyter_track import charts\n"
                "from jupyter_track.store import open_store\n\n"
                f"keys = {chosen[:60]!r}\n"
                f"series = open_store().metric_histories([{run_id!r}], keys)\n"
                f"charts.run_metrics(series, x={x!r})\n"
            )
            return {"spec": _spec(chart), "code": code}

        await self.read_json(work)


class ParamImportanceHandler(_ChartHandler):
    """Params ranked by correlation with a metric: the table and its bar chart."""

    async def get(self) -> None:
        run_ids = self.run_ids()
        metric = str_arg(self, "metric", required=True) or ""
        params = list_arg(self, "params") or None

        def work(store: Store) -> dict[str, Any]:
            table = specs.param_importance_rows(
                store.get_runs(run_ids), metric=metric, params=params
            )
            rows = [{k: _clean(v) for k, v in row.items()} for row in table]
            chart = specs.param_importance_chart(table, metric=metric)
            call = (
                f"param_importance_chart(charts.param_importance(data, metric={metric!r}), "
                f"metric={metric!r})"
            )
            return {"spec": _spec(chart), "table": rows, "code": altair_code(call, run_ids)}

        await self.read_json(work)
