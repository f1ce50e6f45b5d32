"""The background writer: ``log_metric`` appends to a buffer, a daemon thread writes batches.

Nothing on the caller's thread touches the disk. The thread flushes at least every
``interval`` seconds; ``flush()`` (run end, cell end, interpreter exit) writes at once. A process
killed with SIGKILL loses at most the points of the last interval.

When the store cannot be written (full disk, read-only file) the rows stay in memory and are
retried; one warning is printed for the whole episode, not one per metric.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import weakref
from collections import deque
from itertools import repeat, starmap
from typing import Any

from ..store.errors import StoreUnavailable

DEFAULT_INTERVAL = 0.2


def _drain(queue: deque[Any]) -> list[Any]:
    """Take the items present now, oldest first; appends racing with this stay queued.

    ``popleft`` one item at a time is what makes it safe against concurrent appends (no lock on
    the hot path); ``starmap`` makes the calls from C (about 20 ns an item).
    """
    return list(starmap(queue.popleft, repeat((), len(queue))))


class BackgroundWriter:
    """Buffers metric rows and cell-log rows for one store and writes them in batches."""

    def __init__(self, store: Any, interval: float = DEFAULT_INTERVAL):
        self.store = store
        self.interval = interval
        self.metrics: deque[tuple[int, str, int, int, float]] = deque()
        self.cells: deque[tuple[Any, ...]] = deque()
        #: the hot path: a bound ``deque.append`` (thread-safe, no lock)
        self.append_metric = self.metrics.append
        self.append_cell = self.cells.append
        self._pending_metrics: list[Any] = []
        self._pending_cells: list[Any] = []
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self.error: StoreUnavailable | None = None
        self._warned = False
        _live_writers.add(self)

    # ------------------------------------------------------------------------ lifecycle

    def ensure_started(self) -> None:
        if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
            self._pid = os.getpid()
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name="jupyter-track-writer", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush(raise_errors=False)
            except Exception as exc:  # never let the thread die silently
                self._report(exc)

    def close(self) -> None:
        """Flush what is buffered and stop the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.flush(raise_errors=False)

    # ---------------------------------------------------------------------------- flush

    @property
    def pending(self) -> int:
        """Points not yet on disk (buffered or waiting for a retry)."""
        return len(self.metrics) + len(self._pending_metrics)

    def flush(self, raise_errors: bool = True) -> None:
        """Write everything buffered now. With ``raise_errors`` a storage failure raises once."""
        with self._flush_lock:
            metrics = self._pending_metrics + _drain(self.metrics)
            cells = self._pending_cells + _drain(self.cells)
            if not metrics and not cells:
                return
            try:
                if metrics:
                    self.store.write_metric_rows(metrics)
                    metrics = []
                if cells:
                    self.store.write_cell_executions(cells)
                    cells = []
            except StoreUnavailable as exc:
                self._pending_metrics, self._pending_cells = metrics, cells
                first = self.error is None
                self.error = exc
                self._report(exc)
                if raise_errors and first:
                    raise StoreUnavailable(
                        f"{exc}. {len(metrics):,} metric points are kept in memory and will be "
                        "written when the store is writable again."
                    ) from exc
                return
            self._pending_metrics, self._pending_cells = [], []
            if self.error is not None:
                self.error = None
                self._warned = False
                print(
                    "jupyter-track: the store is writable again; buffered points were written.",
                    file=sys.stderr,
                )

    def _report(self, exc: Exception) -> None:
        if self._warned:
            return
        self._warned = True
        print(
            f"jupyter-track: {exc}. Logging continues in memory; points are written when the "
            "store is writable again.",
            file=sys.stderr,
        )


_live_writers: weakref.WeakSet[BackgroundWriter] = weakref.WeakSet()


@atexit.register
def _flush_all_at_exit() -> None:
    for writer in list(_live_writers):
        try:
            writer.close()
        except Exception:
            pass
