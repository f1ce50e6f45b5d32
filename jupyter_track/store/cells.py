"""The cell-execution log and the environments runs refer to."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .db import Database
from .errors import NotFound
from .experiments import now_ms

if TYPE_CHECKING:
    from . import records as _records
    from .records import CellExecution
else:  # the cell log's row record: loaded by the first read of the cell log
    from ..lazy import lazy_module

    _records = lazy_module(globals(), "_records", "jupyter_track.store.records")

CellRow = tuple[
    str | None, str | None, str | None, int | None, str, int, float, str, str | None, str | None
]
"""(session, notebook, cell_id, execution_count, source, start ms, duration ms, status,
error name, run id)"""

_CELL_COLUMNS = (
    "id, session, notebook, cell_id, execution_count, source, start_time, "
    "duration_ms, status, error_name, run_id"
)


class CellsMixin:
    db: Database

    def write_cell_executions(self, rows: Sequence[CellRow]) -> None:
        if not rows:
            return
        with self.db.write() as conn:
            conn.executemany(
                "INSERT INTO cell_executions (session, notebook, cell_id, execution_count, "
                "source, start_time, duration_ms, status, error_name, run_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def cell_executions(
        self,
        *,
        notebook: str | None = None,
        cell_id: str | None = None,
        session: str | None = None,
        limit: int = 1000,
    ) -> list[CellExecution]:
        """Logged cell executions, newest first, filtered by notebook, cell or kernel session."""
        where, params = ["1 = 1"], []
        for column, value in (("notebook", notebook), ("cell_id", cell_id), ("session", session)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        rows = (
            self.db.conn()
            .execute(
                f"SELECT {_CELL_COLUMNS} FROM cell_executions WHERE {' AND '.join(where)} "
                "ORDER BY start_time DESC, id DESC LIMIT ?",
                (*params, limit),
            )
            .fetchall()
        )
        return [_records.CellExecution(*r) for r in rows]

    # ---------------------------------------------------------------------- environments

    def put_environment(
        self, env_hash: str, python: str, platform: str, packages: Mapping[str, str]
    ) -> None:
        """Store an environment once; later runs refer to it by hash (this store object
        remembers the hashes it has seen, so a kernel asks the database once)."""
        known: set[str] = self.__dict__.setdefault("_known_environments", set())
        if env_hash in known:
            return
        row = (
            self.db.conn()
            .execute("SELECT 1 FROM environments WHERE hash = ?", (env_hash,))
            .fetchone()
        )
        if not row:
            with self.db.write() as conn:
                conn.execute(
                    "INSERT INTO environments (hash, python, platform, packages, created) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
                    (
                        env_hash,
                        python,
                        platform,
                        json.dumps(dict(sorted(packages.items()))),
                        now_ms(),
                    ),
                )
        known.add(env_hash)

    def get_environment(self, env_hash: str) -> dict[str, Any]:
        row = (
            self.db.conn()
            .execute(
                "SELECT hash, python, platform, packages, created FROM environments WHERE hash = ?",
                (env_hash,),
            )
            .fetchone()
        )
        if row is None:
            raise NotFound(f"environment {env_hash!r} does not exist")
        return {
            "hash": row[0],
            "python": row[1],
            "platform": row[2],
            "packages": json.loads(row[3]),
            "created": row[4],
        }
