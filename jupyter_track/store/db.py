"""The connection layer every part of the store goes through.

:class:`Database` is what a store's parts (the mixins) use: ``conn()`` for reads,
``write()`` for a write transaction (nested use joins the outer one), ``read()`` for several
reads from one snapshot, and ``dialect`` for the SQL that differs between engines. Two
implementations: :class:`SQLiteDatabase` here, ``PostgresDatabase`` in :mod:`.pgdb`.

SQLite: every write transaction is opened with ``BEGIN IMMEDIATE`` so a second writer waits on
the busy timeout instead of failing half-way with "database is locked" (which is what a deferred
transaction, and therefore sqlite-utils' ``atomic()``, does under a concurrent writer). Files
migrate themselves when first opened (one ``BEGIN IMMEDIATE`` transaction that re-reads the
version first, so several processes opening a new file at once create the schema once).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from . import schema
from .dialects.base import Dialect
from .dialects.sqlite import SQLITE
from .errors import SchemaMismatch, StoreUnavailable
from .template import create_from_template

BUSY_TIMEOUT_MS = 30_000

_UNAVAILABLE_HINTS = (
    "disk is full",
    "readonly",
    "read-only",
    "unable to open",
    "disk i/o error",
    "locked",
)


class Database:
    """What the store's parts use to run SQL (see the module's docstring)."""

    dialect: Dialect
    #: where the data lives, for messages (a path, or a URI without its password)
    location: str
    #: True when a commit can fail without saying whether it happened (a network engine): batch
    #: writes then record their batch id, so a retried batch is written once
    remote: bool = False

    def conn(self) -> Any:
        """This thread's connection (``execute``, ``executemany``; rows as tuples)."""
        raise NotImplementedError

    def write(self) -> AbstractContextManager[Any]:
        """A write transaction; nested use joins the outer transaction."""
        raise NotImplementedError

    def write_metrics(self) -> AbstractContextManager[Any]:
        """The write transaction of a metric batch: besides :meth:`write_batch`, batches
        commit one at a time, so ``metrics.rowid`` grows in commit order (live charts follow
        it)."""
        return self.write()

    def write_batch(self) -> AbstractContextManager[Any]:
        """A write transaction made of many statements whose results are mostly not read (a
        whole run, a metric batch). On a network engine the statements go out together (one
        round trip until a result is read, and one for the commit), so an error can surface
        at a later statement or at the commit, never silently; nested use joins the outer
        transaction. On SQLite it is :meth:`write`."""
        return self.write()

    def read(self) -> AbstractContextManager[Any]:
        """Several reads from one consistent snapshot (joins a transaction already open)."""
        raise NotImplementedError

    def fetch_many(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[Any]]:
        """The rows of several independent SELECTs, in order. A network engine sends them
        together (one round trip); SQLite runs them one after the other."""
        conn = self.conn()
        return [conn.execute(sql, params).fetchall() for sql, params in statements]

    def schema_version(self) -> int:
        """The migration number the store is at (0 for an empty one)."""
        raise NotImplementedError

    def migrate(self) -> tuple[int, int]:
        """Apply missing migrations; (version before, version after). Safe across processes."""
        raise NotImplementedError

    def details(self) -> dict[str, Any]:
        """Engine-specific facts for ``stats()`` (sizes, server version ...)."""
        return {}

    def vacuum(self) -> None:
        """Give the space of deleted rows back to the disk."""
        raise NotImplementedError

    def defer_checkpoints(self) -> None:
        """A background thread of this process calls :meth:`checkpoint` from now on: commits
        on other threads stop copying the write-ahead log into the file themselves (SQLite;
        nothing to do on engines without such a log)."""

    def checkpoint(self) -> None:
        """Copy what committed transactions left in the write-ahead log into the file, when
        some did, without blocking writers or readers (nothing on engines without one)."""

    def close(self) -> None:
        raise NotImplementedError


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


