"""``log_metric`` on the caller's thread: median time per call (goal: <= 5 us).

Ours: ``jt.log_metric(key, value, step=i)`` on an active run while the background writer runs,
timed in blocks of calls (a per-call timer would cost more than the call); the median block
divided by its size. MLflow: ``mlflow.log_metric`` (synchronous, its default) timed the same way
with smaller blocks, and ``synchronous=False`` (its async mode) as a second line. Raw SQLite: one
autocommit ``INSERT`` per point (WAL, synchronous=NORMAL): what a logger that writes on the
caller's thread pays at least.
"""

from __future__ import annotations

import sqlite3
import sys
import time

from _common import Context, Row, median, parser, run_benchmarks


def _ours(ctx: Context, calls: int, blocks: int) -> list[float]:
    import jupyter_track as jt
    from jupyter_track.tracking import session

    jt.set_tracking_uri(ctx.scratch("ours-log-metric") / "track.db")
    run = jt.start_run()
    jt.log_metric("loss", 0.0)  # starts the writer, validates the key once
    jt.flush()
    log_metric = jt.log_metric
    per_call = []
    step = 0
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            log_metric("loss", step * 0.5, step=step)
            step += 1
        per_call.append((time.perf_counter() - start) / calls)
    jt.end_run()
    stored = len(jt.get_metric_history(run.info.run_id, "loss"))
    assert stored == step + 1, (stored, step + 1)
    session.current().close()
    return per_call


def _raw(ctx: Context, calls: int, blocks: int) -> list[float]:
    conn = sqlite3.connect(ctx.scratch("raw-log-metric") / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TABLE metrics (run INTEGER NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, "
        "timestamp INTEGER NOT NULL, value REAL)"
    )
    conn.execute("CREATE INDEX metrics_by_run_key ON metrics (run, key, step)")
    insert = "INSERT INTO metrics (run, key, step, timestamp, value) VALUES (?, ?, ?, ?, ?)"
    execute = conn.execute
    per_call = []
    step = 0
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            execute(insert, (1, "loss", step, int(time.time() * 1000), step * 0.5))
            step += 1
        per_call.append((time.perf_counter() - start) / calls)
    conn.close()
    return per_call


def bench(ctx: Context) -> list[Row]:
    """Interleaved rounds of ours, MLflow (sync and async), raw; medians in microseconds."""
    if ctx.quick:
        ours_calls, ours_blocks, ml_calls, ml_blocks, raw_calls, raw_blocks = 100, 10, 5, 2, 20, 5
    else:
        ours_calls, ours_blocks = 1000, 200
        ml_calls, ml_blocks = 20, 10
        raw_calls, raw_blocks = 200, 10
    ours: list[float] = []
    raw: list[float] = []
    ml_sync: list[float] = []
    ml_async: list[float] = []
    ml_drain: list[float] = []
    for n in range(ctx.rounds):
        ours += _ours(ctx, ours_calls, ours_blocks)
        if ctx.mlflow is not None:
            ctx.mlflow.call("setup_run", folder=str(ctx.scratch(f"mlflow-log-metric-{n}")))
            ml_sync += ctx.mlflow.call(
                "log_metric", calls=ml_calls, blocks=ml_blocks, synchronous=True
            )["per_call"]
            answer = ctx.mlflow.call(
                "log_metric", calls=ml_calls * 5, blocks=ml_blocks, synchronous=False
            )
            ml_async += answer["per_call"]
            ml_drain.append(answer["drain"])
            ctx.mlflow.call("end_run")
        raw += _raw(ctx, raw_calls, raw_blocks)
    us = 1e6
    main = Row(
        "log_metric, caller's thread",
        "us/call",
        median(ours) * us,
        median(ml_sync) * us if ml_sync else None,
        median(raw) * us,
        goal="<= 5 us",
        ok=median(ours) * us <= 5,
    )
    main.notes.append(
        f"median of {len(ours)} blocks of {ours_calls:,} calls (background writer running); "
        f"MLflow: {len(ml_sync)} blocks of {ml_calls} synchronous calls; raw: one autocommit "
        "INSERT per point"
    )
    rows = [main]
    if not ctx.mlflow:
        main.notes.append(f"MLflow skipped: {ctx.skip_reason}")
    if ml_async:
        extra = Row(
            "log_metric, MLflow synchronous=False",
            "us/call",
            median(ours) * us,
            median(ml_async) * us,
            None,
        )
        extra.notes.append(
            "MLflow's async mode (queue + thread); MLflow column = its caller-thread cost; "
            f"its queue then took a median {median(ml_drain) * 1000:.0f} ms to drain "
            f"{ml_calls * 5 * ml_blocks:,} points"
        )
        rows.append(extra)
    return rows


def main() -> None:
    """Run this benchmark alone."""
    args = parser(__doc__.splitlines()[0]).parse_args()
    run_benchmarks([bench], args)


if __name__ == "__main__":
    sys.exit(main())
