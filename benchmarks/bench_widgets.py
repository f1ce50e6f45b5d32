"""Notebook widgets: what a comparison of 20 x 100k points costs, and what a live chart costs a
training loop. Prints figures; asserts nothing (the machine is shared).

1. ``jt.compare`` of 20 runs x 100,000 points (goal: <= 1 s). Timed in this process (warm:
   Altair already imported; median of rounds) and once in a fresh interpreter (cold: the first
   chart of a kernel pays for importing Altair and pandas). Includes building the display
   bundle (text/HTML fallback). Baseline: reading every point of the 20 histories
   (``get_metric_history``), what a chart without downsampling would start from. With
   ``--browser``: the same comparison displayed in a real JupyterLab, timed from the cell's
   start until its four charts are drawn.
2. A loop logging 10,000 points/s (pure-Python work of ~100 us per point, holding the GIL, the
   worst case for a background thread), in a real kernel: one-second rounds without a chart,
   with ``jt.live`` open, and with the usual hand-made alternative (redraw a matplotlib figure
   with ``clear_output`` four times a second, on the training thread), interleaved. Each round
   is compared with the round just before it (they share the machine's load) and the median of
   those ratios is the slowdown (goal for jt.live: <= 5%). Also printed: the training thread's
   own CPU time (what the loop computed) and the polling thread's CPU share.

    python benchmarks/bench_widgets.py [--quick] [--browser] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

RUNS, POINTS = 20, 100_000


def seed(db: Path, runs: int, points: int) -> list[str]:
    """``runs`` runs with ``points`` points of "loss" each (and a few params), written in
    batches as the background writer would."""
    from jupyter_track.store import SQLiteStore

    store = SQLiteStore(db)
    experiment = store.get_or_create_experiment("bench-widgets")
    ids = []
    for r in range(runs):
        info = store.create_run(experiment.experiment_id, run_name=f"run-{r}")
        store.log_params(info.run_id, {"lr": 10 ** -(1 + r % 4), "layers": 2 + r % 3})
        pk = store.run_handle(info.run_id)
        for start in range(0, points, 20_000):
            store.write_metric_rows(
                [
                    (
                        pk,
                        "loss",
                        s,
                        1_700_000_000_000 + s,
                        (r + 1) / (1 + s / 500) + (s % 13) * 1e-3,
                    )
                    for s in range(start, min(points, start + 20_000))
                ]
            )
        store.update_run(info.run_id, status="FINISHED", end_time=1_700_000_000_000 + points)
        ids.append(info.run_id)
    store.close()
    return ids


def bench_compare(db: Path, ids: list[str], rounds: int) -> dict[str, Any]:
    import jupyter_track as jt

    jt.set_tracking_uri(db)
    times, sizes = [], []
    view = None
    for _ in range(rounds + 1):  # the first round imports Altair: dropped
        start = time.perf_counter()
        view = jt.compare(ids, metric="loss")
        view._repr_mimebundle_()
        times.append(time.perf_counter() - start)
        sizes.append(len(json.dumps(view.get_state(), default=str)))
    assert view is not None
    first, warm = times[0], times[1:]
    from jupyter_track.tracking import session

    start = time.perf_counter()
    store = session.current().store
    total = sum(len(store.get_metric_history(i, "loss")) for i in ids)
    raw = time.perf_counter() - start
    drawn = sum(len(s["value"]) for s in view._history)
    return {
        "warm_median_s": statistics.median(warm),
        "warm_min_s": min(warm),
        "first_in_process_s": first,
        "state_bytes": sizes[-1],
        "points_stored": total,
        "points_synced": drawn,
        "read_every_point_s": raw,
    }


def bench_compare_cold(db: Path) -> float:
    code = textwrap.dedent(
        f"""
        import time
        start = time.perf_counter()
        import jupyter_track as jt
        jt.set_tracking_uri({str(db)!r})
        ids = [r.info.run_id for r in jt.search_runs(experiment_names=["bench-widgets"],
                                                     output_format="list")]
        view = jt.compare(ids, metric="loss")
        view._repr_mimebundle_()
        print(time.perf_counter() - start)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------- live chart overhead

