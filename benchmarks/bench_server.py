"""REST API benchmark: a real ``jupyter server`` with the extension, against raw SQLite.

Measures, in one run on the same files:

1. ``GET runs`` -- first page (100 runs, default columns, total count) of a filtered and
   ordered search over 100,000 runs; target <= 100 ms. Raw SQLite: the same page query and
   count query written by hand, run on one connection.
2. ``GET charts/learning-curves`` and ``GET metrics/history`` for 10 runs x 1,000,000 points;
   target <= 300 ms. Raw SQLite: reading the 10M points of those series (what a chart without
   the rollup has to read), and reading their rollup rows.
3. The write path's cost of keeping the rollup: ``write_metric_rows`` with and without
   ``update_rollups``, against raw ``executemany``, interleaved (medians).

Times are medians of several requests after one warm-up: "server" is the handler's own time as
the server reports it (``Server-Timing``), "client" adds HTTP on localhost and JSON decoding.
The data files are built once and cached in ``$TMPDIR/jupyter-track-bench`` (``--rebuild``).

    python benchmarks/bench_server.py [--runs 100000] [--points 1000000] [--series 10]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

CACHE = Path(tempfile.gettempdir()) / "jupyter-track-bench"
BASE_TIME = 1_700_000_000_000
RUN_QUERIES = [
    ("metrics.acc > 0.9 AND params.model = 'rf'", ["metrics.acc DESC"]),
    ("params.lr < 0.001 AND tags.team = 'a'", ["metrics.loss ASC"]),
    ("status = 'FINISHED' AND metrics.f1 > 0.5", ["params.depth DESC"]),
    (None, None),  # no filter, newest first: reported, not the target's case
]


def median_ms(fn: Callable[[], Any], rounds: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


# ----------------------------------------------------------------------------- data files


def build_runs(path: Path, n: int) -> None:
    from jupyter_track.store import SQLiteStore

    rnd = random.Random(7)
    store = SQLiteStore(path)
    exp = store.create_experiment("bench")
    with store.db.write():
        for i in range(n):
            info = store.create_run(
                exp,
                run_name=f"run-{i}",
                user_id=rnd.choice(["ana", "bo", "cy"]),
                start_time=BASE_TIME + i * 1000,
                tags={"team": rnd.choice("abc"), "jt.user": "ana", "jt.host": "h"},
            )
            store.log_params(
                info.run_id,
                {
                    "lr": 10 ** -rnd.uniform(1, 5),
                    "model": rnd.choice(["rf", "svm", "knn", "mlp"]),
                    "depth": rnd.randint(1, 20),
                    "batch": rnd.choice([16, 32, 64, 128]),
                    "opt": rnd.choice(["adam", "sgd"]),
                },
            )
            pk = store.run_handle(info.run_id)
            store.write_metric_rows(
                [
                    (pk, "acc", 0, 1, rnd.random()),
                    (pk, "loss", 0, 1, rnd.random() * 3),
                    (pk, "f1", 0, 1, rnd.random()),
                ]
            )
            store.update_run(info.run_id, status="FINISHED", end_time=BASE_TIME + i * 1000 + 500)
    store.close()


def build_curves(path: Path, n_series: int, points: int) -> None:
    from jupyter_track.store import SQLiteStore

    store = SQLiteStore(path)
    for r in range(n_series):
        run_id = store.create_run("0", run_name=f"curve-{r}").run_id
        pk = store.run_handle(run_id)
        rnd = random.Random(r)
        batch = []
        for i in range(points):
            value = math.exp(-i / (points / 5)) + rnd.random() * 0.05
            batch.append((pk, "loss", i, BASE_TIME + i, value))
            if len(batch) == 50_000:
                store.write_metric_rows(batch)
                batch = []
        store.write_metric_rows(batch)
    store.close()


def cached(name: str, build: Callable[[Path], None], rebuild: bool) -> Path:
    from jupyter_track.store.schema import SCHEMA_VERSION

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}-v{SCHEMA_VERSION}.db"
    if rebuild or not path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        print(f"building {path.name} ...", flush=True)
        start = time.perf_counter()
        build(path)
        print(f"  built in {time.perf_counter() - start:.0f} s", flush=True)
    return path


# --------------------------------------------------------------------------------- server


class Server:
    """``jupyter server`` in a subprocess, pointed at one store, with a keep-alive client."""

    def __init__(self, db: Path):
        self.token = secrets.token_hex(16)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.root = Path(tempfile.mkdtemp())
        env = {**os.environ, "JUPYTER_TRACK_DB": str(db)}
        env.pop("JUPYTER_TRACK_URI", None)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                f"--port={self.port}",
                "--ip=127.0.0.1",
                "--no-browser",
                "--allow-root",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}",
                "--ServerApp.jpserver_extensions={'jupyter_track': True}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        self.server_ms: list[float] = []
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("info")
                return
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("jupyter server did not start") from None
                self.conn.close()
                time.sleep(0.3)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        query = urlencode(params or {}, doseq=True)
        self.conn.request(
            "GET",
            f"/jupyter-track/api/{path}?{query}",
            headers={"Authorization": f"token {self.token}"},
        )
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:300]!r}")
        timing = response.getheader("Server-Timing", "")
        self.server_ms.append(float(timing.split("dur=")[1]) if "dur=" in timing else math.nan)
        return json.loads(body)

    def median_server_ms(self, fn: Callable[[], Any], rounds: int) -> tuple[float, float]:
        """(client-measured, server-reported) medians of ``fn``'s requests, in ms."""
        self.server_ms = []
        client = median_ms(fn, rounds)
        return client, statistics.median(self.server_ms[1:])

    def stop(self) -> None:
        self.conn.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ---------------------------------------------------------------------------- raw SQLite


