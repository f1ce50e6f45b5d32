"""Chart specs, defined once with Altair (Vega-Lite 6), drawn by the widgets and the sidebar.

Every function takes plain data and returns an Altair chart whose ``.to_dict()`` is a Vega-Lite
spec with the data inlined; the server sends those specs to the sidebar (``charts/...`` routes)
and the notebook widgets display the same charts.

Accepted inputs:

* runs -- API rows (``{"run_id", "run_name", "params": {...}, "metrics": {...}}``), store
  :class:`~jupyter_track.store.Run` objects, or the DataFrame of ``jt.search_runs()``;
* metric histories -- tidy rows ``{"run_id", "run_name", "step", "timestamp", "value"}``
  (optionally ``"start_time"``, the run's start in ms), or series in the API's columnar shape
  ``{"run_id", "run_name", "start_time", "step": [...], "timestamp": [...], "value": [...]}``.

Altair is imported on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "grouped_curves",
    "history_rows",
    "learning_curves",
    "message_chart",
    "normalize_runs",
    "parallel_coordinates",
    "param_importance",
    "param_importance_chart",
    "param_importance_rows",
    "run_ids_of",
    "run_metrics",
    "scatter",
    "spec_dict",
]

X_MODES = ("auto", "step", "wall", "relative")
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


_import_lock = threading.Lock()


def _alt() -> Any:
    # One thread at a time: the server builds charts in a thread pool, and several threads
    # importing altair (and pandas under it) at once can see a partially initialized module.
    with _import_lock:
        import altair as alt

    return alt


def _pandas() -> Any:
    with _import_lock:
        import pandas as pd

    return pd


# ------------------------------------------------------------------------ plain-data helpers


def _number(value: Any) -> float | None:
    """A finite float, or None (missing, NaN, +/-inf, not a number)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        if value in _NON_FINITE:
            return None
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, Mapping):  # a metric summary: use its last value
        return _number(value.get("last"))
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _label(run_id: str, run_name: str | None) -> str:
    short = run_id[:7]
    return f"{run_name} ({short})" if run_name else short


def normalize_runs(runs: Any) -> list[dict[str, Any]]:
    """Runs as ``{"run_id", "run_name", "label", "params", "metrics"}`` dicts.

    Accepts API rows, store ``Run`` objects or a ``search_runs`` DataFrame. Metric values stay
    as given (numbers, ``"NaN"`` strings or summary dicts); use :func:`_number` to read them.
    """
    if hasattr(runs, "to_dict") and hasattr(runs, "columns"):  # a pandas DataFrame
        records = runs.to_dict("records")
        result = []
        for rec in records:
            params = {
                k[len("params.") :]: v
                for k, v in rec.items()
                if k.startswith("params.") and v is not None and v == v
            }
            metrics = {k[len("metrics.") :]: v for k, v in rec.items() if k.startswith("metrics.")}
            name = rec.get("run_name") or rec.get("tags.mlflow.runName")
            result.append(_run_dict(str(rec["run_id"]), name, params, metrics))
        return result
    result = []
    for run in runs:
        if isinstance(run, Mapping):
            result.append(
                _run_dict(
                    str(run["run_id"]),
                    run.get("run_name"),
                    dict(run.get("params") or {}),
                    dict(run.get("metrics") or {}),
                )
            )
        else:  # a store Run
            result.append(
                _run_dict(
                    run.info.run_id,
                    run.info.run_name,
                    dict(run.data.params),
                    dict(run.data.metrics),
                )
            )
    return result


def _run_dict(
    run_id: str, run_name: str | None, params: dict[str, Any], metrics: dict[str, Any]
) -> dict[str, Any]:
    name = run_name if isinstance(run_name, str) and run_name else None
    return {
        "run_id": run_id,
        "run_name": name,
        "label": _label(run_id, name),
        "params": {k: str(v) for k, v in params.items()},
        "metrics": metrics,
    }


def history_rows(data: Any) -> list[dict[str, Any]]:
    """Tidy rows ``{run_id, run_name, step, timestamp, value, start_time}`` from any input.

    ``data`` is tidy rows, a DataFrame of them, or columnar series (see the module doc).
    """
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        data = data.to_dict("records")
    rows: list[dict[str, Any]] = []
    for item in data:
        values = item.get("value")
        if isinstance(values, (list, tuple)):  # a columnar series
            steps = item.get("step") or [0] * len(values)
            stamps = item.get("timestamp") or [0] * len(values)
            base = {
                "run_id": item["run_id"],
                "run_name": item.get("run_name"),
                "start_time": item.get("start_time"),
            }
            for step, ts, value in zip(steps, stamps, values):
                rows.append({**base, "step": step, "timestamp": ts, "value": value})
        else:
            rows.append(dict(item))
    return rows


