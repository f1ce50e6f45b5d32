"""The metric write path: vectorized summaries, grouping, rollups, the writer's drain.

The fast code is checked against the plain per-point fold it replaced, on random batches with
NaN, +/-inf, repeated steps and timestamps, several runs and keys.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jupyter_track as jt
from jupyter_track.store import InvalidInput, SQLiteStore, histories
from jupyter_track.store.histories import update_rollups
from jupyter_track.store.metrics import _summarize_slow, group_rows, summarize
from jupyter_track.tracking.writer import _drain

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0]),
    st.integers(min_value=-5, max_value=5).map(float),
)
rows_strategy = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=3),
        st.sampled_from(["loss", "acc", "a b"]),
        st.integers(min_value=0, max_value=4),
        st.integers(min_value=0, max_value=4),
        values,
    ),
    min_size=1,
    max_size=60,
)


def _canonical(summaries: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    def fix(v: Any) -> Any:
        return "nan" if isinstance(v, float) and math.isnan(v) else v

    return sorted((tuple(fix(v) for v in s) for s in summaries), key=lambda s: (s[0], s[1]))


@settings(max_examples=400, deadline=None)
@given(rows_strategy)
def test_summaries_equal_the_per_point_fold(rows: list[tuple[Any, ...]]) -> None:
    assert _canonical(summarize(rows)) == _canonical(_summarize_slow(rows))


def test_summary_semantics_on_a_single_series() -> None:
    nan, inf = math.nan, math.inf
    rows = [
        (1, "m", 3, 10, 5.0),
        (1, "m", 3, 10, nan),  # same (step, ts): the later one is last
        (1, "m", 1, 99, -inf),
        (1, "m", 2, 50, 7.0),
    ]
    [(run, key, last, step, ts, lo, hi, count)] = summarize(rows)
    assert (run, key, step, ts, lo, hi, count) == (1, "m", 3, 10, -inf, 7.0, 4)
    assert math.isnan(last)
    [only_nan] = summarize([(1, "m", 0, 0, nan), (1, "m", 0, 1, nan)])
    assert only_nan[5] is None and only_nan[6] is None and only_nan[7] == 2


def test_group_rows_keeps_arrival_order_per_series() -> None:
    rows = [(1, "a", i, i, float(i)) for i in range(5)]
    assert group_rows(rows) == {(1, "a"): rows}
    mixed = [(1, "a", 0, 0, 0.0), (2, "a", 0, 0, 1.0), (1, "b", 0, 0, 2.0), (1, "a", 1, 1, 3.0)]
    assert group_rows(mixed) == {
        (1, "a"): [mixed[0], mixed[3]],
        (2, "a"): [mixed[1]],
        (1, "b"): [mixed[2]],
    }


def _run_pk(store: SQLiteStore) -> tuple[str, int]:
    info = store.create_run("0")
    return info.run_id, store.run_handle(info.run_id)


def _reference_buckets(points: list[tuple[Any, ...]], size: int) -> list[tuple[Any, ...]]:
    """(bucket, n, min, max) of a series' points in arrival order; NaN is never an extreme."""
    out = []
    for bucket, start in enumerate(range(0, len(points), size)):
        chunk = points[start : start + size]
        finite = [p[4] for p in chunk if p[4] == p[4]]
        low, high = (min(finite), max(finite)) if finite else (None, None)
        out.append((bucket, len(chunk), low, high))
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(rows_strategy, min_size=1, max_size=4), st.sampled_from([2, 5, 16, 1024]))
def test_batches_keep_summaries_and_rollups_exact(
    tmp_path_factory: pytest.TempPathFactory,
    batches: list[list[tuple[Any, ...]]],
    rollup_size: int,
) -> None:
    """Summaries equal the per-point fold; a series of at least ROLLUP_SIZE points has exactly
    the buckets of its points in arrival order (also when it reaches the size in a later
    batch, with points stored before it), a shorter one none. Small sizes make every batch
    shape cross the threshold."""
    store = SQLiteStore(tmp_path_factory.mktemp("db") / "track.db")
    pks = {}
    for n in (1, 2, 3):
        pks[n] = _run_pk(store)[1]
    everything = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(histories, "ROLLUP_SIZE", rollup_size)
        for batch in batches:
            rows = [(pks[r], k, s, t, v) for r, k, s, t, v in batch]
            store.write_metric_rows(rows)
            everything.extend(rows)
    conn = store.db.conn()
    stored = conn.execute(
        "SELECT run, key, last, step, timestamp, min, max, count FROM metric_summaries"
    ).fetchall()
    expected = [
        # the store keeps NaN as NULL
        tuple(None if isinstance(v, float) and math.isnan(v) else v for v in s)
        for s in _summarize_slow(everything)
    ]
    assert _canonical(stored) == _canonical(expected)
    stored_buckets: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
    for r, k, bucket, n, lo, hi in conn.execute(
        "SELECT run, key, bucket, n, lo, hi FROM metric_rollups ORDER BY run, key, bucket"
    ):
        stored_buckets.setdefault((r, k), []).append((bucket, n, lo, hi))
    series = group_rows(everything)
    assert stored_buckets == {
        k: _reference_buckets(list(points), rollup_size)
        for k, points in series.items()
        if len(points) >= rollup_size
    }


