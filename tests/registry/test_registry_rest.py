"""The registry's REST routes through a real Jupyter server (pytest-jupyter, odd base_url)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import jupyter_track as jt
from jupyter_track.server.registry_routes import REGISTRY_ROUTES
from jupyter_track.store import SQLiteStore

API = ("jupyter-track", "api")


async def call(
    jp_fetch: Any, *path: str, expect: int = 200, method: str = "GET", body: Any = None, **kw: Any
) -> Any:
    response = await jp_fetch(
        *API,
        *path,
        method=method,
        body=None if body is None else json.dumps(body),
        raise_error=False,
        **kw,
    )
    payload = json.loads(response.body) if response.body else None
    assert response.code == expect, (response.code, payload)
    return payload


@pytest.fixture
def logged() -> list[str]:
    """Two runs, each with a logged iris model; returns their model URIs."""
    X, y = load_iris(return_X_y=True, as_frame=True)
    uris = []
    for c in (1.0, 0.01):
        with jt.start_run():
            jt.log_metric("accuracy", c / 2)
            info = jt.log_model(LogisticRegression(C=c, max_iter=500).fit(X, y), "model")
        uris.append(info.model_uri)
    jt.flush()
    return uris


async def test_register_promote_conflict_rollback_audit(
    jp_fetch: Any, logged: list[str], store: SQLiteStore
) -> None:
    created = await call(
        jp_fetch,
        "registry",
        "models",
        method="POST",
        body={"name": "fraud model", "description": "scores", "tags": {"team": "risk"}},
        expect=201,
    )
    assert created["model"]["name"] == "fraud model"
    name = "fraud model"  # jp_fetch URL-encodes path parts
    for uri in logged:
        await call(
            jp_fetch, "registry", "models", name, "versions", method="POST",
            body={"model_uri": uri}, expect=201,
        )  # fmt: skip
    detail = await call(jp_fetch, "registry", "models", name)
    assert [v["version"] for v in detail["versions"]] == [2, 1]
    v1 = detail["versions"][1]
    assert v1["run"]["run_id"] == logged[0].split("/")[1]
    assert v1["run"]["metrics"] == {"accuracy": 0.5}
    assert v1["user_id"] == "ana"
    # promote: set champion to 1 (expected unset), then move it to 2 (expected 1)
    await call(
        jp_fetch, "registry", "models", name, "aliases", "champion", method="PUT",
        body={"version": 1, "expected_version": None},
    )  # fmt: skip
    moved = await call(
        jp_fetch, "registry", "models", name, "aliases", "champion", method="PUT",
        body={"version": 2, "expected_version": 1},
    )  # fmt: skip
    assert moved["model"]["aliases"] == {"champion": 2}
    assert moved["versions"][0]["aliases"] == ["champion"]
    # a panel that still believes champion is on 1: refused, nothing written
    stale = await call(
        jp_fetch, "registry", "models", name, "aliases", "champion", method="PUT",
        body={"version": 1, "expected_version": 1}, expect=409,
    )  # fmt: skip
    assert stale["error"] == "conflict"
    assert stale["current_version"] == 2
    assert "now points to version 2" in stale["message"]
    assert store.get_aliases("fraud model") == {"champion": 2}
    stale_rollback = await call(
        jp_fetch, "registry", "models", name, "aliases", "champion", "rollback", method="POST",
        body={"expected_version": 1}, expect=409,
    )  # fmt: skip
    assert stale_rollback["current_version"] == 2
    rolled = await call(
        jp_fetch, "registry", "models", name, "aliases", "champion", "rollback", method="POST",
        body={"expected_version": 2},
    )  # fmt: skip
    assert rolled["model"]["aliases"] == {"champion": 1}
    history = await call(jp_fetch, "registry", "models", name, "aliases", "champion", "history")
    assert [(e["action"], e["old_value"], e["new_value"]) for e in history["entries"]] == [
        ("rollback_alias", "2", "1"),
        ("set_alias", "1", "2"),
        ("set_alias", None, "1"),
    ]
    # attribution: the authenticated user, verified -- never a name from the client
    assert {(e["actor"], e["actor_verified"]) for e in history["entries"]} == {("ana", True)}
    audit = await call(jp_fetch, "registry", "models", name, "audit", params={"limit": 3})
    assert [e["action"] for e in audit["entries"]] == ["rollback_alias", "set_alias", "set_alias"]
    assert audit["next_before_id"] is not None
    older = await call(
        jp_fetch, "registry", "models", name, "audit",
        params={"before_id": audit["next_before_id"]},
    )  # fmt: skip
    assert older["entries"][0]["action"] == "create_model_version"
    assert older["entries"][-1]["action"] == "create_registered_model"
    assert older["next_before_id"] is None
    # delete with compare-and-set
    await call(
        jp_fetch, "registry", "models", name, "aliases", "champion", method="DELETE",
        params={"expected_version": 2}, expect=409,
    )  # fmt: skip
    gone = await call(
        jp_fetch, "registry", "models", name, "aliases", "champion", method="DELETE",
        params={"expected_version": 1},
    )  # fmt: skip
    assert gone["model"]["aliases"] == {}


async def test_models_list_edit_and_delete(
    jp_fetch: Any, logged: list[str], store: SQLiteStore
) -> None:
    jt.register_model(logged[0], "alpha")
    jt.register_model(logged[1], "beta")
    page = await call(jp_fetch, "registry", "models", params={"limit": 1})
    assert [m["name"] for m in page["models"]] == ["alpha"]
    rest = await call(
        jp_fetch, "registry", "models", params={"page_token": page["next_page_token"]}
    )
    assert [m["name"] for m in rest["models"]] == ["beta"]
    found = await call(jp_fetch, "registry", "models", params={"filter": "name LIKE 'b%'"})
    assert [m["name"] for m in found["models"]] == ["beta"]
    edited = await call(
        jp_fetch, "registry", "models", "alpha", method="PATCH",
        body={"description": "first", "tags": {"a": "1", "b": "2"}},
    )  # fmt: skip
    assert (edited["model"]["description"], edited["model"]["tags"]) == (
        "first",
        {"a": "1", "b": "2"},
    )
    edited = await call(
        jp_fetch, "registry", "models", "alpha", method="PATCH", body={"delete_tags": ["a"]}
    )
    assert edited["model"]["tags"] == {"b": "2"}
    version = await call(
        jp_fetch, "registry", "models", "alpha", "versions", "1", method="PATCH",
        body={"description": "baseline", "tags": {"ok": "yes"}},
    )  # fmt: skip
    assert (version["description"], version["tags"]) == ("baseline", {"ok": "yes"})
    listed = await call(jp_fetch, "registry", "models", "alpha", "versions")
    assert [v["version"] for v in listed["versions"]] == [1]
    # a PATCH that fails half-way changes nothing (one transaction)
    await call(
        jp_fetch, "registry", "models", "alpha", method="PATCH",
        body={"description": "changed", "delete_tags": ["missing"]}, expect=404,
    )  # fmt: skip
    assert store.get_registered_model("alpha").description == "first"
    await call(jp_fetch, "registry", "models", "alpha", "versions", "1", method="DELETE")
    await call(jp_fetch, "registry", "models", "alpha", "versions", "1", expect=404)
    await call(jp_fetch, "registry", "models", "alpha", method="DELETE")
    await call(jp_fetch, "registry", "models", "alpha", expect=404)
    actions = [e.action for e in store.registry_audit("alpha")]
    assert actions[-1] == "delete_registered_model"
    assert all(e.actor == "ana" for e in store.registry_audit("alpha")[2:])


async def test_bad_input_is_4xx_with_the_message_and_writes_nothing(
    jp_fetch: Any, logged: list[str], store: SQLiteStore
) -> None:
    jt.register_model(logged[0], "m")
    jt.register_model(logged[0], "other")
    jt.register_model(logged[1], "other")  # other has a version 2, m does not
    before = store.registry_audit()
    run_id = logged[0].split("/")[1]
    missing = await call(
        jp_fetch, "registry", "models", "m", "versions", method="POST",
        body={"model_uri": f"runs:/{run_id}/nope"}, expect=404,
    )  # fmt: skip
    assert "has no model artifact 'nope' (it has: model)" in missing["message"]
    fresh = await call(
        jp_fetch, "registry", "models", "fresh", "versions", method="POST",
        body={"model_uri": f"runs:/{run_id}/nope"}, expect=404,
    )  # fmt: skip
    assert fresh["error"] == "not_found"
    cases = [
        (("m", "aliases", "my champion"), {"version": 1}, 400, "spaces"),
        (("m", "aliases", "latest"), {"version": 1}, 400, "reserved"),
        (("m", "aliases", "v1"), {"version": 1}, 400, "reserved"),
        (("m", "aliases", "champion"), {"version": 2}, 404, "has no version 2"),
        (("m", "aliases", "champion"), {"version": "two"}, 400, "positive integer"),
        (("m", "aliases", "champion"), {}, 400, "version: required"),
        (("ghost", "aliases", "champion"), {"version": 1}, 404, "'ghost' does not exist"),
        (("m", "aliases", "champion"), {"version": 1, "who": "x"}, 400, "unknown fields"),
    ]
    for path, body, status, message in cases:
        error = await call(
            jp_fetch, "registry", "models", *path, method="PUT", body=body, expect=status
        )
        assert message in error["message"], (path, error)
    bad_json = await jp_fetch(
        *API, "registry", "models", "m", "aliases", "champion", method="PUT", body="{oops",
        raise_error=False,
    )  # fmt: skip
    assert bad_json.code == 400
    await call(
        jp_fetch, "registry", "models", "m", "aliases", "champion", "rollback", method="POST",
        body={}, expect=404,
    )  # fmt: skip
    await call(jp_fetch, "registry", "models", "m", "versions", "0", expect=400)
    await call(jp_fetch, "registry", "models", "m", "audit", params={"limit": 0}, expect=400)
    await call(jp_fetch, "registry", "models", method="POST", body={"name": "m"}, expect=409)
    await call(jp_fetch, "registry", "models", params={"filter": "colour = 'x'"}, expect=400)
    assert store.registry_audit() == before
    assert store.get_aliases("m") == {}
    assert [m.name for m in store.search_registered_models()] == ["m", "other"]


async def test_every_registry_route_needs_authentication(jp_fetch: Any) -> None:
    from jupyter_track.server.routes import ROUTES, methods

    assert all(route in ROUTES for route in REGISTRY_ROUTES)
    for template, handler in REGISTRY_ROUTES:
        path = template.format(name="m", version="1", alias="champion").strip("/").split("/")
        for method in methods(handler):
            response = await jp_fetch(
                *API,
                *path,
                method=method.upper(),
                body=None if method in ("get", "delete") else "{}",
                headers={"Authorization": ""},
                raise_error=False,
            )
            assert response.code == 403, (method, template, response.code)
            assert json.loads(response.body)["error"] == "forbidden"


async def test_alias_moves_need_the_xsrf_token_with_cookie_auth(
    jp_fetch: Any, jp_server_auth_token: str, logged: list[str], store: SQLiteStore
) -> None:
    jt.register_model(logged[0], "m")
    response = await jp_fetch(
        *API, "info", params={"token": jp_server_auth_token}, headers={"Authorization": ""}
    )
    cookies = {}
    for header in response.headers.get_list("Set-Cookie"):
        key, _, rest = header.partition("=")
        cookies[key] = rest.split(";", 1)[0]
    jar = "; ".join(f"{k}={v}" for k, v in cookies.items() if k != "_xsrf")
    path = (*API, "registry", "models", "m", "aliases", "champion")
    refused = await jp_fetch(
        *path, method="PUT", body=json.dumps({"version": 1}),
        headers={"Authorization": "", "Cookie": jar}, raise_error=False,
    )  # fmt: skip
    assert refused.code == 403
    assert store.get_aliases("m") == {}
    xsrf = cookies.get("_xsrf") or "5b1d0e9f7c3a2468"
    allowed = await jp_fetch(
        *path, method="PUT", body=json.dumps({"version": 1}),
        headers={"Authorization": "", "Cookie": f"{jar}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
        raise_error=False,
    )  # fmt: skip
    assert allowed.code == 200, allowed.body
    assert store.get_aliases("m") == {"champion": 1}
    entry = store.alias_history("m", "champion")[-1]
    assert (entry.actor, entry.actor_verified) == ("ana", True)