# --------------------------------------------------------------------------- learning curves


def run_ids_of(data: Any) -> list[str] | None:
    """The run ids when ``data`` names runs (a run id, a list of run ids or store ``Run``
    objects, a ``search_runs`` DataFrame), or None when it is metric history itself."""
    if isinstance(data, str):
        return [data]
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame
        columns = set(data.columns)
        if "run_id" in columns and "value" not in columns:  # runs, not history rows
            return [str(r) for r in data["run_id"].tolist()]
        return None
    if isinstance(data, Mapping):
        return None
    items = list(data)
    if items and all(isinstance(i, str) for i in items):
        return items
    if items and all(hasattr(i, "info") and hasattr(i.info, "run_id") for i in items):
        return [i.info.run_id for i in items]
    return None


def _histories(run_ids: list[str], metric: str | None, store: Any, max_points: int) -> Any:
    if not metric or not isinstance(metric, str):
        raise ValueError(
            "metric: name the metric to draw when passing runs, e.g. "
            "learning_curves(run_ids, metric='loss')"
        )
    if store is None:  # the kernel's store, with its buffered points written first
        from .tracking import session

        current = session.current()
        current.flush(raise_errors=False)
        store = current.store
    return store.metric_histories(run_ids, [metric], max_points=max_points)


