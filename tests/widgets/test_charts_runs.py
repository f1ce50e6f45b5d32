"""``jt.charts.learning_curves`` takes runs as ``scatter`` does (issue 8, section 4).

A run id, a list of run ids or ``Run`` objects, or the DataFrame of ``jt.search_runs()``, with
``metric=``: the histories are read from the kernel's store (buffered points included).
"""

from __future__ import annotations

from typing import Any

import pytest

import jupyter_track as jt
from jupyter_track import charts
from jupyter_track.store import NotFound


def _points(chart: Any) -> dict[str, list[tuple[float, float]]]:
    spec = charts.spec_dict(chart)
    datasets = spec.get("datasets") or {}
    rows = [row for values in datasets.values() for row in values]
    if not rows and isinstance(spec.get("data"), dict):
        rows = spec["data"].get("values", [])
    out: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        out.setdefault(row["run"], []).append((row["step"], row["value"]))
    return {k: sorted(v) for k, v in out.items()}


@pytest.fixture
def two_runs() -> list[str]:
    ids = []
    for name, scale in (("small", 1.0), ("large", 2.0)):
        with jt.start_run(run_name=name) as run:
            for step in range(4):
                jt.log_metric("loss", scale / (step + 1), step=step)
            jt.log_metric("acc", 0.5)
        ids.append(run.info.run_id)
    return ids


def _expected(ids: list[str]) -> dict[str, list[tuple[float, float]]]:
    return {
        f"small ({ids[0][:7]})": [(s, 1.0 / (s + 1)) for s in range(4)],
        f"large ({ids[1][:7]})": [(s, 2.0 / (s + 1)) for s in range(4)],
    }


def test_run_ids_and_a_search_runs_frame_draw_the_metric(two_runs: list[str]) -> None:
    expected = _expected(two_runs)
    assert _points(jt.charts.learning_curves(two_runs, metric="loss")) == expected
    frame = jt.search_runs()
    assert set(frame["run_id"]) == set(two_runs)
    assert _points(jt.charts.learning_curves(frame, metric="loss")) == expected
    runs = [jt.get_run(r) for r in two_runs]
    assert _points(jt.charts.learning_curves(runs, metric="loss")) == expected
    one = jt.charts.learning_curves(two_runs[0], metric="loss")
    assert list(_points(one)) == [f"small ({two_runs[0][:7]})"]


def test_buffered_points_are_drawn_without_a_flush() -> None:
    with jt.start_run() as run:
        jt.log_metric("loss", 3.0, step=0)
        jt.log_metric("loss", 1.0, step=1)  # still in the writer's buffer
        chart = jt.charts.learning_curves([run.info.run_id], metric="loss")
    assert [v for _, v in next(iter(_points(chart).values()))] == [3.0, 1.0]


def test_runs_without_a_metric_name_or_unknown_runs_say_so(two_runs: list[str]) -> None:
    with pytest.raises(ValueError, match="metric: name the metric"):
        jt.charts.learning_curves(two_runs)
    with pytest.raises(NotFound, match="does not exist"):
        jt.charts.learning_curves(["0" * 32], metric="loss")


def test_history_rows_still_work(two_runs: list[str]) -> None:
    rows = [
        {"run_id": two_runs[0], "run_name": "small", "step": s, "timestamp": s, "value": float(s)}
        for s in range(3)
    ]
    assert _points(jt.charts.learning_curves(rows, metric="x")) == {
        f"small ({two_runs[0][:7]})": [(0, 0.0), (1, 1.0), (2, 2.0)]
    }
    assert _points(jt.charts.learning_curves(iter(rows), metric="x"))  # an iterator, read once
