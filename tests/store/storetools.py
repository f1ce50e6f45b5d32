"""Helpers of the conformance suite: raw access to a store's database, per engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def raw_sql(store: Any, statement: str) -> None:
    """Run one statement on the store's database outside the store (autocommit)."""
    if store.engine == "sqlite":
        import sqlite3

        conn = sqlite3.connect(store.path, isolation_level=None)
        try:
            conn.execute(statement)
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(store.db.uri, autocommit=True) as pg:
            pg.execute(statement)  # type: ignore[arg-type]


def store_uri(store: Any) -> str:
    """A URI ``open_store`` accepts for the same data (with any password)."""
    return str(store.uri if store.engine == "sqlite" else store.db.uri)


@contextmanager
def failing_inserts(store: Any, table: str, message: str) -> Iterator[None]:
    """Every INSERT into ``table`` fails with ``message`` while inside."""
    if store.engine == "sqlite":
        raw_sql(
            store,
            f"CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        )
        drop = f"DROP TRIGGER fail_{table}"
    else:
        raw_sql(
            store,
            f"CREATE FUNCTION fail_{table}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$",
        )
        raw_sql(
            store,
            f"CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION fail_{table}()",
        )
        drop = f"DROP TRIGGER fail_{table} ON {table}"
    try:
        yield
    finally:
        raw_sql(store, drop)
