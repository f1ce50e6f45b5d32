"""Reading metric points as they arrive, for live charts.

A live chart polls a few times a second while a run logs thousands of points a second. Reading
"the points of run R after rowid N" through the ``(run, key, step)`` index would walk the run's
whole history on every poll (rowid is not a prefix of that index); walking the table's rowid
range instead costs only the rows written since the last poll. Rowids grow with every commit
(writes are serialized by ``BEGIN IMMEDIATE``), so a cursor on them never skips a point -- unless
the rows with the highest rowids are purged (``jupyter-track gc``) while a chart is open: SQLite
then hands their rowids out again and the chart misses the points written until the cursor is
passed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .db import Database


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _value(value: float | str | None) -> float:
    """A value read back from JSON: None is NaN, "inf" / "-inf" are infinities."""
    if value is None:
        return math.nan
    return float(value)


class SeriesMixin:
    db: Database
    _run_pks: dict[str, int]

    if TYPE_CHECKING:  # provided by another part of the store

        def _run_pk(self, run_id: str) -> int: ...

    def metric_rows_since(
        self, run_ids: Sequence[str] | None, after_rowid: int, *, limit: int = 200_000
    ) -> tuple[list[tuple[str, str, int, int, float]], int]:
        """Points written after ``after_rowid`` (of ``run_ids``, or of every run when None):
        ``(run_id, key, step, timestamp, value)`` in writing order, and the rowid to pass next
        time. At most ``limit`` rows per call.

        The read walks the table's rowid range -- only rows newer than the last look -- never a
        run's whole history.
        """
        conn = self.db.conn()
        params: tuple[int, ...] = ()
        if run_ids is None:
            where = ""
        else:
            pks = {self._run_pk(run_id) for run_id in run_ids}
            if not pks:
                return [], after_rowid
            where = f"AND run IN ({', '.join('?' * len(pks))})"
            params = tuple(pks)
        rows = self.db.dialect.metric_rows_after(conn, after_rowid, where, params, limit)
        if not rows:
            return [], after_rowid
        ids = self._run_ids_of({r[1] for r in rows})
        return [(ids[r], k, s, t, _value(v)) for _, r, k, s, t, v in rows], rows[-1][0]

    def metric_series_since(
        self, run_ids: Sequence[str] | None, after_rowid: int, *, limit: int = 200_000
    ) -> tuple[list[tuple[str, str, list[int], list[int], list[float | str | None]]], int]:
        """Like :meth:`metric_rows_since`, grouped by series: ``(run_id, key, steps, timestamps,
        values)`` with the three lists in one (writing) order, and the rowid to pass next time.

        What a live chart reads: SQLite groups the batch and packs each column as one JSON text,
        so Python does no work per point (values: None for NaN, "inf" / "-inf" for infinities,
        as ``numpy.asarray(values, dtype=float)`` reads them).
        """
        conn = self.db.conn()
        params: tuple[int, ...] = ()
        where = ""
        if run_ids is not None:
            pks = {self._run_pk(run_id) for run_id in run_ids}
            if not pks:
                return [], after_rowid
            where = f"AND run IN ({', '.join('?' * len(pks))})"
            params = tuple(pks)
        found = self.db.dialect.metric_series_after(conn, after_rowid, where, params, limit)
        if not found:
            return [], after_rowid
        ids = self._run_ids_of({r[0] for r in found})
        series = [(ids[r], k, s, t, v) for r, k, s, t, v, _ in found]
        return series, int(found[0][5])

    def _run_ids_of(self, pks: set[int]) -> dict[int, str]:
        known = {pk: rid for rid, pk in self._run_pks.items() if pk in pks}
        missing = [pk for pk in pks if pk not in known]
        if missing:
            for pk, run_id in self.db.conn().execute(
                f"SELECT id, run_id FROM runs WHERE id IN ({', '.join('?' * len(missing))})",
                missing,
            ):
                known[pk] = run_id
                self._run_pks[run_id] = pk
        return known

    def metric_rows_until(self, run_id: str, until_rowid: int) -> list[tuple[str, int, int, float]]:
        """Every point of ``run_id`` with rowid <= ``until_rowid``: ``(key, step, timestamp,
        value)`` in writing order. A live chart reads a run's past with this, then follows it
        with :meth:`metric_rows_since` from ``until_rowid`` on.
        """
        pk = self._run_pk(run_id)
        return [
            (k, s, t, _number(v))
            for k, s, t, v in self.db.conn().execute(
                "SELECT key, step, timestamp, value FROM metrics WHERE run = ? AND rowid <= ? "
                "ORDER BY rowid",
                (pk, until_rowid),
            )
        ]

    def last_metric_rowid(self) -> int:
        """The newest point's rowid (0 for an empty store): where a live chart starts reading."""
        row = self.db.conn().execute("SELECT max(rowid) FROM metrics").fetchone()
        return int(row[0] or 0)
