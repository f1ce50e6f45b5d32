"""The store side of the live chart: which runs it follows, and the metric points those runs
logged since the last look, grouped by series (see :mod:`.live` for the widget).

Which runs are followed: ``run_id`` when given (possibly a run another process is logging);
otherwise the runs of this kernel: those active when the follower starts and every run that
logs a point after it (same user and notebook, started after the follower), however short.
Reading is by rowid (``metric_series_since``): a poll never rereads the history.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .. import provenance
from ..store import NotFound, RunStatus
from ..tracking import session

Batch = tuple[str, str, Sequence[int], Sequence[int], Sequence[Any]]
"""(run_id, key, steps, timestamps, values) of one series, as the store groups them."""


def grouped(run_id: str, rows: Sequence[tuple[str, int, int, float]]) -> list[Batch]:
    """``metric_rows_until``'s rows ``(key, step, timestamp, value)`` as batches."""
    by_key: dict[str, tuple[list[int], list[int], list[float]]] = {}
    for key, step, ts, value in rows:
        columns = by_key.get(key)
        if columns is None:
            columns = by_key[key] = ([], [], [])
        columns[0].append(step)
        columns[1].append(ts)
        columns[2].append(value)
    return [(run_id, key, *columns) for key, columns in by_key.items()]


class RunFollower:
    """Follows runs in the store and hands over their new points (see the module doc)."""

    def __init__(self, store: Any, run_id: str | None = None) -> None:
        self.store = store
        self.fixed_run = run_id
        #: run_id -> {"name", "start", "local"} of every followed run, in the order followed
        self.runs: dict[str, dict[str, Any]] = {}
        self._ignored: set[str] = set()
        self._created_ms = int(time.time() * 1000)
        self._user = provenance.current_user()[0]
        self._notebook = provenance.notebook_path()
        # the newest point when following began: what came before is read per run
        self.cursor = store.last_metric_rowid()
        if run_id is not None:
            store.get_run(run_id)  # fail now (NotFound) for a wrong id

    def poll(self) -> list[Batch]:
        """The points logged since the last poll by the followed runs (runs that became
        ours since are followed now, with everything they logged before)."""
        store = self.store
        state = session.current()
        state.write_pending_runs()  # runs of this kernel still buffered: read them too
        local_ids = state.active_run_ids()
        for run_id, meta in self.runs.items():
            if run_id in local_ids:
                meta["local"] = True
        cursor = self.cursor
        batches: list[Batch] = []
        # runs known to be ours now: the active ones (and the one that just ended)
        if self.fixed_run is None:
            last = state.last_ended_run_id
            candidates = [*local_ids, *([last] if last else [])]
        else:
            candidates = [self.fixed_run]
        for run_id in candidates:
            if run_id not in self.runs and self.wants(run_id, local_ids):
                self.follow(run_id, local=run_id in local_ids)
                batches += grouped(run_id, store.metric_rows_until(run_id, cursor))
        # every point written since the last look, grouped by series; a run seen here for the
        # first time is followed when it is ours (a run too short to be caught active)
        scope = None if self.fixed_run is None else [self.fixed_run]
        fresh, self.cursor = store.metric_series_since(scope, cursor)
        for run_id in dict.fromkeys(b[0] for b in fresh):
            if run_id not in self.runs and self.wants(run_id, local_ids):
                self.follow(run_id, local=True)
                batches += grouped(run_id, store.metric_rows_until(run_id, cursor))
        batches += [b for b in fresh if b[0] in self.runs]
        return batches

    def history(self) -> list[Batch]:
        """Every point of the followed runs up to the cursor (to rebuild a chart)."""
        batches: list[Batch] = []
        for run_id in self.runs:
            batches += grouped(run_id, self.store.metric_rows_until(run_id, self.cursor))
        return batches

    def wants(self, run_id: str, local_ids: set[str]) -> bool:
        """Follow ``run_id``? The given run; else runs of this kernel started since."""
        if run_id == self.fixed_run or run_id in local_ids:
            return True
        if self.fixed_run is not None or run_id in self._ignored:
            return False
        try:
            info = self.store.get_run(run_id).info
        except NotFound:
            return False
        ours = (
            info.start_time >= self._created_ms
            and info.user_id == self._user
            and info.notebook == self._notebook
        )
        if not ours:
            self._ignored.add(run_id)
        return ours

    def follow(self, run_id: str, local: bool) -> None:
        run = self.store.get_run(run_id)  # raises NotFound for a wrong id
        self.runs[run_id] = {
            "name": run.info.run_name,
            "start": run.info.start_time,
            "local": local,
        }

    def fixed_run_over(self) -> bool:
        """The given run, logged by another process, has ended."""
        run_id = self.fixed_run
        if run_id is None or self.runs.get(run_id, {}).get("local", False):
            return False
        try:
            return self.store.get_run(run_id).info.status in RunStatus.TERMINAL
        except NotFound:
            return True
