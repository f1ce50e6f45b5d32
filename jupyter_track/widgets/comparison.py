"""Run comparison: ``jt.compare(runs_or_ids, metric=...)``.

A side-by-side table (params and metrics, rows that differ marked), and the sidebar's charts
from :mod:`jupyter_track.charts`: learning curves of the chosen metric, parallel coordinates of
the params against it, the params ranked by their correlation with it, and a param-vs-metric
scatter. Metric histories are downsampled by the store before they are synced (at most
``max_points`` per run, min/max buckets: ``SQLiteStore.metric_histories``), so 20 runs of 100k
points each draw in well under a second.
"""

from __future__ import annotations

import math
from typing import Any

import traitlets

from .. import payloads
from ..formatting import format_duration
from ..lineage.compare import comparison_extras
from ..store import InvalidInput, Run
from ..tracking import session
from . import static
from ._common import ChartWidget, bundle

MAX_PARALLEL_PARAMS = 8


def _run_ids(runs_or_ids: Any) -> list[str]:
    """Run ids from ids, Run objects, a search_runs DataFrame or a RunTable (its selection)."""
    if hasattr(runs_or_ids, "selected") and hasattr(runs_or_ids, "rows"):  # a RunTable
        return list(runs_or_ids.selected)
    if hasattr(runs_or_ids, "columns") and hasattr(runs_or_ids, "to_dict"):  # a DataFrame
        if "run_id" not in runs_or_ids.columns:
            raise InvalidInput("runs: the DataFrame has no run_id column")
        return [str(r) for r in runs_or_ids["run_id"]]
    if isinstance(runs_or_ids, (str, Run)):
        runs_or_ids = [runs_or_ids]
    ids = []
    for item in runs_or_ids:
        if isinstance(item, str):
            ids.append(item)
        elif hasattr(item, "info"):
            ids.append(item.info.run_id)
        else:
            raise InvalidInput(f"runs: expected run ids or runs, got {type(item).__name__}")
    return list(dict.fromkeys(ids))


def _label(run: Run) -> str:
    return (
        f"{run.info.run_name} ({run.info.run_id[:7]})" if run.info.run_name else run.info.run_id[:7]
    )


