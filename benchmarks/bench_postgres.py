"""PostgreSQL: jupyter-track vs MLflow 3.17.2 (same server) vs raw psycopg, issue 10's targets.

A PostgreSQL 15 server is started for the run (Debian's binaries, as in the tests:
``tests/pgtools.py``), with ``synchronous_commit=off`` (commits do not wait for the WAL flush;
``fsync`` stays on) so that a shared machine's disk does not dominate; both sides use it. Every
measurement gets a fresh database.

* 1,000 runs x (10 params + 5 metrics) through the API (goal <= 2 s); MLflow on 100 runs,
  scaled; raw: the same rows with psycopg, one transaction per run, into jupyter-track's tables.
* 1M metric points into one run, sustained (goal >= 200k points/s and >= 50% of raw): the
  ``log_metric`` loop and the final flush; raw: the same rows with one binary ``COPY``; MLflow:
  ``log_batch`` of 1,000 points on 50k points.
* ``search_runs``, two clauses + order, over 100,000 runs (goal <= 100 ms): runs written by COPY
  (``_search_data.py``); raw: hand-written SQL run by psycopg.
* 8 writer processes at once, 100k points each: aggregate points/s (goal: no slower than one).
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from typing import Any

from _common import HERE, Context, Row, median, parser, run_benchmarks
from _search_data import FILTER, ORDER_BY, synthetic_runs

sys.path.insert(0, str(HERE.parent / "tests"))
import pgtools

_server: Any = None


def server() -> Any:
    """The benchmark's PostgreSQL (started once per process)."""
    global _server
    if _server is None:
        bin_dir = pgtools.find_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        _server = pgtools.PostgresServer(
            bin_dir,
            durable=True,
            settings={"synchronous_commit": "off", "shared_buffers": "256MB"},
        ).start()
    return _server


def fresh(prefix: str, *, schema: bool = True) -> str:
    """A new database; with ``schema``, at jupyter-track's schema."""
    uri = server().create_database(f"{prefix}_{uuid.uuid4().hex[:10]}")
    if schema:
        from jupyter_track.store import connect_store

        store = connect_store(uri)
        store.upgrade()
        store.close()
    return uri


def _for_mlflow(uri: str) -> str:
    """MLflow's SQLAlchemy URI for the same database (its venv has psycopg2)."""
    return uri.replace("postgresql://", "postgresql+psycopg2://", 1)


def _mlflow_ready(ctx: Context) -> bool:
    """MLflow's PostgreSQL driver (psycopg2) in its venv, installed once."""
    if ctx.mlflow is None or ctx.mlflow_python is None:
        return False
    probe = subprocess.run([str(ctx.mlflow_python), "-c", "import psycopg2"], check=False)
    if probe.returncode != 0:
        subprocess.run(
            [str(ctx.mlflow_python), "-m", "pip", "install", "-q", "psycopg2-binary"], check=False
        )
        probe = subprocess.run([str(ctx.mlflow_python), "-c", "import psycopg2"], check=False)
    return probe.returncode == 0


# ------------------------------------------------------------------------------------ runs


def _ours_runs(n: int) -> float:
    import jupyter_track as jt
    from jupyter_track.store import ViewType, connect_store
    from jupyter_track.tracking import session

    uri = fresh("ours_runs")
    jt.set_tracking_uri(uri)
    experiment_id = jt.set_experiment("bench-runs").experiment_id
    with jt.start_run():
        jt.log_params({f"p{j}": j for j in range(10)})
    start = time.perf_counter()
    for i in range(n):
        with jt.start_run():
            jt.log_params({f"p{j}": j * i for j in range(10)})
            jt.log_metrics({f"m{k}": k * 0.5 + i for k in range(5)})
    seconds = time.perf_counter() - start
    session.current().close()
    store = connect_store(uri)
    page = store.search_runs(
        [experiment_id], "metrics.m4 >= 0", run_view_type=ViewType.ALL, max_results=n + 10
    )
    assert len(page.runs) == n, len(page.runs)
    store.close()
    jt.set_tracking_uri(None)
    return seconds


