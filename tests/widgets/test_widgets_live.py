"""The live chart: decimation, deltas, following runs, stopping, static fallback.

Real store, real fluent API and background writer; the widget's messages to the browser are
captured by replacing ``send`` (the comm itself needs a kernel; the notebook test covers it).
"""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jupyter_track as jt
from jupyter_track.store import NotFound
from jupyter_track.tracking import session
from jupyter_track.widgets.downsample import StreamDecimator
from jupyter_track.widgets.live import LiveChart, start_live


def apply_deltas(updates: list[tuple[int, list[Any]]]) -> list[Any]:
    """What the browser does with (keep, points) deltas."""
    shown: list[Any] = []
    for keep, points in updates:
        del shown[keep:]
        shown.extend(points)
    return shown


# ---------------------------------------------------------------------------- the decimator


def test_short_series_is_kept_point_for_point() -> None:
    d = StreamDecimator(max_points=100)
    keep, points = d.add(list(range(10)), [i * i for i in range(10)], list(range(10)))  # type: ignore[misc]
    assert keep == 0
    assert [p[1] for p in points] == [i * i for i in range(10)]
    assert [p[2] for p in points] == list(range(10))


def test_long_series_is_bounded_and_keeps_extremes_and_ends() -> None:
    d = StreamDecimator(max_points=200)
    values = [math.sin(i / 50) for i in range(20_000)]
    values[12_345] = 50.0  # a spike
    values[7_000] = -50.0  # a dip
    for start in range(0, 20_000, 1000):
        xs = list(range(start, start + 1000))
        d.add(xs, values[start : start + 1000], xs)
    points = d.points()
    assert len(points) <= 200
    kept = {p[2] for p in points}
    assert {0, 12_345, 7_000, 19_999} <= kept
    xs = [p[0] for p in points]
    assert xs == sorted(xs)


def test_non_finite_values_are_counted_not_drawn() -> None:
    d = StreamDecimator(max_points=100)
    d.add([0, 1, 2, 3], [1.0, math.nan, math.inf, 2.0])
    assert d.total == 4 and d.skipped == 2
    assert [p[1] for p in d.points()] == [1.0, 2.0]
    assert d.add([4], [math.nan]) is None


@settings(max_examples=60, deadline=None)
@given(
    batches=st.lists(
        st.lists(
            st.tuples(st.integers(-50, 3000), st.floats(-1e6, 1e6, allow_nan=False)),
            max_size=120,
        ),
        max_size=25,
    ),
    max_points=st.integers(8, 80),
)
def test_replaying_deltas_gives_what_the_decimator_holds(
    batches: list[list[tuple[int, float]]], max_points: int
) -> None:
    d = StreamDecimator(max_points=max_points)
    updates = []
    for batch in batches:
        change = d.add([x for x, _ in batch], [v for _, v in batch])
        if change is not None:
            updates.append(change)
    assert apply_deltas(updates) == d.points()
    assert len(d.points()) <= max_points
    every = [v for batch in batches for _, v in batch]
    if every:  # the extremes of everything logged are always drawn
        drawn = [p[1] for p in d.points()]
        assert min(every) in drawn and max(every) in drawn
    xs = [p[0] for p in d.points()]
    assert xs == sorted(xs)


# ------------------------------------------------------------------------------ the widget


class Capture:
    def __init__(self, chart: LiveChart):
        self.messages: list[dict[str, Any]] = []
        chart.send = self.messages.append  # type: ignore[method-assign]

    def replay(self, chart: LiveChart) -> dict[str, list[dict[str, Any]]]:
        """The browser's view: the last full ``points`` plus the deltas sent after it."""
        series: dict[str, list[dict[str, Any]]] = {}
        for row in chart.points:
            series.setdefault(row["run"], []).append(row)
        return series


