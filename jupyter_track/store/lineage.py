"""Run lineage records: what a run depended on (jupyter_track.lineage computes them)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .db import Database
from .errors import InvalidInput, NotFound
from .experiments import now_ms

MAX_LINEAGE_BYTES = 16 * 1024 * 1024
"""A lineage record larger than this (cell sources included) is refused."""


class LineageMixin:
    db: Database

    if TYPE_CHECKING:  # provided by another part of the store

        def run_pk(self, run_id: str) -> int: ...

    def put_run_lineage(self, run_id: str, record: Mapping[str, Any]) -> None:
        """Store (or replace) ``run_id``'s lineage record, a JSON object with at least
        ``stale`` and ``unseeded`` (see :class:`jupyter_track.lineage.Lineage`)."""
        if not isinstance(record, Mapping):
            raise InvalidInput(f"lineage of run {run_id}: expected a JSON object")
        text = json.dumps(dict(record), default=str, separators=(",", ":"))
        if len(text) > MAX_LINEAGE_BYTES:
            raise InvalidInput(
                f"lineage of run {run_id}: {len(text):,} bytes, more than {MAX_LINEAGE_BYTES:,}"
            )
        pk = self.run_pk(run_id)
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO run_lineage (run, session, notebook, stale, unseeded, record, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run) DO UPDATE SET "
                "session = excluded.session, notebook = excluded.notebook, "
                "stale = excluded.stale, unseeded = excluded.unseeded, "
                "record = excluded.record, created = excluded.created",
                (
                    pk,
                    record.get("session"),
                    record.get("notebook"),
                    1 if record.get("stale") else 0,
                    1 if record.get("unseeded") else 0,
                    text,
                    now_ms(),
                ),
            )

    def get_run_lineage(self, run_id: str) -> dict[str, Any] | None:
        """``run_id``'s lineage record, or None when it has none (a run made by a script).

        Raises ``NotFound`` for an unknown run.
        """
        pk = self.run_pk(run_id)
        row = (
            self.db.conn().execute("SELECT record FROM run_lineage WHERE run = ?", (pk,)).fetchone()
        )
        if row is None:
            return None
        try:
            record = json.loads(row[0])
        except ValueError as exc:  # pragma: no cover - written by put_run_lineage only
            raise NotFound(f"lineage of run {run_id}: unreadable record ({exc})") from exc
        return record if isinstance(record, dict) else None