def _raw_runs(n: int) -> float:
    import psycopg

    uri = fresh("raw_runs")
    with psycopg.connect(uri, autocommit=True) as conn:
        now = time.time
        start = time.perf_counter()
        for i in range(n):
            with conn.transaction():
                ts = int(now() * 1000)
                (pk,) = conn.execute(
                    "INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, "
                    "lifecycle_stage) VALUES (%s, 0, %s, 'RUNNING', %s, 'active') RETURNING id",
                    (uuid.uuid4().hex, f"run-{i}", ts),
                ).fetchone()  # type: ignore[misc]
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO params (run, key, value, num) VALUES (%s, %s, %s, %s)",
                        [(pk, f"p{j}", str(j * i), float(j * i)) for j in range(10)],
                    )
                    points = [(pk, f"m{k}", 0, ts, k * 0.5 + i) for k in range(5)]
                    cur.executemany(
                        "INSERT INTO metrics (run, key, step, timestamp, value) "
                        "VALUES (%s, %s, %s, %s, %s)",
                        points,
                    )
                    cur.executemany(
                        "INSERT INTO metric_summaries (run, key, last, step, timestamp, min, max, "
                        "count) VALUES (%s, %s, %s, %s, %s, %s, %s, 1)",
                        [(r, k, v, s, t, v, v) for r, k, s, t, v in points],
                    )
                conn.execute(
                    "UPDATE runs SET status = 'FINISHED', end_time = %s WHERE id = %s",
                    (int(now() * 1000), pk),
                )
        return time.perf_counter() - start


def bench_runs(ctx: Context, use_mlflow: bool) -> Row:
    n = 50 if ctx.quick else 1000
    ml_n = 5 if ctx.quick else 100
    ours, raw, ml = [], [], []
    for r in range(ctx.rounds):
        ours.append(_ours_runs(n))
        if use_mlflow:
            answer = ctx.mlflow.call(  # type: ignore[union-attr]
                "runs",
                folder=str(ctx.scratch(f"mlflow-pg-runs-{r}")),
                n=ml_n,
                params=10,
                metrics=5,
                uri=_for_mlflow(fresh("mlflow_runs", schema=False)),
            )
            ml.append(answer["seconds"] * n / ml_n)
        raw.append(_raw_runs(n))
    row = Row(
        f"PostgreSQL: {n:,} runs x (10 params + 5 metrics)",
        "s",
        median(ours),
        median(ml) if ml else None,
        median(raw),
        goal="<= 2 s" if n == 1000 else "",
        ok=median(ours) <= 2.0 if n == 1000 else None,
    )
    row.notes.append("ours per round: " + ", ".join(f"{v:.2f}" for v in ours))
    row.notes.append("raw: psycopg, one transaction per run into the same tables")
    if ml:
        row.notes.append(
            f"MLflow (PostgreSQL backend) on {ml_n} runs per round, scaled x{n // ml_n}"
        )
    return row


# ------------------------------------------------------------------------------ throughput


def _ours_points(points: int) -> float:
    import jupyter_track as jt
    from jupyter_track.store import connect_store
    from jupyter_track.tracking import session

    uri = fresh("ours_points")
    jt.set_tracking_uri(uri)
    run = jt.start_run()
    log = jt.log_metric
    start = time.perf_counter()
    for i in range(points):
        log("loss", 1.0 / (i + 1), step=i)
    jt.flush()
    seconds = time.perf_counter() - start
    jt.end_run()
    session.current().close()
    store = connect_store(uri)
    assert store.get_run(run.info.run_id).summaries["loss"].count == points
    store.close()
    jt.set_tracking_uri(None)
    return points / seconds


