"""The SQLite plumbing shared by the store's parts: per-thread connections and write transactions.

Every write transaction is opened with ``BEGIN IMMEDIATE`` so a second writer waits on the busy
timeout instead of failing half-way with "database is locked" (which is what a deferred
transaction, and therefore sqlite-utils' ``atomic()``, does under a concurrent writer).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import schema
from .errors import StoreUnavailable

_UNAVAILABLE_HINTS = (
    "disk is full",
    "readonly",
    "read-only",
    "unable to open",
    "disk i/o error",
    "locked",
)


def translate_error(exc: sqlite3.Error, path: Path) -> Exception:
    """Map low-level SQLite failures that are about the file to one clear ``StoreUnavailable``."""
    text = str(exc).lower()
    if isinstance(exc, sqlite3.OperationalError) and any(h in text for h in _UNAVAILABLE_HINTS):
        if "disk is full" in text:
            reason = "the disk is full"
        elif "readonly" in text or "read-only" in text:
            reason = "the file or its folder is read-only"
        elif "locked" in text:
            reason = "another process kept the database locked past the busy timeout"
        else:
            reason = str(exc)
        return StoreUnavailable(f"cannot write to the jupyter-track store {path}: {reason}")
    return exc


_write_locks: dict[str, threading.RLock] = {}
_write_locks_guard = threading.Lock()


def _write_lock(path: Path) -> threading.RLock:
    """The process-wide lock that orders this process's write transactions on ``path``."""
    key = str(path)
    with _write_locks_guard:
        lock = _write_locks.get(key)
        if lock is None:
            lock = _write_locks[key] = threading.RLock()
        return lock


def _forget_write_locks() -> None:  # a forked child must not inherit a held lock
    global _write_locks_guard
    _write_locks.clear()
    _write_locks_guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_write_locks)


class Database:
    """Thread-local connections to one SQLite file, and the write-transaction helper.

    Write transactions of one process on one file first take a process-wide lock, then
    ``BEGIN IMMEDIATE``: threads of the same process (the kernel's thread and the background
    metric writer, the server's thread pool) queue on the lock and start the moment the previous
    transaction commits, instead of polling in SQLite's busy handler (which sleeps 1 ms, then
    2, 5, 10 ... between tries). Other processes still wait through the busy timeout.
    """

    def __init__(self, path: Path, *, readonly: bool = False):
        self.path = path
        self.readonly = readonly
        self._local = threading.local()
        self._migrated = False
        self._lock = threading.Lock()

    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened (and the schema migrated) on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = schema.connect(self.path, readonly=self.readonly)
            if not self._migrated:
                with self._lock:
                    if not self._migrated:
                        if not self.readonly:
                            try:
                                schema.migrate(conn)
                            except sqlite3.Error as exc:
                                raise translate_error(exc, self.path) from exc
                        self._migrated = True
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction; nested use joins the outer transaction."""
        conn = self.conn()
        if conn.in_transaction:
            yield conn
            return
        lock = _write_lock(self.path)
        # bounded: a thread that waits on something this process's writer holds falls back
        # to SQLite's own busy timeout (and its clear error) instead of hanging
        locked = lock.acquire(timeout=schema.BUSY_TIMEOUT_MS / 1000)
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise translate_error(exc, self.path) from exc
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            if locked:
                lock.release()

    def close(self) -> None:
        """Close this thread's connection (other threads close theirs when they end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
