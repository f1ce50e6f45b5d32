"""Widget state in Python: the run table, the comparison, the run summary, the registry view,
the static fallbacks, and the public names (``jt.runs``, ``jt.compare``, ``jt.registry``...).

Real SQLite files, the real fluent API and registry; the browser's edits are made the way the
front end makes them (setting synced traits, sending the widget's custom messages).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

import jupyter_track as jt
from jupyter_track import charts
from jupyter_track import summary as summary_module
from jupyter_track.store import InvalidInput, NotFound
from jupyter_track.summary import MIME_TYPE as SUMMARY_MIME
from jupyter_track.summary import RunSummary
from jupyter_track.tracking import context, session
from jupyter_track.widgets import _common
from jupyter_track.widgets.comparison import CompareView
from jupyter_track.widgets.registry import RegistryView
from jupyter_track.widgets.summary import RunSummaryWidget, show_run_summary, summary
from jupyter_track.widgets.table import RunTable

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def make_runs(n: int = 3, points: int = 20) -> list[str]:
    ids = []
    for i in range(n):
        with jt.start_run(run_name=f"run-{i}") as run:
            jt.log_params({"lr": 10.0 ** -(i + 1), "model": "mlp" if i % 2 else "cnn", "seed": 1})
            for step in range(points):
                jt.log_metric("loss", (i + 1) / (step + 1), step=step)
            jt.log_metric("acc", 0.5 + 0.1 * i)
            ids.append(run.info.run_id)
    return ids


# --------------------------------------------------------------------------------- jt.runs


def test_run_table_names_experiments_with_counts() -> None:
    jt.set_experiment("first")
    make_runs(2)
    jt.set_experiment("second")
    make_runs(1)
    table = jt.runs()
    assert "attributes.experiment" in [c["key"] for c in table.columns]
    assert table.caption == "first: 2, second: 1"
    assert "(first: 2, second: 1)" in repr(table)
    table.filter_string = "metrics.acc > 0.55"  # run-1 of "first" only
    assert table.caption == ""  # one experiment left: nothing to group
    assert jt.runs(experiment_names=["first"]).caption == ""


def test_run_table_lists_sorts_and_pages() -> None:
    ids = make_runs(5)
    table = jt.runs(page_size=2)
    assert isinstance(table, RunTable)
    assert table.total == 5
    keys = [c["key"] for c in table.columns]
    assert keys[:4] == [
        "attributes.run_name",
        "attributes.status",
        "attributes.start_time",
        "attributes.duration",
    ]
    assert {"params.lr", "params.model", "metrics.loss", "metrics.acc"} <= set(keys)
    assert [r["run_id"] for r in table.rows] == ids[::-1][:2]  # newest first by default
    table.page = 2
    assert [r["run_id"] for r in table.rows] == [ids[0]]
    table.sort_by = "params.lr"  # what a header click sets
    assert table.page == 0
    lr = keys.index("params.lr")
    assert [r["cells"][lr] for r in table.rows] == ["1e-05", "0.0001"]
    table.sort_desc = True
    assert [r["cells"][lr] for r in table.rows] == ["0.1", "0.01"]
    table.sort_by, table.sort_desc = "metrics.acc", False
    acc = keys.index("metrics.acc")
    assert [r["cells"][acc] for r in table.rows] == pytest.approx([0.5, 0.6])


def test_run_table_filter_uses_the_grammar_and_shows_errors_with_their_position() -> None:
    make_runs(3)
    table = jt.runs(filter_string="params.model = 'cnn'")
    assert table.total == 2 and table.error is None
    table.filter_string = "metrics.acc > 0.55 AND params.model = 'cnn'"
    assert table.total == 1
    table.filter_string = "metrics.acc >> 1"
    assert table.rows == [] and table.total == 0
    assert table.error is not None
    assert table.error["position"] == 13
    assert table.error["text"] == "metrics.acc >> 1"
    assert "Invalid filter at position 13" in table.error["message"]
    table.filter_string = "attributes.colour = 'red'"  # not an attribute
    assert table.error is not None and "found 'colour'" in table.error["message"]
    table.filter_string = ""
    assert table.error is None and table.total == 3


def test_selection_is_an_observable_trait_and_gives_runs() -> None:
    ids = make_runs(3)
    table = jt.runs()
    seen: list[list[str]] = []
    table.observe(lambda change: seen.append(change["new"]), names="selected")
    table.selected = [ids[0], ids[2]]  # what clicks in the browser set
    assert seen == [[ids[0], ids[2]]]
    assert [r.info.run_id for r in table.selected_runs] == [ids[0], ids[2]]
    view = table.compare(metric="loss")
    assert [r["run_id"] for r in view.runs] == [ids[0], ids[2]]


def test_run_table_columns_and_experiments() -> None:
    make_runs(2)
    jt.set_experiment("other")
    with jt.start_run(run_name="elsewhere"):
        jt.log_param("lr", 1)
    table = jt.runs(columns=["run_name", "lr", "metrics.loss", "tags.mlflow.user"])
    assert [c["key"] for c in table.columns] == [
        "attributes.run_name",
        "params.lr",
        "metrics.loss",
        "tags.mlflow.user",
    ]
    assert table.total == 3
    only = jt.runs(experiment_names=["other"])
    assert only.total == 1 and only.rows[0]["cells"][0] == "elsewhere"
    with pytest.raises(NotFound):
        jt.runs(experiment_names=["nope"])
    with pytest.raises(InvalidInput, match="column 'colour'"):
        jt.runs(columns=["colour"])


def test_run_table_default_columns_leave_system_metrics_out() -> None:
    """The kernel's CPU/memory metrics are not among the default columns (as in the sidebar);
    asked for by name they are shown."""
    with jt.start_run(run_name="sampled"):
        jt.log_metric("accuracy", 0.9)
        jt.log_metric("system/cpu_utilization_percentage", 40.0)
    keys = [c["key"] for c in jt.runs().columns]
    assert "metrics.accuracy" in keys
    assert not [k for k in keys if k.startswith("metrics.system/")]
    chosen = jt.runs(columns=["metrics.system/cpu_utilization_percentage"])
    assert [c["key"] for c in chosen.columns] == ["metrics.system/cpu_utilization_percentage"]


def test_run_table_sees_new_runs_on_refresh() -> None:
    make_runs(1)
    table = jt.runs()
    assert table.total == 1
    make_runs(1)
    table.refresh()
    assert table.total == 2
    make_runs(1)
    table._on_message(table, {"type": "refresh"}, [])  # the browser's Refresh button
    assert table.total == 3


# ------------------------------------------------------------------------------ jt.compare


def test_compare_builds_the_diff_table() -> None:
    ids = make_runs(3)
    view = jt.compare(ids)
    assert isinstance(view, CompareView)
    rows = {(r["section"], r["key"]): r for r in view.table}
    assert rows[("params", "lr")]["differs"] is True
    assert rows[("params", "seed")]["differs"] is False
    assert rows[("params", "seed")]["values"] == ["1", "1", "1"]
    assert rows[("metrics", "acc")]["values"] == pytest.approx([0.5, 0.6, 0.7])
    assert view.metrics[0] in ("acc", "loss") and set(view.metrics) == {"acc", "loss"}
    assert [r["label"] for r in view.runs] == [f"run-{i} ({ids[i][:7]})" for i in range(3)]


def test_compare_charts_are_the_shared_chart_specs() -> None:
    ids = make_runs(4, points=30)
    view = jt.compare(ids, metric="loss", param="lr")
    store = session.current().store
    runs = store.get_runs(ids)
    history = store.metric_histories(ids, ["loss"], max_points=1000)
    importance = charts.param_importance(runs, metric="loss")
    spec = charts.spec_dict  # what the sidebar's chart routes send, too
    assert view.specs["curves"] == spec(charts.learning_curves(history, metric="loss"))
    assert view.specs["scatter"] == spec(charts.scatter(runs, param="lr", metric="loss"))
    assert view.specs["importance"] == spec(
        charts.param_importance_chart(importance, metric="loss")
    )
    assert set(view.specs) == {"curves", "parallel", "importance", "scatter"}
    assert view.importance[0]["param"] == "lr"  # lr goes with the loss in make_runs
    altair_charts = view.charts()
    assert spec(altair_charts["curves"]) == view.specs["curves"]


def test_compare_switches_metric_and_param() -> None:
    ids = make_runs(3)
    view = jt.compare(ids, metric="loss")
    view.param = "model"  # the browser's param picker
    assert view.specs["scatter"]["encoding"]["x"]["field"] == "x"
    assert view.specs["scatter"]["encoding"]["x"]["title"] == "model"
    view.metric = "acc"  # the browser's metric picker
    curves = view.specs["curves"]  # one value per run: bars, not lines that draw nothing
    assert curves["layer"][0]["mark"]["type"] == "bar"
    assert curves["layer"][0]["encoding"]["x"]["title"] == "acc (one value per run)"
    with pytest.raises(InvalidInput, match="metric 'nope'"):
        jt.compare(ids, metric="nope")
    with pytest.raises(InvalidInput, match="no runs"):
        jt.compare([])


def test_compare_downsamples_long_histories_before_syncing() -> None:
    ids = []
    for r in range(3):
        with jt.start_run() as run:
            for step in range(60_000):
                jt.log_metric("loss", math.sin(step / 1000) + r, step=step)
            ids.append(run.info.run_id)
    view = jt.compare(ids, metric="loss", max_points=500)
    values = next(iter(view.specs["curves"]["datasets"].values()))
    assert len(values) <= 3 * 500
    assert "180,000 points" in view.notes["curves"]
    assert "drawn with" in view.notes["curves"]
    for r in range(3):  # the extremes survive
        drawn = [v["value"] for v in values if v["run"] == view.runs[r]["label"]]
        assert max(drawn) == pytest.approx(1 + r, abs=1e-3)
        assert min(drawn) == pytest.approx(-1 + r, abs=1e-3)


def test_compare_accepts_a_search_runs_frame_and_run_objects() -> None:
    ids = make_runs(2)
    frame = jt.search_runs(search_all_experiments=True)
    assert sorted(r["run_id"] for r in jt.compare(frame).runs) == sorted(ids)
    runs = [jt.get_run(i) for i in ids]
    assert [r["run_id"] for r in jt.compare(runs).runs] == ids


# ---------------------------------------------------------------------------- run summary


def test_summary_marks_changes_against_the_previous_run(capsys: Any) -> None:
    with jt.start_run(run_name="before") as first:
        jt.log_params({"lr": 0.1, "layers": 2})
        jt.log_metric("loss", 0.5)
    with jt.start_run(run_name="after") as second:
        jt.log_params({"lr": 0.01, "layers": 2, "dropout": 0.1})
        jt.log_metric("loss", 0.4)
    run, previous = jt.get_run(second.info.run_id), jt.get_run(first.info.run_id)
    widget = RunSummaryWidget(run, previous, notes=["-p x: not defined after the cell"])
    params = {p["key"]: p for p in widget.params}
    assert params["lr"]["changed"] and params["lr"]["previous"] == "0.1"
    assert not params["layers"]["changed"]
    assert params["dropout"]["changed"] and params["dropout"]["previous"] is None
    (metric,) = widget.metrics
    assert metric["delta"] == pytest.approx(-0.1)
    assert widget.run["name"] == "after" and widget.run["experiment"] == "Default"
    assert widget.previous == {"run_id": first.info.run_id, "name": "before"}
    assert widget.notes == ["-p x: not defined after the cell"]
    # one payload: the widget's traits are the display data's payload
    payload = RunSummary(run, previous, ("-p x: not defined after the cell",), "Default").payload()
    synced = {k: getattr(widget, k) for k in ("run", "previous", "params", "metrics", "notes")}
    assert synced == {k: v for k, v in payload.items() if k != "version"}
    data, _ = widget._repr_mimebundle_()
    assert "run after [FINISHED]" in data["text/plain"]
    assert "jp-Track-summary" in data["text/html"]
    assert SUMMARY_MIME not in data  # the widget renders itself; the MIME type is %%track's
    # show_run_summary displays what %%track displays (outside IPython: the text form)
    assert show_run_summary(second.info.run_id, first.info.run_id) is None
    assert "run after [FINISHED]" in capsys.readouterr().out


def test_summary_widget_of_the_last_run_against_its_cells_previous_run() -> None:
    context.current = context.CellContext(
        cell_id="cell-7", execution_count=1, source="", run_ids=[]
    )
    for lr in (0.1, 0.2):
        with jt.start_run() as run:
            jt.log_param("lr", lr)
    widget = summary()
    assert widget.run["run_id"] == run.info.run_id
    assert widget.params == [{"key": "lr", "value": "0.2", "previous": "0.1", "changed": True}]
    with pytest.raises(NotFound):
        summary("no-such-run")


def test_summary_payload_is_json_with_non_finite_values_as_text() -> None:
    with jt.start_run(run_name="first") as first:
        jt.log_metrics({"loss": 0.5, "gap": math.inf, "score": math.nan})
    with jt.start_run(run_name="<b>second</b>") as second:
        jt.log_metrics({"loss": math.nan, "gap": 1.0, "score": 2.0, "new": -math.inf})
        jt.log_param("note", "a & b <i>")
    summary_ = RunSummary(jt.get_run(second.info.run_id), jt.get_run(first.info.run_id))
    bundle = summary_.mimebundle()
    payload = json.loads(json.dumps(bundle[SUMMARY_MIME], allow_nan=False))
    metrics = {m["key"]: m for m in payload["metrics"]}
    assert metrics["loss"] == {"key": "loss", "value": "NaN", "previous": 0.5, "delta": None}
    assert metrics["gap"] == {"key": "gap", "value": 1.0, "previous": "Infinity", "delta": None}
    assert metrics["score"]["previous"] == "NaN" and metrics["score"]["delta"] is None
    assert metrics["new"] == {"key": "new", "value": "-Infinity", "previous": None, "delta": None}
    assert payload["run"]["name"] == "<b>second</b>" and payload["run"]["experiment"] == ""
    html = bundle["text/html"]
    assert "<b>second</b>" not in html and "&lt;b&gt;second&lt;/b&gt;" in html
    assert "a &amp; b &lt;i&gt;" in html and "<i>" not in html
    assert "run <b>second</b>" in bundle["text/plain"]


def test_experiment_names_are_asked_once_per_store(monkeypatch: Any) -> None:
    with jt.start_run() as run:
        pass
    store = session.current().store
    asked: list[str] = []
    original = store.get_experiment

    def get_experiment(experiment_id: str) -> Any:
        asked.append(experiment_id)
        return original(experiment_id)

    monkeypatch.setattr(store, "get_experiment", get_experiment)
    names = {summary_module.load(store, run.info.run_id).experiment for _ in range(3)}
    assert names == {"Default"} and asked == [run.info.experiment_id]
    assert summary_module.experiment_name(store, "987654") == ""  # no such experiment


# --------------------------------------------------------------------------- jt.registry


class Constant:
    def predict(self, rows: Any) -> list[int]:
        return [0] * len(rows)


def register(name: str = "fraud", versions: int = 2) -> None:
    for _ in range(versions):
        with jt.start_run():
            jt.log_model(Constant(), "model", registered_model_name=name)


def test_models_is_read_only_unless_editable() -> None:
    register()
    jt.set_registered_model_alias("fraud", "champion", 1)
    view = jt.registry()
    assert isinstance(view, RegistryView)
    (detail,) = view.models  # the REST API's model-detail payload
    model = detail["model"]
    assert model["name"] == "fraud" and model["aliases"] == {"champion": 1}
    assert [v["version"] for v in detail["versions"]] == [2, 1]
    assert detail["versions"][1]["aliases"] == ["champion"]
    view._handle({"type": "set_alias", "name": "fraud", "alias": "champion", "version": 2})
    assert view.message is not None and view.message["kind"] == "error"
    assert "read-only" in view.message["text"]
    assert jt.get_model_version_by_alias("fraud", "champion").version == 1


def test_editable_alias_changes_go_through_the_audited_registry() -> None:
    register()
    jt.set_registered_model_alias("fraud", "champion", 1)
    view = jt.registry("fraud", editable=True)
    # the browser's "Set" on version 2, having seen champion on version 1
    view._handle(
        {"type": "set_alias", "name": "fraud", "alias": "champion", "version": 2, "expected": 1}
    )
    assert view.message == {"kind": "ok", "text": "fraud: @champion now points to version 2"}
    assert jt.get_model_version_by_alias("fraud", "champion").version == 2
    assert view.models[0]["model"]["aliases"] == {"champion": 2}
    history = jt.alias_history("fraud", "champion")
    assert [(e.action, e.old_value, e.new_value) for e in history][-1] == ("set_alias", "1", "2")
    assert view.audit[0]["new_value"] == "2" and view.audit[0]["actor_verified"] is False
    # a stale view (it still thinks champion is on version 1) is refused, not overwritten
    view._handle(
        {"type": "set_alias", "name": "fraud", "alias": "champion", "version": 1, "expected": 1}
    )
    assert view.message is not None and view.message["kind"] == "error"
    assert jt.get_model_version_by_alias("fraud", "champion").version == 2
    view._handle({"type": "delete_alias", "name": "fraud", "alias": "champion", "expected": 2})
    assert view.models[0]["model"]["aliases"] == {}
    assert jt.alias_history("fraud", "champion")[-1].action == "delete_alias"


def test_models_of_an_unknown_name_fail_at_once() -> None:
    with pytest.raises(NotFound):
        jt.registry("missing")
    assert jt.registry().models == []


# --------------------------------------------------------------------- fallbacks and names


def test_every_widget_carries_text_and_escaped_html() -> None:
    with jt.start_run(run_name="<img src=x onerror=alert(1)>") as run:
        jt.log_param("note", "<script>alert(1)</script>")
        jt.log_metric("loss", 1.0)
    register("m<b>")
    widgets = [
        jt.runs(),
        jt.compare([run.info.run_id]),
        RunSummaryWidget(jt.get_run(run.info.run_id)),
        jt.registry(),
    ]
    for widget in widgets:
        data, _ = widget._repr_mimebundle_()
        assert set(data) == {"text/plain", "text/html", WIDGET_VIEW}
        assert data[WIDGET_VIEW]["model_id"] == widget.model_id
        html = data["text/html"]
        assert "<script>" not in html and "<img src=x" not in html, type(widget).__name__
        assert data["text/plain"]


def test_chart_widgets_share_one_vega_runtime() -> None:
    ids = make_runs(2)
    a, b = jt.compare(ids), jt.compare(ids[:1])
    assert a._vega == b._vega != ""
    runtime = _common.vega_runtime()
    assert runtime.model_id == a._vega
    assert len(runtime._esm) > 100_000  # vega + vega-lite + vega-embed, bundled
    assert "cdn.jsdelivr" not in runtime._esm and "unpkg.com" not in runtime._esm
    assert len(a._esm) < 50_000  # the chart widgets themselves stay small


def test_public_names() -> None:
    assert jt.charts is charts
    assert callable(jt.registry) and not callable(jt.models)
    assert jt.models.infer_signature is jt.infer_signature  # MLflow's models module
    from jupyter_track.widgets import live, start_live, summary

    assert live.start_live is start_live
    assert callable(summary.show_run_summary)


def test_missing_bundle_names_the_build_command(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(_common, "STATIC", tmp_path)
    _common.bundle.cache_clear()
    try:
        with pytest.raises(_common.WidgetBundleMissing, match="jlpm build:widgets"):
            _common.bundle("live.js")
    finally:
        _common.bundle.cache_clear()