KERNEL_SETUP = """
import time, statistics
import jupyter_track as jt
from IPython.display import clear_output
jt.set_tracking_uri({db!r})
jt.set_experiment("bench-live")

def work(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

def calibrate(target_s=100e-6):
    n = 200
    while True:
        start = time.perf_counter()
        for _ in range(200):
            work(n)
        per = (time.perf_counter() - start) / 200
        if per >= target_s * 0.97:
            return n
        n = int(n * target_s / max(per, 1e-9)) + 1

N = calibrate()

def loop(points, chart=None, peer=False):
    log = jt.log_metric
    if peer:
        import matplotlib
        matplotlib.use("agg")
        import matplotlib.pyplot as plt
        from IPython.display import display
        xs, ys = [], []
    with jt.start_run():
        start = time.perf_counter()
        cpu = time.thread_time()
        last = start
        for i in range(points):
            work(N)
            value = 1.0 / (1 + i)
            log("loss", value, step=i)
            if peer:
                xs.append(i); ys.append(value)
                now = time.perf_counter()
                if now - last >= 0.25:  # four redraws a second, like jt.live
                    last = now
                    fig, ax = plt.subplots(figsize=(6, 3))
                    ax.plot(xs, ys)
                    clear_output(wait=True)
                    display(fig)
                    plt.close(fig)
        elapsed = time.perf_counter() - start
        cpu = time.thread_time() - cpu
        if chart is not None:
            stop = time.perf_counter()
            chart.stop()
            return elapsed, cpu, time.perf_counter() - stop, chart.sends, chart.cpu_seconds
    return elapsed, cpu, 0.0, 0, 0.0
"""