def _raw_points(points: int) -> float:
    import psycopg

    uri = fresh("raw_points")
    with psycopg.connect(uri, autocommit=True) as conn:
        (pk,) = conn.execute(
            "INSERT INTO runs (run_id, experiment_id, status, start_time) "
            "VALUES ('raw', 0, 'RUNNING', 0) RETURNING id"
        ).fetchone()  # type: ignore[misc]
        now = int(time.time() * 1000)
        start = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(
                "COPY metrics (run, key, step, timestamp, value) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["int8", "text", "int8", "int8", "float8"])
            for i in range(points):
                copy.write_row((pk, "loss", i, now, 1.0 / (i + 1)))
        return points / (time.perf_counter() - start)


def bench_throughput(ctx: Context, use_mlflow: bool) -> Row:
    points = 20_000 if ctx.quick else 1_000_000
    ml_points = 5_000 if ctx.quick else 50_000
    ours, raw, ml = [], [], []
    for r in range(ctx.rounds):
        ours.append(_ours_points(points))
        if use_mlflow:
            answer = ctx.mlflow.call(  # type: ignore[union-attr]
                "log_batch",
                folder=str(ctx.scratch(f"mlflow-pg-batch-{r}")),
                points=ml_points,
                batch=1000,
                uri=_for_mlflow(fresh("mlflow_points", schema=False)),
            )
            ml.append(answer["points"] / answer["seconds"])
        raw.append(_raw_points(points))
    ratios = [o / r for o, r in zip(ours, raw)]
    row = Row(
        f"PostgreSQL: {points:,} points into one run",
        "points/s",
        median(ours),
        median(ml) if ml else None,
        median(raw),
        goal=">= 200k/s, >= 50% raw" if points == 1_000_000 else "",
        ok=(median(ours) >= 200_000 and median(ratios) >= 0.5) if points == 1_000_000 else None,
        lower_is_better=False,
    )
    row.notes.append(
        "log_metric loop + flush until committed; raw: one binary COPY of the same rows; ours "
        f"per round: {', '.join(f'{v:,.0f}' for v in ours)}; median ratio to raw "
        f"{100 * median(ratios):.0f}%"
    )
    if ml:
        row.notes.append(f"MLflow: log_batch of 1,000 points, on {ml_points:,} points per round")
    return row


# ---------------------------------------------------------------------------------- search


def _fill_search(uri: str, n: int) -> None:
    """``n`` synthetic runs straight into the tables (binary COPY)."""
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn, conn.transaction():
        runs, params, tags, summaries = [], [], [], []
        for pk, run in enumerate(synthetic_runs(n), start=1):
            runs.append((pk, run.run_id, 0, run.name, "FINISHED", run.start_time, "active"))
            params += [(pk, k, v, _num(v)) for k, v in run.params.items()]
            tags += [(pk, k, v, _num(v)) for k, v in run.tags.items()]
            summaries += [(pk, k, v, 0, run.start_time, v, v, 1) for k, v in run.metrics.items()]
        for table, columns, rows in (
            (
                "runs",
                "id, run_id, experiment_id, run_name, status, start_time, lifecycle_stage",
                runs,
            ),
            ("params", "run, key, value, num", params),
            ("tags", "run, key, value, num", tags),
            ("metric_summaries", "run, key, last, step, timestamp, min, max, count", summaries),
        ):
            with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        conn.execute("SELECT setval(pg_get_serial_sequence('runs', 'id'), %s)", (n,))
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _num(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def bench_search(ctx: Context) -> list[Row]:
    import psycopg

    from jupyter_track.store import connect_store

    n = 2_000 if ctx.quick else 100_000
    uri = fresh("search")
    started = time.perf_counter()
    _fill_search(uri, n)
    build = time.perf_counter() - started
    store = connect_store(uri, readonly=True)
    # what one would write by hand for FILTER ordered by ORDER_BY: walk the metric in order,
    # probe the param per run (the planner chooses how)
    page_sql = (
        "SELECT r.id FROM metric_summaries d JOIN runs r ON r.id = d.run "
        "WHERE d.key = 'acc' AND d.last > 0.9 AND r.lifecycle_stage = 'active' AND EXISTS "
        "(SELECT 1 FROM params p WHERE p.run = r.id AND p.key = 'lr' AND p.value = '0.01') "
        "ORDER BY d.last DESC, r.start_time DESC, r.id DESC LIMIT 101"
    )
    order_params: list[Any] = []
    where_params: list[Any] = []
    ours, raw = [], []
    found = 0
    with psycopg.connect(uri, autocommit=True) as conn:
        for _ in range(ctx.rounds * 5):
            start = time.perf_counter()
            page = store.search_runs(None, FILTER, order_by=ORDER_BY, max_results=100)
            ours.append((time.perf_counter() - start) * 1000)
            found = len(page.runs)
            start = time.perf_counter()
            ids = [r[0] for r in conn.execute(page_sql, [*order_params, *where_params])]  # type: ignore[arg-type]
            marks = ", ".join(["%s"] * len(ids[:100]))
            conn.execute(f"SELECT * FROM runs WHERE id IN ({marks})", ids[:100])  # type: ignore[arg-type]
            for table, columns in (
                ("params", "run, key, value"),
                ("tags", "run, key, value"),
                ("metric_summaries", "run, key, last, step, timestamp, min, max, count"),
            ):
                conn.execute(f"SELECT {columns} FROM {table} WHERE run IN ({marks})", ids[:100])  # type: ignore[arg-type]
            raw.append((time.perf_counter() - start) * 1000)
    store.close()
    row = Row(
        f"PostgreSQL: search_runs over {n:,} runs, top 100",
        "ms",
        median(ours),
        None,
        median(raw),
        goal="<= 100 ms" if n == 100_000 else "",
        ok=median(ours) <= 100 if n == 100_000 else None,
    )
    row.notes.append(
        f"{FILTER!r} ordered by {ORDER_BY[0]}, {found} runs returned with params, tags and "
        f"summaries; raw: hand-written SQL by psycopg (the metric walked in order, an EXISTS "
        f"probe for the param), then the page's runs, params, tags and summaries; {n:,} runs "
        f"written by COPY in {build:.1f} s; MLflow's search on PostgreSQL not measured (its "
        "store is filled by SQL written for SQLite only)"
    )
    return [row]


# --------------------------------------------------------------------------------- writers

WRITER = """
import sys
from jupyter_track.store import connect_store
from jupyter_track.tracking.writer import BackgroundWriter
store = connect_store(sys.argv[1])
run_id = store.create_run("0").run_id
handle = store.run_handle(run_id)
writer = BackgroundWriter(store)
writer.ensure_started()
append = writer.append_metric
print("ready", flush=True)
sys.stdin.readline()
for i in range(int(sys.argv[2])):
    append((handle, "loss", i, i, 1.0 / (i + 1)))
writer.close()
print("done", flush=True)
"""


def _writers(processes: int, points: int) -> float:
    uri = fresh("writers")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, uri, str(points)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    start = time.perf_counter()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        out, _ = p.communicate(timeout=900)
        assert p.returncode == 0 and out.strip() == "done", out
    return processes * points / (time.perf_counter() - start)


def bench_writers(ctx: Context) -> Row:
    points = 10_000 if ctx.quick else 100_000
    one, eight = [], []
    for _ in range(max(1, ctx.rounds // 2)):
        one.append(_writers(1, points))
        eight.append(_writers(8, points))
    row = Row(
        f"PostgreSQL: 8 writer processes x {points:,} points",
        "points/s",
        median(eight),
        None,
        None,
        goal="no slower than 1 writer",
        ok=median(eight) >= median(one) if points == 100_000 else None,
        lower_is_better=False,
    )
    row.notes.append(
        f"aggregate, from the start signal to the last commit; one writer alone: "
        f"{median(one):,.0f} points/s ({median(eight) / median(one):.2f}x with 8); metric "
        "batches commit one at a time (commit order for live charts)"
    )
    return row


def bench(ctx: Context) -> list[Row]:
    """All PostgreSQL rows (MLflow rows when its venv has psycopg2)."""
    use_mlflow = _mlflow_ready(ctx)
    try:
        rows = [bench_runs(ctx, use_mlflow), bench_throughput(ctx, use_mlflow)]
        rows += bench_search(ctx)
        rows.append(bench_writers(ctx))
    finally:
        global _server
        if _server is not None:
            _server.stop()
            _server = None
    return rows


def main() -> None:
    """Run this benchmark alone."""
    args = parser(__doc__.splitlines()[0]).parse_args()
    run_benchmarks([bench], args)


if __name__ == "__main__":
    sys.exit(main())