def test_rollups_are_the_same_with_or_without_pregrouped_rows(tmp_path: Path) -> None:
    rows = [(1, "k" + str(i % 3), i, i, float(i % 7) if i % 11 else math.nan) for i in range(9000)]
    results = []
    for pregrouped in (False, True):
        store = SQLiteStore(tmp_path / f"{pregrouped}.db")
        with store.db.write() as conn:
            update_rollups(conn, rows, groups=group_rows(rows) if pregrouped else None)
            results.append(conn.execute("SELECT * FROM metric_rollups ORDER BY 1, 2, 3").fetchall())
    assert results[0] == results[1] and len(results[0]) == 3 * 3


def test_nan_is_stored_as_null_and_inf_is_kept(store: SQLiteStore) -> None:
    run_id, pk = _run_pk(store)
    store.write_metric_rows(
        [(pk, "m", 0, 1, math.nan), (pk, "m", 1, 2, math.inf), (pk, "m", 2, 3, -math.inf)]
    )
    raw = [v for (v,) in store.db.conn().execute("SELECT value FROM metrics ORDER BY step")]
    assert raw == [None, math.inf, -math.inf]
    history = [m.value for m in store.get_metric_history(run_id, "m")]
    assert math.isnan(history[0]) and history[1:] == [math.inf, -math.inf]
    summary = store.get_run(run_id).summaries["m"]
    assert (summary.min, summary.max, summary.count, summary.last) == (
        -math.inf,
        math.inf,
        3,
        -math.inf,
    )


def test_drain_takes_what_is_there_and_leaves_racing_appends() -> None:
    queue: deque[int] = deque(range(10))
    assert _drain(queue) == list(range(10)) and not queue
    seen: list[int] = []

    def produce() -> None:
        for i in range(200_000):
            queue.append(i)

    producer = threading.Thread(target=produce)
    producer.start()
    while producer.is_alive():
        seen.extend(_drain(queue))
    producer.join()
    seen.extend(_drain(queue))
    assert seen == list(range(200_000))


def test_log_metric_defaults_and_log_metrics_errors_name_each_key() -> None:
    with jt.start_run() as run:
        jt.log_metric("a", 1)  # int value, no step: step 0
        jt.log_metrics({"b": 2.5, "c": 3}, step=4)
        with pytest.raises(InvalidInput) as info:
            jt.log_metrics({"d": 1.0, "e": 2.0}, step=1.5)
        assert "'d'" in str(info.value) and "'e'" in str(info.value)
        with pytest.raises(InvalidInput) as info:
            jt.log_metrics({"f": 1.0, "": 2.0, "g": "x"}, step=2)
        assert "'g'" in str(info.value) and "must not be empty" in str(info.value)
    data = jt.get_run(run.info.run_id).data
    assert data.metrics == {"a": 1.0, "b": 2.5, "c": 3.0, "f": 1.0}
    assert [m.step for m in jt.get_metric_history(run.info.run_id, "a")] == [0]
    assert [m.step for m in jt.get_metric_history(run.info.run_id, "c")] == [4]