def test_live_chart_follows_the_active_run_and_sends_small_deltas() -> None:
    chart = LiveChart(["loss", "val_loss"], interval=0.02, max_points=120)
    capture = Capture(chart)
    chart.start()
    with jt.start_run(run_name="training") as run:
        for i in range(3000):
            jt.log_metric("loss", 1.0 / (i + 1), step=i)
            if i % 10 == 0:
                jt.log_metric("val_loss", 2.0 / (i + 1), step=i)
            if i % 300 == 0:
                jt.flush()
                time.sleep(0.05)  # let the poller see the run mid-way
    chart.stop()
    assert not chart.is_running
    assert chart.run_ids == [run.info.run_id]
    deltas = [m for m in capture.messages if m["type"] == "delta"]
    assert len(deltas) >= 2, "the chart should have grown in several steps"
    for message in deltas:
        for update in message["updates"]:
            assert len(update["rows"]) <= 120  # never more than the bound per series
    by_series: dict[str, list[dict[str, Any]]] = {}
    for row in chart.points:
        by_series.setdefault(row["run"], []).append(row)
    assert set(by_series) == {"loss", "val_loss"}  # one run: series named by key
    assert all(len(rows) <= 120 for rows in by_series.values())
    assert by_series["loss"][-1]["step"] == 2999
    assert by_series["loss"][-1]["value"] == pytest.approx(1 / 3000)
    assert by_series["loss"][0]["value"] == 1.0
    assert [r["i"] for r in by_series["loss"]] == list(range(len(by_series["loss"])))
    assert "3,300 points" in chart.status and chart.status.startswith("stopped")


def test_deltas_replayed_in_the_browser_match_the_final_state() -> None:
    chart = LiveChart("loss", interval=0.01, max_points=40)
    capture = Capture(chart)
    chart.start()
    with jt.start_run():
        for i in range(2000):
            jt.log_metric("loss", math.cos(i / 100), step=i)
            if i % 100 == 0:
                jt.flush()
                time.sleep(0.02)
    chart.stop()
    shown: dict[str, list[dict[str, Any]]] = {}
    for message in capture.messages:
        for update in message["updates"]:
            rows = shown.setdefault(update["series"], [])
            del rows[update["keep"] :]
            rows.extend(update["rows"])
    final: dict[str, list[dict[str, Any]]] = {}
    for row in chart.points:
        final.setdefault(row["run"], []).append(row)
    assert {k: [(r["step"], r["value"]) for r in v] for k, v in shown.items()} == {
        k: [(r["step"], r["value"]) for r in v] for k, v in final.items()
    }


