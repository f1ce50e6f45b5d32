"""Metric histories for charts: downsampling, the rollup kept by the write path, the route."""

from __future__ import annotations

import json
import math
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from jupyter_track.store import SQLiteStore, histories
from jupyter_track.store.downsample import downsample_points, merge_buckets

API = ("jupyter-track", "api")


# ----------------------------------------------------------------------- pure downsampling


def test_short_series_is_returned_whole() -> None:
    points = [(i, i, float(i)) for i in range(50)]
    assert downsample_points(points, 100) == points


def test_downsampling_keeps_ends_extremes_and_order() -> None:
    rnd = random.Random(3)
    points = [(i, 1000 + i, rnd.random()) for i in range(100_000)]
    points[31_337] = (31_337, 1000 + 31_337, 50.0)  # a spike
    points[77_777] = (77_777, 1000 + 77_777, -50.0)  # a dip
    out = downsample_points(points, 500)
    assert len(out) <= 500
    assert out[0] == points[0] and out[-1] == points[-1]
    assert [p[0] for p in out] == sorted(p[0] for p in out)
    values = [p[2] for p in out]
    assert 50.0 in values and -50.0 in values
    # every kept point is a real point
    assert all(points[p[0]] == p for p in out)


def test_nan_is_never_an_extreme_but_all_nan_groups_show() -> None:
    points = [(i, i, math.nan if i % 2 else float(i)) for i in range(1000)]
    points += [(i, i, None) for i in range(1000, 2000)]  # NaN stored as NULL
    out = downsample_points(points, 40)
    assert len(out) <= 40
    finite = [p for p in out if p[2] is not None and p[2] == p[2]]
    assert max(p[2] for p in finite) == 998.0
    assert any(p[2] is None for p in out)  # the all-NaN stretch is still visible


def test_merge_buckets_keeps_extremes_and_bound() -> None:
    buckets = [(1024, -i, i * 10, i, float(i), i * 10 + 5, i) for i in range(1000)]
    buckets[400] = (1024, -999.0, 4000, 4000, 999.0, 4001, 4001)
    out = merge_buckets(buckets, 101, last=(10_000, 10_000, 0.5))
    assert len(out) <= 101
    values = [p[2] for p in out]
    assert -999.0 in values and 999.0 in values
    assert out[-1] == (10_000, 10_000, 0.5)


# ------------------------------------------------------------------------ rollup, write path


def reference_rollup(points: list[tuple[int, int, float]]) -> list[tuple[int, Any, Any]]:
    """(n, min, max) per bucket of ROLLUP_SIZE points in arrival order; NaN never an extreme."""
    out = []
    size = histories.ROLLUP_SIZE
    for start in range(0, len(points), size):
        values = [v for _, _, v in points[start : start + size] if v == v]
        chunk = points[start : start + size]
        out.append((len(chunk), min(values) if values else None, max(values) if values else None))
    return out


def stored_rollup(path: Path, pk: int, key: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT n, lo, lo_step, lo_ts, hi, hi_step, hi_ts FROM metric_rollups "
            "WHERE run = ? AND key = ? ORDER BY bucket",
            (pk, key),
        ).fetchall()
    finally:
        conn.close()


def test_write_path_keeps_the_rollup_exact(store: SQLiteStore, track_db: Path) -> None:
    rnd = random.Random(11)
    runs = [store.create_run("0").run_id for _ in range(2)]
    pks = [store.run_handle(r) for r in runs]
    series: dict[tuple[int, str], list[tuple[int, int, float]]] = {}
    rows = []
    for i in range(9000):
        for pk in pks:
            for key in ("loss", "acc"):
                roll = rnd.random()
                value = math.nan if roll < 0.02 else math.inf if roll < 0.03 else rnd.gauss(0, 1)
                point = (i, 1000 + i, value)
                series.setdefault((pk, key), []).append(point)
                rows.append((pk, key, *point))
    # uneven batches, so buckets are filled across several transactions
    start = 0
    while start < len(rows):
        size = rnd.choice([1, 7, 500, 3000, 20000])
        store.write_metric_rows(rows[start : start + size])
        start += size
    for (pk, key), points in series.items():
        stored = stored_rollup(track_db, pk, key)
        assert [(n, lo, hi) for n, lo, _, _, hi, _, _ in stored] == reference_rollup(points)
        by_position = {(s, t): v for s, t, v in points}
        for _, lo, lo_step, lo_ts, hi, hi_step, hi_ts in stored:
            assert by_position[(lo_step, lo_ts)] == lo  # the extreme's own step and time
            assert by_position[(hi_step, hi_ts)] == hi