def test_rollups_of_many_series_in_one_batch_and_leftovers_of_a_reused_pk(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(histories, "ROLLUP_SIZE", 2)
    _, pk = _run_pk(store)
    _, pk2 = _run_pk(store)
    conn = store.db.conn()
    with store.db.write():  # a leftover rollup row, as a purged run with the same pk leaves
        conn.execute(
            "INSERT INTO metric_rollups (run, key, bucket, n, lo, hi) "
            "VALUES (?, 'k7', 0, 99, 0, 0)",
            (pk,),
        )
    keys = [f"k{i}" for i in range(1200)]  # more keys than one statement takes
    store.write_metric_rows([(r, k, 0, 0, 1.0) for r in (pk, pk2) for k in keys])
    no_rollup_yet = conn.execute("SELECT count(*) FROM metric_rollups").fetchone()[0]
    assert no_rollup_yet == 1  # one point per series: below the size, only the leftover
    store.write_metric_rows([(pk, k, 1, 1, 2.0) for k in keys])  # pk's series reach the size
    rows = conn.execute("SELECT run, key, n, lo, hi FROM metric_rollups").fetchall()
    assert len(rows) == 1200 and all(r == (pk, r[1], 2, 1.0, 2.0) for r in rows)  # k7 replaced


def test_a_run_with_a_few_metrics_writes_no_rollup(store: SQLiteStore) -> None:
    """Short series are read point by point: a run's final scores cost no rollup rows."""
    run_id, pk = _run_pk(store)
    store.write_metric_rows([(pk, f"m{i}", 0, 0, float(i)) for i in range(5)])
    assert store.db.conn().execute("SELECT count(*) FROM metric_rollups").fetchone()[0] == 0
    assert store.get_run(run_id).data.metrics == {f"m{i}": float(i) for i in range(5)}


class _SlowStore:
    """A store whose metric writes block until released (a flush the logging thread starves)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.rows: list[Any] = []

    def write_metric_rows(self, rows: Any) -> None:
        self.entered.set()
        self.release.wait(30)
        self.rows.extend(rows)

    def write_cell_executions(self, rows: Any) -> None:
        pass


def test_an_overdue_flush_makes_the_logging_thread_wait_for_it() -> None:
    from jupyter_track.tracking.writer import IDLE, BackgroundWriter

    store = _SlowStore()
    writer = BackgroundWriter(store, interval=0.05)
    assert writer.relief_deadline == IDLE
    writer.append_metric((1, "m", 0, 0, 1.0))
    flusher = threading.Thread(target=writer.flush)
    flusher.start()
    assert store.entered.wait(10)
    assert writer.relief_deadline != IDLE  # a flush is running: the deadline is published
    relieved = threading.Event()

    def log_thread() -> None:
        writer.relieve()
        relieved.set()

    waiter = threading.Thread(target=log_thread)
    waiter.start()
    assert not relieved.wait(0.2)  # still waiting for the flush
    store.release.set()
    assert relieved.wait(10) and store.rows == [(1, "m", 0, 0, 1.0)]
    flusher.join(10)
    waiter.join(10)
    assert writer.relief_deadline == IDLE


def test_relief_gives_up_on_a_stuck_flush_and_does_not_wait_again() -> None:
    from jupyter_track.tracking.writer import IDLE, BackgroundWriter

    store = _SlowStore()
    writer = BackgroundWriter(store, interval=0.05)
    writer.max_relief_wait = 0.01
    writer.append_metric((1, "m", 0, 0, 1.0))
    flusher = threading.Thread(target=writer.flush)
    flusher.start()
    assert store.entered.wait(10)
    writer.relieve()  # returns after max_relief_wait although the flush still runs
    assert writer.relief_deadline == IDLE and flusher.is_alive()
    store.release.set()
    flusher.join(10)


def test_log_metric_yields_to_an_overdue_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_track.tracking import session

    with jt.start_run():
        jt.log_metric("m", 1.0)
        writer = session.current().started_writer
        assert writer is not None
        calls: list[str] = []
        monkeypatch.setattr(writer, "relief_deadline", 0.0)  # long overdue
        monkeypatch.setattr(writer, "relieve", lambda: calls.append("relieve"))
        jt.log_metric("m", 2.0)
        jt.log_metrics({"a": 1.0})
        assert calls == ["relieve", "relieve"]
        monkeypatch.undo()


@pytest.mark.parametrize("n", [1, 2, 7, 511, 512, 513, 2049, 4096, 9000])
@pytest.mark.parametrize("limit", [32766, 999, 9])
def test_multi_row_inserts_store_every_point_exactly_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, limit: int
) -> None:
    from jupyter_track.store.dialects import sqlite as sqlite_dialect

    monkeypatch.setattr(sqlite_dialect, "_variable_limit", lambda conn: limit)
    store = SQLiteStore(tmp_path / "track.db")
    _, pk = _run_pk(store)
    # (-0.0 is not in the list: SQLite stores a whole REAL as an integer, so it reads back 0.0)
    special = [math.nan, math.inf, -math.inf, 5e-324, 1.7976931348623157e308, 0.1, -2.5]
    rows = [
        (
            pk,
            "ключ" if i % 3 else "loss",
            i * 7 - 3,
            1_700_000_000_000 + i,
            special[i % 7] * (i + 1),
        )
        for i in range(n)
    ]
    store.write_metric_rows(rows)
    stored = (
        store.db.conn()
        .execute("SELECT run, key, step, timestamp, value FROM metrics ORDER BY rowid")
        .fetchall()
    )
    assert stored == [(r, k, s, t, None if v != v else v) for r, k, s, t, v in rows]


def test_malformed_rows_are_refused_before_anything_is_written(store: SQLiteStore) -> None:
    _, pk = _run_pk(store)
    with pytest.raises(InvalidInput, match="tuples"):
        store.write_metric_rows([(pk, "a", 0, 0, 1.0), (pk, "a", 0, 0), (pk, "a", 0, 0, 1.0, 9)])
    assert store.db.conn().execute("SELECT count(*) FROM metrics").fetchone()[0] == 0


class _SlowCellsStore(_SlowStore):
    """Cell-log writes block until released; metric writes are immediate."""

    def write_metric_rows(self, rows: Any) -> None:
        self.rows.extend(rows)

    def write_cell_executions(self, rows: Any) -> None:
        self.entered.set()
        self.release.wait(30)


def test_run_end_flush_does_not_wait_for_a_cell_log_write() -> None:
    from jupyter_track.tracking.writer import BackgroundWriter

    store = _SlowCellsStore()
    writer = BackgroundWriter(store, interval=3600)
    writer.append_cell(("session", None, None, 1, "pass", 0, 0.1, "ok", None, None))
    background = threading.Thread(target=writer.flush)
    background.start()
    assert store.entered.wait(10)  # the cell row is being written
    writer.flush(metrics_only=True)  # nothing of the run's to write: returns at once
    writer.append_metric((1, "m", 0, 0, 1.0))
    done = threading.Event()

    def run_end() -> None:
        writer.flush(metrics_only=True)  # a point is buffered: waits for the lock, writes it
        done.set()

    ender = threading.Thread(target=run_end)
    ender.start()
    assert not done.wait(0.2)
    store.release.set()
    assert done.wait(10) and store.rows == [(1, "m", 0, 0, 1.0)]
    background.join(10)
    ender.join(10)


def test_run_end_flush_waits_for_metrics_a_background_flush_is_writing() -> None:
    from jupyter_track.tracking.writer import BackgroundWriter

    store = _SlowStore()
    writer = BackgroundWriter(store, interval=3600)
    writer.append_metric((1, "m", 0, 0, 1.0))
    background = threading.Thread(target=writer.flush)
    background.start()
    assert store.entered.wait(10)  # drained, not committed
    assert not writer.metrics
    done = threading.Event()

    def run_end() -> None:
        writer.flush(metrics_only=True)
        done.set()

    ender = threading.Thread(target=run_end)
    ender.start()
    assert not done.wait(0.2)  # the run's last points are in flight: run end waits
    store.release.set()
    assert done.wait(10) and store.rows == [(1, "m", 0, 0, 1.0)]
    background.join(10)
    ender.join(10)


def test_threads_of_one_process_queue_for_writes_without_the_busy_handler(
    store: SQLiteStore,
) -> None:
    """With SQLite's busy timeout at 0, a second thread's write only succeeds because it
    waits on the process-wide write lock instead of polling the file lock."""
    holding = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []
    run_id, pk = _run_pk(store)

    def first() -> None:
        with store.db.write() as conn:
            conn.execute("UPDATE runs SET run_name = 'first' WHERE id = ?", (pk,))
            holding.set()
            release.wait(10)

    def second() -> None:
        try:
            store.db.conn().execute("PRAGMA busy_timeout = 0")
            store.write_metric_rows([(pk, "m", 0, 0, 1.0)])
        except BaseException as exc:  # pragma: no cover - the failure this test guards
            errors.append(exc)

    a = threading.Thread(target=first)
    a.start()
    assert holding.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.2)
    assert b.is_alive()  # queued behind the first transaction
    release.set()
    a.join(10)
    b.join(10)
    assert errors == []
    assert store.get_run(run_id).data.metrics == {"m": 1.0}
    with store.db.write() as conn, store.db.write() as inner:  # nested use joins
        assert inner is conn


def test_a_large_batch_makes_logging_threads_wait_for_its_flush_at_once() -> None:
    """A loop logging faster than the writer can write while sharing the GIL with it waits for
    a large batch's flush at once (not only once it is overdue); a small batch publishes a
    deadline in the future, as before."""
    from jupyter_track.tracking.writer import IDLE, BackgroundWriter

    store = _SlowStore()
    writer = BackgroundWriter(store, interval=0.05)
    writer.yield_batch = 3
    for i in range(2):  # small: the usual deadline, in the future
        writer.append_metric((1, "m", i, 0, 1.0))
    flusher = threading.Thread(target=writer.flush)
    flusher.start()
    assert store.entered.wait(10)
    assert writer.relief_deadline not in (IDLE, 0)
    store.release.set()
    flusher.join(10)
    assert writer.relief_deadline == IDLE

    store.entered.clear()
    store.release.clear()
    for i in range(3):  # large: due at once
        writer.append_metric((1, "m", i, 0, 2.0))
    flusher = threading.Thread(target=writer.flush)
    flusher.start()
    assert store.entered.wait(10)
    assert writer.relief_deadline == 0
    relieved = threading.Event()

    def log_thread() -> None:
        jt_now = 1  # any clock reading is past a deadline of 0
        if jt_now > writer.relief_deadline:
            writer.relieve()
        relieved.set()

    waiter = threading.Thread(target=log_thread)
    waiter.start()
    assert not relieved.wait(0.2)  # waits for the flush
    store.release.set()
    assert relieved.wait(10) and len(store.rows) == 5
    flusher.join(10)
    waiter.join(10)
    assert writer.relief_deadline == IDLE


def test_a_million_points_from_a_tight_loop_are_all_stored(tmp_path: Path) -> None:
    """The adaptive flush under a loop that never gives up the GIL: every point stored, in
    order, and the summary exact (the throughput benchmark's workload, smaller)."""
    import sqlite3

    jt.set_tracking_uri(tmp_path / "t.db")
    n = 200_000
    with jt.start_run() as run:
        log_metric = jt.log_metric
        for i in range(n):
            log_metric("loss", i * 0.5, step=i)
    conn = sqlite3.connect(tmp_path / "t.db")
    count, lo, hi, ordered = conn.execute(
        "SELECT count(*), min(step), max(step), "
        "sum(value = step * 0.5) FROM metrics WHERE key = 'loss'"
    ).fetchone()
    assert (count, lo, hi, ordered) == (n, 0, n - 1, n)
    got = jt.get_run(run.info.run_id)
    assert got.data.metrics["loss"] == (n - 1) * 0.5