def test_several_runs_are_labelled_by_run() -> None:
    chart = LiveChart("loss", interval=0.01)
    Capture(chart)
    chart.start()
    names = []
    for lr in (0.1, 0.01):
        with jt.start_run(run_name=f"lr-{lr}") as run:
            names.append(f"lr-{lr} ({run.info.run_id[:7]})")
            for i in range(50):
                jt.log_metric("loss", lr * i, step=i)
            jt.flush()
            time.sleep(0.1)
    chart.stop()
    assert sorted({r["run"] for r in chart.points}) == sorted(names)
    color_sorts = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("field") == "run" and "sort" in node:
                color_sorts.append(node["sort"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(chart.spec)
    assert color_sorts and all(sorted(s) == sorted(names) for s in color_sorts)


def test_spec_streams_into_one_named_dataset_with_the_fields_rows_carry() -> None:
    chart = LiveChart(["loss"], interval=0.01)
    Capture(chart)
    chart.start()
    with jt.start_run():
        for i in range(20):
            jt.log_metric("loss", float(i), step=i)
    chart.stop()
    spec = chart.spec
    assert spec["data"] == {"name": "points"} and spec["datasets"] == {"points": []}
    fields: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("field"), str):
                fields.add(node["field"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    row_fields = set(chart.points[0])
    assert fields <= row_fields, f"the chart reads fields the live rows lack: {fields - row_fields}"


def test_constant_step_switches_the_x_axis_to_time() -> None:
    chart = LiveChart("loss", interval=0.01)
    Capture(chart)
    chart.start()
    with jt.start_run():
        for i in range(30):
            jt.log_metric("loss", float(i))  # MLflow's default step 0
            time.sleep(0.002)
    chart.stop()
    assert len({r["step"] for r in chart.points}) == 1
    assert len(chart.points) == 30  # not collapsed into one step bucket
    assert "relative" in str(chart.spec)
    x_fields = [layer["encoding"]["x"]["field"] for layer in chart.spec["layer"]]
    assert set(x_fields) == {"relative"}


def test_following_a_run_logged_elsewhere_stops_when_it_ends(store: Any) -> None:
    # a run written straight to the store, as another process would
    experiment = store.get_or_create_experiment("remote")
    info = store.create_run(experiment.experiment_id, run_name="remote")
    pk = store.run_handle(info.run_id)
    store.write_metric_rows([(pk, "loss", i, 1000 * i, 1.0 / (i + 1)) for i in range(100)])
    chart = LiveChart("loss", run_id=info.run_id, interval=0.01)
    Capture(chart)
    chart.start()
    store.write_metric_rows([(pk, "loss", i, 1000 * i, 1.0 / (i + 1)) for i in range(100, 150)])
    store.update_run(info.run_id, status="FINISHED", end_time=int(time.time() * 1000))
    deadline = time.monotonic() + 10
    while chart.is_running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not chart.is_running, "the chart should stop by itself once the run ended"
    chart.stop()
    assert max(r["step"] for r in chart.points) == 149
    assert len(chart.points) == 150


def test_unknown_run_and_bad_options_fail_at_once() -> None:
    with pytest.raises(NotFound):
        LiveChart("loss", run_id="nope")
    with pytest.raises(ValueError, match="x 'sideways'"):
        LiveChart("loss", x="sideways")


def test_start_live_hook_returns_a_running_chart_that_stops() -> None:
    with jt.start_run() as run:
        chart = start_live(None, run_id=run.info.run_id, display=False, interval=0.01)
        Capture(chart)
        assert chart.is_running
        for i in range(10):
            jt.log_metric("acc", i / 10, step=i)
            jt.log_metric("loss", 1 - i / 10, step=i)
        chart.stop()
        chart.stop()  # idempotent
    assert not chart.is_running
    assert {r["run"] for r in chart.points} == {"acc", "loss"}  # keys None: every metric


def test_static_fallback_has_a_thumbnail_and_the_numbers() -> None:
    chart = LiveChart(["loss"], interval=0.01)
    Capture(chart)
    chart.start()
    with jt.start_run(run_name="<b>bold</b>"):
        for i in range(40):
            jt.log_metric("loss", 1.0 / (i + 1), step=i)
    chart.stop()
    data, _ = chart._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    html = data["text/html"]
    assert "data:image/svg+xml;base64," in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "0.025" in html  # the last value
    assert "<b>bold</b> (" in data["text/plain"]  # one key: series named by run
    assert "last 0.025 at step 39" in data["text/plain"]


def test_the_training_thread_only_appends_to_a_buffer() -> None:
    """The poller never holds a lock the training loop needs: logging while the chart polls
    goes through the writer's lock-free deque (this would deadlock or error otherwise)."""
    chart = LiveChart("loss", interval=0.001)
    Capture(chart)
    chart.start()
    with jt.start_run():
        for i in range(20_000):
            jt.log_metric("loss", float(i % 7), step=i)
    chart.stop()
    assert chart.ticks > 1 and chart.error is None
    writer = session.current().started_writer
    assert writer is not None and writer.pending == 0


def test_a_sweep_of_short_runs_is_followed_in_full() -> None:
    """Runs that start and end between two polls are still charted (found by their points)."""
    chart = LiveChart("loss", interval=0.5)
    Capture(chart)
    chart.start()
    ids = []
    for lr in (0.3, 0.1, 0.03, 0.01):
        with jt.start_run(run_name=f"lr={lr}") as run:
            ids.append(run.info.run_id)
            for i in range(10):
                jt.log_metric("loss", lr * (10 - i), step=i)
    chart.stop()
    assert sorted(chart.run_ids) == sorted(ids)
    assert len(chart.points) == 40


def test_runs_of_other_users_are_not_followed(store: Any) -> None:
    chart = LiveChart("loss", interval=0.01)
    Capture(chart)
    chart.start()
    experiment = store.get_or_create_experiment("elsewhere")
    other = store.create_run(experiment.experiment_id, user_id="someone-else", notebook="x.ipynb")
    store.write_metric_rows([(store.run_handle(other.run_id), "loss", 0, 0, 1.0)])
    with jt.start_run() as mine:
        jt.log_metric("loss", 2.0, step=0)
    chart.stop()
    assert chart.run_ids == [mine.info.run_id]


def test_store_reads_new_points_by_rowid(store: Any) -> None:
    experiment = store.get_or_create_experiment("rows")
    a = store.create_run(experiment.experiment_id).run_id
    b = store.create_run(experiment.experiment_id).run_id
    start = store.last_metric_rowid()
    store.write_metric_rows([(store.run_handle(a), "loss", 0, 10, 1.0)])
    middle = store.last_metric_rowid()
    store.write_metric_rows(
        [
            (store.run_handle(b), "acc", 5, 20, float("nan")),
            (store.run_handle(a), "loss", 1, 30, 0.5),
        ]
    )
    rows, cursor = store.metric_rows_since(None, start)
    assert [(r[0], r[1], r[2]) for r in rows] == [(a, "loss", 0), (b, "acc", 5), (a, "loss", 1)]
    assert math.isnan(rows[1][4])
    assert cursor == store.last_metric_rowid()
    only_a, _ = store.metric_rows_since([a], start)
    assert [r[2] for r in only_a] == [0, 1]
    assert store.metric_rows_since(None, cursor) == ([], cursor)
    assert store.metric_rows_until(a, middle) == [("loss", 0, 10, 1.0)]


def test_a_run_that_ended_before_the_chart_is_not_followed() -> None:
    with jt.start_run(run_name="earlier"):
        jt.log_metric("loss", 1.0, step=0)
    chart = LiveChart("loss", interval=0.01)
    Capture(chart)
    chart.start()
    with jt.start_run(run_name="now") as run:
        jt.log_metric("loss", 0.5, step=0)
    chart.stop()
    assert chart.run_ids == [run.info.run_id]


def test_track_magic_live_option_charts_the_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    """``%%track --live loss`` (the lead's magic) starts the chart through start_live and
    stops it when the cell ends; a real IPython shell runs the cell."""
    from IPython.core.interactiveshell import InteractiveShell

    from jupyter_track.widgets import live as live_module

    started: list[LiveChart] = []
    original = live_module.start_live

    def spy(*args: Any, **kwargs: Any) -> LiveChart:
        chart = original(*args, **kwargs)
        started.append(chart)
        return chart

    monkeypatch.setattr(live_module, "start_live", spy)
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    try:
        shell.run_cell("%load_ext jupyter_track\nimport jupyter_track as jt")
        result = shell.run_cell(
            "%%track --live loss -n live-cell\n"
            "for i in range(300):\n"
            "    jt.log_metric('loss', 1 / (i + 1), step=i)\n"
            "    jt.log_metric('other', 0.0, step=i)\n"
        )
        assert result.error_in_exec is None and result.error_before_exec is None
    finally:
        shell.run_cell("%unload_ext jupyter_track")
        InteractiveShell.clear_instance()
    (chart,) = started
    assert not chart.is_running
    run = jt.get_run(chart.run_ids[0])
    assert run.info.run_name == "live-cell"
    assert {r["run"] for r in chart.points} == {"live-cell (" + run.info.run_id[:7] + ")"}
    assert max(r["step"] for r in chart.points) == 299
    assert chart.status.startswith("stopped")


def test_a_cell_faster_than_one_poll_is_charted_and_stops_the_chart() -> None:
    """The run starts and ends between two polls (interval 5 s): the end of the cell still
    stops the chart, and its final read charts the run."""
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    try:
        result = shell.run_cell(
            "import jupyter_track as jt\n"
            "from jupyter_track.widgets.live import LiveChart\n"
            "chart = LiveChart('loss', interval=5).start()\n"
            "with jt.start_run(run_name='quick'):\n"
            "    for i in range(50):\n"
            "        jt.log_metric('loss', float(i), step=i)\n"
        )
        assert result.error_in_exec is None
        chart = shell.user_ns["chart"]
        assert not chart.is_running
        assert len(chart.points) == 50 and chart.status.startswith("stopped · run quick")
    finally:
        InteractiveShell.clear_instance()
