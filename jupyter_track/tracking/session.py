"""The kernel session: the tracking state of this process, behind public names.

One :class:`Session` per process (:func:`current`; a forked child starts a fresh one) holds

* where the store is (:attr:`Session.tracking_uri`), the open store (:attr:`Session.store`) and
  its background writer (:attr:`Session.writer`), both opened on first use;
* the active experiment (process-wide, as in MLflow);
* the active runs: **one stack per thread**, as in MLflow -- a thread's ``start_run`` never ends
  another thread's run, and ``active_run()`` answers for the calling thread. The runs of every
  thread are visible through :meth:`Session.active_run_ids` (the live chart's polling thread
  follows the runs of the training thread);
* the runs owned by a running ``%%track`` cell (:meth:`Session.cell_run`): a thread with no run
  of its own logs into the cell's run, and a run it starts nests under it.

The fluent API (``jupyter_track.tracking.fluent``), the magics, the widgets and the models use
the session only through the names documented here.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

from ..paths import redact_uri, resolve_uri
from ..store import StoreUnavailable, open_store
from .pending import PendingRun
from .writer import BackgroundWriter

if TYPE_CHECKING:  # the store's protocol, for annotations only
    from ..store.interface import Store


class RunHandle(Protocol):
    """What the session keeps per active run (``fluent.ActiveRun`` is one)."""

    @property
    def info(self) -> Any: ...


class _ThreadRuns(threading.local):
    """The calling thread's stack of active runs and the run it ended last."""

    def __init__(self, session: Session) -> None:
        self.stack: list[Any] = []
        self.last_run_id: str | None = None
        session._register_thread(self.stack)


