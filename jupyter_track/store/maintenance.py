"""Maintenance and introspection of the SQLite file, through sqlite-utils.

The hot paths (metric batches, run search) use ``sqlite3`` directly with hand-tuned statements;
sqlite-utils imports pandas when it is installed (~0.4 s), which the kernel cannot afford on
``import jupyter_track``. Here, off the hot path, its helpers are the clearer tool.
"""

from __future__ import annotations

import os
from typing import Any

from .db import Database


class MaintenanceMixin:
    db: Database

    def _utils_db(self) -> Any:
        import sqlite_utils

        return sqlite_utils.Database(self.db.conn())

    def stats(self) -> dict[str, Any]:
        """Rows per table, file sizes (database, WAL) and the schema version."""
        db = self._utils_db()
        tables = {name: db.table(name).count for name in sorted(db.table_names())}
        path = self.db.path
        sizes = {}
        for suffix in ("", "-wal"):
            file = f"{path}{suffix}"
            sizes["db" if not suffix else "wal"] = (
                os.path.getsize(file) if os.path.exists(file) else 0
            )
        version = db.execute("PRAGMA user_version").fetchone()[0]
        return {
            "path": str(path),
            "schema_version": version,
            "tables": tables,
            "bytes": sizes,
            "journal_mode": db.journal_mode,
        }

    def vacuum(self) -> None:
        """Give the space of deleted rows back to the file system (after ``gc``)."""
        db = self._utils_db()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.vacuum()