def raw_runs_page(conn: sqlite3.Connection, filter_text: str | None, order: list[str] | None):
    """The page + count + columns queries written by hand (the grammar's own SQL)."""
    from jupyter_track.store import search as grammar
    from jupyter_track.store.dialects.sqlite import SQLITE
    from jupyter_track.store.runs import DEFAULT_ORDER

    where = grammar.compile_filter(grammar.parse_filter(filter_text), SQLITE)
    params: list[Any] = []
    joins, terms = grammar.compile_order_by(grammar.parse_order_by(order) + DEFAULT_ORDER, params)
    page_sql = (
        f"SELECT r.id, r.run_id, r.run_name, r.status, r.start_time, r.end_time "
        f"FROM runs r {' '.join(joins)} WHERE r.lifecycle_stage = 'active' AND {where.sql} "
        f"ORDER BY {', '.join(terms)}, r.id DESC LIMIT 101"
    )
    count_sql = f"SELECT count(*) FROM runs r WHERE r.lifecycle_stage = 'active' AND {where.sql}"

    def run() -> None:
        rows = conn.execute(page_sql, [*params, *where.params]).fetchall()
        conn.execute(count_sql, where.params).fetchone()
        ids = [r[0] for r in rows[:100]]
        marks = ", ".join("?" * len(ids))
        conn.execute(f"SELECT run, key, value FROM params WHERE run IN ({marks})", ids).fetchall()
        conn.execute(
            f"SELECT run, key, last FROM metric_summaries WHERE run IN ({marks})", ids
        ).fetchall()

    return run


# ------------------------------------------------------------------------------ sections


def bench_runs(db: Path, rounds: int) -> None:
    print(f"\n== GET runs: first page of 100 (with total) over {count_runs(db):,} runs ==")
    server = Server(db)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        print(
            f"{'filter / order':62s} {'server':>7s} {'client':>7s} {'raw':>7s} "
            f"{'server/raw':>10s}  total"
        )
        for filter_text, order in RUN_QUERIES:
            params: dict[str, Any] = {"limit": 100}
            if filter_text:
                params["filter"] = filter_text
            if order:
                params["order_by"] = order
            body = server.get("runs", params)
            client, own = server.median_server_ms(lambda p=params: server.get("runs", p), rounds)
            raw = median_ms(raw_runs_page(conn, filter_text, order), rounds)
            label = f"{filter_text or '(none)'} / {(order or ['newest first'])[0]}"
            print(
                f"{label:62s} {own:7.1f} {client:7.1f} {raw:7.1f} {own / raw:10.2f}  "
                f"{body['total']}"
            )
    finally:
        conn.close()
        server.stop()


