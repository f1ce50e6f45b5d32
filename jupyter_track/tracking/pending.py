"""Runs started in this process and not written yet: a short run is one transaction.

``start_run`` does not write: it names the run (its id, name, start time and system tags are
known at once) and queues a :class:`PendingRun` with the background writer. ``log_params`` and
``set_tags`` on it are checked on the caller's thread, exactly as the store would check them
(same errors, same "same value again is a no-op" rule), and kept in the record; metric points go
to the writer's buffer as usual, with the record as their run handle. The writer then writes the
run's creation, params, tags, points and -- when the run has ended by then -- its end with one
store call (:meth:`jupyter_track.store.runs.RunsMixin.write_run`), in one transaction.

When the run becomes visible:

* ``end_run`` writes it before returning (durable when it returns, as before);
* every read of this process sees it at once: the session writes buffered runs before handing
  out its store (:attr:`jupyter_track.tracking.session.Session.store`), and the fluent read
  functions flush first;
* other processes see it after the next background flush (at most the flush interval, 0.2 s,
  like its metric points); a process killed with SIGKILL loses at most that interval.

A long run is written by the first background flush after its start; from then on it is an
ordinary stored run (params and tags go straight to the store).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ..store.errors import InvalidInput
from ..store.lineage import lineage_json
from ..store.runs import NewRun, param_conflict, raise_param_problems
from ..store.validation import (
    MAX_PARAM_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    text_rows,
)


class PendingRun:
    """A run queued with the writer: the metric buffer's run handle until it is written.

    ``lock`` guards the record: the caller's thread changes it (params, tags, end) and the
    writer takes it to write it, under the lock. Once :attr:`written`, :attr:`handle` is the
    store's handle and the caller goes to the store.
    """

    __slots__ = ("failed", "handle", "lock", "owner", "record", "written")

    def __init__(self, record: NewRun) -> None:
        self.record = record
        self.lock = threading.Lock()
        self.written = False
        self.handle: Any = None
        #: the ``ActiveRun`` whose metric handle is switched to :attr:`handle` once written
        self.owner: Any = None
        #: why the store refused the run (it is then not retried)
        self.failed: BaseException | None = None

    @property
    def run_id(self) -> str:
        return self.record.run_id

    def __repr__(self) -> str:
        state = "written" if self.written else "pending"
        return f"<PendingRun {self.record.run_id} {state}>"

    # ------------------------------------------------------------------ caller's thread

    def add_params(self, params: Mapping[str, Any]) -> bool:
        """Keep ``params`` in the record, checked as the store checks them; False when the run
        was written meanwhile (the caller then logs them to the store)."""
        errors: list[InvalidInput] = []
        rows = text_rows(params.items(), "param", MAX_PARAM_VALUE_LENGTH, errors)
        conflicts = []
        with self.lock:
            if self.written:
                return False
            kept = self.record.params
            for key, text in rows:
                old = kept.get(key)
                if old is None:
                    kept[key] = text
                elif old != text:
                    conflicts.append(param_conflict(key, old, text, self.record.run_id))
        raise_param_problems(errors, conflicts)
        return True

    def set_tags(self, tags: Mapping[str, Any]) -> bool:
        """Keep ``tags`` (checked as the store checks them); ``mlflow.runName`` renames the run.
        False when the run was written meanwhile."""
        errors: list[InvalidInput] = []
        rows = text_rows(tags.items(), "tag", MAX_TAG_VALUE_LENGTH, errors)
        with self.lock:
            if self.written:
                return False
            self.record.tags.update(rows)
            if "mlflow.runName" in tags and any(key == "mlflow.runName" for key, _ in rows):
                self.record.run_name = str(tags["mlflow.runName"])
        if errors:
            raise errors[0] if len(errors) == 1 else InvalidInput("; ".join(map(str, errors)))
        return True

    def add_lineage(self, record: Mapping[str, Any]) -> bool:
        """Keep the run's lineage record (checked as the store checks it); False when the run
        was written meanwhile."""
        lineage_json(self.record.run_id, record)
        with self.lock:
            if self.written:
                return False
            self.record.lineage = dict(record)
            return True

    def end(self, status: str, end_time: int, error: str | None) -> bool:
        """Record the run's end; False when it was written meanwhile."""
        with self.lock:
            if self.written:
                return False
            self.record.end = (status, end_time, error)
            return True
