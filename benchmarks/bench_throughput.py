"""1M metric points into one run, sustained until on disk (goal: >= 300k points/s, >= 50% of raw).

Ours: a loop of ``jt.log_metric("loss", value, step=i)`` then ``jt.flush()``; the clock stops
when every point is committed (the background writer flushes while the loop runs). Raw SQLite:
the same points from a generator into ``sqlite3.executemany`` in one transaction, into the same
table shape (same columns, same ``(run, key, step)`` index, WAL, synchronous=NORMAL) -- no
summaries, no validation. The store inserts with multi-row ``INSERT ... VALUES`` statements,
which cost about half of ``executemany``; a second line compares with raw SQLite doing the same.
MLflow: ``MlflowClient.log_batch`` with 1,000 points per call (its
maximum), on fewer points (say how many in the notes); points/s does not depend much on the
count.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from itertools import chain, islice

from _common import Context, Row, median, parser, run_benchmarks


def _ours(ctx: Context, points: int) -> float:
    import jupyter_track as jt
    from jupyter_track.store import open_store
    from jupyter_track.tracking import session

    path = ctx.scratch("ours-throughput") / "track.db"
    jt.set_tracking_uri(path)
    run = jt.start_run()
    jt.log_metric("warmup", 0.0)
    jt.flush()
    log_metric = jt.log_metric
    start = time.perf_counter()
    for i in range(points):
        log_metric("loss", i * 0.5, step=i)
    jt.flush()
    seconds = time.perf_counter() - start
    jt.end_run()
    summary = open_store(path).get_run(run.info.run_id).summaries["loss"]
    assert summary.count == points and summary.step == points - 1, summary
    session.current().close()
    return points / seconds


def _raw(ctx: Context, points: int) -> float:
    conn = sqlite3.connect(ctx.scratch("raw-throughput") / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TABLE metrics (run INTEGER NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, "
        "timestamp INTEGER NOT NULL, value REAL)"
    )
    conn.execute("CREATE INDEX metrics_by_run_key ON metrics (run, key, step)")
    now = time.time
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO metrics (run, key, step, timestamp, value) VALUES (?, ?, ?, ?, ?)",
        ((1, "loss", i, int(now() * 1000), i * 0.5) for i in range(points)),
    )
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return points / seconds


def _raw_multi_row(ctx: Context, points: int) -> float:
    """The same points with the multi-row ``INSERT ... VALUES`` statements the store uses."""
    conn = sqlite3.connect(ctx.scratch("raw-multi") / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TABLE metrics (run INTEGER NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, "
        "timestamp INTEGER NOT NULL, value REAL)"
    )
    conn.execute("CREATE INDEX metrics_by_run_key ON metrics (run, key, step)")
    now = time.time
    per = 4096  # as the store (when SQLite allows 32,766 parameters)
    sql = "INSERT INTO metrics (run, key, step, timestamp, value) VALUES " + ", ".join(
        ["(?, ?, ?, ?, ?)"] * per
    )
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    rows = ((1, "loss", i, int(now() * 1000), i * 0.5) for i in range(points))
    while True:
        chunk = list(islice(rows, per))
        if len(chunk) < per:
            break
        conn.execute(sql, list(chain.from_iterable(chunk)))
    if chunk:
        conn.executemany(
            "INSERT INTO metrics (run, key, step, timestamp, value) VALUES (?, ?, ?, ?, ?)", chunk
        )
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return points / seconds


def _rollup_cost(ctx: Context, points: int) -> tuple[float, float]:
    """Seconds for ``write_metric_rows`` of one prebuilt batch, with and without the rollup
    hook the server's charts read (``histories.update_rollups``)."""
    from jupyter_track.store import SQLiteStore
    from jupyter_track.store import metrics as store_metrics

    rows = [(1, "loss", i, 1_700_000_000_000 + i, i * 0.5) for i in range(points)]
    seconds = []
    hook = store_metrics.update_rollups
    for with_rollup in (True, False):
        store = SQLiteStore(ctx.scratch("rollup-cost") / "track.db")
        with store.db.write() as conn:
            conn.execute(
                "INSERT INTO runs (id, run_id, experiment_id, status, start_time) "
                "VALUES (1, 'r', 0, 'RUNNING', 0)"
            )
        if not with_rollup:
            store_metrics.update_rollups = lambda conn, rows, **kw: None
        try:
            start = time.perf_counter()
            store.write_metric_rows(rows)
            seconds.append(time.perf_counter() - start)
        finally:
            store_metrics.update_rollups = hook
        store.close()
    return seconds[0], seconds[1]