def count_runs(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM runs").fetchone()[0])
    finally:
        conn.close()


def bench_curves(db: Path, rounds: int) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    series = conn.execute(
        "SELECT r.run_id, r.id, s.count FROM runs r JOIN metric_summaries s ON s.run = r.id "
        "AND s.key = 'loss' ORDER BY r.id"
    ).fetchall()
    ids = [s[0] for s in series]
    total = sum(s[2] for s in series)
    print(f"\n== learning curves: {len(ids)} runs x {total // max(1, len(ids)):,} points ==")
    server = Server(db)
    try:
        params = {"run_ids": ",".join(ids), "key": "loss", "max_points": 1000}
        chart = server.get("charts/learning-curves", params)
        n_points = len(chart["spec"]["datasets"][next(iter(chart["spec"]["datasets"]))])
        t_chart, s_chart = server.median_server_ms(
            lambda: server.get("charts/learning-curves", params), rounds
        )
        hist = {"run_ids": ",".join(ids), "keys": "loss", "max_points": 1000}
        t_hist, s_hist = server.median_server_ms(
            lambda: server.get("metrics/history", hist), rounds
        )

        def raw_points() -> None:
            for _, pk, _ in series:
                conn.execute(
                    "SELECT step, timestamp, value FROM metrics WHERE run = ? AND key = 'loss' "
                    "ORDER BY step",
                    (pk,),
                ).fetchall()

        def raw_rollup() -> None:
            for _, pk, _ in series:
                conn.execute(
                    "SELECT n, lo, lo_step, lo_ts, hi, hi_step, hi_ts FROM metric_rollups "
                    "WHERE run = ? AND key = 'loss' ORDER BY bucket",
                    (pk,),
                ).fetchall()

        t_raw = median_ms(raw_points, max(1, rounds // 3))
        t_rollup = median_ms(raw_rollup, rounds)
        print(
            f"GET charts/learning-curves (Vega-Lite spec, {n_points} points): "
            f"server {s_chart:7.1f} ms, client {t_chart:7.1f} ms"
        )
        print(
            f"GET metrics/history (data only):                         "
            f"server {s_hist:7.1f} ms, client {t_hist:7.1f} ms"
        )
        print(f"raw SQLite, reading every point of the {len(ids)} series:      {t_raw:7.1f} ms")
        print(f"raw SQLite, reading their rollup rows:                   {t_rollup:7.1f} ms")
        print(
            f"ratios: chart / every point = {t_chart / t_raw:.3f}; "
            f"history / rollup rows = {t_hist / t_rollup:.1f}"
        )
    finally:
        conn.close()
        server.stop()


def bench_write(points: int, rounds: int) -> None:
    import jupyter_track.store.metrics as metrics_module
    from jupyter_track.store import SQLiteStore
    from jupyter_track.store.histories import update_rollups

    print(f"\n== write path: {points:,} points in batches of 5,000 and 50,000 (3 keys) ==")
    keys = ("loss", "acc", "lr")

    def one(mode: str, batch: int) -> float:
        folder = Path(tempfile.mkdtemp())
        store = SQLiteStore(folder / "w.db")
        pk = store.run_handle(store.create_run("0").run_id)
        rows = [(pk, k, i, BASE_TIME + i, 1.0 / (i + 1)) for i in range(points // 3) for k in keys]
        conn = store.db.conn()
        metrics_module.update_rollups = update_rollups if mode == "with" else _no_rollup  # type: ignore[assignment]
        start = time.perf_counter()
        for i in range(0, len(rows), batch):
            if mode == "raw":
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT INTO metrics (run, key, step, timestamp, value) VALUES (?, ?, ?, ?, ?)",
                    rows[i : i + batch],
                )
                conn.execute("COMMIT")
            else:
                store.write_metric_rows(rows[i : i + batch])
        rate = len(rows) / (time.perf_counter() - start)
        store.close()
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
        return rate

    try:
        for batch in (5_000, 50_000):
            rates: dict[str, list[float]] = {"raw": [], "without": [], "with": []}
            for _ in range(rounds):
                for mode in rates:
                    rates[mode].append(one(mode, batch))
            med = {k: statistics.median(v) for k, v in rates.items()}
            print(
                f"batch {batch:>6,}: raw executemany {med['raw']:>9,.0f} pts/s | "
                f"store without rollup {med['without']:>9,.0f} ({med['without'] / med['raw']:.2f})"
                f" | with rollup {med['with']:>9,.0f} ({med['with'] / med['raw']:.2f}) | "
                f"with/without {med['with'] / med['without']:.2f}"
            )
    finally:
        metrics_module.update_rollups = update_rollups  # type: ignore[assignment]


def _no_rollup(conn: Any, rows: Any, **kwargs: Any) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--series", type=int, default=10)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--write-points", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--only", choices=["runs", "curves", "write"], action="append")
    args = parser.parse_args()
    only = set(args.only or ["runs", "curves", "write"])
    print(f"jupyter-track REST benchmark; load average {os.getloadavg()[0]:.2f}")
    if "runs" in only:
        db = cached(f"runs-{args.runs}", lambda p: build_runs(p, args.runs), args.rebuild)
        bench_runs(db, args.rounds)
    if "curves" in only:
        db = cached(
            f"curves-{args.series}x{args.points}",
            lambda p: build_curves(p, args.series, args.points),
            args.rebuild,
        )
        bench_curves(db, args.rounds)
    if "write" in only:
        bench_write(args.write_points, max(3, args.rounds // 2))


if __name__ == "__main__":
    main()
