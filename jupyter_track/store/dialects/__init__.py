"""Where SQL differs between engines: one small module per engine.

The store's SQL is written once, in the subset SQLite and PostgreSQL share: ``?`` placeholders
(the PostgreSQL connection rewrites them), ``INSERT ... ON CONFLICT``, ``RETURNING``, row values,
``rowid`` (a real column on PostgreSQL). What cannot be shared -- column types, DDL details,
LIKE/ILIKE semantics, two-argument min/max, row locks, the engine-tuned hot paths -- is asked of
the connection's :class:`~.base.Dialect` (``store.db.dialect``), never written as
``if sqlite:`` branches in the store's parts.
"""

from __future__ import annotations

from .base import Dialect

__all__ = ["Dialect"]
