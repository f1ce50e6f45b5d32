"""The spool: batches the team service did not take yet, kept on the user's disk until it does.

One file per process (``<jupyter data dir>/jupyter_track/spool/<service key>/<pid>-<id>.jsonl``),
one JSON batch per line, appended and flushed to disk before the batch counts as kept. The
process holds an exclusive ``flock`` on its own file, so another process (a restarted kernel,
``jupyter-track spool flush``) delivers only the files of processes that are gone. Batches of
one file are delivered in order, oldest first, each with its id: the service writes a batch
id once, so a batch sent twice (its answer was lost) has one effect.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

Send = Callable[[dict[str, Any]], None]


def spool_root() -> Path:
    """``<jupyter data dir>/jupyter_track/spool``."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "jupyter_track" / "spool"


def batch_size(batch: dict[str, Any]) -> int:
    """Metric points, cell rows and calls in a batch."""
    return sum(len(batch.get(k) or ()) for k in ("metrics", "cells", "calls"))


class Spool:
    """This process's spool file for one service (created on first use)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        self._file: IO[str] | None = None
        self._batches: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self._batches)

    @property
    def points(self) -> int:
        return sum(batch_size(b) for b in self._batches)

    def _open(self) -> IO[str]:
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._file = handle
        return self._file

    def append(self, batch: dict[str, Any]) -> None:
        """Keep ``batch`` (on disk before this returns)."""
        handle = self._open()
        handle.write(json.dumps(batch, separators=(",", ":"), allow_nan=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
        self._batches.append(batch)

    def deliver(self, send: Send) -> int:
        """Send the kept batches in order; the number delivered. A failing send raises after
        the file keeps only the batches not delivered."""
        delivered = 0
        try:
            while self._batches:
                send(self._batches[0])
                self._batches.pop(0)
                delivered += 1
        finally:
            if delivered:
                self._rewrite()
        return delivered

    def _rewrite(self) -> None:
        handle = self._open()
        handle.seek(0)
        handle.truncate()
        for batch in self._batches:
            handle.write(json.dumps(batch, separators=(",", ":"), allow_nan=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())

    def close(self) -> None:
        """Release the file (removed when empty)."""
        if self._file is not None:
            if not self._batches:
                try:
                    self.path.unlink()
                except OSError:
                    pass
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


@dataclass
class SpoolFile:
    """A spool file on disk and what it holds."""

    path: Path
    batches: int
    points: int
    in_use: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "batches": self.batches,
            "points": self.points,
            "in_use": self.in_use,
        }


def _read(handle: IO[str]) -> list[dict[str, Any]]:
    handle.seek(0)
    batches = []
    for line in handle:
        line = line.strip()
        if not line:
            continue
        try:
            batches.append(json.loads(line))
        except ValueError:
            continue  # a line cut by a crash mid-write was never acknowledged as kept
    return batches


def _files(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        kept = (p for p in folder.glob("*.jsonl") if p.name != "rejected.jsonl")
        yield from sorted(kept, key=lambda p: p.stat().st_mtime)


def status(folder: Path) -> list[SpoolFile]:
    """Every spool file in ``folder``; ``in_use`` when a running process holds it."""
    found = []
    for path in _files(folder):
        try:
            handle = path.open("r+", encoding="utf-8")
        except OSError:
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                in_use = False
            except OSError:
                in_use = True
            batches = _read(handle)
            found.append(SpoolFile(path, len(batches), sum(map(batch_size, batches)), in_use))
    return found


def drain_orphans(folder: Path, send: Send, *, skip: Path | None = None) -> tuple[int, int]:
    """Deliver the spool files of processes that are gone, oldest first: ``(batches,
    points)`` delivered. A failing send raises after the file keeps what was not delivered."""
    total_batches = total_points = 0
    for path in _files(folder):
        if path == skip:
            continue
        try:
            handle = path.open("r+", encoding="utf-8")
        except OSError:
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live process owns it
            batches = _read(handle)
            delivered = 0
            try:
                for batch in batches:
                    send(batch)
                    delivered += 1
                    total_batches += 1
                    total_points += batch_size(batch)
            finally:
                if delivered == len(batches):
                    path.unlink(missing_ok=True)
                elif delivered:
                    handle.seek(0)
                    handle.truncate()
                    for batch in batches[delivered:]:
                        handle.write(json.dumps(batch, separators=(",", ":")) + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
    return total_batches, total_points
