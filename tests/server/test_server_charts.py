"""Chart specs (jupyter_track.charts) and the ``charts/...`` routes that serve them."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from typing import Any

import pytest

from jupyter_track import charts
from jupyter_track.store import SQLiteStore

API = ("jupyter-track", "api")


def resolve(spec: dict[str, Any], data: dict[str, Any]) -> list[dict[str, Any]]:
    """Inline values, also when Altair moved them to the spec's ``datasets``."""
    return spec["datasets"][data["name"]] if "name" in data else data["values"]


def layer_data(spec: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The inline data of every layer, in layer order (the single view's when not layered)."""
    views = spec.get("layer", [spec])
    return [resolve(spec, v.get("data") or spec["data"]) for v in views]


def render_svg(spec: dict[str, Any]) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)


# ---------------------------------------------------------------------------- import cost


def test_importing_the_package_charts_and_server_does_not_load_altair() -> None:
    code = (
        "import sys, jupyter_track, jupyter_track.charts, jupyter_track.server.routes; "
        "print('altair' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------- learning curves


def series(n_runs: int = 3, points: int = 50, *, step: bool = True) -> list[dict[str, Any]]:
    return [
        {
            "run_id": f"{r:02d}abcdef",
            "run_name": f"run {r}",
            "start_time": 1_000,
            "step": [i if step else 0 for i in range(points)],
            "timestamp": [1_000 + 100 * i for i in range(points)],
            "value": [math.exp(-i / 10) + r for i in range(points)],
        }
        for r in range(n_runs)
    ]


def test_learning_curves_spec_is_valid_vega_lite_6_and_draws() -> None:
    spec = charts.learning_curves(series(), metric="loss").to_dict()
    assert "vega-lite/v6" in spec["$schema"]
    values = layer_data(spec)[0]
    assert len(values) == 150
    assert {v["run"] for v in values} == {"run 0 (00abcde)", "run 1 (01abcde)", "run 2 (02abcde)"}
    assert spec["layer"][0]["encoding"]["x"]["field"] == "step"
    tooltips = spec["layer"][1]["encoding"]["tooltip"]
    assert [t["field"] for t in tooltips] == ["run", "step", "value"]
    params = spec.get("params", []) + [p for lay in spec["layer"] for p in lay.get("params", [])]
    assert {p["name"] for p in params} >= {"hover", "run_pick", "zoom"}
    assert render_svg(spec).count("<path") > 3


def test_learning_curves_use_time_when_every_step_is_zero() -> None:
    spec = charts.learning_curves(series(step=False), metric="loss").to_dict()
    assert spec["layer"][0]["encoding"]["x"]["field"] == "relative"
    relative = sorted({v["relative"] for v in layer_data(spec)[0]})
    assert relative[:3] == [0.0, 0.1, 0.2]  # seconds since the run started


def test_learning_curves_wall_time_and_log_scale() -> None:
    data = series(1, 5)
    data[0]["value"] = [1.0, 0.0, -1.0, "NaN", 0.5]
    spec = charts.learning_curves(data, metric="loss", x="wall", log_scale=True).to_dict()
    layer = spec["layer"][0]["encoding"]
    assert layer["x"]["field"] == "time" and layer["x"]["type"] == "temporal"
    assert layer["y"]["scale"]["type"] == "log"
    assert [v["value"] for v in layer_data(spec)[0]] == [1.0, 0.5]  # <= 0 and NaN left out
    json.dumps(spec, allow_nan=False)


def test_learning_curves_take_tidy_rows_and_frames() -> None:
    import pandas as pd

    rows = [
        {"run_id": "r1", "step": s, "timestamp": 10 * s, "value": 1.0 / (s + 1)} for s in range(4)
    ]
    a = charts.learning_curves(rows).to_dict()
    b = charts.learning_curves(pd.DataFrame(rows)).to_dict()
    assert layer_data(a)[0] == layer_data(b)[0]
    assert len(layer_data(a)[0]) == 4
    with pytest.raises(ValueError, match="x"):
        charts.learning_curves(rows, x="epochs")


def test_spec_dict_is_to_dict_without_the_cost() -> None:
    for chart in (
        charts.learning_curves(series(), metric="loss"),
        charts.learning_curves(series(step=False), metric="loss", log_scale=True),
        charts.scatter(runs(), param="lr", metric="acc"),
        charts.parallel_coordinates(runs(), metric="acc"),
    ):
        slow, fast = chart.to_dict(), charts.spec_dict(chart)
        assert layer_data(fast) == layer_data(slow)
        for spec in (slow, fast):  # the data's name is the only difference
            spec.pop("datasets", None)
            spec.pop("data", None)
        assert fast == slow


# ----------------------------------------------------------------------- runs-based charts


def runs(n: int = 30, seed: int = 1) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        lr = 10 ** -rnd.uniform(1, 5)
        model = rnd.choice(["rf", "svm", "knn"])
        noise = rnd.random()
        acc = 0.5 + 0.1 * math.log10(lr) / -5 + {"rf": 0.3, "svm": 0.1, "knn": 0.0}[model]
        out.append(
            {
                "run_id": f"{i:08x}",
                "run_name": f"r{i}",
                "params": {"lr": str(lr), "model": model, "noise": str(noise), "fixed": "1"},
                "metrics": {"acc": acc + noise * 0.01},
            }
        )
    return out


def test_parallel_coordinates_normalises_numbers_and_categories() -> None:
    spec = charts.parallel_coordinates(runs(), metric="acc", params=["lr", "model"]).to_dict()
    assert "vega-lite/v6" in spec["$schema"]
    rules, lines, ticks = layer_data(spec)
    assert {r["axis"] for r in rules} == {"lr", "model", "acc"}
    assert all(0.0 <= v["norm"] <= 1.0 for v in lines)
    model_positions = {v["value"]: v["norm"] for v in lines if v["axis"] == "model"}
    assert model_positions == {"knn": 0.0, "rf": 0.5, "svm": 1.0}
    assert {t["label"] for t in ticks if t["axis"] == "model"} == {"knn", "rf", "svm"}
    assert lines[0]["metric"] is not None
    assert render_svg(spec).count("<path") > 10


def test_parallel_coordinates_space_wide_ranges_by_log() -> None:
    data = [
        {"run_id": f"r{i}", "params": {"lr": lr}, "metrics": {"acc": i}}
        for i, lr in enumerate(["0.1", "0.01", "0.001"])
    ]
    spec = charts.parallel_coordinates(data, metric="acc").to_dict()
    lr = sorted(v["norm"] for v in layer_data(spec)[1] if v["axis"] == "lr")
    assert lr == pytest.approx([0.0, 0.5, 1.0])


def test_scatter_numeric_and_categorical_params() -> None:
    numeric = charts.scatter(runs(), param="lr", metric="acc", log_x=True).to_dict()
    assert numeric["encoding"]["x"]["type"] == "quantitative"
    assert numeric["encoding"]["x"]["scale"]["type"] == "log"
    assert len(layer_data(numeric)[0]) == 30
    categorical = charts.scatter(runs(), param="model", metric="acc").to_dict()
    assert categorical["encoding"]["x"]["type"] == "nominal"
    assert render_svg(categorical).count("<path") >= 1


def test_param_importance_ranks_what_matters() -> None:
    table = charts.param_importance(runs(60), metric="acc")
    assert list(table.columns) == [
        "param",
        "kind",
        "method",
        "correlation",
        "strength",
        "n",
        "distinct",
    ]
    rows = {r["param"]: r for r in table.to_dict("records")}
    assert rows["model"]["method"] == "eta" and rows["model"]["kind"] == "categorical"
    assert rows["lr"]["method"] == "spearman"
    assert rows["model"]["strength"] > 0.8
    assert rows["lr"]["correlation"] < 0  # smaller learning rates, better accuracy here
    assert rows["noise"]["strength"] < rows["model"]["strength"]
    assert table["param"].tolist()[-1] == "fixed"  # a constant ranks last, unscored
    assert rows["fixed"]["strength"] is None or math.isnan(rows["fixed"]["strength"])
    spec = charts.param_importance_chart(table, metric="acc").to_dict()
    assert [v["param"] for v in layer_data(spec)[0]] == table["param"].tolist()[:-1]


def test_spearman_handles_ties_and_is_exact_on_monotone_data() -> None:
    data = [
        {"run_id": f"r{i}", "params": {"x": str(x)}, "metrics": {"m": y}}
        for i, (x, y) in enumerate([(1, 1.0), (2, 4.0), (2, 4.0), (3, 9.0), (10, 100.0)])
    ]
    (row,) = charts.param_importance(data, metric="m").to_dict("records")
    assert row["correlation"] == pytest.approx(1.0)
    data[-1]["metrics"]["m"] = "NaN"  # unusable runs are left out, not counted
    (row,) = charts.param_importance(data, metric="m").to_dict("records")
    assert row["n"] == 4


def test_charts_accept_store_runs_and_search_frames(store: SQLiteStore) -> None:
    from jupyter_track.tracking.frames import runs_to_frame

    for i in range(5):
        run_id = store.create_run("0", run_name=f"r{i}").run_id
        store.log_params(run_id, {"depth": i, "kind": "ab"[i % 2]})
        store.log_metrics(run_id, [("acc", i / 10, 0, 0)])
    found = store.search_runs().runs
    a = charts.param_importance(found, metric="acc")
    b = charts.param_importance(runs_to_frame(found), metric="acc")
    assert a.to_dict("records") == b.to_dict("records")
    assert a.iloc[0]["param"] == "depth" and a.iloc[0]["correlation"] == pytest.approx(1.0)


# --------------------------------------------------------------------------------- routes


@pytest.fixture
def tracked(store: SQLiteStore) -> list[str]:
    ids = []
    for i in range(4):
        run_id = store.create_run("0", run_name=f"run{i}").run_id
        store.log_params(run_id, {"lr": 10.0**-i, "model": "ab"[i % 2]})
        store.log_metrics(run_id, [("loss", 1.0 / (s + 1) + i, 1000 + s, s) for s in range(20)])
        ids.append(run_id)
    return ids


async def get(jp_fetch: Any, kind: str, expect: int = 200, **params: str) -> Any:
    response = await jp_fetch(*API, "charts", kind, params=params, raise_error=False)
    body = json.loads(response.body)
    assert response.code == expect, body
    return body


async def test_chart_routes_serve_the_same_specs(jp_fetch: Any, tracked: list[str]) -> None:
    ids = ",".join(tracked)
    body = await get(jp_fetch, "learning-curves", run_ids=ids, key="loss", log="true")
    assert "vega-lite/v6" in body["spec"]["$schema"]
    assert len(layer_data(body["spec"])[0]) == 80
    assert body["spec"]["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    body = await get(jp_fetch, "parallel-coordinates", run_ids=ids, metric="loss")
    assert {r["axis"] for r in layer_data(body["spec"])[0]} == {"lr", "model", "loss"}
    body = await get(jp_fetch, "scatter", run_ids=ids, param="lr", metric="loss", log_x="1")
    assert len(layer_data(body["spec"])[0]) == 4
    body = await get(jp_fetch, "param-importance", run_ids=ids, metric="loss")
    assert body["table"][0]["param"] == "lr"
    assert body["table"][0]["correlation"] == pytest.approx(-1.0)
    assert body["spec"]["mark"]["type"] == "bar"


@pytest.mark.parametrize(
    ("kind", "params", "code"),
    [
        ("learning-curves", {"key": "loss"}, 400),
        ("learning-curves", {"run_ids": "RUNS"}, 400),
        ("learning-curves", {"run_ids": "RUNS", "key": "loss", "x": "epoch"}, 400),
        ("learning-curves", {"run_ids": "cafe", "key": "loss"}, 404),
        ("scatter", {"run_ids": "RUNS", "metric": "loss"}, 400),
        ("parallel-coordinates", {"run_ids": "RUNS,beef", "metric": "loss"}, 404),
        ("param-importance", {"run_ids": "RUNS"}, 400),
        ("pie", {"run_ids": "RUNS"}, 404),
        ("learning-curves", {"run_ids": "RUNS", "key": "loss", "group_by": "model"}, 400),
        ("run-metrics", {"run_id": "cafe"}, 404),
        ("run-metrics", {"run_id": "RUN0", "group": "gpu"}, 400),
    ],
)
async def test_chart_routes_bad_input(
    jp_fetch: Any, tracked: list[str], kind: str, params: dict[str, str], code: int
) -> None:
    params = {
        k: v.replace("RUNS", ",".join(tracked)).replace("RUN0", tracked[0])
        for k, v in params.items()
    }
    body = await get(jp_fetch, kind, expect=code, **params)
    assert body["status"] == code and body["message"]


# ------------------------------------------------------- every chart says something (issue 14)


def test_a_metric_with_one_value_per_run_is_drawn_as_bars() -> None:
    one = [
        {"run_id": f"r{i}", "run_name": f"run {i}", "step": [0], "timestamp": [5], "value": [v]}
        for i, v in enumerate([0.9, 0.8, 0.95])
    ]
    spec = charts.learning_curves(one, metric="acc").to_dict()
    assert spec["layer"][0]["mark"]["type"] == "bar"
    assert len(layer_data(spec)[0]) == 3
    svg = render_svg(spec)
    assert svg.count("<path") >= 3 and "Infinite" not in svg


def test_a_run_with_a_single_point_among_curves_is_drawn() -> None:
    data = [
        *series(2, 20),
        {"run_id": "lonely00", "run_name": "lonely", "step": [3], "timestamp": [9], "value": [1.5]},
    ]
    spec = charts.learning_curves(data, metric="loss").to_dict()
    singles = spec["layer"][-1]
    assert singles["mark"]["type"] == "point" and singles["transform"] == [
        {"filter": "datum.single"}
    ]
    points = {v["run"]: v["single"] for v in resolve(spec, spec["data"])}
    assert points["lonely (lonely0)"] is True and points["run 0 (00abcde)"] is False


@pytest.mark.parametrize(
    ("data", "log", "words"),
    [
        ([], False, "did not log it"),
        (
            [{"run_id": "a", "step": [0, 1], "timestamp": [1, 2], "value": ["NaN", math.inf]}],
            False,
            "only NaN or infinite",
        ),
        ([{"run_id": "a", "step": [0, 1], "timestamp": [1, 2], "value": [-1, 0]}], True, "log"),
    ],
)
def test_a_chart_with_nothing_to_draw_says_why(data: Any, log: bool, words: str) -> None:
    spec = charts.learning_curves(data, metric="loss", log_scale=log).to_dict()
    assert spec["mark"]["type"] == "text"
    assert words in resolve(spec, spec["data"])[0]["text"]
    assert "<text" in render_svg(spec)


def test_parallel_coordinates_mark_missing_values_below_each_axis() -> None:
    data = [
        {"run_id": "a", "params": {"lr": "0.1", "depth": "3"}, "metrics": {"acc": 0.8}},
        {"run_id": "b", "params": {"lr": "0.01"}, "metrics": {"acc": 0.9}},
        {"run_id": "c", "params": {"lr": "0.001", "depth": "3"}, "metrics": {"acc": 0.7}},
    ]
    spec = charts.parallel_coordinates(data, metric="acc").to_dict()
    rules, lines, ticks = layer_data(spec)
    assert [r["axis"] for r in rules] == ["depth", "lr", "acc"]  # params, then the metric
    depth_b = next(v for v in lines if v["axis"] == "depth" and v["run_id"] == "b")
    assert depth_b["missing"] is True and depth_b["norm"] == charts.MISSING_NORM < 0
    # the single value of depth sits mid-height, distinct from the "missing" place
    assert {v["norm"] for v in lines if v["axis"] == "depth" and not v["missing"]} == {0.5}
    assert {"axis": "depth", "norm": charts.MISSING_NORM, "label": "missing", "missing": True} in (
        ticks
    )
    color = spec["layer"][1]["encoding"]["color"]["scale"]
    assert color["range"] == charts.METRIC_COLORS  # no near-white end on a light theme
    assert render_svg(spec).count("<path") > 3


def test_scatter_uses_a_log_axis_for_wide_positive_ranges_and_pads() -> None:
    data = [
        {"run_id": f"r{i}", "params": {"lr": str(lr)}, "metrics": {"acc": 0.9 - i / 100}}
        for i, lr in enumerate([0.0003, 0.001, 0.003, 0.01, 0.1])
    ]
    auto = charts.scatter(data, param="lr", metric="acc").to_dict()
    assert auto["encoding"]["x"]["scale"]["type"] == "log"
    assert auto["encoding"]["x"]["scale"]["padding"] > 0
    linear = charts.scatter(data, param="lr", metric="acc", log_x=False).to_dict()
    assert linear["encoding"]["x"]["scale"].get("type") is None
    narrow = [dict(d, params={"lr": str(0.01 + i / 1000)}) for i, d in enumerate(data)]
    assert (
        "type"
        not in charts.scatter(narrow, param="lr", metric="acc").to_dict()["encoding"]["x"]["scale"]
    )
    assert not charts.wide_positive_range([-1.0, 1000.0])


async def test_grouped_learning_curves_and_run_metrics_routes(
    jp_fetch: Any, tracked: list[str], store: SQLiteStore
) -> None:
    ids = ",".join(tracked)
    body = await get(jp_fetch, "learning-curves", run_ids=ids, key="loss", group_by="params.model")
    band, line = body["spec"]["layer"]
    assert band["mark"]["type"] == "area" and line["mark"]["type"] == "line"
    rows = resolve(body["spec"], body["spec"]["data"])
    assert {r["group"] for r in rows} == {"a (2 runs)", "b (2 runs)"}
    first = next(r for r in rows if r["group"] == "a (2 runs)" and r["step"] == 0)
    # runs 0 and 2 (model a): loss at step 0 is 1 + 0 and 1 + 2
    assert (first["lo"], first["mean"], first["hi"], first["n"]) == (1.0, 2.0, 3.0, 2)
    assert "grouped_curves(data, groups" in body["code"]
    store.log_metrics(
        tracked[0],
        [("system/process_memory_rss_megabytes", 50.0 + s, 1000 + s, s) for s in range(2)],
    )
    metrics = await get(jp_fetch, "run-metrics", run_id=tracked[0])
    assert "facet" in metrics["spec"]
    keys = {r["key"] for r in resolve(metrics["spec"], metrics["spec"]["data"])}
    assert keys == {"loss"}
    system = await get(jp_fetch, "run-metrics", run_id=tracked[0], group="system")
    keys = {r["key"] for r in resolve(system["spec"], system["spec"]["data"])}
    assert keys == {"system/process_memory_rss_megabytes"}
    exec(compile(metrics["code"], "<code>", "exec"), {})  # the "Copy code" text runs


async def test_run_metrics_chart_histories_and_say_why_for_one_value_metrics(
    jp_fetch: Any, tracked: list[str], store: SQLiteStore
) -> None:
    """One-value metrics are numbers (the metrics table), not one-dot charts; a run with only
    those gets a sentence that says so, wrapped for the sidebar."""
    store.log_metrics(tracked[0], [("accuracy", 0.9, 1000, 0)])
    metrics = await get(jp_fetch, "run-metrics", run_id=tracked[0])
    keys = {r["key"] for r in resolve(metrics["spec"], metrics["spec"]["data"])}
    assert keys == {"loss"}
    single = store.create_run("0", run_name="singles")
    store.log_metrics(single.run_id, [("accuracy", 0.9, 1000, 0), ("f1", 0.8, 1000, 0)])
    body = await get(jp_fetch, "run-metrics", run_id=single.run_id)
    (row,) = resolve(body["spec"], body["spec"]["data"])
    assert "accuracy, f1" in row["text"] and "metrics table" in row["text"]
    assert all(len(line) <= charts.MESSAGE_LINE_CHARS for line in row["lines"].split("\n"))
    assert body["spec"]["mark"]["lineBreak"] == "\n"


def test_grouped_curves_say_why_when_no_run_has_the_field() -> None:
    spec = charts.grouped_curves(series(2), {}, metric="loss", group_title="seed").to_dict()
    assert "that have seed" in resolve(spec, spec["data"])[0]["text"]
