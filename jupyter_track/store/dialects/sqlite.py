"""SQLite's side of the dialect seam (the default engine: one file, no server)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from itertools import chain
from typing import Any

from ..schema import AppendOnly, Index, Python, Sql, Table
from .base import Dialect, TimeLimitExceeded


def like_to_glob(pattern: str) -> str:
    """Translate a LIKE pattern to a GLOB pattern (GLOB is case-sensitive in SQLite)."""
    out = []
    for ch in pattern:
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


_INSERT_POINTS = "INSERT INTO metrics (run, key, step, timestamp, value) VALUES "


@lru_cache(maxsize=32)
def _insert_sql(rows: int) -> str:
    return _INSERT_POINTS + ", ".join(["(?, ?, ?, ?, ?)"] * rows)


_FEW_ROWS = 16
"""Fewer rows than this go in one ``executemany`` instead of power-of-two statements."""


@lru_cache(maxsize=8)
def _rows_per_statement(limit: int) -> int:
    """The largest power of two of rows whose parameters fit in ``limit`` (at most 4096)."""
    rows = 4096
    while rows > 1 and rows * 5 > limit:
        rows //= 2
    return rows


def _variable_limit(conn: sqlite3.Connection) -> int:
    getlimit = getattr(conn, "getlimit", None)  # Python >= 3.11
    which = getattr(sqlite3, "SQLITE_LIMIT_VARIABLE_NUMBER", None)
    if getlimit is not None and which is not None:
        return int(getlimit(which))
    return 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


class SQLiteDialect(Dialect):
    name = "sqlite"
    types = {
        "ID": "INTEGER PRIMARY KEY",
        "COUNTER": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "INTEGER": "INTEGER",
        "REAL": "REAL",
        "TEXT": "TEXT",
        "BLOB": "BLOB",
    }
    integrity_errors = (sqlite3.IntegrityError,)
    for_update = ""  # every write transaction is BEGIN IMMEDIATE: one writer at a time
    reuses_keys = True

    def render(self, step: Any) -> list[str]:
        if isinstance(step, str):
            return [step]
        if isinstance(step, Table):
            parts = [self.column(c) for c in step.columns]
            if step.primary_key:
                parts.append(f"PRIMARY KEY ({', '.join(step.primary_key)})")
            parts += [f"UNIQUE ({', '.join(u)})" for u in step.unique]
            body = ",\n    ".join(parts)
            tail = " WITHOUT ROWID" if step.without_rowid else ""
            return [f"CREATE TABLE IF NOT EXISTS {step.name} (\n    {body}\n){tail}"]
        if isinstance(step, Index):
            unique = "UNIQUE " if step.unique else ""
            where = f" WHERE {step.where}" if step.where else ""
            return [
                f"CREATE {unique}INDEX IF NOT EXISTS {step.name} ON {step.table} "
                f"({', '.join(step.columns)}){where}"
            ]
        if isinstance(step, AppendOnly):
            return [
                f"""CREATE TRIGGER IF NOT EXISTS {step.table}_no_{what.lower()}
            BEFORE {what} ON {step.table}
            BEGIN
                SELECT RAISE(ABORT, '{step.table} is append-only: {what} is not allowed');
            END"""
                for what in ("UPDATE", "DELETE")
            ]
        if isinstance(step, Sql):
            text = step.text_for(self.name)
            return [] if text is None else [text]
        if isinstance(step, Python):
            return []
        raise TypeError(f"unknown schema step {step!r}")

    def like(self, column: str, op: str, pattern: str, params: list[Any]) -> str:
        negate = "NOT " if op.startswith("NOT ") else ""
        if op.endswith("ILIKE"):  # SQLite's LIKE folds ASCII case and has no escape by default
            params.append(pattern)
            return f"{column} {negate}LIKE ?"
        params.append(like_to_glob(pattern))
        return f"{column} {negate}GLOB ?"

    def is_distinct(self, column: str) -> str:
        return f"{column} IS NOT ?"

    def is_same(self, column: str) -> str:
        return f"{column} IS ?"

    def greatest(self, a: str, b: str) -> str:
        return f"max({a}, {b})"

    def least(self, a: str, b: str) -> str:
        return f"min({a}, {b})"

    @contextmanager
    def _time_limit(self, conn: sqlite3.Connection, seconds: float) -> Iterator[None]:
        deadline = time.perf_counter() + seconds
        clock = time.perf_counter
        conn.set_progress_handler(lambda: clock() > deadline, 1000)
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise TimeLimitExceeded(str(exc)) from exc
            raise
        finally:
            conn.set_progress_handler(None, 1000)

    def time_limit(self, conn: Any, seconds: float) -> AbstractContextManager[None]:
        """SQLite's progress handler (as Datasette uses for its time limit)."""
        return self._time_limit(conn, seconds)

    def insert_metric_points(self, conn: Any, rows: Sequence[tuple[Any, ...]]) -> None:
        """Multi-row ``INSERT ... VALUES (...), (...)`` statements.

        Against ``executemany`` (one bind + step + reset per row, and the GIL given up and
        taken back around every row) this binds up to 4,096 rows in one C call and inserts them
        in one step without the GIL: about half the CPU per point, and a logging thread runs
        meanwhile. Statements have a power-of-two number of rows (4096, then 2048, 1024, ...
        for the rest), so their prepared forms stay in ``sqlite3``'s statement cache. A NaN is
        bound as NULL, as ``executemany`` binds it.
        """
        n = len(rows)
        size = _rows_per_statement(_variable_limit(conn))
        flat = chain.from_iterable
        i = 0
        while n - i >= _FEW_ROWS:
            while size > n - i:
                size //= 2
            conn.execute(_insert_sql(size), list(flat(rows[i : i + size])))
            i += size
        if i < n:  # a few rows (a short run's points, the tail): one call
            conn.executemany(_insert_sql(1), rows[i:] if i else rows)

    # Live charts: one step for the whole batch. json_group_array returns it as one text, so
    # the reading thread takes the GIL back once (not once per row) from a busy training loop,
    # and json.loads builds the rows in C. NOT INDEXED: walk the rowid range, not the index.
    # JSON has no infinities: they travel as the strings "inf" / "-inf".
    _JSON_VALUE = (
        "CASE WHEN value > 1.7976931348623157e308 THEN 'inf' "
        "WHEN value < -1.7976931348623157e308 THEN '-inf' ELSE value END"
    )

    def metric_rows_after(
        self, conn: Any, after: int, where: str, params: Sequence[Any], limit: int
    ) -> list[list[Any]]:
        """``[rowid, run, key, step, timestamp, value]`` of the points with rowid > ``after``
        (``where``: extra ``AND ...`` on ``run``), in rowid order; values as in JSON (None for
        NaN, "inf" / "-inf")."""
        (packed,) = conn.execute(
            "SELECT json_group_array(json_array(rowid, run, key, step, timestamp, "
            f"{self._JSON_VALUE})) "
            "FROM (SELECT rowid, run, key, step, timestamp, value FROM metrics NOT INDEXED "
            f"WHERE rowid > ? {where} ORDER BY rowid LIMIT ?)",
            (after, *params, limit),
        ).fetchone()
        rows: list[list[Any]] = json.loads(packed)
        return rows

    def metric_series_after(
        self, conn: Any, after: int, where: str, params: Sequence[Any], limit: int
    ) -> list[tuple[Any, ...]]:
        """The same points grouped by series: ``(run, key, steps, timestamps, values, last
        rowid)``, each list in rowid order."""
        found = conn.execute(
            "WITH batch AS MATERIALIZED (SELECT rowid AS id, run, key, step, timestamp, value "
            f"FROM metrics NOT INDEXED WHERE rowid > ? {where} ORDER BY rowid LIMIT ?) "
            "SELECT run, key, json_group_array(step), json_group_array(timestamp), "
            f"json_group_array({self._JSON_VALUE}), (SELECT max(id) FROM batch) "
            "FROM batch GROUP BY run, key",
            (after, *params, limit),
        ).fetchall()
        loads = json.loads
        return [(r, k, loads(s), loads(t), loads(v), last) for r, k, s, t, v, last in found]


SQLITE = SQLiteDialect()