def test_migration_backfills_the_rollup(store: SQLiteStore, track_db: Path) -> None:
    run_id = store.create_run("0").run_id
    pk = store.run_handle(run_id)
    rnd = random.Random(5)
    points = [(i, i, rnd.random()) for i in range(5000)]
    store.write_metric_rows([(pk, "loss", *p) for p in points])
    before = stored_rollup(track_db, pk, "loss")
    store.close()
    # make the file look like it was written before migration 3
    conn = sqlite3.connect(track_db)
    conn.execute("DROP TABLE metric_rollups")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    reopened = SQLiteStore(track_db)
    reopened.db.conn()  # migrates
    after = stored_rollup(track_db, pk, "loss")
    assert [(n, lo, hi) for n, lo, _, _, hi, _, _ in after] == reference_rollup(points)
    assert [(n, lo, hi) for n, lo, _, _, hi, _, _ in after] == [
        (n, lo, hi) for n, lo, _, _, hi, _, _ in before
    ]


# -------------------------------------------------------------------- metric_histories


def long_series(store: SQLiteStore, n: int, *, steps: bool = True) -> str:
    run_id = store.create_run("0", run_name="long").run_id
    pk = store.run_handle(run_id)
    rnd = random.Random(n)
    rows = []
    for i in range(n):
        value = math.exp(-i / n) + rnd.random() * 0.01
        if i == n // 3:
            value = 9.0
        if i == 2 * n // 3:
            value = -9.0
        rows.append((pk, "loss", i if steps else 0, 1_000_000 + i, value))
    for start in range(0, n, 10_000):
        store.write_metric_rows(rows[start : start + 10_000])
    return run_id