def bench_live(db: Path, points: int, rounds: int) -> dict[str, Any]:
    from jupyter_client.manager import start_new_kernel

    env = dict(os.environ)
    km, kc = start_new_kernel(kernel_name="python3", env=env)
    wall: dict[str, list[float]] = {"without": [], "live": [], "matplotlib": []}
    cpu: dict[str, list[float]] = {"without": [], "live": [], "matplotlib": []}
    stops: list[float] = []
    sends: list[int] = []
    poller: list[float] = []  # the polling thread's CPU time per second of loop

    def run(code: str, timeout: float = 600) -> str:
        msg_id = kc.execute(code)
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = kc.get_iopub_msg(timeout=5)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content["name"] == "stdout":
                out.append(content["text"])
            elif kind == "error":
                raise RuntimeError("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(out)
        raise TimeoutError(code[:80])

    try:
        run(KERNEL_SETUP.format(db=str(db)))
        run(f"loop({min(points, 5000)})")  # warm up: imports, the writer thread
        run("chart = jt.live(['loss']); loop(2000, chart)")  # warm up: Altair, the runtime
        for _ in range(rounds):
            for kind in ("without", "live", "matplotlib"):
                if kind == "without":
                    code = f"print(*loop({points}))"
                elif kind == "live":
                    code = f"chart = jt.live(['loss'])\nprint(*loop({points}, chart))"
                else:
                    code = f"print(*loop({points}, peer=True))"
                fields = run(code).split()
                wall[kind].append(float(fields[0]))
                cpu[kind].append(float(fields[1]))
                if kind == "live":
                    stops.append(float(fields[2]))
                    sends.append(int(fields[3]))
                    poller.append(float(fields[4]) / float(fields[0]))
        n = int(run("print(N)").strip())
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    median = statistics.median
    # neighbouring rounds share the machine's load: compare each round with the one before it
    pairs = [b / a - 1 for a, b in zip(wall["without"], wall["live"])]
    peer_pairs = [b / a - 1 for a, b in zip(wall["without"], wall["matplotlib"])]
    return {
        "points_per_round": points,
        "work_loop_iterations": n,
        "without_median_s": median(wall["without"]),
        "points_per_s_without": points / median(wall["without"]),
        "live_median_s": median(wall["live"]),
        "matplotlib_median_s": median(wall["matplotlib"]),
        "live_slowdown_median_of_pairs": median(pairs),
        "live_slowdown_per_round": pairs,
        "matplotlib_slowdown_median_of_pairs": median(peer_pairs),
        "training_thread_cpu_without_s": median(cpu["without"]),
        "training_thread_cpu_live_s": median(cpu["live"]),
        "live_stop_median_s": median(stops),
        "live_messages_median": median(sends),
        "live_thread_cpu_share": median(poller),
        "rounds": rounds,
        "load_average": os.getloadavg(),
    }


# -------------------------------------------------------------------------------- browser


def bench_browser(db: Path, rounds: int) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ui-tests"))
    import nbformat
    from jt_lab import CHROMIUM_ARGS, chromium_path, start_lab
    from playwright.sync_api import sync_playwright

    base = Path(tempfile.mkdtemp(prefix="bench-widgets-lab-"))
    server = start_lab(base, db_path=db)
    times = []
    try:
        nb = nbformat.v4.new_notebook()
        nb.cells = [
            nbformat.v4.new_code_cell(
                "import jupyter_track as jt\n"
                "ids = [r.info.run_id for r in jt.search_runs("
                "experiment_names=['bench-widgets'], output_format='list')]\n"
                "jt.compare(ids[:1], metric='loss')"  # warm: Altair imported, runtime loaded
            ),
            nbformat.v4.new_code_cell("jt.compare(ids, metric='loss')"),
        ]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)"}
        nbformat.write(nb, server.root_dir / "bench.ipynb")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server.lab_url("bench.ipynb", reset=""))
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
            cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
            cells.nth(0).locator(".jp-InputArea-editor").click()
            page.keyboard.press("Control+Enter")
            cells.nth(0).locator('.jp-Track-compare[data-drawn="4"]').wait_for(timeout=120_000)
            for _ in range(rounds):
                cells.nth(1).locator(".jp-InputArea-editor").click()
                start = time.perf_counter()
                page.keyboard.press("Control+Enter")
                cells.nth(1).locator('.jp-Track-compare[data-drawn="4"]').wait_for(timeout=120_000)
                times.append(time.perf_counter() - start)
                page.wait_for_timeout(500)
            browser.close()
    finally:
        server.stop()
    return {"browser_median_s": statistics.median(times), "browser_rounds": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, shorter loops")
    parser.add_argument("--browser", action="store_true", help="also time it in JupyterLab")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    rounds = 3 if args.quick else 5
    loop_points = 10_000  # about a second per round at 10,000 points/s

    folder = Path(tempfile.mkdtemp(prefix="bench-widgets-"))
    db = folder / "track.db"
    os.environ["JUPYTER_TRACK_DB"] = str(db)
    start = time.perf_counter()
    ids = seed(db, RUNS, POINTS)
    print(f"seeded {RUNS} runs x {POINTS:,} points in {time.perf_counter() - start:.1f} s")

    figures: dict[str, Any] = {"compare": bench_compare(db, ids, rounds)}
    figures["compare"]["cold_fresh_interpreter_s"] = bench_compare_cold(db)
    c = figures["compare"]
    print(f"\njt.compare, {RUNS} runs x {POINTS:,} points (goal <= 1 s):")
    print(f"  warm, median of {rounds}      {c['warm_median_s']:.3f} s (min {c['warm_min_s']:.3f})")
    print(f"  first in this process      {c['first_in_process_s']:.3f} s (imports Altair)")
    print(
        f"  fresh interpreter          {c['cold_fresh_interpreter_s']:.3f} s (imports everything)"
    )
    print(
        f"  synced                     {c['points_synced']:,} of {c['points_stored']:,} points, "
        f"{c['state_bytes'] / 1e6:.2f} MB of widget state"
    )
    print(
        f"  baseline: reading every point {c['read_every_point_s']:.3f} s "
        f"({c['read_every_point_s'] / c['warm_median_s']:.1f}x the whole comparison)"
    )
    if args.browser:
        figures["browser"] = bench_browser(db, rounds)
        print(
            f"  in JupyterLab, cell start -> 4 charts drawn: "
            f"{figures['browser']['browser_median_s']:.3f} s (median of {rounds})"
        )

    live_db = folder / "live.db"
    figures["live"] = bench_live(live_db, loop_points, rounds * 3)
    live = figures["live"]
    print(
        f"\ntraining loop, {live['points_per_s_without']:,.0f} points/s without a chart "
        f"({loop_points:,} points per round, {live['rounds']} rounds of each, interleaved, "
        f"in a kernel; load average {live['load_average'][0]:.1f}):"
    )
    print(f"  without a chart            {live['without_median_s']:.3f} s (median)")
    print(
        f"  jt.live open               {live['live_median_s']:.3f} s; against the round before: "
        f"{live['live_slowdown_median_of_pairs']:+.1%} (median; goal <= +5%)"
    )
    print(
        f"  matplotlib redraw, 4/s     {live['matplotlib_median_s']:.3f} s; against the round "
        f"before: {live['matplotlib_slowdown_median_of_pairs']:+.1%}"
    )
    print(
        f"  training thread CPU time   {live['training_thread_cpu_without_s']:.3f} s without, "
        f"{live['training_thread_cpu_live_s']:.3f} s with jt.live (the loop's own work)"
    )
    print(
        f"  jt.live polling thread     {live['live_thread_cpu_share']:.1%} of a core; "
        f"{live['live_messages_median']:.0f} delta messages per round; final sync at stop "
        f"{live['live_stop_median_s'] * 1000:.0f} ms (after the loop)"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
