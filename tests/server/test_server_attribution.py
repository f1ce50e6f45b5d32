"""Who server-side changes are attributed to (issue 8, section 3).

On a laptop (jupyter_server's own identity provider: whoever holds the token gets a made-up
anonymous name, a new one per request) changes are attributed to the server's owner -- the OS
user -- the same name every time, marked ``server-owner`` and not verified. "Verified" is only
for identities the server authenticated (an identity provider that tells people apart, as
JupyterHub's does: ``NamedUserProvider`` in conftest.py).
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.identity import IdentityProvider

from jupyter_track.server.identity import authenticates_people, server_owner
from jupyter_track.store import SQLiteStore

API = ("jupyter-track", "api")


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    """A laptop: the extension with jupyter_server's default identity provider."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_track": True},
            "identity_provider_class": IdentityProvider,
        }
    }


async def _json(jp_fetch: Any, *path: str, **kwargs: Any) -> Any:
    response = await jp_fetch(*API, *path, **kwargs)
    return json.loads(response.body)


async def test_laptop_changes_are_the_owners_every_time_and_not_verified(
    jp_fetch: Any, track_db: Path
) -> None:
    store = SQLiteStore(track_db)
    run_id = store.create_run("0", run_name="r").run_id
    owner = getpass.getuser()
    assert server_owner() == owner
    info = await _json(jp_fetch, "info")
    assert (info["user"], info["user_verified"], info["user_source"]) == (
        owner,
        False,
        "server-owner",
    )
    editors = set()
    for name in ("one", "two", "three"):  # three token requests: three anonymous users before
        run = await _json(
            jp_fetch, "runs", run_id, method="PATCH", body=json.dumps({"run_name": name})
        )
        editors.add(run["tags"]["jt.edited_by"])
        assert run["tags"]["jt.edited_by.verified"] == "false"
        assert run["tags"]["jt.edited_by.source"] == "server-owner"
    assert editors == {owner}
    # the registry's audit trail records the same, unverified
    import jupyter_track as jt

    class Model:
        def predict(self, data):  # type: ignore[no-untyped-def]
            return data

    with jt.start_run() as logged:
        jt.log_model(Model(), name="model")
    for _ in range(2):
        await jp_fetch(
            *API,
            "registry",
            "models",
            "m",
            "versions",
            method="POST",
            body=json.dumps({"model_uri": f"runs:/{logged.info.run_id}/model"}),
        )
    entries = store.registry_audit("m")
    assert {(e.actor, e.actor_verified) for e in entries} == {(owner, False)}


def test_only_providers_that_tell_people_apart_authenticate() -> None:
    from jupyter_server.auth.identity import PasswordIdentityProvider

    class NamedUserProvider(IdentityProvider):  # as tests/conftest.py's, and JupyterHub's
        async def get_user(self, handler: Any) -> Any:
            return None

    assert not authenticates_people(IdentityProvider())
    assert not authenticates_people(PasswordIdentityProvider())
    assert not authenticates_people(None)
    assert authenticates_people(NamedUserProvider())
