"""The background writer: ``log_metric`` appends to a buffer, a daemon thread writes batches.

Nothing on the caller's thread touches the disk. The thread flushes at least every
``interval`` seconds; ``flush()`` (run end, cell end, interpreter exit) writes at once. A process
killed with SIGKILL loses at most the points of the last interval.

When the store cannot be written (full disk, read-only file) the rows stay in memory and are
retried; one warning is printed for the whole episode, not one per metric.

A training loop that never gives up the GIL (plain Python calling ``log_metric`` as fast as it
can) slows the writer down: SQLite inserts without the GIL, but every statement ends by waiting
up to the interpreter's switch interval (5 ms) to get the GIL back, and the writer's Python work
(grouping, summaries) gets only its share of it, so a batch could stay uncommitted (and hold
the write lock) for as long as the loop runs. The writer therefore
publishes ``relief_deadline``; a ``log_metric`` call that finds it passed waits -- without the
GIL, at most ``max_relief_wait`` seconds -- for the running flush to commit. No I/O happens on
the caller's thread; it only yields, and only while a flush is overdue.

A flush of at least ``YIELD_BATCH`` points (20,000: a loop logging 100,000 points a second or
more) is due at once: such a loop cannot be out-written by a thread it hands the GIL to only
every switch interval, so it waits for the batch (about 1 ms per 1,000 points) and the two
take turns in large batches instead of fighting for the GIL around every statement. Under CPU
contention (other processes on the cores) each GIL hand-over also waits for the scheduler,
which is why few, large hand-overs matter most there. Slower loops never wait.

A network store (PostgreSQL) needs none of this: its flush spends most of its time waiting on
the server without the GIL (encoding a chunk of the batch while the server inserts the one
before), so the loop never waits for it.
"""

from __future__ import annotations

import atexit
import functools
import os
import sys
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable
from itertools import chain, repeat, starmap
from typing import Any

from ..store.errors import StoreUnavailable
from . import system_metrics
from .pending import PendingRun

DEFAULT_INTERVAL = 0.2
IDLE = float("inf")
BACKLOG = 50_000
"""Points waiting after a flush that make the writer start the next one without waiting."""
YIELD_BATCH = 20_000
"""Points in one flush from which a logging thread waits for that flush (see above)."""


def _drain(queue: deque[Any]) -> list[Any]:
    """Take the items present now, oldest first; appends racing with this stay queued.

    ``popleft`` one item at a time is what makes it safe against concurrent appends (no lock on
    the hot path); ``starmap`` makes the calls from C (about 20 ns an item).
    """
    return list(starmap(queue.popleft, repeat((), len(queue))))


