"""How request handlers reach the store without blocking the event loop.

Reads run in a small thread pool on a read-only store (on SQLite each thread has its own
read-only connection, so a read never takes the write lock); writes run one at a time in a
single writer thread on a writable store. A read-only SQLite connection can neither create nor
migrate the file, so the first use opens it once writable to do that (a PostgreSQL schema is
only checked: ``jupyter-track db upgrade`` migrates it).
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..paths import redact_uri, resolve_uri, store_kind
from ..store import StoreUnavailable, connect_store
from ..store.interface import Store

T = TypeVar("T")


class StoreAccess:
    """Thread pools and the stores they use, for one store URI."""

    def __init__(self, uri: str | os.PathLike[str], *, read_threads: int = 4):
        self.uri = resolve_uri(uri)
        self._lock = threading.RLock()
        self._reader: Store | None = None
        self._writer: Store | None = None
        self._prepared = False
        self.read_pool = ThreadPoolExecutor(read_threads, thread_name_prefix="jupyter-track-read")
        self.write_pool = ThreadPoolExecutor(1, thread_name_prefix="jupyter-track-write")

    # --------------------------------------------------------------- stores (pool threads only)

    @property
    def engine(self) -> str:
        return store_kind(self.uri)

    @property
    def location(self) -> str:
        """Where the store is, for logs and the info route: a SQLite file's path, else the URI
        with its password redacted."""
        if self.engine == "sqlite":
            return self.uri[len("sqlite:///") :]
        return redact_uri(self.uri)

    def reader(self) -> Store:
        """The read-only store (call from a read-pool thread)."""
        with self._lock:
            if self._reader is None:
                self._prepare_file()
                self._reader = connect_store(self.uri, readonly=True)
            return self._reader

    def writer(self) -> Store:
        """The writable store (call from the write thread)."""
        with self._lock:
            if self._writer is None:
                self._writer = connect_store(self.uri)
            return self._writer

    def _prepare_file(self) -> None:
        if self._prepared:
            return
        setup = connect_store(self.uri)
        try:
            setup.prepare()  # SQLite: creates the file and runs the migrations
        except StoreUnavailable:
            sqlite_file = self.uri[len("sqlite:///") :] if store_kind(self.uri) == "sqlite" else ""
            if not sqlite_file or not os.path.exists(sqlite_file):
                raise
            # a read-only file or folder: serve what is there
        finally:
            setup.close()
        self._prepared = True

    # ------------------------------------------------------------------- event-loop side

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(reader_store, *args, **kwargs)`` in the read pool."""
        call = functools.partial(self._call, self.reader, fn, args, kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.read_pool, call)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(writer_store, *args, **kwargs)`` in the single write thread."""
        call = functools.partial(self._call, self.writer, fn, args, kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.write_pool, call)

    async def blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run any blocking ``fn(*args)`` (file reads...) in the read pool."""
        return await asyncio.get_running_loop().run_in_executor(
            self.read_pool, functools.partial(fn, *args)
        )

    @staticmethod
    def _call(get_store: Callable[[], Store], fn: Callable[..., T], args: Any, kw: Any) -> T:
        return fn(get_store(), *args, **kw)

    def close(self) -> None:
        """Stop the pools; running calls finish, queued ones are dropped."""
        self.read_pool.shutdown(wait=False, cancel_futures=True)
        self.write_pool.shutdown(wait=False, cancel_futures=True)
