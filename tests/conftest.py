"""Shared fixtures: every test gets its own SQLite store in a temp folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.identity import IdentityProvider, User

from jupyter_track import provenance
from jupyter_track.store import SQLiteStore
from jupyter_track.tracking import context, session


@pytest.fixture(autouse=True)
def track_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point kernel-side and server-side code at a fresh store; reset the fluent state."""
    db = tmp_path / "store" / "track.db"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # outside any git repository unless a test makes one
    monkeypatch.setenv("JUPYTER_TRACK_DB", str(db))
    monkeypatch.delenv("JUPYTER_TRACK_URI", raising=False)
    monkeypatch.delenv("JUPYTER_TRACK_ARTIFACTS", raising=False)
    monkeypatch.delenv("JUPYTER_TRACK_EXPERIMENT_NAME", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    session.reset()
    context.reset()
    yield db
    session.current().close()
    session.reset()
    provenance.clear_caches()


@pytest.fixture
def store(track_db: Path) -> SQLiteStore:
    """A store on the test's own SQLite file."""
    return SQLiteStore(track_db)


class NamedUserProvider(IdentityProvider):
    """An identity provider that authenticates a person, as JupyterHub's does: a request with
    the server's token is user "ana" (it overrides ``get_user``). Changes are attributed to her,
    verified. jupyter_server's default provider names nobody (a new anonymous name per token
    request): tests of that laptop case use ``laptop_server_config`` and expect the server's
    owner, unverified (see jupyter_track/server/identity.py)."""

    async def get_user(self, handler: Any) -> User | None:
        user = await super().get_user(handler)
        return None if user is None else User("ana", "Ana")


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    """pytest-jupyter's server, with the extension enabled and an authenticating provider."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_track": True},
            "identity_provider_class": NamedUserProvider,
        }
    }


@pytest.fixture
def jp_server_auth_token(jp_auth_header: dict[str, str]) -> str:
    """The token pytest-jupyter's server accepts (for logging in with a cookie)."""
    return jp_auth_header["Authorization"].split(" ", 1)[1]