class CompareView(ChartWidget):
    """Side-by-side comparison of runs with the shared charts (see the module doc)."""

    _esm = bundle("compare.js")

    runs = traitlets.List(traitlets.Dict()).tag(sync=True)
    table = traitlets.List(traitlets.Dict()).tag(sync=True)
    metric = traitlets.Unicode("").tag(sync=True)
    metrics = traitlets.List(traitlets.Unicode()).tag(sync=True)
    param = traitlets.Unicode("").tag(sync=True)
    params = traitlets.List(traitlets.Unicode()).tag(sync=True)
    importance = traitlets.List(traitlets.Dict()).tag(sync=True)
    specs = traitlets.Dict().tag(sync=True)
    notes = traitlets.Dict().tag(sync=True)
    warnings = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def __init__(
        self,
        runs_or_ids: Any,
        *,
        metric: str | None = None,
        param: str | None = None,
        max_points: int = 1000,
    ):
        super().__init__()
        session.current().flush()
        self._store = session.current().store
        ids = _run_ids(runs_or_ids)
        if not ids:
            raise InvalidInput("compare: no runs given")
        self._runs = self._store.get_runs(ids)
        self.max_points = max_points
        self._history: list[dict[str, Any]] = []  # columnar series from metric_histories
        self._comparison = payloads.comparison(self._runs)
        counts: dict[str, int] = {}
        for run in self._runs:
            for key in run.data.metrics:
                counts[key] = counts.get(key, 0) + 1
        # metrics every run has first, then by name
        metric_keys = sorted(counts, key=lambda k: (-counts[k], k))
        param_keys = sorted({k for r in self._runs for k in r.data.params})
        if metric is not None and metric not in counts:
            raise InvalidInput(
                f"metric {metric!r}: none of the runs logged it"
                + (f" (they logged {', '.join(metric_keys)})" if metric_keys else "")
            )
        if param is not None and param not in param_keys:
            raise InvalidInput(f"param {param!r}: none of the runs has it")
        with self.hold_trait_notifications():
            self.runs = [
                {
                    "run_id": r.info.run_id,
                    "label": _label(r),
                    "name": r.info.run_name,
                    "status": r.info.status,
                }
                for r in self._runs
            ]
            self.metrics = metric_keys
            self.params = param_keys
            self.table = self._table()
            self._wanted_param = param
            self.metric = metric or payloads.default_metric(self._comparison)
        self._on_metric()
        self.observe(lambda _: self._on_metric(), names="metric")
        self.observe(lambda _: self._on_param(), names="param")

    # ------------------------------------------------------------------------------- table

    def _table(self) -> list[dict[str, Any]]:
        """The side-by-side rows: the run attributes, then the comparison payload's params,
        metrics (last values) and user tags -- the REST API's comparison, one "differs" rule."""
        runs = self._runs
        rows: list[dict[str, Any]] = []
        for key, values in (
            ("status", [r.info.status for r in runs]),
            ("duration_ms", [r.info.duration_ms for r in runs]),
            ("start_time", [r.info.start_time for r in runs]),
        ):
            rows.append({"section": "run", **payloads.aligned(key, values)})
        for section in ("params", "metrics", "tags"):
            for row in self._comparison[section]:
                rows.append(
                    {
                        "section": section,
                        "key": row["key"],
                        "values": row["values"],
                        "differs": row["differs"],
                    }
                )
        # lineage: packages whose versions differ, and the digest of each input per run
        extras = comparison_extras(self._store, runs)
        for section, items in (
            ("environment", extras["environment"]["rows"]),
            ("data", extras["data"]),
        ):
            for row in items:
                rows.append({"section": section, **row})
        self.warnings = extras["warnings"]
        return rows

    # ------------------------------------------------------------------------------ charts

    def charts(self) -> dict[str, Any]:
        """The four charts as Altair objects (to restyle, ``.save("x.html")``...)."""
        from .. import charts

        metric = self.metric
        if not metric:
            return {}
        importance = charts.param_importance_rows(self._runs, metric=metric)
        return {
            "curves": charts.learning_curves(self._history, metric=metric),
            "parallel": charts.parallel_coordinates(
                self._runs, metric=metric, params=self._parallel_params(importance)
            ),
            "importance": charts.param_importance_chart(importance, metric=metric),
            "scatter": (
                charts.scatter(self._runs, param=self.param, metric=metric) if self.param else None
            ),
        }

    def _parallel_params(self, importance: list[dict[str, Any]]) -> list[str]:
        ranked = [r["param"] for r in importance if _ranked(r)]
        rest = [p for p in self.params if p not in ranked]
        return (ranked + rest)[:MAX_PARALLEL_PARAMS]

    def _on_metric(self) -> None:
        from .. import charts

        metric = self.metric
        if not metric:
            self.specs, self.notes, self.importance = {}, {}, []
            return
        if metric not in self.metrics:
            raise InvalidInput(f"metric {metric!r}: none of the runs logged it")
        self._history = self._store.metric_histories(
            [r.info.run_id for r in self._runs], [metric], max_points=self.max_points
        )
        stored = sum(s["count"] for s in self._history)
        shown = sum(len(s["value"]) for s in self._history)
        importance = charts.param_importance_rows(self._runs, metric=metric)
        records = importance
        ranked = [r["param"] for r in records if _ranked(r)]
        param = self._wanted_param or self.param
        if param not in self.params:
            param = ranked[0] if ranked else (self.params[0] if self.params else "")
        self._wanted_param = None
        spec = charts.spec_dict  # to_dict's spec, without Altair walking every data row
        specs = {
            "curves": spec(charts.learning_curves(self._history, metric=metric)),
            "parallel": spec(
                charts.parallel_coordinates(
                    self._runs, metric=metric, params=self._parallel_params(importance)
                )
            ),
            "importance": spec(charts.param_importance_chart(importance, metric=metric)),
        }
        if param:
            specs["scatter"] = self._scatter_spec(param)
        with self.hold_trait_notifications():
            self.importance = [
                {
                    "param": r["param"],
                    "correlation": _finite(r["correlation"]),
                    "method": r["method"],
                    "n": int(r["n"]),
                }
                for r in records
            ]
            drawn = f", drawn with {shown:,} (min/max per bucket)" if shown < stored else ""
            self.notes = {"curves": f"{stored:,} points{drawn}"}
            self.specs = specs
            self.param = param

    def _scatter_spec(self, param: str) -> dict[str, Any]:
        from .. import charts

        return charts.spec_dict(charts.scatter(self._runs, param=param, metric=self.metric))

    def _on_param(self) -> None:
        if not self.param or not self.metric:
            return
        if (
            self.specs.get("scatter", {}).get("encoding", {}).get("x", {}).get("title")
            == self.param
        ):
            return
        specs = dict(self.specs)
        specs["scatter"] = self._scatter_spec(self.param)
        self.specs = specs

    # ------------------------------------------------------------------------------ static

    def _static_text(self) -> str:
        names = ", ".join(r["label"] for r in self.runs[:5])
        more = f" and {len(self.runs) - 5} more" if len(self.runs) > 5 else ""
        differing = [r["key"] for r in self.table if r["differs"] and r["section"] == "params"]
        return (
            f"Compare {len(self.runs)} runs ({names}{more}) on {self.metric or 'no metric'}; "
            f"params that differ: {', '.join(differing) or 'none'}"
        )

    def _static_html(self) -> str:
        headers = ["", *[r["label"] for r in self.runs]]
        rows = []
        for row in self.table:
            values = row["values"]
            if row["key"] == "start_time":
                continue
            if row["key"] == "duration_ms":
                values = [None if v is None else format_duration(v) for v in values]
            mark = " *" if row["differs"] else ""
            rows.append([f"{row['section']}.{row['key']}{mark}", *values])
        labels = {r["run_id"]: r["label"] for r in self.runs}
        series = {
            labels[s["run_id"]]: [
                (step, value)
                for step, value in zip(s["step"], s["value"])
                if isinstance(value, (int, float)) and math.isfinite(value)
            ]
            for s in self._history
        }
        ranking = static.table(
            ["param", f"correlation with {self.metric}", "method", "runs"],
            [(r["param"], r["correlation"], r["method"], r["n"]) for r in self.importance],
        )
        return (
            '<div class="jp-Track-static-compare">'
            + static.table(headers, rows, caption=self._static_text() + " (* differs)")
            + (
                static.svg_img(
                    static.line_chart_svg(series, y_title=self.metric), f"{self.metric} by run"
                )
                if series
                else ""
            )
            + ranking
            + "</div>"
        )


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def compare(
    runs_or_ids: Any,
    *,
    metric: str | None = None,
    param: str | None = None,
    max_points: int = 1000,
) -> CompareView:
    """Compare runs side by side (``jt.compare(["id1", "id2"], metric="val_loss")``).

    ``runs_or_ids`` is run ids, runs, a ``jt.search_runs()`` DataFrame or a ``jt.runs()``
    table (its selection). ``metric`` defaults to the metric most runs logged; ``param`` (the
    scatter's x axis) to the param most correlated with it. ``.charts()`` returns the same
    charts as Altair objects.
    """
    return CompareView(runs_or_ids, metric=metric, param=param, max_points=max_points)


def _ranked(row: dict[str, Any]) -> bool:
    """Whether a param importance row has a strength (it can be ranked)."""
    strength = row["strength"]
    return strength is not None and strength == strength