def test_long_series_comes_from_the_rollup(
    store: SQLiteStore, track_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = histories.RAW_LIMIT + 20_000
    run_id = long_series(store, n)
    reader = SQLiteStore(store.path, readonly=True)
    (series,) = reader.metric_histories([run_id], ["loss"], max_points=800)
    assert series["count"] == n and series["downsampled"] is True
    assert len(series["step"]) <= 800
    assert 9.0 in series["value"] and -9.0 in series["value"]
    assert series["step"][-1] == n - 1  # the last point is always there
    assert series["step"] == sorted(series["step"])
    # the same extremes as reading every point
    monkeypatch.setattr(histories, "RAW_LIMIT", 10**9)
    (raw,) = reader.metric_histories([run_id], ["loss"], max_points=800)
    assert max(raw["value"]) == max(series["value"]) and min(raw["value"]) == min(series["value"])
    # proof the rollup answered: without the points, the long series still charts
    monkeypatch.setattr(histories, "RAW_LIMIT", 50_000)
    conn = sqlite3.connect(track_db)
    conn.execute("DELETE FROM metrics")
    conn.commit()
    conn.close()
    (again,) = reader.metric_histories([run_id], ["loss"], max_points=800)
    assert again["value"] == series["value"]


def test_inconsistent_rollup_falls_back_to_points(store: SQLiteStore, track_db: Path) -> None:
    n = histories.RAW_LIMIT + 5_000
    run_id = long_series(store, n)
    conn = sqlite3.connect(track_db)
    conn.execute("DELETE FROM metric_rollups WHERE bucket = 3")  # e.g. an old writer
    conn.commit()
    conn.close()
    (series,) = store.metric_histories([run_id], ["loss"], max_points=500)
    assert 9.0 in series["value"] and -9.0 in series["value"]
    assert len(series["step"]) <= 500


def test_short_series_in_step_order_and_steps_all_zero(store: SQLiteStore) -> None:
    run_id = store.create_run("0").run_id
    store.log_metrics(run_id, [("acc", 0.3, 30, 2), ("acc", 0.1, 10, 0), ("acc", 0.2, 20, 1)])
    zero = long_series(store, 300, steps=False)
    (a,) = store.metric_histories([run_id], ["acc"])
    assert a["step"] == [0, 1, 2] and a["value"] == [0.1, 0.2, 0.3]
    assert a["downsampled"] is False
    (z,) = store.metric_histories([zero], ["loss"], max_points=100)
    assert set(z["step"]) == {0}
    assert z["timestamp"] == sorted(z["timestamp"])  # time orders a step-0 series


def test_several_runs_and_keys_in_the_order_asked(store: SQLiteStore) -> None:
    a = store.create_run("0", run_name="a").run_id
    b = store.create_run("0", run_name="b").run_id
    store.log_metrics(a, [("loss", 1.0, 1, 0), ("acc", 0.5, 1, 0)])
    store.log_metrics(b, [("loss", 2.0, 1, 0)])
    found = store.metric_histories([b, a], ["acc", "loss", "missing"])
    assert [(s["run_name"], s["key"]) for s in found] == [
        ("b", "loss"),
        ("a", "acc"),
        ("a", "loss"),
    ]


def test_purged_run_leaves_no_stale_rollup(store: SQLiteStore, track_db: Path) -> None:
    old = long_series(store, 3000)
    pk = store.run_handle(old)
    store.purge_runs([old])
    new = store.create_run("0").run_id
    new_pk = store.run_handle(new)
    store.write_metric_rows([(new_pk, "loss", i, i, 1.0) for i in range(10)])
    assert stored_rollup(track_db, new_pk, "loss") == []  # a short series has none
    store.write_metric_rows([(new_pk, "loss", i, i, 2.0) for i in range(10, 1100)])
    rollup = stored_rollup(track_db, new_pk, "loss")
    # not merged with the purged run's buckets, the 10 earlier points folded in
    assert [(r[0], r[1], r[4]) for r in rollup] == [(1024, 1.0, 2.0), (76, 2.0, 2.0)]
    if new_pk == pk:
        assert len(rollup) == 2


# ---------------------------------------------------------------------------------- route


async def test_history_route(jp_fetch: Any, store: SQLiteStore) -> None:
    a = store.create_run("0", run_name="a").run_id
    b = store.create_run("0", run_name="b").run_id
    store.log_metrics(a, [("loss", v, i, i) for i, v in enumerate([1.0, math.nan, 0.5])])
    store.log_metrics(b, [("loss", 2.0, 1, 0), ("loss", math.inf, 2, 1)])
    response = await jp_fetch(
        *API, "metrics", "history", params={"run_ids": f"{a},{b}", "keys": "loss"}
    )
    body = json.loads(response.body)
    assert body["max_points"] == 1000
    first, second = body["series"]
    assert first["run_id"] == a and first["value"] == [1.0, "NaN", 0.5]
    assert second["value"] == [2.0, "Infinity"]
    assert first["count"] == 3 and first["downsampled"] is False
    assert isinstance(first["start_time"], int)


async def test_history_route_downsamples(jp_fetch: Any, store: SQLiteStore) -> None:
    run_id = long_series(store, 5000)
    response = await jp_fetch(
        *API, "metrics", "history", params={"run_ids": run_id, "keys": "loss", "max_points": "50"}
    )
    (series,) = json.loads(response.body)["series"]
    assert len(series["value"]) <= 50 and series["downsampled"] is True
    assert 9.0 in series["value"] and -9.0 in series["value"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"run_ids": "feedbeef", "keys": "loss"}, 404),
        ({"keys": "loss"}, 400),
        ({"run_ids": "RUN"}, 400),
        ({"run_ids": "RUN", "keys": "loss", "max_points": "5"}, 400),
        ({"run_ids": "RUN", "keys": "loss", "max_points": "lots"}, 400),
    ],
)
async def test_history_route_bad_input(
    jp_fetch: Any, store: SQLiteStore, params: dict[str, str], code: int
) -> None:
    run_id = store.create_run("0").run_id
    params = {k: v.replace("RUN", run_id) for k, v in params.items()}
    response = await jp_fetch(*API, "metrics", "history", params=params, raise_error=False)
    assert response.code == code
    assert json.loads(response.body)["status"] == code
