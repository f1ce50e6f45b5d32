"""Introspection and upkeep that every engine answers: counts, schema version, space."""

from __future__ import annotations

from typing import Any

from . import schema
from .db import Database


class MaintenanceMixin:
    db: Database

    def stats(self) -> dict[str, Any]:
        """Engine, where the data lives (no password), schema version, rows per table, and what
        the engine adds (SQLite: file sizes and journal mode)."""
        conn = self.db.conn()
        tables = {
            name: int(conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
            for name in sorted(schema.tables())
        }
        return {
            "engine": self.db.dialect.name,
            "location": self.db.location,
            "schema_version": self.db.schema_version(),
            "code_schema_version": schema.SCHEMA_VERSION,
            "tables": tables,
            **self.db.details(),
        }

    def vacuum(self) -> None:
        """Give the space of deleted rows back (after ``gc``)."""
        self.db.vacuum()
