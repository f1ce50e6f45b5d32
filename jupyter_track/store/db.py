"""The SQLite plumbing shared by the store's parts: per-thread connections and write transactions.

Every write transaction is opened with ``BEGIN IMMEDIATE`` so a second writer waits on the busy
timeout instead of failing half-way with "database is locked" (which is what a deferred
transaction, and therefore sqlite-utils' ``atomic()``, does under a concurrent writer).
"""

from __future__ import annotations

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


class Database:
    """Thread-local connections to one SQLite file, and the write-transaction helper."""

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

    def close(self) -> None:
        """Close this thread's connection (other threads close theirs when they end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
