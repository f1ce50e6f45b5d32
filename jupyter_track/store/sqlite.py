"""The SQLite engine: the zero-setup default, one file per store."""

from __future__ import annotations

import os
from pathlib import Path

from ..paths import artifact_root_for
from .db import SQLiteDatabase
from .sqlstore import SQLStore


class SQLiteStore(SQLStore):
    """A store in one SQLite file.

    Safe to share between threads (each thread gets its own connection) and between processes
    (WAL, busy timeout, ``BEGIN IMMEDIATE`` writes). ``readonly=True`` opens the file without
    ever taking the write lock, as the server does for reads.
    """

    db: SQLiteDatabase

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        readonly: bool = False,
        artifact_root: str | os.PathLike[str] | None = None,
    ):
        self.path = Path(path).absolute()
        super().__init__(
            SQLiteDatabase(self.path, readonly=readonly),
            Path(artifact_root).absolute() if artifact_root else artifact_root_for(self.path),
        )

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.path}"

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"