def learning_curves(
    data: Any,
    *,
    metric: str | None = None,
    x: str = "auto",
    log_scale: bool = False,
    title: str | None = None,
    width: int | str = "container",
    height: int = 260,
    max_points: int = 1000,
    store: Any = None,
    streaming: bool = False,
) -> Any:
    """One metric across runs: a line per run, hover values, legend highlighting, zoom.

    ``data`` names the runs -- a run id, a list of run ids or ``Run`` objects, or the DataFrame
    of ``jt.search_runs()`` (as :func:`scatter` takes them) -- and then ``metric`` says which
    history to draw, read from ``store`` (default: the kernel's store) downsampled to at most
    ``max_points`` points per run. ``data`` may also be the histories themselves: tidy rows or
    columnar series (see the module doc).

    Every kind of data draws something: a run with a single point shows that point; when every
    run has one value, the runs are compared as bars; with nothing to draw, the chart says why
    in words. ``streaming`` builds the line chart even without data (the live widget streams
    its points into it later).

    ``x`` is ``"step"``, ``"wall"`` (wall-clock time), ``"relative"`` (seconds since the run
    started, or since its first point when the start is not given) or ``"auto"``: step, unless
    every point has the same step (MLflow logs step 0 by default), then relative time. With
    ``log_scale`` the y axis is logarithmic and values <= 0 are left out. NaN and infinite values
    are never drawn.
    """
    if x not in X_MODES:
        raise ValueError(f"x {x!r}: must be one of {', '.join(X_MODES)}")
    if not isinstance(data, (str, Mapping, list, tuple)) and not hasattr(data, "columns"):
        data = list(data)  # an iterator is read once, here
    run_ids = run_ids_of(data)
    if run_ids is not None:
        data = _histories(run_ids, metric, store, max_points)
    alt = _alt()
    rows = history_rows(data)
    starts: dict[str, float] = {}
    labels: dict[str, str] = {}
    for row in rows:
        run_id = str(row["run_id"])
        labels.setdefault(run_id, _label(run_id, row.get("run_name")))
        start = row.get("start_time")
        ts = row.get("timestamp") or 0
        if start is not None:
            starts[run_id] = start
        elif run_id not in starts or ts < starts[run_id]:
            starts[run_id] = ts
    if x == "auto":
        steps = {row.get("step") or 0 for row in rows}
        x = "step" if len(steps) > 1 else "relative"
    values = []  # only the fields the chart encodes: specs of 10k points stay small
    skipped = 0
    for row in rows:
        value = _number(row.get("value"))
        if value is None or (log_scale and value <= 0):
            skipped += 1
            continue
        run_id = str(row["run_id"])
        point = {"run": labels[run_id], "step": row.get("step") or 0, "value": value}
        if x == "wall":
            point["time"] = row.get("timestamp") or 0
        elif x == "relative":
            point["relative"] = ((row.get("timestamp") or 0) - starts[run_id]) / 1000.0
        values.append(point)
    metric_title = metric or "value"
    if not values and not streaming:
        why = (
            f"No values of {metric_title} to draw"
            + (" (none is positive: turn off log scale)" if log_scale and skipped else "")
            + (" (only NaN or infinite values)" if skipped and not log_scale else "")
            + ("." if rows or skipped else ": these runs did not log it.")
        )
        return message_chart(why, width=width, height=min(height, 80))
    per_run: dict[str, int] = {}
    for point in values:
        per_run[point["run"]] = per_run.get(point["run"], 0) + 1
    if per_run and max(per_run.values()) == 1 and not streaming:
        # One value per run: a line needs two points, so the runs are compared as bars.
        return _one_value_bars(values, metric_title, list(labels.values()), title, width)
    for point in values:
        point["single"] = per_run[point["run"]] == 1
    if x == "step":
        x_enc = alt.X("step:Q", title="step", scale=alt.Scale(padding=8))
        x_field, x_tip = "step", alt.Tooltip("step:Q", title="step")
    elif x == "wall":
        x_enc = alt.X("time:T", title="time", scale=alt.Scale(padding=8))
        x_field, x_tip = "time", alt.Tooltip("time:T", title="time", format="%H:%M:%S")
    else:
        x_enc = alt.X("relative:Q", title="time since start (s)", scale=alt.Scale(padding=8))
        x_field, x_tip = "relative", alt.Tooltip("relative:Q", title="seconds", format=".3~f")
    y_enc = alt.Y(
        "value:Q",
        title=metric_title,
        scale=alt.Scale(type="log") if log_scale else alt.Scale(zero=False),
    )
    color = alt.Color("run:N", title="run", sort=list(dict.fromkeys(labels.values())))
    legend = alt.selection_point(name="run_pick", fields=["run"], bind="legend")
    hover = alt.selection_point(
        name="hover",
        fields=[x_field],
        nearest=True,
        on="pointerover",
        clear="pointerout",
        empty=False,
    )
    zoom = alt.selection_interval(name="zoom", bind="scales")
    # The layers carry no data: Altair copies a chart on every chained call, so the (possibly
    # large) inline data is attached once, to the top-level layer, which the layers inherit.
    base = alt.Chart().encode(x=x_enc, y=y_enc, color=color)
    lines = (
        base.mark_line(strokeWidth=1.5)
        .encode(opacity=alt.condition(legend, alt.value(1.0), alt.value(0.15)))
        .add_params(legend, zoom)
    )
    points = (
        base.mark_point(filled=True, size=36)
        .encode(
            opacity=alt.condition(hover, alt.value(1.0), alt.value(0.0)),
            tooltip=[
                alt.Tooltip("run:N", title="run"),
                x_tip,
                *([] if x_field == "step" else [alt.Tooltip("step:Q", title="step")]),
                alt.Tooltip("value:Q", title=metric_title, format=".4~g"),
            ],
        )
        .add_params(hover)
    )
    # a run with a single point has no line: its point is always drawn
    singles = base.mark_point(filled=True, size=40).transform_filter("datum.single")
    rule = alt.Chart().mark_rule(color="gray", opacity=0.6).encode(x=x_enc)
    rule = rule.transform_filter(hover)
    return alt.layer(
        lines,
        points,
        rule,
        singles,
        data={"values": values},
        width=width,
        height=height,
        title=title if title else alt.Undefined,
    )


