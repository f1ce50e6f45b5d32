"""``%%track`` on an empty cell (goal: median overhead <= 3 ms) and the cell-execution log
(goal: <= 1 ms per untracked cell), through a real IPython ``InteractiveShell``.

Four kinds of cell run in turns of one cell each, many times: ``pass`` without the
extension, ``pass`` with it loaded (the cell log records it), ``%%track`` + ``pass``, and
``%%track -q`` + ``pass`` (no summary). Each ``run_cell`` is timed on its own;
the order rotates from turn to turn. %%track's overhead is the median of the differences
tracked - untracked within each turn (both with the extension). The cell log's overhead (a few
microseconds, below run_cell's noise) is timed by calling its two IPython event handlers
directly; the per-turn difference loaded - not loaded is printed beside it. The run summary
%%track displays is part of what is timed (printed into a buffer). MLflow has no magic; its
figure is ``with mlflow.start_run(): pass``, the least a cell tracked with MLflow costs.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time

from _common import Context, Row, median, parser, run_benchmarks


def _shell():  # type: ignore[no-untyped-def]
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


def _time_cell(shell, source: str) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = shell.run_cell(source, store_history=True)
    seconds = time.perf_counter() - start
    if not result.success:
        raise RuntimeError(f"cell {source!r} failed: {result.error_in_exec!r}")
    return seconds


def _handler_seconds(shell, n: int) -> float:  # type: ignore[no-untyped-def]
    """Median time of the cell log's two IPython event handlers for one untracked cell."""
    from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

    import jupyter_track as jt

    jt.load_ipython_extension(shell)
    cell_log = shell._jupyter_track_magics.cell_log
    info = ExecutionInfo("pass", True, False, True, None)
    times = []
    for _ in range(n):
        result = ExecutionResult(info)
        result.execution_count = shell.execution_count
        start = time.perf_counter()
        cell_log.pre_run_cell(info)
        cell_log.post_run_cell(result)
        times.append(time.perf_counter() - start)
    return median(times)


def bench(ctx: Context) -> list[Row]:
    """Interleaved batches of the three kinds of cell; MLflow's empty runs in between."""
    try:
        import jupyter_track.magics
    except ImportError as exc:
        row = Row("%%track overhead, empty cell", "ms", float("nan"))
        row.notes.append(f"skipped: jupyter_track.magics cannot be imported ({exc})")
        return [row]
    import jupyter_track as jt
    from jupyter_track.store import open_store
    from jupyter_track.tracking import fluent, session

    path = ctx.scratch("ours-magic") / "track.db"
    jt.set_tracking_uri(path)
    batch = 5 if ctx.quick else 40
    ml_batch = 3 if ctx.quick else 20
    plain: list[float] = []
    logged: list[float] = []
    tracked: list[float] = []
    quiet: list[float] = []
    ml: list[float] = []
    sink = io.StringIO()
    shell = _shell()
    with contextlib.redirect_stdout(sink):
        shell.run_cell("%load_ext jupyter_track", store_history=True)
        for _ in range(3):  # warm-up: first run, provenance, imports of the summary
            _time_cell(shell, "%%track\npass")
            _time_cell(shell, "pass")
        kinds = [(plain, "pass", False), (logged, "pass", True)]
        kinds += [(tracked, "%%track\npass", True), (quiet, "%%track -q\npass", True)]
        turn = 0
        for r in range(ctx.rounds):
            for _ in range(batch):
                # one cell of each kind per turn, in a rotating order: load drifts and the
                # writer's flush after a cell hit every kind alike
                for times, source, loaded in kinds[turn % 4 :] + kinds[: turn % 4]:
                    if loaded:
                        jt.load_ipython_extension(shell)
                    else:
                        jt.unload_ipython_extension(shell)
                    times.append(_time_cell(shell, source))
                turn += 1
            if ctx.mlflow is not None:
                answer = ctx.mlflow.call(
                    "empty_runs", folder=str(ctx.scratch(f"mlflow-magic-{r}")), n=ml_batch
                )
                ml += answer["per_call"]
            sink.seek(0)
            sink.truncate()
        handlers = _handler_seconds(shell, 200 if ctx.quick else 5000)
    fluent.flush()
    cells = open_store(path).cell_executions(limit=100_000)
    ms = 1000
    # cells ran one of each kind in turn: the median of the per-turn differences
    track_overhead = median(t - p for t, p in zip(tracked, logged)) * ms
    paired_log = median(p1 - p0 for p1, p0 in zip(logged, plain)) * ms
    log_overhead = handlers * ms
    track_row = Row(
        "%%track overhead, empty cell",
        "ms",
        track_overhead,
        median(ml) * ms if ml else None,
        None,
        goal="<= 3 ms",
        ok=track_overhead <= 3,
    )
    track_row.notes.append(
        f"median of per-turn differences; medians: %%track cell {median(tracked) * ms:.2f} ms, "
        f"plain cell {median(logged) * ms:.2f} ms (both with the extension), {len(tracked)} "
        "cells each; MLflow: `with mlflow.start_run(): pass`"
    )
    quiet_overhead = median(q - p for q, p in zip(quiet, logged)) * ms
    quiet_row = Row("%%track -q overhead (no summary)", "ms", quiet_overhead)
    quiet_row.notes.append(
        "the same without the run summary (display data): what the run itself costs "
        f"(median %%track -q cell {median(quiet) * ms:.2f} ms)"
    )
    log_row = Row(
        "cell-log overhead, untracked cell",
        "ms",
        log_overhead,
        None,
        None,
        goal="<= 1 ms",
        ok=log_overhead <= 1,
    )
    log_row.notes.append(
        "the cell log's pre_run_cell + post_run_cell handlers called directly, median; "
        f"through run_cell the median per-turn difference was {paired_log:+.3f} ms (below the "
        f"noise); medians: plain cell with the extension {median(logged) * ms:.3f} ms, without "
        f"{median(plain) * ms:.3f} ms; {len(cells)} cell executions logged"
    )
    if ctx.mlflow is None:
        track_row.notes.append(f"MLflow skipped: {ctx.skip_reason}")
    session.current().close()
    return [track_row, quiet_row, log_row]


def main() -> None:
    """Run this benchmark alone."""
    args = parser(__doc__.splitlines()[0]).parse_args()
    run_benchmarks([bench], args)


if __name__ == "__main__":
    sys.exit(main())
