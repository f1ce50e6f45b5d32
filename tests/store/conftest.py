"""The store conformance suite: every test in this folder runs on every engine.

``store`` is a fresh, empty store of each engine in ``ENGINES``; ``reopen(store)`` opens a
second store object on the same data (what another process sees). Running the suite against
another implementation of :class:`jupyter_track.store.interface.Store` (the team service's HTTP
client) is adding an entry to ``ENGINES``: a function that takes the test's ``request`` and
returns ``(store, reopen)``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_track.store import SQLiteStore


def _sqlite(request: pytest.FixtureRequest) -> tuple[Any, Callable[[Any], Any]]:
    path: Path = request.getfixturevalue("track_db")
    return SQLiteStore(path), lambda store: SQLiteStore(store.path)


def _postgresql(request: pytest.FixtureRequest) -> tuple[Any, Callable[[Any], Any]]:
    from jupyter_track.store.postgres import PostgresStore

    store = request.getfixturevalue("pg_store")
    others: list[Any] = []

    def reopen(existing: Any) -> Any:
        other = PostgresStore(existing.db.uri, artifact_root=existing.artifact_root)
        others.append(other)
        return other

    request.addfinalizer(lambda: [o.close() for o in others])
    return store, reopen


ENGINES: dict[str, Callable[[pytest.FixtureRequest], tuple[Any, Callable[[Any], Any]]]] = {
    "sqlite": _sqlite,
    "postgresql": _postgresql,
}


@pytest.fixture(params=sorted(ENGINES))
def engine(request: pytest.FixtureRequest) -> str:
    """The engine under test."""
    return str(request.param)


@pytest.fixture
def _engine_store(engine: str, request: pytest.FixtureRequest) -> tuple[Any, Callable[[Any], Any]]:
    return ENGINES[engine](request)


@pytest.fixture
def store(_engine_store: tuple[Any, Callable[[Any], Any]]) -> Any:
    """A fresh store of the engine under test."""
    return _engine_store[0]


@pytest.fixture
def reopen(_engine_store: tuple[Any, Callable[[Any], Any]]) -> Callable[[Any], Any]:
    """``reopen(store)``: another store object on the same data (another process's view)."""
    return _engine_store[1]
