"""Shared fixtures: every test gets its own SQLite store in a temp folder; a real PostgreSQL
server (``postgres_server``, one per session) gives a test a fresh database with
``postgres_uri`` or a store on one with ``pg_store``."""

from __future__ import annotations

import os
import uuid
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
    # set_tracking_uri() exports its URI to os.environ (for child processes) and start_run()
    # can consume MLFLOW_RUN_ID: whatever a test leaves there is undone after it (setenv first,
    # so that monkeypatch remembers a variable that was absent and removes it again)
    for name in (
        "JUPYTER_TRACK_URI",
        "JUPYTER_TRACK_ARTIFACTS",
        "JUPYTER_TRACK_EXPERIMENT_NAME",
        "MLFLOW_TRACKING_URI",
        "MLFLOW_EXPERIMENT_NAME",
        "MLFLOW_EXPERIMENT_ID",
        "MLFLOW_RUN_ID",
    ):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
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


# ------------------------------------------------------------------------------- PostgreSQL

PG_TEMPLATE = "jt_template"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A real PostgreSQL server for the whole session (see pgtools.py), with a template
    database already at the current schema."""
    import pgtools

    bin_dir = pgtools.find_bin_dir()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run installs the postgresql package")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = pgtools.PostgresServer(bin_dir).start()
    try:
        from jupyter_track.store.postgres import PostgresStore

        template = PostgresStore(server.create_database(PG_TEMPLATE))
        template.upgrade()
        template.close()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_uri(postgres_server: Any) -> Iterator[str]:
    """A fresh database (at the current schema) for this test; dropped afterwards, after every
    store opened on it with ``open_store`` is closed."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    uri = postgres_server.create_database(name, template=PG_TEMPLATE)
    yield uri
    close_stores(uri)
    postgres_server.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def close_stores(uri: str) -> None:
    """Close and forget the cached stores of ``uri`` (their connection pools)."""
    from jupyter_track import store as store_module

    for key in [
        k
        for k in store_module._stores
        if k[0] in (uri, uri.replace("postgresql://", "postgresql+psycopg://"))
    ]:
        store_module._stores.pop(key).close()


@pytest.fixture
def pg_store(postgres_uri: str, tmp_path: Path) -> Iterator[Any]:
    """A PostgreSQL store on this test's own database (artifacts under the test's folder)."""
    from jupyter_track.store.postgres import PostgresStore

    opened = PostgresStore(postgres_uri, artifact_root=tmp_path / "pg-artifacts")
    yield opened
    opened.close()