def grouped_curves(
    data: Any,
    groups: Mapping[str, str],
    *,
    metric: str | None = None,
    group_title: str = "group",
    title: str | None = None,
    width: int | str = "container",
    height: int = 260,
) -> Any:
    """Learning curves of groups of runs: the mean per step as a line and the spread (lowest
    to highest run) as a band, one colour per group -- a sweep over seeds reads as one line.

    ``groups`` maps run ids to their group (a param's or tag's value); runs without one are
    left out. NaN and infinite values are never drawn.
    """
    alt = _alt()
    buckets: dict[tuple[str, Any], list[float]] = {}
    runs_per_group: dict[str, set[str]] = {}
    for row in history_rows(data):
        run_id = str(row["run_id"])
        group = groups.get(run_id)
        value = _number(row.get("value"))
        if group is None or value is None:
            continue
        buckets.setdefault((group, row.get("step") or 0), []).append(value)
        runs_per_group.setdefault(group, set()).add(run_id)
    metric_title = metric or "value"
    if not buckets:
        return message_chart(
            f"No values of {metric_title} in runs that have {group_title}.", width=width
        )
    values = []
    for (group, step), numbers in sorted(buckets.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        label = f"{group} ({len(runs_per_group[group])} runs)"
        values.append(
            {
                "group": label,
                "step": step,
                "mean": sum(numbers) / len(numbers),
                "lo": min(numbers),
                "hi": max(numbers),
                "n": len(numbers),
            }
        )
    order = list(dict.fromkeys(v["group"] for v in values))
    color = alt.Color("group:N", title=group_title, sort=order)
    x_enc = alt.X("step:Q", title="step", scale=alt.Scale(padding=8))
    band = (
        alt.Chart()
        .mark_area(opacity=0.2)
        .encode(
            x=x_enc,
            y=alt.Y("lo:Q", title=metric_title, scale=alt.Scale(zero=False)),
            y2="hi:Q",
            color=color,
        )
    )
    line = (
        alt.Chart()
        .mark_line(strokeWidth=2, point=len(values) <= 2 * len(order))
        .encode(
            x=x_enc,
            y=alt.Y("mean:Q", title=metric_title),
            color=color,
            tooltip=[
                alt.Tooltip("group:N", title=group_title),
                alt.Tooltip("step:Q"),
                alt.Tooltip("mean:Q", format=".4~g"),
                alt.Tooltip("lo:Q", title="lowest", format=".4~g"),
                alt.Tooltip("hi:Q", title="highest", format=".4~g"),
                alt.Tooltip("n:Q", title="runs"),
            ],
        )
    )
    return alt.layer(
        band,
        line,
        data={"values": values},
        width=width,
        height=height,
        title=title if title else alt.Undefined,
    )


def _one_value_bars(
    values: list[dict[str, Any]],
    metric: str,
    order: list[str],
    title: str | None,
    width: int | str,
) -> Any:
    """One bar per run (the runs logged one value each), labelled with the value."""
    alt = _alt()
    rows = [{"run": v["run"], "value": v["value"], "label": _fmt(v["value"])} for v in values]
    y_enc = alt.Y("run:N", sort=order, title=None, axis=alt.Axis(labelLimit=160))
    x_enc = alt.X("value:Q", title=f"{metric} (one value per run)", scale=alt.Scale(zero=False))
    bars = (
        alt.Chart()
        .mark_bar(height={"band": 0.7})
        .encode(
            y=y_enc,
            x=x_enc,
            color=alt.Color("run:N", sort=order, legend=None),
            tooltip=[alt.Tooltip("run:N"), alt.Tooltip("value:Q", title=metric, format=".4~g")],
        )
    )
    text = (
        alt.Chart()
        .mark_text(align="left", dx=3, fontSize=10)
        .encode(y=y_enc, x=x_enc, text="label:N", color=alt.value("gray"))
    )
    return alt.layer(
        bars,
        text,
        data={"values": rows},
        width=width,
        height=max(60, 22 * len(rows)),
        title=title if title else alt.Undefined,
    )


MESSAGE_LINE_CHARS = 40
"""A message chart wraps its text at this many characters: it reads in a narrow sidebar."""


def message_chart(text: str, *, width: int | str = "container", height: int = 80) -> Any:
    """A chart that says in words why there is nothing to draw (no empty axes).

    The text (the ``text`` field of its one data row) is drawn wrapped at
    :data:`MESSAGE_LINE_CHARS` characters (the ``lines`` field), so it is never cut off at the
    sidebar's default width.
    """
    import textwrap

    alt = _alt()
    lines = textwrap.wrap(text, MESSAGE_LINE_CHARS) or [""]
    height = max(height, 16 * len(lines) + 24)
    return (
        alt.Chart({"values": [{"text": text, "lines": "\n".join(lines)}]})
        .mark_text(fontSize=12, color="gray", align="center", baseline="middle", lineBreak="\n")
        .encode(text="lines:N")
        .properties(width=width, height=height)
    )


def run_metrics(
    series: Any,
    *,
    x: str = "auto",
    title: str | None = None,
    width: int = 320,
    height: int = 110,
) -> Any:
    """Every metric of one run, one small chart per metric stacked (independent y axes).

    ``series`` is the run's histories (:func:`history_rows` input, one series per key with a
    ``key`` field). ``x`` is ``"step"``, ``"relative"`` (seconds since the run started) or
    ``"auto"`` (step unless every point has the same step). A metric with one point shows it;
    without any point the chart says so.
    """
    if x not in X_MODES:
        raise ValueError(f"x {x!r}: must be one of {', '.join(X_MODES)}")
    alt = _alt()
    items = series.to_dict("records") if hasattr(series, "to_dict") else list(series)
    values: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    steps: set[Any] = set()
    for item in items:
        key = str(item.get("key") or "value")
        start = item.get("start_time")
        for row in history_rows([item]):
            value = _number(row.get("value"))
            if value is None:
                continue
            ts = row.get("timestamp") or 0
            steps.add(row.get("step") or 0)
            values.append(
                {
                    "key": key,
                    "step": row.get("step") or 0,
                    "relative": (ts - (start if start is not None else ts)) / 1000.0,
                    "value": value,
                }
            )
            counts[key] = counts.get(key, 0) + 1
    if not values:
        return message_chart("No metric values to draw.", width=width)
    if x == "auto":
        x = "step" if len(steps) > 1 else "relative"
    for v in values:
        v["single"] = counts[v["key"]] == 1
    x_field = "step" if x == "step" else "relative"
    x_title = "step" if x == "step" else "time since start (s)"
    x_enc = alt.X(f"{x_field}:Q", title=x_title, scale=alt.Scale(padding=6))
    y_enc = alt.Y("value:Q", title=None, scale=alt.Scale(zero=False))
    tip = [
        alt.Tooltip("key:N", title="metric"),
        alt.Tooltip(f"{x_field}:Q", title=x_title, format=".4~g"),
        alt.Tooltip("value:Q", format=".4~g"),
    ]
    base = alt.Chart().encode(x=x_enc, y=y_enc)
    lines = base.mark_line(strokeWidth=1.5, color="#4c78a8")
    points = base.mark_point(filled=True, size=30, color="#4c78a8", opacity=0.0).encode(tooltip=tip)
    singles = base.mark_point(filled=True, size=40, color="#4c78a8").transform_filter(
        "datum.single"
    )
    layered = alt.layer(lines, points, singles).properties(width=width, height=height)
    chart = (
        layered.facet(
            row=alt.Row(
                "key:N",
                title=None,
                sort=sorted(counts),
                header=alt.Header(
                    labelAngle=0,
                    labelAlign="left",
                    labelAnchor="start",
                    labelOrient="top",
                    labelFontWeight="bold",
                ),
            ),
            data={"values": values},
        )
        .resolve_scale(y="independent", x="independent")
        .resolve_axis(x="independent")
    )
    return chart.properties(title=title) if title else chart


def spec_dict(chart: Any) -> dict[str, Any]:
    """The Vega-Lite dict of a chart made here, fast also with large inline data.

    The same spec as ``chart.to_dict(validate=False)``: Altair would otherwise walk, hash and
    copy every data row, which costs more than building the chart. The chart is converted with
    an empty placeholder and the rows are put back into the result.
    """
    data = chart.data
    if not (isinstance(data, dict) and isinstance(data.get("values"), list)):
        return dict(chart.to_dict(validate=False))
    chart.data = {"values": []}
    try:
        spec = dict(chart.to_dict(validate=False))
    finally:
        chart.data = data
    ref = spec.get("data") or {}
    datasets = spec.get("datasets") or {}
    if ref.get("name") in datasets:
        del datasets[ref["name"]]
        datasets["jt-data"] = data["values"]
        spec["data"] = {"name": "jt-data"}
    else:
        spec["data"] = {"values": data["values"]}
    return spec


# --------------------------------------------------------------------------- param helpers


def _axis_kind(values: Iterable[str]) -> str:
    """``numeric`` when every value reads as a finite number, else ``categorical``."""
    return "numeric" if all(_number(v) is not None for v in values) else "categorical"


def _all_param_keys(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted({k for r in runs for k in r["params"]})


def _fmt(value: float) -> str:
    from .formatting import format_number

    return format_number(value)


# ---------------------------------------------------------------------- parallel coordinates


MISSING_NORM = -0.14
"""Where a run without a value on an axis crosses it: a marked place below the axis's range."""
# A colour ramp readable on light and dark backgrounds (no near-white or near-black end).
METRIC_COLORS = ["#3b6fd4", "#d6404e"]


def parallel_coordinates(
    runs: Any,
    *,
    metric: str,
    params: Sequence[str] | None = None,
    title: str | None = None,
    width: int | str = "container",
    height: int = 300,
) -> Any:
    """Chosen params, then one metric, as parallel vertical axes; a line per run, coloured by
    the metric.

    Numeric axes are scaled min..max (by the logarithm when the values span two decades or
    more); text params are placed as evenly spaced categories (sorted), each labelled on its
    axis. A run without a value on an axis crosses it at its own marked place, "missing", below
    the axis's range (never a bridge and never mistaken for a value); an axis with a single
    value puts it at mid-height, labelled. Axis names sit above the plot, away from the tick
    labels; the colour ramp reads on light and dark themes.
    """
    alt = _alt()
    items = normalize_runs(runs)
    keys = list(params) if params is not None else _all_param_keys(items)
    axes = [*keys, metric]
    per_axis: dict[str, dict[str, str | float]] = {}  # axis -> run_id -> raw value
    for key in keys:
        per_axis[key] = {r["run_id"]: r["params"][key] for r in items if key in r["params"]}
    per_axis[metric] = {
        r["run_id"]: v for r in items if (v := _number(r["metrics"].get(metric))) is not None
    }
    shown_axes = [a for a in axes if per_axis[a]]
    lines: list[dict[str, Any]] = []
    ticks: list[dict[str, Any]] = []
    for index, axis in enumerate(shown_axes):
        raw = per_axis[axis]
        if _axis_kind(str(v) for v in raw.values()) == "numeric":
            nums = {rid: float(_number(v) or 0.0) for rid, v in raw.items()}
            lo, hi = min(nums.values()), max(nums.values())
            # values spanning two or more decades (learning rates...) are spaced by their log
            scale = math.log10 if lo > 0 and hi / lo >= 100 else float
            span = scale(hi) - scale(lo)

            def position(v: float, lo: float = lo, span: float = span, scale: Any = scale) -> float:
                return 0.5 if span == 0 else (scale(v) - scale(lo)) / span

            norm = {rid: position(v) for rid, v in nums.items()}
            shown = {rid: _fmt(v) for rid, v in nums.items()}
            tick_values = [lo, hi] if span else [lo]
            ticks += [{"axis": axis, "norm": position(v), "label": _fmt(v)} for v in tick_values]
        else:
            cats = sorted({str(v) for v in raw.values()})
            slot = {c: (0.5 if len(cats) == 1 else i / (len(cats) - 1)) for i, c in enumerate(cats)}
            norm = {rid: slot[str(v)] for rid, v in raw.items()}
            shown = {rid: str(v) for rid, v in raw.items()}
            step = max(1, math.ceil(len(cats) / 20))  # label at most ~20 categories
            ticks += [{"axis": axis, "norm": slot[c], "label": c} for c in cats[::step]]
        missing = [r for r in items if r["run_id"] not in norm]
        if missing:
            ticks.append({"axis": axis, "norm": MISSING_NORM, "label": "missing", "missing": True})
        for r in items:
            rid = r["run_id"]
            lines.append(
                {
                    "run": r["label"],
                    "run_id": rid,
                    "axis": axis,
                    "order": index,
                    "norm": norm.get(rid, MISSING_NORM),
                    "value": shown.get(rid, "missing"),
                    "missing": rid not in norm,
                    "metric": per_axis[metric].get(rid),
                }
            )
    # Axis names and tick labels get at most their axis's share of the width, so they never
    # overlap a neighbour's (a "container" width is only known when drawn: an expression).
    n_axes = max(1, len(shown_axes))
    label_limit: Any
    text_limit: Any
    if isinstance(width, str):
        label_limit = alt.ExprRef(f"max(24, width / {n_axes} - 6)")
        text_limit = alt.ExprRef(f"max(48, width / {n_axes} - 14)")  # "(missing)" fits
    else:
        label_limit = max(24, int(width) // n_axes - 6)
        text_limit = max(48, int(width) // n_axes - 14)
    x_enc = alt.X(
        "axis:N",
        sort=shown_axes,
        title=None,
        scale=alt.Scale(paddingOuter=0.05),
        axis=alt.Axis(
            orient="top",
            labelAngle=0,
            domain=False,
            ticks=False,
            labelLimit=label_limit,
            labelPadding=10,
            labelFontWeight="bold",
        ),
    )
    y_enc = alt.Y("norm:Q", axis=None, scale=alt.Scale(domain=[MISSING_NORM - 0.04, 1.0]))
    highlight = alt.selection_point(name="run_pick", fields=["run_id"], on="pointerover")
    line_layer = (
        alt.Chart({"values": lines})
        .mark_line(point=True, strokeWidth=1.5)
        .encode(
            x=x_enc,
            y=y_enc,
            detail="run_id:N",
            order="order:Q",
            color=alt.Color(
                "metric:Q",
                title=metric,
                scale=alt.Scale(range=METRIC_COLORS, interpolate="lab"),
            ),
            strokeDash=alt.condition("datum.missing", alt.value([3, 3]), alt.value([1, 0])),
            opacity=alt.condition(highlight, alt.value(1.0), alt.value(0.5)),
            tooltip=[
                alt.Tooltip("run:N", title="run"),
                alt.Tooltip("axis:N", title="axis"),
                alt.Tooltip("value:N", title="value"),
                alt.Tooltip("metric:Q", title=metric, format=".4~g"),
            ],
        )
        .add_params(highlight)
    )
    axis_data = {"values": [{"axis": a} for a in shown_axes]}
    rules = alt.Chart(axis_data).mark_rule(color="gray", opacity=0.6).encode(x=x_enc)
    labels = (
        alt.Chart({"values": ticks})
        .mark_text(align="left", dx=4, fontSize=10, color="gray", limit=text_limit)
        .transform_calculate(label="datum.missing ? '(' + datum.label + ')' : datum.label")
        .encode(
            x=x_enc,
            y=y_enc,
            text="label:N",
        )
    )
    chart = alt.layer(rules, line_layer, labels).properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


# ------------------------------------------------------------------------------- scatter


def scatter(
    runs: Any,
    *,
    param: str,
    metric: str,
    log_x: bool | None = None,
    log_y: bool = False,
    title: str | None = None,
    width: int | str = "container",
    height: int = 260,
) -> Any:
    """One param (x) against one metric (y), a point per run.

    A param whose values are all numbers gets a quantitative axis, logarithmic when ``log_x``
    is True, or (``log_x=None``, the default) when every value is positive and they span more
    than two decades (learning rates); otherwise its values are categories. Both axes are
    padded, so no point sits on the edge. Runs missing either value are left out.
    """
    alt = _alt()
    items = normalize_runs(runs)
    present = [r for r in items if param in r["params"]]
    kind = _axis_kind(r["params"][param] for r in present)
    if log_x is None:
        log_x = kind == "numeric" and wide_positive_range(
            _number(r["params"][param]) for r in present
        )
    values = []
    for r in present:
        y = _number(r["metrics"].get(metric))
        if y is None or (log_y and y <= 0):
            continue
        x_val: Any = _number(r["params"][param]) if kind == "numeric" else r["params"][param]
        if kind == "numeric" and log_x and (x_val is None or x_val <= 0):
            continue
        values.append({"run": r["label"], "run_id": r["run_id"], "x": x_val, "y": y})
    if kind == "numeric":
        x_enc = alt.X(
            "x:Q",
            title=param,
            scale=alt.Scale(type="log", padding=14) if log_x else alt.Scale(zero=False, padding=14),
        )
        x_tip = alt.Tooltip("x:Q", title=param, format=".4~g")
    else:
        x_enc = alt.X("x:N", title=param, sort="ascending")
        x_tip = alt.Tooltip("x:N", title=param)
    y_enc = alt.Y(
        "y:Q",
        title=metric,
        scale=alt.Scale(type="log", padding=10) if log_y else alt.Scale(zero=False, padding=10),
    )
    chart = (
        alt.Chart({"values": values})
        .mark_circle(size=70, opacity=0.85)
        .encode(
            x=x_enc,
            y=y_enc,
            tooltip=[
                alt.Tooltip("run:N", title="run"),
                x_tip,
                alt.Tooltip("y:Q", title=metric, format=".4~g"),
            ],
        )
        .add_params(alt.selection_interval(name="zoom", bind="scales"))
        .properties(width=width, height=height)
    )
    return chart.properties(title=title) if title else chart


def wide_positive_range(values: Iterable[float | None]) -> bool:
    """True when every value is a positive number and they span more than two decades."""
    numbers = list(values)
    if not numbers or any(v is None or v <= 0 for v in numbers):
        return False
    positive = [float(v) for v in numbers if v is not None]
    return max(positive) / min(positive) > 100


# -------------------------------------------------------------------------- param importance


def _ranks(values: Sequence[float]) -> list[float]:
    """Average ranks (ties share the mean of their positions), as Spearman needs."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mean = (i + j) / 2.0 + 1.0
        for k in range(i, j + 1):
            ranks[order[k]] = mean
        i = j + 1
    return ranks


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def _eta(categories: Sequence[str], ys: Sequence[float]) -> float | None:
    """Correlation ratio: how much of the metric's variance the categories explain (0..1)."""
    mean = sum(ys) / len(ys)
    total = sum((y - mean) ** 2 for y in ys)
    if total == 0:
        return None
    groups: dict[str, list[float]] = {}
    for c, y in zip(categories, ys):
        groups.setdefault(c, []).append(y)
    between = sum(len(g) * (sum(g) / len(g) - mean) ** 2 for g in groups.values())
    return math.sqrt(max(0.0, min(1.0, between / total)))


_IMPORTANCE_COLUMNS = ["param", "kind", "method", "correlation", "strength", "n", "distinct"]


def param_importance(
    runs: Any, *, metric: str, params: Sequence[str] | None = None, min_runs: int = 3
) -> Any:
    """Rank params by how strongly they go with ``metric`` across runs (a pandas DataFrame).

    Columns: ``param, kind, method, correlation, strength, n, distinct``. Numeric params use
    Spearman's rank correlation (signed, robust to scale and outliers); other params use the
    correlation ratio eta (unsigned, 0..1). ``strength`` is the absolute value; rows are sorted
    strongest first. A param with fewer than ``min_runs`` usable runs, a single distinct value,
    or a constant metric gets ``strength`` None and sorts last.
    """
    pd = _pandas()
    rows = param_importance_rows(runs, metric=metric, params=params, min_runs=min_runs)
    frame = pd.DataFrame(rows, columns=_IMPORTANCE_COLUMNS)
    return frame.astype({"n": "int64", "distinct": "int64"})


def param_importance_rows(
    runs: Any, *, metric: str, params: Sequence[str] | None = None, min_runs: int = 3
) -> list[dict[str, Any]]:
    """:func:`param_importance`'s rows as plain dicts (None where there is no correlation),
    without pandas: what the widgets and the server use."""
    items = normalize_runs(runs)
    keys = list(params) if params is not None else _all_param_keys(items)
    rows = []
    for key in keys:
        pairs = [
            (r["params"][key], y)
            for r in items
            if key in r["params"] and (y := _number(r["metrics"].get(metric))) is not None
        ]
        kind = _axis_kind(p for p, _ in pairs) if pairs else "categorical"
        distinct = len({p for p, _ in pairs})
        correlation: float | None = None
        if len(pairs) >= min_runs and distinct > 1:
            ys = [y for _, y in pairs]
            if kind == "numeric":
                xs = [float(_number(p) or 0.0) for p, _ in pairs]
                correlation = _pearson(_ranks(xs), _ranks(ys))
            else:
                correlation = _eta([p for p, _ in pairs], ys)
        rows.append(
            {
                "param": key,
                "kind": kind,
                "method": "spearman" if kind == "numeric" else "eta",
                "correlation": correlation,
                "strength": None if correlation is None else abs(correlation),
                "n": len(pairs),
                "distinct": distinct,
            }
        )
    rows.sort(key=lambda r: (r["strength"] is None, -(r["strength"] or 0.0), r["param"]))
    return rows


def param_importance_chart(
    table: Any,
    *,
    metric: str | None = None,
    width: int | str = "container",
    height: int | None = None,
) -> Any:
    """A horizontal bar per param (strongest on top) from :func:`param_importance`'s table."""
    alt = _alt()
    records = table.to_dict("records") if hasattr(table, "to_dict") else list(table)
    values = [
        {
            "param": r["param"],
            "correlation": r["correlation"],
            "strength": r["strength"],
            "method": r["method"],
            "n": int(r["n"]),
        }
        for r in records
        if r["correlation"] is not None and r["correlation"] == r["correlation"]
    ]
    order = [v["param"] for v in values]
    title = f"correlation with {metric}" if metric else "correlation"
    chart = (
        alt.Chart({"values": values})
        .mark_bar()
        .encode(
            y=alt.Y("param:N", sort=order, title=None),
            x=alt.X("correlation:Q", title=title, scale=alt.Scale(domain=[-1, 1])),
            color=alt.condition(
                "datum.correlation >= 0", alt.value("#4c78a8"), alt.value("#e45756")
            ),
            tooltip=[
                alt.Tooltip("param:N"),
                alt.Tooltip("correlation:Q", format=".3f"),
                alt.Tooltip("method:N"),
                alt.Tooltip("n:Q", title="runs"),
            ],
        )
        .properties(width=width, height=height or max(60, 22 * len(values)))
    )
    return chart