def create_files(path: Path) -> None:
    """Create the database and its ``-wal``/``-shm`` files as ``touch`` does, before SQLite.

    SQLite creates them with mode 0644 whatever the umask (a umask only removes bits), so in a
    group folder with ``umask 002`` only their creator could write. Created here first with
    0666 masked by the umask (0664 under ``umask 002``), every member of the group can. Files
    that exist are left alone.
    """
    for name in (str(path), f"{path}-wal", f"{path}-shm"):
        try:
            os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except OSError:  # exists already (or cannot be created: SQLite says why)
            pass


AUTOCHECKPOINT_PAGES = 1000
"""SQLite's default: a commit that leaves the write-ahead log this long (pages) copies it into
the database file (a checkpoint: two fsyncs and a copy of every page changed since the last)."""
DEFERRED_AUTOCHECKPOINT_PAGES = 16_000
"""The same once a background thread checkpoints (:meth:`SQLiteDatabase.defer_checkpoints`):
a backstop that keeps the log bounded (64 MB) if that thread falls behind."""
CHECKPOINT_AFTER_COMMITS = 32
CHECKPOINT_AFTER_SECONDS = 1.0
"""A background checkpoint is due after this many commits, or this long after the last one
when anything was committed since."""

CACHE_ENV = "JUPYTER_TRACK_SQLITE_CACHE_MB"
DEFAULT_CACHE_MB = 32