class BackgroundWriter:
    """Buffers runs not written yet (:mod:`.pending`), metric rows, cell-log rows and finished
    traces for one store and writes them in batches.

    Traces are queued as objects with a ``record()`` method (``tracing.core.ActiveTrace``)
    that the writer calls to get the rows; ``trace_snapshots(closing)``, when set, returns
    records of traces still running, written as IN_PROGRESS with each flush (and at close).
    """

    def __init__(self, store: Any, interval: float = DEFAULT_INTERVAL):
        self.store = store
        self.interval = interval
        self.metrics: deque[tuple[int, str, int, int, float]] = deque()
        self.cells: deque[tuple[Any, ...]] = deque()
        self.traces: deque[Any] = deque()
        #: runs started and not written yet (``start_run`` appends; each flush writes them
        #: first, each with its own points and end in one transaction)
        self.runs: deque[PendingRun] = deque()
        self._pending_runs: list[PendingRun] = []
        #: flushes left that look for rows still naming a run by its PendingRun (a row taken
        #: just before the run was written); see :meth:`_resolve`
        self._stale_checks = 0
        self._late_ends: list[PendingRun] = []
        #: the runs the flush in progress took, and the thread running it
        self._writing: list[PendingRun] = []
        self._flushing: int | None = None
        #: the hot path: a bound ``deque.append`` (thread-safe, no lock)
        self.append_metric = self.metrics.append
        self.append_cell = self.cells.append
        self.append_trace = self.traces.append
        self.trace_snapshots: Callable[[bool], list[Any]] | None = None
        self._pending_metrics: list[Any] = []
        #: a metric batch whose commit may or may not have happened (the store became
        #: unavailable while writing it): retried alone, under the same batch id, so a store
        #: that records batch ids (PostgreSQL) writes it once
        self._unknown_batch: tuple[str, list[Any]] | None = None
        self._pending_cells: list[Any] = []
        self._pending_traces: list[Any] = []
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self.error: StoreUnavailable | None = None
        #: rows the store refused at write time and that were left out (each reported once)
        self.dropped = 0
        self._dropped_seen: set[tuple[str, str]] = set()
        #: write methods the store does not implement (reported once each)
        self._unsupported: set[str] = set()
        self._warned = False
        #: wall-clock time in ms (``time.time_ns() // 10**6``) after which the flush in
        #: progress is overdue and a logging thread should yield to it (:meth:`relieve`);
        #: ``IDLE`` (+inf) when no flush runs. One attribute read and one comparison on the
        #: hot path.
        self.relief_deadline = IDLE
        self.stall_after = max(2.5 * interval, 0.25)
        #: a batch at least this large makes logging threads wait for its flush at once
        self.yield_batch = YIELD_BATCH
        self.max_relief_wait = 2.0
        self._idle = threading.Event()
        self._idle.set()
        #: True while a flush holds metric points taken from the buffer (not yet committed)
        self._metrics_in_flight = False
        _live_writers.add(self)

    # ------------------------------------------------------------------------ lifecycle

    def ensure_started(self) -> None:
        if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
            self._pid = os.getpid()
            self._stop.clear()
            # checkpoints of the SQLite log run on this thread, not in end_run's commit
            self._housekeeping("defer_checkpoints")
            self._thread = threading.Thread(
                target=self._loop, name="jupyter-track-writer", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            # with a backlog (and a writable store) the next batch goes at once
            if len(self.metrics) < BACKLOG or self.error is not None:
                self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush(raise_errors=False)
            except Exception as exc:  # never let the thread die silently
                self._report(exc)
            self._housekeeping("checkpoint")
            system_metrics.poke()  # the sampling thread starts once a run lasts long enough

    def _housekeeping(self, method: str) -> None:
        """Call the store's housekeeping ``method``; it never stops the writer (a store without
        it, or one unavailable for now, skips it: the next commit or checkpoint catches up)."""
        try:
            getattr(self.store, method)()
        except Exception:
            pass

    def stop(self) -> None:
        """Let the thread end after its current flush (the session moved to another store and
        flushed this one); :meth:`flush` still writes what is buffered, on the caller's thread."""
        self._stop.set()
        self._wake.set()

    def close(self) -> None:
        """Flush what is buffered (and traces still running, as IN_PROGRESS); stop the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.flush(raise_errors=False, closing=True)

    # ---------------------------------------------------------------------------- flush

    @property
    def pending(self) -> int:
        """Points not yet on disk (buffered or waiting for a retry)."""
        unknown = len(self._unknown_batch[1]) if self._unknown_batch else 0
        return len(self.metrics) + len(self._pending_metrics) + unknown

    @property
    def has_pending_runs(self) -> bool:
        """Whether a run started in this process is not written yet."""
        return bool(self.runs or self._pending_runs)

    def is_pending(self, run_id: str) -> bool:
        """Whether ``run_id`` is queued or being written (then a flush waits for it); False on
        the thread running the flush."""
        flushing = self._flushing
        if flushing == threading.get_ident():
            return False
        if flushing is not None:  # another thread's flush may hold it: wait for that flush
            return True
        return any(run.run_id == run_id for run in (*self._pending_runs, *self.runs))

    def add_run(self, run: PendingRun) -> None:
        """Queue a new run; the next flush writes it (with its points, and its end if set)."""
        self.runs.append(run)

    def _trace_records(self, closing: bool) -> list[Any]:
        """Records of the queued traces, after snapshots of running ones (a snapshot taken
        before the drain can never overwrite the trace's final record)."""
        records = []
        if self.trace_snapshots is not None:
            try:
                records = self.trace_snapshots(closing)
            except Exception as exc:  # a bug there must not stop metric writes
                self._report(exc)
        for item in _drain(self.traces):
            try:
                records.append(item.record())
            except Exception as exc:  # one bad trace is dropped, not the batch
                print(f"jupyter-track: a trace could not be recorded: {exc!r}", file=sys.stderr)
        return records

    def flush(
        self, raise_errors: bool = True, *, metrics_only: bool = False, closing: bool = False
    ) -> None:
        """Write everything buffered now.

        When the store cannot be written the rows stay buffered for a retry; the background
        thread (``raise_errors=False``) prints one warning per episode, an explicit flush raises
        one ``StoreUnavailable`` saying how many points are kept in memory.

        ``metrics_only`` (run end): return at once when no metric point is buffered or being
        written -- cell-log rows are left to the background thread, and a background flush
        that writes only cell-log rows is not waited for.
        """
        if (
            metrics_only
            and not self.metrics
            and not self._pending_metrics
            and not self._metrics_in_flight
            and not self.runs
            and not self._pending_runs
        ):
            return
        with self._flush_lock:
            self._flushing = threading.get_ident()
            try:
                self._flush_locked(raise_errors, metrics_only, closing)
            finally:
                self._flushing = None
                self._writing = []

    def _flush_locked(self, raise_errors: bool, metrics_only: bool, closing: bool) -> None:
        self._metrics_in_flight = True  # before the drain: see the check above
        self._writing = runs = self._pending_runs + _drain(self.runs)
        metrics = self._pending_metrics + _drain(self.metrics)
        if not metrics and not runs:
            self._metrics_in_flight = False
        # a run's end leaves the queued cell log to the background thread, as the traces: a
        # %%track cell would otherwise commit the rows of the cells before it with its run
        cells = self._pending_cells if metrics_only else self._pending_cells + _drain(self.cells)
        traces = (
            self._pending_traces
            if metrics_only
            else self._pending_traces + self._trace_records(closing)
        )
        if (
            not metrics
            and not cells
            and not traces
            and not runs
            and not self._late_ends
            and self._unknown_batch is None
        ):
            return
        self._idle.clear()
        with_ids = getattr(self.store, "wants_batch_ids", False)
        if with_ids:
            pass  # a network store's flush waits on the server without the GIL: no relief
        elif len(metrics) >= self.yield_batch:
            # the loop logs faster than a writer sharing the GIL with it can write: it waits
            # for this flush now (see the module docstring)
            self.relief_deadline = 0
        else:
            self.relief_deadline = time.time_ns() // 1_000_000 + int(self.stall_after * 1000)
        ends, self._late_ends = self._late_ends, []
        try:
            error = None
            if self._unknown_batch is not None:
                unknown_id, unknown = self._unknown_batch
                rest, error = self._write_isolated(
                    self._write_metric_rows,
                    unknown,
                    _describe_metric,
                    whole=functools.partial(self.store.write_metric_rows, batch_id=unknown_id),
                )
                if error is None:
                    self._unknown_batch = None
                elif rest is not unknown:
                    self._unknown_batch = (uuid.uuid4().hex, rest)
            if runs and error is None:
                metrics, runs, late, error = self._write_runs(runs, metrics)
                ends += late
            if metrics and self._stale_checks > 0:
                self._stale_checks -= 1
                metrics = self._resolve(metrics)
            if metrics and error is None:
                batch_id = uuid.uuid4().hex
                whole = (
                    functools.partial(self.store.write_metric_rows, batch_id=batch_id)
                    if with_ids
                    else None
                )
                rest, error = self._write_isolated(
                    self._write_metric_rows, metrics, _describe_metric, whole=whole
                )
                if error is not None and with_ids and rest is metrics:
                    self._unknown_batch = (batch_id, rest)  # perhaps committed: retried alone
                    rest = []
                metrics = rest
            if ends and error is None:
                ends, error = self._write_ends(ends)
            if cells and error is None:
                cells, error = self._write_isolated(
                    self.store.write_cell_executions, cells, _describe_cell
                )
            if traces and error is None:
                traces, error = self._write_isolated(
                    self.store.write_traces, traces, _describe_trace
                )
            if error is not None:
                raise error
        except StoreUnavailable as exc:
            self._pending_metrics, self._pending_cells = metrics, cells
            self._pending_traces = traces
            self._pending_runs = runs
            self._late_ends = ends
            self.error = exc
            self._report(exc)  # printed once per episode, whichever thread hits it
            if raise_errors:  # an explicit flush (run end, jt.flush) reports it
                raise StoreUnavailable(
                    f"{exc}. {len(metrics):,} metric points are kept in memory and will be "
                    "written when the store is writable again."
                ) from exc
            return
        finally:
            self.relief_deadline = IDLE
            self._metrics_in_flight = False
            self._idle.set()
        self._pending_metrics, self._pending_cells, self._pending_traces = [], [], []
        self._pending_runs = []
        if self.error is not None:
            self.error = None
            self._warned = False
            print(
                "jupyter-track: the store is writable again; buffered points were written.",
                file=sys.stderr,
            )

    # ----------------------------------------------------------------------- pending runs

    def _write_runs(
        self, runs: list[PendingRun], rows: list[Any]
    ) -> tuple[list[Any], list[PendingRun], list[PendingRun], StoreUnavailable | None]:
        """Write queued runs, each with its points and end in one transaction (oldest first).

        Returns the metric rows left to write (other runs' points, and the points of runs not
        written), the runs not written (the store became unavailable), the runs whose end
        must be written after their points (a run the store refused whole is retried without
        its points and end, so that one bad point never costs the run) and that error.
        """
        own: dict[PendingRun, list[Any]] = {run: [] for run in runs}
        rest = []
        for row in rows:  # only in a flush that writes runs: small, or the first of a long run
            points = own.get(row[0]) if type(row[0]) is PendingRun else None
            if points is None:
                rest.append(row)
            else:
                points.append(row[1:])
        late: list[PendingRun] = []
        for n, run in enumerate(runs):
            with run.lock:
                if run.written or run.failed is not None:
                    continue
                points = own[run]
                try:
                    try:
                        handle = self.store.write_run(run.record, points)
                    except StoreUnavailable:
                        raise
                    except Exception:  # a value no caller-side check foresaw: isolate it
                        handle = self.store.write_run(_bare(run.record))
                        rest.extend((handle, *point) for point in points)
                        if run.record.end is not None:
                            late.append(run)
                except StoreUnavailable as exc:
                    waiting = runs[n:]
                    rest.extend((w, *point) for w in waiting for point in own[w])
                    return rest, waiting, late, exc
                except Exception as exc:  # the run itself cannot be stored
                    run.failed = exc
                    self.dropped += len(points)
                    self._report_dropped(
                        [((run, None), exc)], lambda r: f"run {r[0].run_id} and its points"
                    )
                    continue
                run.handle = handle
                run.written = True
                if run.owner is not None:
                    run.owner._pk = handle  # the hot path now appends the store's handle
        self._stale_checks = 2
        return rest, [], late, None

    def _resolve(self, rows: list[Any]) -> list[Any]:
        """Rows naming a written run by its PendingRun get the store's handle (a row taken
        just before its run was written); rows of a run the store refused are dropped. A
        C-level look at the distinct handles first: most batches need nothing."""
        handles = set(map(_first, rows))
        if not any(type(h) is PendingRun for h in handles):
            return rows
        out = []
        for row in rows:
            h = row[0]
            if type(h) is PendingRun:
                if h.failed is not None:
                    continue
                if h.written:
                    row = (h.handle, *row[1:])
            out.append(row)
        return out

    def _write_metric_rows(self, rows: list[Any]) -> None:
        """``store.write_metric_rows``; a batch refused because a row still names its run by
        a PendingRun (taken as the run was being written) is resolved and tried again."""
        try:
            self.store.write_metric_rows(rows)
        except StoreUnavailable:
            raise
        except Exception:
            resolved = self._resolve(rows)
            if resolved is rows:
                raise
            self.store.write_metric_rows(resolved)

    def _write_ends(
        self, ends: list[PendingRun]
    ) -> tuple[list[PendingRun], StoreUnavailable | None]:
        """The ends of runs written without them (after their points)."""
        for n, run in enumerate(ends):
            end = run.record.end
            if end is None:
                continue
            status, end_time, error = end
            try:
                self.store.update_run(run.run_id, status=status, end_time=end_time, error=error)
            except StoreUnavailable as exc:
                return ends[n:], exc
        return [], None

    def _write_isolated(
        self,
        write: Callable[[Any], None],
        rows: list[Any],
        describe: Callable[[Any], str],
        *,
        whole: Callable[[Any], None] | None = None,
    ) -> tuple[list[Any], StoreUnavailable | None]:
        """Write ``rows``; a row the store refuses is left out alone, the others are written.

        The batch is written in one transaction. When that fails for a reason other than the
        store being unavailable (a value no check on the caller's thread foresaw), the batch is
        split in halves, and halves again, in arrival order, until every row is written or a
        single refused row is left: that row is dropped and reported (once per key and reason),
        so one bad point never costs the good ones. Returns the rows still to write (``[]``
        unless the store became unavailable, then in their order) and that error. ``whole``
        writes the first, whole-batch attempt (with the batch's id); the parts go to ``write``.
        """
        try:
            (whole or write)(rows)
            return [], None
        except StoreUnavailable as exc:
            return rows, exc
        except NotImplementedError as exc:
            # the store does not keep this kind of row at all (the team service's HTTP client
            # store and traces): the batch is left out and that is said once, not per row
            self.dropped += len(rows)
            kind = getattr(write, "__name__", "write")
            if kind not in self._unsupported:
                self._unsupported.add(kind)
                print(
                    f"jupyter-track: this store does not keep what {kind} writes; it is left "
                    f"out (said once): {exc}",
                    file=sys.stderr,
                )
            return [], None
        except Exception as exc:
            first = exc
        if len(rows) == 1:
            self._report_dropped([(rows[0], first)], describe)
            return [], None
        dropped: list[tuple[Any, BaseException]] = []
        parts = _halves(rows)  # a stack: the next part to write is on top
        try:
            while parts:
                part = parts.pop()
                try:
                    write(part)
                except StoreUnavailable as exc:
                    return [*part, *chain.from_iterable(reversed(parts))], exc
                except Exception as exc:
                    if len(part) == 1:
                        dropped.append((part[0], exc))
                    else:
                        parts.extend(_halves(part))
        finally:
            self._report_dropped(dropped, describe)
        return [], None

    def _report_dropped(
        self, dropped: list[tuple[Any, BaseException]], describe: Callable[[Any], str]
    ) -> None:
        """Count dropped rows; print each new (row kind, key, reason) once."""
        if not dropped:
            return
        self.dropped += len(dropped)
        new = []
        for row, exc in dropped:
            what = describe(row)
            seen = (what.split(" (", 1)[0], type(exc).__name__)
            if seen not in self._dropped_seen:
                self._dropped_seen.add(seen)
                new.append(f"{what}: {type(exc).__name__}: {exc}")
        if new:
            print(
                f"jupyter-track: {len(dropped):,} row(s) could not be stored and were left out "
                f"(the rest of the batch was written): {'; '.join(new[:5])}"
                + (f"; and {len(new) - 5} more" if len(new) > 5 else ""),
                file=sys.stderr,
            )

    def relieve(self) -> None:
        """Wait, without holding the GIL, for an overdue flush to commit.

        Called by ``log_metric`` when ``relief_deadline`` has passed. Gives up after
        ``max_relief_wait`` seconds (a flush waiting for another process's lock, a slow disk)
        and then does not wait again for the same flush.
        """
        if not self._idle.wait(self.max_relief_wait):
            self.relief_deadline = IDLE

    def store_unavailable(self, exc: StoreUnavailable) -> None:
        """The store could not be reached outside a flush (a run started while the server is
        down): the same one warning per episode; the next successful flush ends it."""
        self.error = exc
        self._report(exc)
        self._wake.set()  # the background thread starts retrying now

    def _report(self, exc: Exception) -> None:
        if self._warned:
            return
        self._warned = True
        print(
            f"jupyter-track: {exc}. Logging continues in memory; points are written when the "
            "store is writable again.",
            file=sys.stderr,
        )


def _first(row: Any) -> Any:
    return row[0]


def _bare(record: Any) -> Any:
    """The run without its end (written after its points, when those were isolated) and
    without its lineage (checked on the caller's thread; should the store still refuse it, the
    run and its points are kept)."""
    import dataclasses

    return dataclasses.replace(record, end=None, lineage=None)


def _halves(rows: list[Any]) -> list[list[Any]]:
    """``[second half, first half]``: pushed on a stack, the first half is written first."""
    mid = len(rows) // 2
    return [rows[mid:], rows[:mid]]


def _describe_metric(row: Any) -> str:
    """A dropped metric row, for the report: ``metric 'loss' (step 3, timestamp ...)``."""
    try:
        _, key, step, ts, _ = row
    except (TypeError, ValueError):
        return f"metric row {row!r:.80}"
    return f"metric {key!r:.60} (step {step!r:.40}, timestamp {ts!r:.40})"


def _describe_cell(row: Any) -> str:
    """A dropped cell-log row, for the report."""
    cell = row[2] if isinstance(row, tuple) and len(row) > 2 else None
    return f"cell-log row of cell {cell!r:.60}"


def _describe_trace(record: Any) -> str:
    """A dropped trace record, for the report."""
    return f"trace {getattr(record, 'trace_id', '?')!r:.60} ({getattr(record, 'name', None)!r:.60})"


_live_writers: weakref.WeakSet[BackgroundWriter] = weakref.WeakSet()


@atexit.register
def _flush_all_at_exit() -> None:
    for writer in list(_live_writers):
        try:
            writer.close()
        except Exception:
            pass