class Session:
    """The tracking state of one process (see the module docstring)."""

    def __init__(self, tracking_uri: str | None = None) -> None:
        self._tracking_uri = tracking_uri
        self._store: Store | None = None
        self._writer: BackgroundWriter | None = None
        #: the experiment runs start in when none is named (None: the environment or default)
        self.experiment_id: str | None = None
        #: the URI given to ``set_registry_uri`` (None: the tracking store's)
        self.registry_uri: str | None = None
        #: the run ended most recently by any thread of this process
        self.last_ended_run_id: str | None = None
        #: metric keys already checked (``log_metric``'s hot path checks a key once)
        self.valid_keys: set[str] = set()
        #: experiments known to exist in the store (a new run is checked against them)
        self._experiments_seen: set[str] = set()
        #: guards opening the store and the writer, and the thread registry
        self.lock = threading.RLock()
        self._stacks: dict[threading.Thread, list[Any]] = {}
        self._cell_runs: list[str] = []
        self._runs = _ThreadRuns(self)

    # ------------------------------------------------------------------------------ store

    @property
    def tracking_uri(self) -> str | None:
        """The URI given to :meth:`set_tracking_uri` (None: the environment or the default)."""
        return self._tracking_uri

    @property
    def resolved_uri(self) -> str:
        """The URI of the store in use (``sqlite:///<absolute path>``, a PostgreSQL URI with its
        password shown as ``***``, or the team service's URI)."""
        return redact_uri(resolve_uri(self._tracking_uri))

    @property
    def store(self) -> Store:
        """The store (opened on first use), with every run this process started written:
        whoever reads it sees them (read-your-writes; see :mod:`.pending`)."""
        store = self.raw_store
        self.write_pending_runs()
        return store

    def write_pending_runs(self) -> None:
        """Write the runs started in this process that are not written yet (a no-op when
        there are none): for a reader holding the store, such as a live chart's thread."""
        writer = self._writer
        if writer is not None and writer.has_pending_runs:
            writer.flush()

    @property
    def raw_store(self) -> Store:
        """The store, without writing the runs still buffered first: for the fluent API's own
        run bookkeeping, which knows about them (everyone else uses :attr:`store`)."""
        store = self._store
        if store is None:
            with self.lock:
                if self._store is None:
                    opened = open_store(self._tracking_uri)
                    if hasattr(opened, "on_missing_run"):
                        opened.on_missing_run = self._write_if_pending
                    self._store = opened
                store = self._store
        return store

    def _write_if_pending(self, run_id: str) -> bool:
        """The store's ``on_missing_run``: write ``run_id`` if this process buffered it (any
        code holding the store sees the run the moment it asks for it)."""
        writer = self._writer
        if writer is None or not writer.is_pending(run_id):
            return False
        writer.flush()
        return True

    def check_experiment(self, experiment_id: str) -> None:
        """``NotFound`` unless the experiment exists (asked once per experiment and store).

        A store that cannot be reached (a PostgreSQL server down or restarting) does not stop
        a run from starting: it is queued with the writer like any run, one warning names the
        server, and the run, its params and points are written when the server is back (an
        experiment missing then makes the writer report the run as not stored)."""
        if experiment_id not in self._experiments_seen:
            try:
                self.raw_store.get_experiment(experiment_id)
            except StoreUnavailable as exc:
                self.writer.store_unavailable(exc)
                return
            self._experiments_seen.add(experiment_id)

    def buffers_runs(self) -> bool:
        """Whether new runs are buffered and written whole (:mod:`.pending`): every store that
        has ``write_run``."""
        return hasattr(self.raw_store, "write_run")

    @property
    def writer(self) -> BackgroundWriter:
        """The background writer of :attr:`store` (created and started on first use)."""
        writer = self._writer
        if writer is None:
            with self.lock:
                if self._writer is None:
                    self._writer = BackgroundWriter(self.raw_store)
                writer = self._writer
        writer.ensure_started()
        return writer

    @property
    def started_writer(self) -> BackgroundWriter | None:
        """The writer if one was created, else None (never creates one)."""
        return self._writer

    def set_tracking_uri(self, uri: str | None) -> None:
        """Use another store: buffered points go to the old one first; the active experiment
        is forgotten (it belongs to the old store)."""
        with self.lock:
            if self._writer is not None:
                self._writer.flush(raise_errors=False)
                self._writer.stop()
            self._tracking_uri = uri
            self._store = None
            self._writer = None
            self.experiment_id = None
            self.registry_uri = None
            self.valid_keys.clear()
            self._experiments_seen.clear()

    def flush(self, raise_errors: bool = True) -> None:
        """Write buffered metric points, cell-log rows and finished traces now (no-op without
        a writer)."""
        _traces_handed_over(raise_errors)
        if self._writer is not None:
            self._writer.flush(raise_errors=raise_errors)

    def flush_metrics(self) -> None:
        """Write buffered metric points now (cell-log rows stay with the background thread)."""
        if self._writer is not None:
            self._writer.flush(metrics_only=True)

    def close(self) -> None:
        """Flush and stop the writer (tests and interpreter exit)."""
        _traces_handed_over(False)
        if self._writer is not None:
            self._writer.close()

    # ------------------------------------------------------------------------------- runs

    def _register_thread(self, stack: list[Any]) -> None:
        with self.lock:
            # forget threads that ended with no run open
            for thread in [t for t, s in self._stacks.items() if not s and not t.is_alive()]:
                del self._stacks[thread]
            self._stacks[threading.current_thread()] = stack

    @property
    def runs(self) -> list[Any]:
        """The calling thread's stack of active runs, innermost last (the live list)."""
        return self._runs.stack

    def active(self) -> Any | None:
        """The calling thread's innermost active run, or None."""
        stack = self._runs.stack
        return stack[-1] if stack else None

    @property
    def last_run_id(self) -> str | None:
        """The run the calling thread ended last (``last_active_run``)."""
        return self._runs.last_run_id

    def push(self, run: RunHandle) -> None:
        """Make ``run`` the calling thread's active run (innermost)."""
        self._runs.stack.append(run)

    def all_runs(self) -> list[Any]:
        """The active runs of every thread (each thread's stack, outermost first)."""
        with self.lock:
            return [run for stack in list(self._stacks.values()) for run in list(stack)]

    def active_run_ids(self) -> set[str]:
        """Ids of the runs active in any thread of this process."""
        return {run.info.run_id for run in self.all_runs()}

    def is_active(self, run_id: str) -> bool:
        """Whether ``run_id`` is active in any thread of this process."""
        return run_id in self.active_run_ids()

    def find(self, run_id: str) -> Any | None:
        """The active run ``run_id`` of any thread, or None."""
        for run in self.all_runs():
            if run.info.run_id == run_id:
                return run
        return None

    def end_run(self, run_id: str, status: str, error: str | None = None) -> None:
        """End ``run_id`` (active in whichever thread): buffered points are written, the run
        leaves its thread's stack and is stored with ``status`` and an end time.

        The run is ended even when the flush fails: a point the store refused was already left
        out and reported by the writer (it is never raised here); a store that cannot be
        written keeps the points in memory, and its error is raised only when storing the end
        of the run fails too.
        """
        now = int(time.time() * 1000)
        pending = self.find(run_id)
        pending = getattr(pending, "_pk", None)
        if type(pending) is PendingRun and pending.end(status, now, error):
            # not written yet: written now with its end, in one transaction
            with self.lock:
                for stack in self._stacks.values():
                    stack[:] = [r for r in stack if r.info.run_id != run_id]
            self._runs.last_run_id = run_id
            self.last_ended_run_id = run_id
            self.writer.flush(metrics_only=True)
            if pending.failed is not None:
                raise pending.failed
            return
        store = self.raw_store
        flush_error: StoreUnavailable | None = None
        from . import system_metrics

        system_metrics.unwatch(run_id)
        try:
            self.flush_metrics()
        except StoreUnavailable as exc:
            flush_error = exc
        finally:
            with self.lock:
                for stack in self._stacks.values():
                    stack[:] = [r for r in stack if r.info.run_id != run_id]
            self._runs.last_run_id = run_id
            self.last_ended_run_id = run_id
        try:
            store.update_run(run_id, status=status, end_time=now, error=error)
        except StoreUnavailable:
            if flush_error is not None:
                raise flush_error from None
            raise

    # -------------------------------------------------------------------------- %%track cells

    def begin_cell_run(self, run_id: str) -> None:
        """``run_id`` belongs to the running ``%%track`` cell until :meth:`end_cell_run`."""
        with self.lock:
            self._cell_runs.append(run_id)

    def end_cell_run(self, run_id: str) -> None:
        with self.lock:
            if run_id in self._cell_runs:
                self._cell_runs.remove(run_id)

    def cell_run(self) -> Any | None:
        """The active run of the running ``%%track`` cell (innermost), or None."""
        with self.lock:
            ids = list(self._cell_runs)
        for run_id in reversed(ids):
            run = self.find(run_id)
            if run is not None:
                return run
        return None

    def is_cell_run(self, run_id: str) -> bool:
        """Whether ``run_id`` belongs to a running ``%%track`` cell."""
        return run_id in self._cell_runs


def _traces_handed_over(raise_errors: bool) -> None:
    """Wait until traces that ended before the writer existed are in its queue (the tracing
    module hands them over from a thread of its own, so the first traced call does not load
    the store): a flush then writes them too."""
    tracing = sys.modules.get("jupyter_track.tracing.core")
    if tracing is None:
        return
    try:
        tracing.wait_ready()
    except Exception:
        if raise_errors:
            raise


_session = Session()


def current() -> Session:
    """The session of this process."""
    return _session


def reset() -> Session:
    """Start a fresh session (after ``fork``; tests). The old one's writer is not closed."""
    global _session
    _session = Session()
    return _session


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=reset)
