"""1,000 runs x (10 params + 5 metrics) through the API (goal: <= 1 s).

Each run: ``with start_run(): log_params({10}); log_metrics({5})`` on both sides (MLflow's
cheapest pattern: log_metrics is one log_batch call). One warm-up run first on each side, so
store creation and the first run's provenance are not timed (``bench_startup`` times those).
MLflow is measured on fewer runs per round and scaled to 1,000 (the notes say how many).
Raw SQLite: the same rows with plain ``sqlite3`` into jupyter-track's own tables, one
``BEGIN IMMEDIATE`` transaction per run (run row, 10 params, 5 points, 5 summaries, status
update) -- the floor for a store that commits every run.
"""

from __future__ import annotations

import sys
import time
import uuid

from _common import Context, Row, median, parser, run_benchmarks


def _ours(ctx: Context, n: int) -> float:
    import jupyter_track as jt
    from jupyter_track.store import ViewType, open_store
    from jupyter_track.tracking import session

    path = ctx.scratch("ours-runs") / "track.db"
    jt.set_tracking_uri(path)
    experiment_id = jt.set_experiment("bench-runs").experiment_id
    with jt.start_run():
        jt.log_params({f"p{j}": j for j in range(10)})
    start = time.perf_counter()
    for i in range(n):
        with jt.start_run():
            jt.log_params({f"p{j}": j * i for j in range(10)})
            jt.log_metrics({f"m{k}": k * 0.5 + i for k in range(5)})
    seconds = time.perf_counter() - start
    page = open_store(path).search_runs(
        [experiment_id], "metrics.m4 >= 0", run_view_type=ViewType.ALL, max_results=n + 10
    )
    assert len(page.runs) == n, len(page.runs)
    session.current().close()
    return seconds


def _raw(ctx: Context, n: int) -> float:
    from jupyter_track.store import db

    path = ctx.scratch("raw-runs") / "raw.db"
    conn = db.connect(path)
    db.migrate(conn)
    now = time.time
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        ts = int(now() * 1000)
        run_id = uuid.uuid4().hex
        pk = conn.execute(
            "INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, "
            "lifecycle_stage) VALUES (?, 0, ?, 'RUNNING', ?, 'active')",
            (run_id, f"run-{i}", ts),
        ).lastrowid
        conn.executemany(
            "INSERT INTO params (run, key, value, num) VALUES (?, ?, ?, ?)",
            [(pk, f"p{j}", str(j * i), float(j * i)) for j in range(10)],
        )
        points = [(pk, f"m{k}", 0, ts, k * 0.5 + i) for k in range(5)]
        conn.executemany(
            "INSERT INTO metrics (run, key, step, timestamp, value) VALUES (?, ?, ?, ?, ?)",
            points,
        )
        conn.executemany(
            "INSERT INTO metric_summaries (run, key, last, step, timestamp, min, max, count) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
            [(r, k, v, s, t, v, v) for r, k, s, t, v in points],
        )
        conn.execute(
            "UPDATE runs SET status = 'FINISHED', end_time = ? WHERE id = ?",
            (int(now() * 1000), pk),
        )
        conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def bench(ctx: Context) -> list[Row]:
    """Interleaved rounds: ours, MLflow (fewer runs, scaled), raw; medians in seconds."""
    n = 50 if ctx.quick else 1000
    ml_n = 5 if ctx.quick else 100
    ours, raw, ml = [], [], []
    for r in range(ctx.rounds):
        ours.append(_ours(ctx, n))
        if ctx.mlflow is not None:
            answer = ctx.mlflow.call(
                "runs", folder=str(ctx.scratch(f"mlflow-runs-{r}")), n=ml_n, params=10, metrics=5
            )
            ml.append(answer["seconds"] * n / ml_n)
        raw.append(_raw(ctx, n))
    row = Row(
        f"{n:,} runs x (10 params + 5 metrics)",
        "s",
        median(ours),
        median(ml) if ml else None,
        median(raw),
        goal="<= 1 s" if n == 1000 else "",
        ok=median(ours) <= 1.0 if n == 1000 else None,
    )
    row.notes.append(
        "start_run + log_params + log_metrics + end_run per run; raw: one transaction per run "
        "into the same tables; ours per round: " + ", ".join(f"{v:.2f}" for v in ours)
    )
    if ml:
        row.notes.append(
            f"MLflow measured on {ml_n} runs per round and scaled x{n // ml_n} to {n:,} runs"
        )
    else:
        row.notes.append(f"MLflow skipped: {ctx.skip_reason}")
    return [row]


def main() -> None:
    """Run this benchmark alone."""
    args = parser(__doc__.splitlines()[0]).parse_args()
    run_benchmarks([bench], args)


if __name__ == "__main__":
    sys.exit(main())