def cache_kib() -> int:
    """SQLite's page cache per connection, in KiB: ``$JUPYTER_TRACK_SQLITE_CACHE_MB`` (MB,
    default 32). A process's share of memory for it is this times its connections (one per
    thread that uses the store): the team service sets it lower, it has one per pool thread."""
    raw = os.environ.get(CACHE_ENV, "")
    try:
        mb = float(raw) if raw else DEFAULT_CACHE_MB
    except ValueError:
        mb = DEFAULT_CACHE_MB
    return max(1, int(mb * 1000))


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode (transactions are opened explicitly), WAL, busy timeout.

    A read-only connection never creates the file and never takes the write lock.
    """
    try:
        if readonly:
            conn = sqlite3.connect(
                f"file:{path}?mode=ro",
                uri=True,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            create_from_template(path)  # a new store: the shipped empty one, schema and all
            create_files(path)
            conn = sqlite3.connect(
                path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not readonly:
            _enable_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute(f"PRAGMA cache_size = -{cache_kib()}")
    except (sqlite3.OperationalError, OSError) as exc:
        raise StoreUnavailable(f"cannot open the jupyter-track store at {path}: {exc}") from exc
    return conn


def _enable_wal(conn: sqlite3.Connection) -> None:
    # Switching a fresh file to WAL needs a moment of exclusive access; retry while other
    # processes that open the same new file hold it.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() == "wal" or time.monotonic() > deadline:
                return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.005)


def file_schema_version(conn: sqlite3.Connection) -> int:
    """The migration number a SQLite file is at (0 for a new file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> tuple[int, int]:
    """Bring the file up to ``SCHEMA_VERSION``; idempotent and safe across processes."""
    before = file_schema_version(conn)
    if before >= schema.SCHEMA_VERSION:
        return before, before
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = file_schema_version(conn)  # re-read under the write lock
        for step in schema.steps_between(current):
            if isinstance(step, schema.Python):
                step.fn(conn, SQLITE)
            for statement in SQLITE.render(step):
                conn.execute(statement)
        if current < schema.SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return before, schema.SCHEMA_VERSION


class SQLiteDatabase(Database):
    """Thread-local connections to one SQLite file, and the write-transaction helper.

    Write transactions of one process on one file first take a process-wide lock, then
    ``BEGIN IMMEDIATE``: threads of the same process (the kernel's thread and the background
    metric writer, the server's thread pool) queue on the lock and start the moment the previous
    transaction commits, instead of polling in SQLite's busy handler (which sleeps 1 ms, then
    2, 5, 10 ... between tries). Other processes still wait through the busy timeout.
    """

    dialect = SQLITE

    def __init__(self, path: Path, *, readonly: bool = False):
        self.path = path
        self.location = str(path)
        self.readonly = readonly
        self._local = threading.local()
        self._migrated = False
        self._lock = threading.Lock()
        #: pages of write-ahead log after which a commit checkpoints itself (each thread's
        #: connection applies a change the next time it is used)
        self._autocheckpoint = AUTOCHECKPOINT_PAGES
        #: commits since the last background checkpoint (approximate: not locked), and when
        self.commits = 0
        self._checkpointed_at = time.monotonic()

    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened (and the schema migrated) on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._migrated:
                conn = connect(self.path, readonly=self.readonly)
            else:  # the first connection creates the file and its schema; other threads of
                # this process wait here (not in SQLite's busy handler, which sleeps)
                with self._lock:
                    conn = connect(self.path, readonly=self.readonly)
                    if not self._migrated:
                        try:
                            self._check_or_migrate(conn)
                        except BaseException:
                            conn.close()
                            raise
                        self._migrated = True
            self._local.conn = conn
            self._local.autocheckpoint = AUTOCHECKPOINT_PAGES  # a new connection: SQLite's
        if self._local.autocheckpoint != self._autocheckpoint:
            self._local.autocheckpoint = self._autocheckpoint
            if not self.readonly:
                conn.execute(f"PRAGMA wal_autocheckpoint = {self._autocheckpoint}")
        return conn

    def defer_checkpoints(self) -> None:
        """Commits stop checkpointing at :data:`AUTOCHECKPOINT_PAGES` (the backstop is
        :data:`DEFERRED_AUTOCHECKPOINT_PAGES`): the caller's background thread runs
        :meth:`checkpoint`, on the other core, instead of the thread that commits (``end_run``
        on the user's thread). Durability is the commit's, not the checkpoint's: nothing
        committed is lost by checkpointing later."""
        self._autocheckpoint = DEFERRED_AUTOCHECKPOINT_PAGES

    def checkpoint(self) -> None:
        """A PASSIVE checkpoint when one is due (:data:`CHECKPOINT_AFTER_COMMITS` commits, or
        :data:`CHECKPOINT_AFTER_SECONDS` after the last with a commit since): it copies what it
        can without waiting for readers or writers; what it cannot, the next one does."""
        commits = self.commits
        if not commits or self.readonly:
            return
        now = time.monotonic()
        if commits < CHECKPOINT_AFTER_COMMITS and now - self._checkpointed_at < (
            CHECKPOINT_AFTER_SECONDS
        ):
            return
        self.commits = 0
        self._checkpointed_at = now
        try:
            self.conn().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc

    def _check_or_migrate(self, conn: sqlite3.Connection) -> None:
        version = file_schema_version(conn)
        if version > schema.SCHEMA_VERSION:
            raise SchemaMismatch(
                f"the jupyter-track store {self.path} has schema version {version}, newer than "
                f"this jupyter-track knows ({schema.SCHEMA_VERSION}): upgrade the package "
                "(pip install -U jupyter-track)"
            )
        if not self.readonly:
            try:
                migrate(conn)
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path) from exc

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
        locked = lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path) from exc
            try:
                yield conn
                conn.execute("COMMIT")
                self.commits += 1
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

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A deferred transaction: every read inside sees one snapshot of the file."""
        conn = self.conn()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")

    def schema_version(self) -> int:
        return file_schema_version(self.conn())

    def migrate(self) -> tuple[int, int]:
        if self.readonly:
            raise StoreUnavailable(f"cannot migrate {self.path}: the store is opened read-only")
        conn = getattr(self._local, "conn", None) or connect(self.path)
        try:
            return migrate(conn)
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc

    def details(self) -> dict[str, Any]:
        conn = self.conn()
        sizes = {}
        for suffix in ("", "-wal"):
            file = f"{self.path}{suffix}"
            sizes["db" if not suffix else "wal"] = (
                os.path.getsize(file) if os.path.exists(file) else 0
            )
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        return {"path": str(self.path), "bytes": sizes, "journal_mode": mode}

    def vacuum(self) -> None:
        conn = self.conn()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")

    def close(self) -> None:
        """Close this thread's connection (other threads close theirs when they end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
