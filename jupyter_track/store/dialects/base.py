"""The dialect interface: what every engine's SQL module provides.

Adding an engine: subclass :class:`Dialect`, fill in :attr:`types` and the methods below, and
render every schema step (:mod:`jupyter_track.store.schema`) in :meth:`Dialect.render`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

NEUTRAL_TYPES = ("ID", "COUNTER", "INTEGER", "REAL", "TEXT", "BLOB")
"""Column types a schema may use: ``ID`` an integer primary key the engine numbers, ``COUNTER``
the same but never reused after a delete, ``INTEGER`` 64-bit, ``REAL`` double precision,
``TEXT`` compared byte-wise (UTF-8 order), ``BLOB`` bytes."""


class Dialect:
    """SQL text that differs between engines. Instances are stateless and shared."""

    #: engine name as in URIs: "sqlite", "postgresql"
    name: str = ""
    #: neutral type -> column type text
    types: dict[str, str] = {}
    #: exception classes the driver raises for a constraint violation
    integrity_errors: tuple[type[BaseException], ...] = ()
    #: appended to a SELECT that reads rows it is about to change (row locks)
    for_update: str = ""
    #: a deleted row's integer key can be handed out again (SQLite's rowid); identity columns
    #: never do
    reuses_keys: bool = True
    #: the engine's planner chooses between walking an index in the requested order and a
    #: set-based plan from statistics (PostgreSQL); without one (SQLite) the store tries the
    #: walk under :meth:`time_limit` and falls back
    plans_by_cost: bool = False

    # ------------------------------------------------------------------------- schema

    def column(self, spec: str) -> str:
        """``"name TYPE [constraints]"`` with the neutral TYPE replaced by the engine's."""
        parts = spec.split(None, 2)
        if len(parts) < 2 or parts[1] not in NEUTRAL_TYPES:
            raise ValueError(
                f"schema column {spec!r}: the type must be one of {', '.join(NEUTRAL_TYPES)}"
            )
        rest = f" {parts[2]}" if len(parts) == 3 else ""
        return f"{parts[0]} {self.types[parts[1]]}{rest}"

    def render(self, step: Any) -> list[str]:
        """The statements of one schema step (see :mod:`jupyter_track.store.schema`)."""
        raise NotImplementedError

    # -------------------------------------------------------------------- expressions

    def like(self, column: str, op: str, pattern: str, params: list[Any]) -> str:
        """``column [NOT] LIKE|ILIKE pattern`` with the grammar's semantics on every engine:
        ``%`` and ``_`` are the only wildcards (no escape character), LIKE is case-sensitive,
        ILIKE folds ASCII letters only. ``op``: LIKE, ILIKE, NOT LIKE or NOT ILIKE."""
        raise NotImplementedError

    def is_distinct(self, column: str) -> str:
        """``column`` differs from the next parameter, NULL counting as a value."""
        raise NotImplementedError

    def is_same(self, column: str) -> str:
        """``column`` equals the next parameter, NULL equal to NULL."""
        raise NotImplementedError

    def greatest(self, a: str, b: str) -> str:
        raise NotImplementedError

    def least(self, a: str, b: str) -> str:
        raise NotImplementedError

    # ------------------------------------------------------------------ engine hot paths

    def time_limit(self, conn: Any, seconds: float) -> AbstractContextManager[None] | None:
        """A context in which statements stop after ``seconds`` with
        :class:`TimeLimitExceeded`; None when the engine has no cheap way to do that (then the
        store skips plans that need one)."""
        return None

    def insert_metric_points(self, conn: Any, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``(run, key, step, timestamp, value)`` rows into ``metrics`` (NaN as NULL)."""
        raise NotImplementedError

    def metric_rows_after(
        self, conn: Any, after: int, where: str, params: Sequence[Any], limit: int
    ) -> list[list[Any]]:
        """``[rowid, run, key, step, timestamp, value]`` of the points with rowid > ``after``
        (``where``: extra ``AND ...`` on ``run``), in rowid order, at most ``limit``; values as
        in JSON (None for NaN, "inf" / "-inf")."""
        raise NotImplementedError

    def metric_series_after(
        self, conn: Any, after: int, where: str, params: Sequence[Any], limit: int
    ) -> list[tuple[Any, ...]]:
        """The same points grouped by series: ``(run, key, steps, timestamps, values, last
        rowid)``, each list in rowid order."""
        raise NotImplementedError


class TimeLimitExceeded(Exception):
    """A statement run under :meth:`Dialect.time_limit` was stopped."""
