"""The REST API through a real Jupyter server (pytest-jupyter's ``jp_fetch``, odd base_url).

Data is written with the real store into the test's own SQLite file, which the server reads
through ``JUPYTER_TRACK_DB`` (set by the autouse fixture in conftest.py).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from jupyter_track.store import SQLiteStore
from jupyter_track.store.schema import SCHEMA_VERSION

API = ("jupyter-track", "api")


async def call(jp_fetch: Any, *path: str, expect: int = 200, **kwargs: Any) -> Any:
    """Fetch an API route, check the status, return the decoded JSON body."""
    response = await jp_fetch(*API, *path, raise_error=False, **kwargs)
    body = json.loads(response.body) if response.body else None
    assert response.code == expect, (response.code, body)
    return body


def make_run(
    store: SQLiteStore,
    name: str,
    *,
    params: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    tags: dict[str, str] | None = None,
    experiment: str = "0",
    cell_id: str | None = None,
    start: int | None = None,
) -> str:
    info = store.create_run(experiment, run_name=name, cell_id=cell_id, start_time=start)
    if params:
        store.log_params(info.run_id, params)
    if metrics:
        store.log_metrics(info.run_id, [(k, v, 1000, 0) for k, v in metrics.items()])
    if tags:
        store.set_tags(info.run_id, tags)
    store.update_run(info.run_id, status="FINISHED", end_time=(start or info.start_time) + 5)
    return info.run_id


# ----------------------------------------------------------------------------------- info


async def test_info_reports_versions_and_store(jp_fetch: Any, track_db: Path) -> None:
    from jupyter_track import __version__

    response = await jp_fetch(*API, "info")
    assert response.headers["Server-Timing"].startswith("app;dur=")
    body = json.loads(response.body)
    assert body["version"] == __version__
    assert body["schema_version"] == SCHEMA_VERSION
    assert body["store"] == str(track_db)
    assert body["user"]
    assert track_db.exists()  # the first read created and migrated the file


async def test_db_path_config_is_used_and_exported_to_kernels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the extension app on its own, with db_path set as c.JupyterTrack.db_path would
    from jupyter_track.server.app import JupyterTrack

    monkeypatch.setenv("JUPYTER_TRACK_URI", "")  # so the test's changes are undone after it

    target = tmp_path / "elsewhere" / "team.db"
    app = JupyterTrack(db_path=str(target))
    app.initialize_settings()
    try:
        assert os.environ["JUPYTER_TRACK_DB"] == str(target)
        assert os.environ["JUPYTER_TRACK_URI"] == f"sqlite:///{target}"
        assert app.access is not None and app.access.location == str(target)
        from jupyter_track.paths import resolve_db_path

        assert resolve_db_path() == target  # what a kernel started now would resolve
    finally:
        await app.stop_extension()


# ------------------------------------------------------------------------------ experiments


async def test_experiments_with_run_counts(jp_fetch: Any, store: SQLiteStore) -> None:
    exp = store.create_experiment("vision")
    make_run(store, "a", experiment=exp)
    make_run(store, "b", experiment=exp)
    make_run(store, "c")
    gone = store.create_experiment("old")
    store.set_experiment_lifecycle(gone, "deleted")
    body = await call(jp_fetch, "experiments")
    by_name = {e["name"]: e for e in body["experiments"]}
    assert set(by_name) == {"Default", "vision"}
    assert by_name["vision"]["run_count"] == 2
    assert by_name["Default"]["run_count"] == 1
    body = await call(jp_fetch, "experiments", params={"include_deleted": "true"})
    assert {e["name"] for e in body["experiments"]} == {"Default", "vision", "old"}


# ------------------------------------------------------------------------------------ runs


@pytest.fixture
def five_runs(store: SQLiteStore) -> list[str]:
    ids = []
    for i, (model, acc) in enumerate(
        [("rf", 0.9), ("svm", 0.7), ("rf", 0.95), ("knn", 0.5), ("rf", float("nan"))]
    ):
        ids.append(
            make_run(
                store,
                f"run{i}",
                params={"model": model, "lr": 10.0**-i},
                metrics={"acc": acc, "loss": 1 - i / 10},
                tags={"team": "a" if i % 2 else "b"},
                start=1_700_000_000_000 + i * 1000,
            )
        )
    return ids


async def test_runs_filter_order_total_and_columns(jp_fetch: Any, five_runs: list[str]) -> None:
    body = await call(
        jp_fetch,
        "runs",
        params={
            "filter": "params.model = 'rf'",
            "order_by": "metrics.acc DESC",
            "columns": "params.model,metrics.acc",
        },
    )
    assert body["total"] == 3
    assert [r["run_name"] for r in body["runs"]] == ["run2", "run0", "run4"]
    first = body["runs"][0]
    assert first["params"] == {"model": "rf"}  # lr not chosen
    assert first["metrics"] == {"acc": 0.95}
    assert first["tags"] == {}
    assert first["status"] == "FINISHED" and first["duration_ms"] == 5
    assert body["runs"][2]["metrics"] == {"acc": "NaN"}
    assert body["columns"] == ["params.model", "metrics.acc"]


async def test_runs_default_columns_and_wildcard_tags(jp_fetch: Any, five_runs: list[str]) -> None:
    body = await call(jp_fetch, "runs")
    assert body["total"] == 5
    newest = body["runs"][0]  # default order: newest first
    assert newest["run_name"] == "run4"
    assert set(newest["params"]) == {"model", "lr"}
    assert set(newest["metrics"]) == {"acc", "loss"}
    assert newest["tags"] == {}
    body = await call(jp_fetch, "runs", params={"columns": "tags.*"})
    assert body["runs"][0]["tags"]["team"] == "b"
    assert body["runs"][0]["params"] == {}
    body = await call(jp_fetch, "runs", params={"columns": ""})
    assert body["runs"][0]["params"] == {} and body["runs"][0]["metrics"] == {}


async def test_runs_pages_by_token_and_offset(jp_fetch: Any, five_runs: list[str]) -> None:
    first = await call(jp_fetch, "runs", params={"limit": "2", "order_by": "start_time"})
    assert [r["run_name"] for r in first["runs"]] == ["run0", "run1"]
    assert first["offset"] == 0 and first["next_page_token"]
    second = await call(
        jp_fetch,
        "runs",
        params={"limit": "2", "order_by": "start_time", "page_token": first["next_page_token"]},
    )
    assert [r["run_name"] for r in second["runs"]] == ["run2", "run3"]
    assert second["offset"] == 2
    last = await call(
        jp_fetch, "runs", params={"limit": "2", "order_by": "start_time", "offset": "4"}
    )
    assert [r["run_name"] for r in last["runs"]] == ["run4"]
    assert last["next_page_token"] is None
    no_total = await call(jp_fetch, "runs", params={"total": "false", "limit": "1"})
    assert no_total["total"] is None


async def test_runs_views_and_experiment_scope(
    jp_fetch: Any, store: SQLiteStore, five_runs: list[str]
) -> None:
    store.delete_run(five_runs[0])
    other = store.create_experiment("other")
    make_run(store, "elsewhere", experiment=other)
    active = await call(jp_fetch, "runs", params={"experiment_ids": "0"})
    assert active["total"] == 4
    deleted = await call(jp_fetch, "runs", params={"view": "deleted"})
    assert [r["run_id"] for r in deleted["runs"]] == [five_runs[0]]
    everything = await call(jp_fetch, "runs", params={"view": "all"})
    assert everything["total"] == 6
    scoped = await call(jp_fetch, "runs", params={"experiment_ids": other})
    assert [r["run_name"] for r in scoped["runs"]] == ["elsewhere"]


@pytest.mark.parametrize(
    ("text", "position"),
    [("metrics.acc >", 13), ("params.model = 'rf' AND AND", 24), ("nope = 1", 0)],
)
async def test_malformed_filter_is_400_with_position(
    jp_fetch: Any, five_runs: list[str], text: str, position: int
) -> None:
    body = await call(jp_fetch, "runs", params={"filter": text}, expect=400)
    assert body["status"] == 400
    assert body["error"] == "invalid_filter"
    assert body["position"] == position
    assert body["parameter"] == "filter"
    assert body["expected"]


async def test_malformed_order_by_names_the_parameter(jp_fetch: Any) -> None:
    body = await call(jp_fetch, "runs", params={"order_by": "metrics.acc SIDEWAYS"}, expect=400)
    assert body["error"] == "invalid_filter" and body["parameter"] == "order_by"
    assert body["position"] == 12


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "many"},
        {"limit": "-1"},
        {"view": "archived"},
        {"total": "maybe"},
        {"columns": "weights.w1"},
        {"offset": "2", "page_token": "abc"},
    ],
)
async def test_bad_query_arguments_are_400(jp_fetch: Any, params: dict[str, str]) -> None:
    body = await call(jp_fetch, "runs", params=params, expect=400)
    assert body["error"] == "bad_request" and body["message"]


async def test_bad_page_token_is_400(jp_fetch: Any) -> None:
    body = await call(jp_fetch, "runs", params={"page_token": "garbage"}, expect=400)
    assert body["error"] == "invalid_input"


# --------------------------------------------------------------------------------- one run


async def test_run_detail(jp_fetch: Any, store: SQLiteStore, tmp_path: Path) -> None:
    store.put_environment("env1", "3.11.7", "linux", {"numpy": "2.0", "pandas": "2.2"})
    info = store.create_run(
        "0",
        run_name="<b>bold</b>",
        cell_id="cell-1",
        execution_count=3,
        source="x = 1\njt.log_metric('acc', x)",
        environment="env1",
        notebook="nb.ipynb",
        tags={
            "jt.user": "ana",
            "jt.user.verified": "true",
            "jt.git.commit": "abc123",
            "jt.git.dirty": "false",
            "mlflow.note.content": "first try",
        },
    )
    run_id = info.run_id
    store.log_params(run_id, {"lr": 0.1})
    store.log_metrics(run_id, [("acc", 0.5, 1, 0), ("acc", 0.9, 2, 1), ("acc", 0.7, 3, 2)])
    store.write_artifact_bytes(run_id, "plots/curve.png", b"\x89PNG...")
    store.write_artifact_bytes(run_id, "model.pkl", b"weights")
    child = store.create_run("0", parent_run_id=run_id)
    body = await call(jp_fetch, "runs", run_id)
    assert body["run_name"] == "<b>bold</b>"  # text, never interpreted
    assert body["params"] == {"lr": "0.1"}
    acc = body["metrics"]["acc"]
    assert (acc["last"], acc["min"], acc["max"], acc["count"], acc["step"]) == (0.7, 0.5, 0.9, 3, 2)
    assert body["note"] == "first try"
    assert body["source"].startswith("x = 1")
    prov = body["provenance"]
    assert prov["user"] == "ana" and prov["user_verified"] is True
    assert prov["git"]["commit"] == "abc123" and prov["git"]["dirty"] is False
    assert prov["notebook"] == "nb.ipynb" and prov["cell_id"] == "cell-1"
    assert prov["execution_count"] == 3
    assert prov["environment"]["packages"] == {"numpy": "2.0", "pandas": "2.2"}
    paths = [(a["path"], a["is_dir"]) for a in body["artifacts"]]
    assert paths == [("plots", True), ("model.pkl", False), ("plots/curve.png", False)]
    assert body["artifacts_truncated"] is False
    assert body["children"] == [child.run_id]


async def test_unknown_run_is_404_in_the_error_shape(jp_fetch: Any) -> None:
    body = await call(jp_fetch, "runs", "0123456789abcdef", expect=404)
    assert body["status"] == 404 and body["error"] == "not_found"
    assert "0123456789abcdef" in body["message"]


async def test_unknown_api_path_is_404_in_the_error_shape(jp_fetch: Any) -> None:
    body = await call(jp_fetch, "no", "such", "route", expect=404)
    assert body["error"] == "not_found"


async def test_unsupported_method_is_405_in_the_error_shape(jp_fetch: Any) -> None:
    body = await call(jp_fetch, "info", method="POST", body="{}", expect=405)
    assert body["error"] == "method_not_allowed"


# ---------------------------------------------------------------------------------- writes


async def test_patch_renames_notes_tags_and_attributes_to_the_requester(
    jp_fetch: Any, store: SQLiteStore
) -> None:
    run_id = make_run(store, "before", tags={"stale": "x"})
    body = await call(
        jp_fetch,
        "runs",
        run_id,
        method="PATCH",
        body=json.dumps(
            {
                "run_name": "after",
                "note": "works <script>alert(1)</script>",
                "tags": {"stage": "review"},
                "delete_tags": ["stale", "never-set"],
            }
        ),
    )
    assert body["run_name"] == "after"
    assert body["note"] == "works <script>alert(1)</script>"
    run = store.get_run(run_id)
    assert run.info.run_name == "after"
    assert run.data.tags["stage"] == "review"
    assert "stale" not in run.data.tags
    info = await call(jp_fetch, "info")
    assert info["user"] == "ana"
    assert run.data.tags["jt.edited_by"] == "ana"  # the authenticated user
    body = await call(jp_fetch, "runs", run_id, method="PATCH", body=json.dumps({"note": ""}))
    assert body["note"] is None


@pytest.mark.parametrize(
    "change",
    [
        {"tags": {"jt.user": "mallory"}},
        {"delete_tags": ["mlflow.user"]},
        {"user": "mallory"},
        {"run_name": ""},
        {"tags": {"n": 1}},
        [],
    ],
)
async def test_patch_refuses_bad_or_reserved_changes(
    jp_fetch: Any, store: SQLiteStore, change: Any
) -> None:
    run_id = make_run(store, "kept")
    body = await call(jp_fetch, "runs", run_id, method="PATCH", body=json.dumps(change), expect=400)
    assert body["status"] == 400
    assert store.get_run(run_id).info.run_name == "kept"
    assert "jt.edited_by" not in store.get_run(run_id).data.tags


async def test_patch_unknown_run_is_404(jp_fetch: Any) -> None:
    body = await call(
        jp_fetch, "runs", "feedface", method="PATCH", body=json.dumps({"note": "x"}), expect=404
    )
    assert body["error"] == "not_found"


async def test_delete_and_restore(jp_fetch: Any, store: SQLiteStore) -> None:
    run_id = make_run(store, "doomed")
    body = await call(jp_fetch, "runs", run_id, method="DELETE")
    assert body == {"run_id": run_id, "lifecycle_stage": "deleted"}
    assert store.get_run(run_id).info.lifecycle_stage == "deleted"
    listed = await call(jp_fetch, "runs")
    assert listed["total"] == 0
    body = await call(jp_fetch, "runs", run_id, "restore", method="POST", body="")
    assert body["lifecycle_stage"] == "active"
    assert store.get_run(run_id).info.lifecycle_stage == "active"


# ------------------------------------------------------------------------- compare, keys


async def test_compare_aligns_and_marks_differences(jp_fetch: Any, store: SQLiteStore) -> None:
    a = make_run(store, "a", params={"lr": 0.1, "seed": 1}, metrics={"acc": 0.9}, tags={"t": "x"})
    b = make_run(store, "b", params={"lr": 0.1, "seed": 2}, metrics={"acc": 0.8, "f1": 0.5})
    body = await call(jp_fetch, "compare", params={"run_ids": f"{a},{b}"})
    assert [r["run_id"] for r in body["runs"]] == [a, b]
    params = {p["key"]: p for p in body["params"]}
    assert params["lr"] == {"key": "lr", "values": ["0.1", "0.1"], "differs": False}
    assert params["seed"]["differs"] is True
    metrics = {m["key"]: m for m in body["metrics"]}
    assert metrics["acc"]["values"] == [0.9, 0.8] and metrics["acc"]["differs"] is True
    assert metrics["f1"]["values"] == [None, 0.5]
    assert [t["key"] for t in body["tags"]] == ["t"]  # system tags left out


async def test_compare_unknown_run_is_404(jp_fetch: Any, store: SQLiteStore) -> None:
    a = make_run(store, "a")
    body = await call(jp_fetch, "compare", params={"run_ids": f"{a},deadbeef"}, expect=404)
    assert "deadbeef" in body["message"]


async def test_compare_needs_run_ids(jp_fetch: Any) -> None:
    body = await call(jp_fetch, "compare", expect=400)
    assert body["parameter"] == "run_ids"


async def test_keys(jp_fetch: Any, five_runs: list[str]) -> None:
    body = await call(jp_fetch, "keys")
    assert body["params"] == ["lr", "model"]
    assert body["metrics"] == ["acc", "loss"]
    assert "team" in body["tags"]


async def test_cell_history(jp_fetch: Any, store: SQLiteStore) -> None:
    first = make_run(store, "first", cell_id="c1", metrics={"acc": 0.1}, start=1000)
    second = make_run(store, "second", cell_id="c1", metrics={"acc": 0.2}, start=2000)
    make_run(store, "other", cell_id="c2")
    store.write_cell_executions(
        [("s", "nb.ipynb", "c1", 1, "print(1)", 1000, 5.0, "ok", None, first)]
    )
    body = await call(jp_fetch, "cells", "c1", "runs")
    assert [r["run_id"] for r in body["runs"]] == [second, first]
    assert body["runs"][0]["metrics"] == {"acc": 0.2}
    assert [e["run_id"] for e in body["executions"]] == [first]


# --------------------------------------------------------------------- auth, XSRF, shape


async def test_every_route_needs_authentication(jp_fetch: Any, five_runs: list[str]) -> None:
    from jupyter_track.server.routes import ROUTES, methods

    values = {"run_id": five_runs[0], "cell_id": "c1"}
    for template, handler in ROUTES:
        filled = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), template)
        path = filled.strip("/").split("/")
        for method in methods(handler):
            body = None if method in ("get", "delete") else "{}"
            response = await jp_fetch(
                *API,
                *path,
                method=method.upper(),
                body=body,
                headers={"Authorization": ""},
                raise_error=False,
            )
            assert response.code == 403, (method, template, response.code)
            error = json.loads(response.body)
            assert error["status"] == 403 and error["error"] == "forbidden"


async def _login_cookies(jp_fetch: Any, token: str) -> dict[str, str]:
    """Log in the way a browser does (token in the URL once), return the cookies."""
    response = await jp_fetch(*API, "info", params={"token": token}, headers={"Authorization": ""})
    cookies: dict[str, str] = {}
    for header in response.headers.get_list("Set-Cookie"):
        name, _, rest = header.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    return cookies


async def test_writes_need_the_xsrf_token_with_cookie_auth(
    jp_fetch: Any, jp_server_auth_token: str, store: SQLiteStore
) -> None:
    run_id = make_run(store, "guarded")
    cookies = await _login_cookies(jp_fetch, jp_server_auth_token)
    login = [c for c in cookies if c.startswith("username-")]
    assert login, cookies
    jar = "; ".join(f"{k}={v}" for k, v in cookies.items() if k != "_xsrf")
    # logged in by cookie: reads work without XSRF
    response = await jp_fetch(
        *API, "runs", run_id, headers={"Authorization": "", "Cookie": jar}, raise_error=False
    )
    assert response.code == 200
    # a write without the XSRF token is refused and changes nothing
    for method, path, body in [
        ("PATCH", ("runs", run_id), json.dumps({"note": "sneaky"})),
        ("DELETE", ("runs", run_id), None),
        ("POST", ("runs", run_id, "restore"), ""),
    ]:
        response = await jp_fetch(
            *API,
            *path,
            method=method,
            body=body,
            headers={"Authorization": "", "Cookie": jar},
            raise_error=False,
        )
        assert response.code == 403, (method, response.code)
        assert json.loads(response.body)["error"] == "forbidden"
    run = store.get_run(run_id)
    assert "mlflow.note.content" not in run.data.tags
    assert run.info.lifecycle_stage == "active"
    # with the XSRF cookie echoed in the X-XSRFToken header (what JupyterLab does) it goes
    # through; the page that serves JupyterLab sets the cookie, here we set a value ourselves
    xsrf = cookies.get("_xsrf") or "7a3f09c2d1e4b5a6"
    response = await jp_fetch(
        *API,
        "runs",
        run_id,
        method="PATCH",
        body=json.dumps({"note": "allowed"}),
        headers={"Authorization": "", "Cookie": f"{jar}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
        raise_error=False,
    )
    assert response.code == 200, response.body
    assert store.get_run(run_id).data.tags["mlflow.note.content"] == "allowed"


async def test_store_unavailable_is_503(jp_fetch: Any, track_db: Path, tmp_path: Path) -> None:
    # a store path whose folder is a file: it can be neither created nor opened
    from jupyter_track.server.access import StoreAccess

    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    access = StoreAccess(blocker / "track.db")
    try:
        from jupyter_track.server.errors import from_store_error
        from jupyter_track.store import StoreUnavailable

        with pytest.raises(StoreUnavailable) as caught:
            await access.read(lambda s: s.search_runs())
        mapped = from_store_error(caught.value)
        assert mapped is not None and mapped.status_code == 503
        assert mapped.body["error"] == "store_unavailable"
    finally:
        access.close()


# ------------------------------------------------------------------------ spec agreement


def test_routes_and_openapi_agree() -> None:
    import yaml

    from jupyter_track.mlflow_protocol import ARTIFACTS, ENDPOINTS
    from jupyter_track.server.routes import ROUTES, methods

    spec_file = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
    spec = yaml.safe_load(spec_file.read_text())
    mlflow_server = "{base_url}jupyter-track/mlflow"

    def documented(mlflow: bool) -> set[tuple[str, str]]:
        return {
            (path, method)
            for path, item in spec["paths"].items()
            if (item.get("servers", [{}])[0].get("url") == mlflow_server) == mlflow
            for method in item
            if method in ("get", "post", "put", "patch", "delete")
        }

    served = {(template, method) for template, handler in ROUTES for method in methods(handler)}
    assert served == documented(mlflow=False)
    # MLflow's protocol: the endpoint table, plus the artifact proxy's streamed file routes
    served_mlflow = {(e.path, m.lower()) for e in ENDPOINTS for m in e.methods}
    served_mlflow |= {(f"{ARTIFACTS}/{{path}}", "get"), (f"{ARTIFACTS}/{{path}}", "put")}
    assert served_mlflow == documented(mlflow=True)
    # every operation documents its error responses with its error shape
    for path, item in spec["paths"].items():
        mlflow = item.get("servers", [{}])[0].get("url") == mlflow_server
        shape = "#/components/responses/" + ("MlflowError" if mlflow else "Error")
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert op["responses"]["default"]["$ref"] == shape, path
    # path parameters in templates match the spec's declared parameters
    for template, _ in ROUTES:
        declared = set()
        item = spec["paths"][template]
        for param in item.get("parameters", []):
            ref = param.get("$ref", "")
            resolved = spec["components"]["parameters"][ref.split("/")[-1]] if ref else param
            if resolved["in"] == "path":
                declared.add(resolved["name"])
        assert set(re.findall(r"\{(\w+)\}", template)) == declared, template
