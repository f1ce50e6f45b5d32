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


def lineage_json(run_id: str, record: Any) -> str:
    """The stored text of a lineage record; ``InvalidInput`` when it is not a JSON object or
    larger than :data:`MAX_LINEAGE_BYTES`."""
    if not isinstance(record, Mapping):
        raise InvalidInput(f"lineage of run {run_id}: expected a JSON object")
    text = json.dumps(dict(record), default=str, separators=(",", ":"))
    if len(text) > MAX_LINEAGE_BYTES:
        raise InvalidInput(
            f"lineage of run {run_id}: {len(text):,} bytes, more than {MAX_LINEAGE_BYTES:,}"
        )
    return text


class LineageMixin:
    db: Database

    if TYPE_CHECKING:  # provided by another part of the store

        def _run_pk(self, run_id: str) -> int: ...

    def put_run_lineage(self, run_id: str, record: Mapping[str, Any]) -> None:
        """Store (or replace) ``run_id``'s lineage record, a JSON object with at least
        ``stale`` and ``unseeded`` (see :class:`jupyter_track.lineage.Lineage`)."""
        text = lineage_json(run_id, record)
        pk = self._run_pk(run_id)
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
        pk = self._run_pk(run_id)
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

    # ------------------------------------------------------------------------ datasets

    def dataset_usage(
        self, *, digest: str | None = None, name: str | None = None, limit: int = 10_000
    ) -> list[dict[str, Any]]:
        """Active runs that recorded an input with this ``digest`` and/or this ``name``
        (``jt.log_input``'s ``jt.input.<name>.digest`` tags), newest first: ``run_id``,
        ``run_name``, ``experiment_id``, ``start_time``, ``status``, ``name``, ``digest``."""
        if digest is None and name is None:
            raise InvalidInput("dataset: give a digest or a name")
        if not isinstance(limit, int) or limit < 1:
            raise InvalidInput(f"limit {limit!r}: must be a positive integer")
        where = ["r.lifecycle_stage = 'active'"]
        params: list[Any] = []
        if name is not None:
            where.append("t.key = ?")
            params.append(f"jt.input.{name}.digest")
        else:  # any input name: a range of the (key, value) index
            where.append("t.key >= 'jt.input.' AND t.key < 'jt.input/' AND t.key LIKE ?")
            params.append("%.digest")
        if digest is not None:
            where.append("t.value = ?")
            params.append(digest)
        rows = (
            self.db.conn()
            .execute(
                "SELECT r.run_id, r.run_name, r.experiment_id, r.start_time, r.status, t.key, "
                "t.value FROM tags t JOIN runs r ON r.id = t.run "
                f"WHERE {' AND '.join(where)} ORDER BY r.start_time DESC, r.id DESC LIMIT ?",
                (*params, limit),
            )
            .fetchall()
        )
        return [
            {
                "run_id": row[0],
                "run_name": row[1],
                "experiment_id": str(row[2]),
                "start_time": row[3],
                "status": row[4],
                "name": row[5][len("jt.input.") : -len(".digest")],
                "digest": row[6],
            }
            for row in rows
        ]

    def model_versions_of_runs(self, run_ids: list[str]) -> list[dict[str, Any]]:
        """Registered model versions whose source run is one of ``run_ids``."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(run_ids), 900):
            chunk = run_ids[start : start + 900]
            if not chunk:
                continue
            for model, version, run_id in self.db.conn().execute(
                "SELECT m.name, v.version, v.run_id FROM model_versions v "
                "JOIN registered_models m ON m.id = v.model "
                f"WHERE v.run_id IN ({', '.join('?' * len(chunk))}) ORDER BY m.name, v.version",
                chunk,
            ):
                found.append({"name": model, "version": version, "run_id": run_id})
        return found