def bench(ctx: Context) -> list[Row]:
    """Interleaved rounds: ours, MLflow, raw; medians in points/s."""
    points = 20_000 if ctx.quick else 1_000_000
    ml_points = 2_000 if ctx.quick else 50_000
    ours, raw, ml, with_rollup, without_rollup = [], [], [], [], []
    raw_multi: list[float] = []
    for n in range(ctx.rounds):
        # ours and raw back to back (their ratio is the figure that matters), then the rest
        ours.append(_ours(ctx, points))
        raw.append(_raw(ctx, points))
        raw_multi.append(_raw_multi_row(ctx, points))
        a, b = _rollup_cost(ctx, points // 5)
        with_rollup.append(a)
        without_rollup.append(b)
        if ctx.mlflow is not None:
            answer = ctx.mlflow.call(
                "log_batch",
                folder=str(ctx.scratch(f"mlflow-throughput-{n}")),
                points=ml_points,
                batch=1000,
            )
            ml.append(answer["points"] / answer["seconds"])
    ours_m, raw_m = median(ours), median(raw)
    paired = median(o / r for o, r in zip(ours, raw))
    row = Row(
        f"{points:,} points into one run, sustained",
        "points/s",
        ours_m,
        median(ml) if ml else None,
        raw_m,
        goal=">= 300k/s, >= 50% raw",
        ok=ours_m >= 300_000 and ours_m >= 0.5 * raw_m and paired >= 0.5,
        lower_is_better=False,
    )
    row.notes.append(
        "logging loop + final flush, until committed; raw = generator -> executemany, one "
        "transaction, same columns + index; ours per round: "
        + ", ".join(f"{v / 1000:.0f}k" for v in ours)
        + "; raw: "
        + ", ".join(f"{v / 1000:.0f}k" for v in raw)
        + f"; median of the per-round ratios ours/raw (measured back to back): {paired:.0%}"
    )
    cost = median(with_rollup) / median(without_rollup) - 1
    row.notes.append(
        f"the chart rollup kept by write_metric_rows costs {100 * cost:+.0f}% on a "
        f"{points // 5:,}-point batch (with {median(with_rollup):.3f} s, without "
        f"{median(without_rollup):.3f} s, medians)"
    )
    if ml:
        row.notes.append(
            f"MLflow: log_batch of 1,000 points per call, {ml_points:,} points per round "
            "(not 1M: that would take minutes per round)"
        )
    else:
        row.notes.append(f"MLflow skipped: {ctx.skip_reason}")
    multi = Row(
        f"{points:,} points, vs raw multi-row INSERT",
        "points/s",
        ours_m,
        None,
        median(raw_multi),
        lower_is_better=False,
    )
    multi.notes.append(
        "raw with the store's own insert method (multi-row INSERT ... VALUES, 4,096 rows per "
        "statement, one transaction): what is left of our overhead once the insert method is "
        "the same; median of per-round ratios "
        f"{median(o / r for o, r in zip(ours, raw_multi)):.0%}"
    )
    return [row, multi]


def main() -> None:
    """Run this benchmark alone."""
    args = parser(__doc__.splitlines()[0]).parse_args()
    run_benchmarks([bench], args)


if __name__ == "__main__":
    sys.exit(main())
