"""MLflow's REST protocol, call by call, through a real Jupyter server (pytest-jupyter, odd
``base_url``): shapes, MLflow's error codes and statuses, authentication and XSRF, paging, the
artifact proxy's confinement, and malformed input (always a 4xx in MLflow's error shape).
The field reader gets property tests of its own.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from jupyter_track.mlflow_protocol import ENDPOINTS, MlflowError, Request
from jupyter_track.mlflow_protocol.messages import INT64_MAX, Fields
from jupyter_track.store import SQLiteStore

MLFLOW = ("jupyter-track", "mlflow", "api", "2.0", "mlflow")
SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text())
REGISTRY: Registry[Any] = Registry().with_resource(
    "urn:openapi", Resource.from_contents(SPEC, default_specification=DRAFT202012)
)


def check_documented(path: str, method: str, status: int, payload: Any) -> None:
    """The answer matches the response schema docs/openapi.yaml gives for it."""
    for template in SPEC["paths"] if path not in SPEC["paths"] else ():
        if "{" in template and re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", template), path):
            path = template
            break
    operation = SPEC["paths"].get(path, {}).get(method.lower())
    if operation is None:  # an undocumented path or method: only errors may come back
        assert status >= 400, (path, method, status)
        operation = {"responses": {"default": {"$ref": "#/components/responses/MlflowError"}}}
    response = operation["responses"].get(str(status)) or operation["responses"]["default"]
    while "$ref" in response:
        response = SPEC["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    rewritten = json.loads(json.dumps(schema).replace('"#/components', '"urn:openapi#/components'))
    validator = Draft202012Validator(rewritten, registry=REGISTRY)
    errors = [e.message for e in validator.iter_errors(payload)]
    assert not errors, (path, method, status, errors[:3])


async def call(
    jp_fetch: Any,
    path: str,
    body: Any = None,
    *,
    method: str = "POST",
    expect: int = 200,
    params: dict[str, Any] | None = None,
    raw: bytes | None = None,
    prefix: tuple[str, ...] = MLFLOW,
    headers: dict[str, str] | None = None,
) -> Any:
    """One MLflow call; checks the status and, for errors, MLflow's error shape."""
    kwargs: dict[str, Any] = {"method": method, "raise_error": False, "params": params}
    if headers:
        kwargs["headers"] = headers
    if method in ("POST", "PATCH", "PUT") or (method == "DELETE" and body is not None):
        kwargs["body"] = raw if raw is not None else json.dumps(body or {})
        if method == "DELETE":
            kwargs["allow_nonstandard_methods"] = True
    response = await jp_fetch(*prefix, *path.split("/"), **kwargs)
    payload = json.loads(response.body) if response.body else None
    assert response.code == expect, (response.code, payload)
    if expect >= 400:
        assert set(payload) == {"error_code", "message"}, payload
        assert isinstance(payload["error_code"], str) and payload["message"]
    documented = "/" + "/".join((*prefix, *path.split("/"))[2:]).rstrip("/")
    check_documented(documented, method, expect, payload)
    return payload


async def new_run(jp_fetch: Any, **fields: Any) -> dict[str, Any]:
    out = await call(jp_fetch, "runs/create", {"experiment_id": "0", **fields})
    return out["run"]


# ----------------------------------------------------------------------------- experiments


async def test_experiments_create_get_search_rename_delete(jp_fetch: Any) -> None:
    created = await call(
        jp_fetch,
        "experiments/create",
        {"name": "exp-a", "tags": [{"key": "team", "value": "nlp"}]},
    )
    experiment_id = created["experiment_id"]
    got = await call(
        jp_fetch, "experiments/get", method="GET", params={"experiment_id": experiment_id}
    )
    assert got["experiment"]["name"] == "exp-a"
    assert got["experiment"]["tags"] == [{"key": "team", "value": "nlp"}]
    assert got["experiment"]["artifact_location"] == f"mlflow-artifacts:/{experiment_id}"
    dup = await call(jp_fetch, "experiments/create", {"name": "exp-a"}, expect=400)
    assert dup["error_code"] == "RESOURCE_ALREADY_EXISTS"
    missing = await call(
        jp_fetch,
        "experiments/get-by-name",
        method="GET",
        params={"experiment_name": "nope"},
        expect=404,
    )
    assert missing["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    for name in ("exp-b", "exp-c"):
        await call(jp_fetch, "experiments/create", {"name": name})
    page = await call(
        jp_fetch, "experiments/search", {"max_results": 2, "filter": "name LIKE 'exp-%'"}
    )
    assert [e["name"] for e in page["experiments"]] == ["exp-c", "exp-b"]  # newest first
    rest = await call(
        jp_fetch,
        "experiments/search",
        {"max_results": 2, "filter": "name LIKE 'exp-%'", "page_token": page["next_page_token"]},
    )
    assert [e["name"] for e in rest["experiments"]] == ["exp-a"]
    assert "next_page_token" not in rest
    tagged = await call(jp_fetch, "experiments/search", {"filter": "tags.team = 'nlp'"})
    assert [e["name"] for e in tagged["experiments"]] == ["exp-a"]
    await call(
        jp_fetch, "experiments/update", {"experiment_id": experiment_id, "new_name": "exp-z"}
    )
    await call(
        jp_fetch,
        "experiments/delete-experiment-tag",
        {"experiment_id": experiment_id, "key": "team"},
    )
    await call(jp_fetch, "experiments/delete", {"experiment_id": experiment_id})
    deleted = await call(
        jp_fetch, "experiments/search", {"view_type": "DELETED_ONLY"}, method="POST"
    )
    assert [(e["name"], e.get("tags")) for e in deleted["experiments"]] == [("exp-z", None)]
    refused = await call(jp_fetch, "runs/create", {"experiment_id": experiment_id}, expect=400)
    assert "deleted" in refused["message"]
    await call(jp_fetch, "experiments/restore", {"experiment_id": experiment_id})
    default = await call(jp_fetch, "experiments/delete", {"experiment_id": "0"}, expect=400)
    assert default["error_code"] == "INVALID_PARAMETER_VALUE"


# ------------------------------------------------------------------------------------ runs


async def test_run_lifecycle_batch_and_history_paging(jp_fetch: Any, store: SQLiteStore) -> None:
    run = await new_run(
        jp_fetch,
        run_name="r",
        start_time=1_000,
        tags=[{"key": "mlflow.user", "value": "mallory"}, {"key": "a", "value": "1"}],
    )
    run_id = run["info"]["run_id"]
    assert run["info"]["artifact_uri"] == f"mlflow-artifacts:/0/{run_id}/artifacts"
    assert run["info"]["user_id"] == "ana"
    assert {"key": "mlflow.user", "value": "ana"} in run["data"]["tags"]  # not the client's
    metrics = [
        {"key": "loss", "value": 1 / (i + 1), "timestamp": 5_000 + i, "step": i} for i in range(250)
    ]
    metrics.append({"key": "odd", "value": "NaN", "timestamp": 1, "step": 0})
    metrics.append({"key": "big", "value": "-Infinity", "timestamp": "7", "step": "3"})
    await call(
        jp_fetch,
        "runs/log-batch",
        {
            "run_id": run_id,
            "metrics": metrics,
            "params": [{"key": "lr", "value": "0.1"}],
            "tags": [{"key": "mlflow.runName", "value": "renamed"}],
        },
    )
    got = (await call(jp_fetch, "runs/get", method="GET", params={"run_id": run_id}))["run"]
    assert got["info"]["run_name"] == "renamed"
    values = {m["key"]: (m["value"], m["step"]) for m in got["data"]["metrics"]}
    assert values == {"loss": (1 / 250, 249), "odd": ("NaN", 0), "big": ("-Infinity", 3)}
    # a param logged again with another value: the whole batch is refused, nothing stored
    conflict = await call(
        jp_fetch,
        "runs/log-batch",
        {
            "run_id": run_id,
            "params": [{"key": "lr", "value": "0.2"}],
            "metrics": [{"key": "never", "value": 1, "timestamp": 1}],
        },
        expect=400,
    )
    assert conflict["error_code"] == "INVALID_PARAMETER_VALUE" and "lr" in conflict["message"]
    assert "never" not in store.get_run(run_id).data.metrics
    # history in pages of 100
    points, token = [], None
    while True:
        params = {"run_id": run_id, "metric_key": "loss", "max_results": "100"}
        if token:
            params["page_token"] = token
        page = await call(jp_fetch, "metrics/get-history", method="GET", params=params)
        points += page["metrics"]
        token = page.get("next_page_token")
        if not token:
            break
    assert [p["step"] for p in points] == list(range(250))
    updated = await call(
        jp_fetch,
        "runs/update",
        {"run_id": run_id, "status": "KILLED", "end_time": 9_000, "run_name": "final"},
    )
    assert updated["run_info"]["status"] == "KILLED"
    assert updated["run_info"]["end_time"] == 9_000
    assert store.get_run(run_id).data.tags["mlflow.runName"] == "final"
    await call(jp_fetch, "runs/delete", {"run_id": run_id})
    closed = await call(
        jp_fetch, "runs/log-metric", {"run_id": run_id, "key": "x", "value": 1}, expect=400
    )
    assert "deleted" in closed["message"]
    await call(jp_fetch, "runs/restore", {"run_id": run_id})
    await call(jp_fetch, "runs/delete-tag", {"run_id": run_id, "key": "a"})
    gone = await call(jp_fetch, "runs/delete-tag", {"run_id": run_id, "key": "a"}, expect=404)
    assert gone["error_code"] == "RESOURCE_DOES_NOT_EXIST"


async def test_log_inputs_records_datasets_like_jt_log_input(
    jp_fetch: Any, store: SQLiteStore
) -> None:
    run_id = (await new_run(jp_fetch))["info"]["run_id"]
    dataset = {
        "name": "../weird/name",
        "digest": "abc123",
        "source_type": "http",
        "source": '{"url": "https://example.org/data.csv"}',
        "profile": '{"num_rows": 150}',
        "schema": '{"mlflow_colspec": []}',
    }
    await call(
        jp_fetch,
        "runs/log-inputs",
        {
            "run_id": run_id,
            "datasets": [
                {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "eval"}]}
            ],
        },
    )
    tags = store.get_run(run_id).data.tags
    prefix = "jt.input.../weird/name"
    assert tags[f"{prefix}.digest"] == "abc123" and tags[f"{prefix}.kind"] == "http"
    assert (tags[f"{prefix}.rows"], tags[f"{prefix}.context"]) == ("150", "eval")
    (item,) = store.list_artifacts(run_id, "inputs")
    assert item.path == "inputs/_weird_name.json"  # a file name, never a path out of the run
    record = json.loads(store.artifact_file(run_id, item.path).read_text())
    assert record["schema"] == dataset["schema"] and record["tags"]["mlflow.data.context"] == "eval"


async def test_logged_models_live_in_their_run(jp_fetch: Any, store: SQLiteStore) -> None:
    run = (await new_run(jp_fetch))["info"]
    run_id = run["run_id"]
    await call(jp_fetch, "runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"})
    created = await call(
        jp_fetch,
        "logged-models",
        {
            "experiment_id": "0",
            "source_run_id": run_id,
            "name": "net",
            "params": [{"key": "lr", "value": "0.1"}, {"key": "layers", "value": "3"}],
            "tags": [{"key": "k", "value": "v"}],
        },
    )
    info = created["model"]["info"]
    model_id = info["model_id"]
    assert info["artifact_uri"] == f"{run['artifact_uri']}/net"
    assert info["status"] == "LOGGED_MODEL_PENDING"
    params = {p["key"]: p["value"] for p in created["model"]["data"]["params"]}
    assert params == {"lr": "0.1", "layers": "3"}
    # a second model of the same name in the same run gets its own folder
    other = await call(
        jp_fetch, "logged-models", {"experiment_id": "0", "source_run_id": run_id, "name": "net"}
    )
    other_id = other["model"]["info"]["model_id"]
    assert other["model"]["info"]["artifact_uri"].endswith(f"/models/{other_id}")
    upload = ("jupyter-track", "mlflow", "api", "2.0", "mlflow-artifacts", "artifacts")
    await jp_fetch(*upload, "0", run_id, "artifacts", "net", "MLmodel", method="PUT", body=b"x")
    model_path = ("logged-models", model_id)
    listed = await call(jp_fetch, "/".join([*model_path, "artifacts", "directories"]), method="GET")
    assert listed["files"] == [{"path": "MLmodel", "is_dir": False, "file_size": 1}]
    done = await call(
        jp_fetch, "/".join(model_path), {"status": "LOGGED_MODEL_READY"}, method="PATCH"
    )
    assert done["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    await call(
        jp_fetch,
        "/".join([*model_path, "tags"]),
        {"tags": [{"key": "stage", "value": "qa"}]},
        method="PATCH",
    )
    await call(jp_fetch, "/".join([*model_path, "tags", "k"]), method="DELETE")
    await call(
        jp_fetch, "/".join([*model_path, "params"]), {"params": [{"key": "x", "value": "1"}]}
    )
    got = await call(jp_fetch, "/".join(model_path), method="GET")
    assert got["model"]["info"]["tags"] == [{"key": "stage", "value": "qa"}]
    found = await call(
        jp_fetch,
        "logged-models/search",
        {"experiment_ids": ["0"], "filter": f"name = 'net' AND source_run_id = '{run_id}'"},
    )
    assert sorted(m["info"]["model_id"] for m in found["models"]) == sorted([model_id, other_id])
    ready = await call(
        jp_fetch,
        "logged-models/search",
        {"experiment_ids": ["0"], "filter": "status = 'LOGGED_MODEL_READY'"},
    )
    assert [m["info"]["model_id"] for m in ready["models"]] == [model_id]
    await call(jp_fetch, "/".join(model_path), method="DELETE")
    gone = await call(jp_fetch, "/".join(model_path), method="GET", expect=404)
    assert gone["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert (store.artifact_path(run_id, "net") / "MLmodel").is_file()  # the files stay


async def test_nested_runs_and_search(jp_fetch: Any) -> None:
    parent = (await new_run(jp_fetch, run_name="parent"))["info"]["run_id"]
    children = []
    for i in range(3):
        child = await new_run(
            jp_fetch,
            run_name=f"child-{i}",
            start_time=10_000 + i,
            tags=[{"key": "mlflow.parentRunId", "value": parent}],
        )
        children.append(child["info"]["run_id"])
        await call(
            jp_fetch,
            "runs/log-metric",
            {"run_id": children[-1], "key": "acc", "value": i / 10, "timestamp": 1, "step": 0},
        )
    found = await call(
        jp_fetch,
        "runs/search",
        {
            "experiment_ids": ["0"],
            "filter": f"tags.mlflow.parentRunId = '{parent}' and metrics.acc >= 0.1",
            "order_by": ["metrics.acc DESC"],
            "max_results": 1,
        },
    )
    assert [r["info"]["run_name"] for r in found["runs"]] == ["child-2"]
    more = await call(
        jp_fetch,
        "runs/search",
        {
            "experiment_ids": ["0"],
            "filter": f"tags.mlflow.parentRunId = '{parent}' and metrics.acc >= 0.1",
            "order_by": ["metrics.acc DESC"],
            "max_results": 1,
            "page_token": found["next_page_token"],
        },
    )
    assert [r["info"]["run_name"] for r in more["runs"]] == ["child-1"]
    bad = await call(
        jp_fetch, "runs/search", {"experiment_ids": ["0"], "filter": "metrics.acc >"}, expect=400
    )
    assert bad["error_code"] == "INVALID_PARAMETER_VALUE"


# -------------------------------------------------------------------------------- registry


async def test_registry_calls_and_audit(jp_fetch: Any, store: SQLiteStore) -> None:
    run_id = (await new_run(jp_fetch))["info"]["run_id"]
    model = await call(
        jp_fetch,
        "registered-models/create",
        {"name": "clf", "description": "d", "tags": [{"key": "k", "value": "v"}]},
    )
    assert model["registered_model"]["name"] == "clf"
    again = await call(jp_fetch, "registered-models/create", {"name": "clf"}, expect=400)
    assert again["error_code"] == "RESOURCE_ALREADY_EXISTS"
    source = f"mlflow-artifacts:/0/{run_id}/artifacts/model"
    for expected in ("1", "2"):
        mv = await call(
            jp_fetch, "model-versions/create", {"name": "clf", "source": source, "run_id": run_id}
        )
        assert mv["model_version"]["version"] == expected
        assert mv["model_version"]["source"] == source
    await call(
        jp_fetch, "registered-models/alias", {"name": "clf", "alias": "prod", "version": "1"}
    )
    by_alias = await call(
        jp_fetch,
        "registered-models/alias",
        method="GET",
        params={"name": "clf", "alias": "prod"},
    )
    assert by_alias["model_version"]["aliases"] == ["prod"]
    latest = await call(
        jp_fetch, "registered-models/get-latest-versions", {"name": "clf", "stages": ["None"]}
    )
    assert [v["version"] for v in latest["model_versions"]] == ["2"]
    staged = await call(
        jp_fetch, "registered-models/get-latest-versions", {"name": "clf", "stages": ["Prod"]}
    )
    assert staged["model_versions"] == []
    await call(
        jp_fetch,
        "model-versions/update",
        {"name": "clf", "version": "2", "description": "better"},
        method="PATCH",
    )
    await call(
        jp_fetch,
        "model-versions/set-tag",
        {"name": "clf", "version": "2", "key": "validated", "value": "yes"},
    )
    searched = await call(
        jp_fetch,
        "model-versions/search",
        method="GET",
        params={"filter": "name = 'clf' and tags.validated = 'yes'"},
    )
    assert [v["version"] for v in searched["model_versions"]] == ["2"]
    # the default filter of MLflow's client leaves its prompts out, never plain models
    listed = await call(
        jp_fetch,
        "registered-models/search",
        method="GET",
        params={"filter": "tags.`mlflow.prompt.is_prompt` != 'true'", "max_results": "10"},
    )
    assert [m["name"] for m in listed["registered_models"]] == ["clf"]
    assert listed["registered_models"][0]["aliases"] == [{"alias": "prod", "version": "1"}]
    uri = await call(
        jp_fetch,
        "model-versions/get-download-uri",
        method="GET",
        params={"name": "clf", "version": "1"},
    )
    assert uri == {"artifact_uri": source}
    renamed = await call(
        jp_fetch, "registered-models/rename", {"name": "clf", "new_name": "classifier"}
    )
    assert renamed["registered_model"]["aliases"] == [{"alias": "prod", "version": "1"}]
    await call(
        jp_fetch,
        "registered-models/alias",
        {"name": "classifier", "alias": "prod"},
        method="DELETE",
    )
    await call(
        jp_fetch, "model-versions/delete", {"name": "classifier", "version": "1"}, method="DELETE"
    )
    missing = await call(
        jp_fetch,
        "model-versions/get",
        method="GET",
        params={"name": "classifier", "version": "1"},
        expect=404,
    )
    assert missing["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    stage = await call(
        jp_fetch,
        "model-versions/transition-stage",
        {"name": "classifier", "version": "2", "stage": "Production"},
        expect=404,
    )
    assert stage["error_code"] == "ENDPOINT_NOT_FOUND" and "use aliases" in stage["message"]
    await call(jp_fetch, "registered-models/delete", {"name": "classifier"}, method="DELETE")
    actions = [(e.action, e.actor, e.actor_verified) for e in store.registry_audit()]
    assert ("rename_registered_model", "ana", True) in actions
    assert ("delete_registered_model", "ana", True) in actions


# ------------------------------------------------------------------------- artifact proxy

ARTIFACTS = ("jupyter-track", "mlflow", "api", "2.0", "mlflow-artifacts", "artifacts")


async def test_artifact_proxy_upload_list_download_and_confinement(
    jp_fetch: Any,
    store: SQLiteStore,
    http_server_client: Any,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
) -> None:
    run_id = (await new_run(jp_fetch))["info"]["run_id"]
    root = ("0", run_id, "artifacts")
    payload = bytes(range(256)) * 5000
    put = await jp_fetch(*ARTIFACTS, *root, "sub", "data.bin", method="PUT", body=payload)
    assert put.code == 200
    listed = await call(
        jp_fetch, "", method="GET", prefix=ARTIFACTS, params={"path": f"0/{run_id}/artifacts"}
    )
    assert listed == {"files": [{"path": "sub", "is_dir": True}]}
    inner = await call(
        jp_fetch, "", method="GET", prefix=ARTIFACTS, params={"path": f"0/{run_id}/artifacts/sub"}
    )
    assert inner == {"files": [{"path": "data.bin", "is_dir": False, "file_size": len(payload)}]}
    got = await jp_fetch(*ARTIFACTS, *root, "sub", "data.bin")
    assert got.body == payload
    assert "sandbox" in got.headers["Content-Security-Policy"]
    assert store.list_artifacts(run_id, "sub")[0].size == len(payload)
    assert not list((store.artifact_root / ".uploads").iterdir())  # the temp file was moved
    # replacing a file is one rename: the new bytes or the old ones, never a mix
    await jp_fetch(*ARTIFACTS, *root, "sub", "data.bin", method="PUT", body=b"v2")
    assert (await jp_fetch(*ARTIFACTS, *root, "sub", "data.bin")).body == b"v2"
    # outside the run's folder: refused, nothing written (raw URLs: nothing re-quotes them)
    base = f"{jp_base_url}jupyter-track/mlflow/api/2.0/"
    for path in (
        f"0/{run_id}/artifacts/../../../../outside.txt",
        f"0/{run_id}/artifacts/%2e%2e/%2e%2e/%2e%2e/%2e%2e/outside.txt",
        f"0/{run_id}/artifacts/..%2f..%2f..%2f..%2foutside.txt",
        f"0/{run_id}/artifacts/%2Ftmp%2Foutside.txt",
        f"0/{run_id}/other/x",
        f"7/{run_id}/artifacts/x",
        "0/notarun/artifacts/x",
    ):
        response = await http_server_client.fetch(
            base + "mlflow-artifacts/artifacts/" + path,
            method="PUT",
            body=b"evil",
            headers=jp_auth_header,
            raise_error=False,
        )
        assert response.code in (400, 404), (path, response.code)
        assert set(json.loads(response.body)) == {"error_code", "message"}
    assert not [p for p in store.artifact_root.parent.rglob("outside.txt")]
    assert not list((store.artifact_root / ".uploads").iterdir())
    missing = await call(
        jp_fetch, "", method="GET", prefix=ARTIFACTS, params={"path": "0/nope/artifacts"}
    )
    assert missing == {}
    not_found = await jp_fetch(*ARTIFACTS, *root, "missing.txt", raise_error=False)
    assert not_found.code == 404
    assert json.loads(not_found.body)["error_code"] == "RESOURCE_DOES_NOT_EXIST"


# --------------------------------------------------------------------- security and shape


async def test_authentication_and_xsrf(jp_fetch: Any, jp_server_auth_token: str) -> None:
    run_id = (await new_run(jp_fetch))["info"]["run_id"]
    no_auth = {"Authorization": ""}
    denied = await call(
        jp_fetch,
        "runs/get",
        method="GET",
        params={"run_id": run_id},
        headers=no_auth,
        expect=403,
    )
    assert denied["error_code"] == "PERMISSION_DENIED"
    # MLflow's client sends MLFLOW_TRACKING_TOKEN as a bearer token
    bearer = {"Authorization": f"Bearer {jp_server_auth_token}"}
    ok = await call(jp_fetch, "runs/get", method="GET", params={"run_id": run_id}, headers=bearer)
    assert ok["run"]["info"]["run_id"] == run_id
    # a login cookie without the XSRF token cannot write
    login = await jp_fetch(
        "login", method="POST", body=f"password={jp_server_auth_token}", follow_redirects=False,
        raise_error=False, headers={"Authorization": ""},
    )  # fmt: skip
    cookies = "; ".join(c.split(";", 1)[0] for c in login.headers.get_list("Set-Cookie"))
    cookie_only = {"Authorization": "", "Cookie": cookies}
    refused = await call(
        jp_fetch,
        "runs/set-tag",
        {"run_id": run_id, "key": "k", "value": "v"},
        headers=cookie_only,
        expect=403,
    )
    assert refused["error_code"] == "PERMISSION_DENIED"
    upload = await jp_fetch(
        *ARTIFACTS, "0", run_id, "artifacts", "x.txt", method="PUT", body=b"x",
        headers=cookie_only, raise_error=False,
    )  # fmt: skip
    assert upload.code == 403


async def test_unknown_endpoints_methods_and_not_served(jp_fetch: Any) -> None:
    unknown = await call(jp_fetch, "runs/teleport", {}, expect=404)
    assert unknown["error_code"] == "ENDPOINT_NOT_FOUND"
    wrong = await call(jp_fetch, "runs/create", method="GET", expect=405)
    assert wrong["error_code"] == "ENDPOINT_NOT_FOUND"
    no_run = await call(jp_fetch, "logged-models", {"experiment_id": "0"}, expect=400)
    assert "source_run_id" in no_run["message"]
    info = await call(
        jp_fetch,
        "server-info",
        method="GET",
        prefix=("jupyter-track", "mlflow", "api", "3.0", "mlflow"),
    )
    assert info["multipart_uploads_enabled"] is False


MALFORMED: list[tuple[str, Any]] = [
    ("runs/create", {"experiment_id": 5}),
    ("runs/create", {"experiment_id": "0", "start_time": 2**70}),
    ("runs/create", {"experiment_id": "0", "start_time": "soon"}),
    ("runs/create", {"experiment_id": "0", "tags": {"a": "b"}}),
    ("runs/create", {"experiment_id": "0", "tags": [{"key": "", "value": "v"}]}),
    ("runs/create", {"experiment_id": "0", "run_name": "x" * 10_000}),
    ("runs/create", {"experiment_id": "0", "run_name": "\ud800"}),
    ("runs/log-metric", {"run_id": "RUN", "key": "k", "value": "high"}),
    ("runs/log-metric", {"run_id": "RUN", "key": "k", "value": 1, "step": 1.5}),
    ("runs/log-metric", {"run_id": "RUN", "key": "k", "value": 1, "step": True}),
    ("runs/log-metric", {"run_id": "RUN", "key": "k" * 300, "value": 1}),
    ("runs/log-metric", {"run_id": "RUN", "value": 1}),
    ("runs/log-batch", {"run_id": "RUN", "metrics": [{"key": "k"}]}),
    ("runs/log-batch", {"run_id": "RUN", "metrics": "many"}),
    ("runs/log-batch", {"run_id": "RUN", "metrics": [1, 2]}),
    ("runs/log-batch", {"run_id": "RUN", "params": [{"key": "p", "value": "v" * 7000}]}),
    (
        "runs/log-batch",
        {"run_id": "RUN", "metrics": [{"key": "k", "value": 1, "timestamp": 1}] * 1001},
    ),
    ("runs/log-inputs", {"run_id": "RUN", "datasets": [{"tags": []}]}),
    ("runs/log-inputs", {"run_id": "RUN", "datasets": [{"dataset": {"name": "", "digest": "d"}}]}),
    (
        "runs/log-inputs",
        {"run_id": "RUN", "datasets": [{"dataset": {"name": "a\nb", "digest": "d"}}]},
    ),
    ("runs/log-inputs", {"run_id": "RUN", "datasets": [{"dataset": {"name": "n"}}]}),
    ("runs/log-inputs", {"run_id": "RUN", "datasets": [{"dataset": "iris"}]}),
    ("logged-models", {"experiment_id": "0", "source_run_id": "nope"}),
    ("logged-models", {"experiment_id": "7", "source_run_id": "RUN"}),
    ("logged-models/search", {"experiment_ids": ["0"], "filter": "flavor = 'x'"}),
    ("logged-models/m-123/params", {"params": [{"key": "a", "value": "b"}]}),
    ("runs/outputs", {"run_id": "RUN", "models": [{"model_id": "m-unknown"}]}),
    ("runs/outputs", {"run_id": "RUN", "models": [{"model_id": "../../etc"}]}),
    ("runs/update", {"run_id": "RUN", "status": "ASLEEP"}),
    ("runs/update", {"run_id": "RUN", "end_time": -5}),
    ("runs/search", {"experiment_ids": "0"}),
    ("runs/search", {"experiment_ids": ["0"], "max_results": 10**9}),
    ("runs/search", {"experiment_ids": ["0"], "page_token": "garbage"}),
    ("runs/search", {"experiment_ids": ["99999999999999999999999"]}),
    ("runs/search", {"experiment_ids": ["0"], "run_view_type": "SOME"}),
    ("runs/search", {"experiment_ids": ["0"], "order_by": ["metrics.acc SIDEWAYS"]}),
    ("runs/search", {"experiment_ids": ["0"], "filter": "(" * 5000}),
    ("experiments/search", {"filter": "name ~ 'x'"}),
    ("experiments/search", {"view_type": 7}),
    ("experiments/create", {"name": ""}),
    ("experiments/create", {}),
    ("registered-models/create", {"name": "a/b"}),
    ("model-versions/create", {"name": "m", "source": ""}),
    ("registered-models/alias", {"name": "m", "alias": "latest", "version": "1"}),
    ("registered-models/alias", {"name": "m", "alias": "a", "version": "-1"}),
    ("registered-models/alias", {"name": "m", "alias": "a", "version": [1]}),
]


@pytest.mark.parametrize(("path", "body"), MALFORMED)
async def test_malformed_calls_are_4xx_in_mlflow_shape(
    jp_fetch: Any, path: str, body: Any, store: SQLiteStore
) -> None:
    run_id = store.create_run("0").run_id
    text = json.dumps(body).replace('"RUN"', json.dumps(run_id))
    before = store.get_run(run_id)
    response = await jp_fetch(
        *MLFLOW, *path.split("/"), method="POST", body=text, raise_error=False
    )
    payload = json.loads(response.body)
    assert 400 <= response.code < 500, (response.code, payload)
    assert set(payload) == {"error_code", "message"}
    assert payload["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")
    after = store.get_run(run_id)
    assert (after.data, after.info.status) == (before.data, before.info.status)


@pytest.mark.parametrize(
    "raw", [b"{", b"[1, 2]", b'"text"', b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b"null"]
)
async def test_bodies_that_are_not_json_objects(jp_fetch: Any, raw: bytes) -> None:
    response = await jp_fetch(*MLFLOW, "runs", "create", method="POST", body=raw, raise_error=False)
    assert response.code == 400
    assert json.loads(response.body)["error_code"] == "MALFORMED_REQUEST"


async def test_every_endpoint_answers_an_empty_call_with_a_4xx(jp_fetch: Any) -> None:
    """No endpoint fails (500) on a call without its fields."""
    for endpoint in ENDPOINTS:
        for method in endpoint.methods:
            parts = [p for p in endpoint.path.split("/") if p]
            kwargs: dict[str, Any] = {"method": method, "raise_error": False}
            if method != "GET":
                kwargs["body"] = "{}"
                kwargs["allow_nonstandard_methods"] = True
            response = await jp_fetch("jupyter-track", "mlflow", *parts, **kwargs)
            assert response.code < 500, (endpoint.path, method)
            if response.code >= 400:
                assert set(json.loads(response.body)) == {"error_code", "message"}


# ---------------------------------------------------------------------- the field reader


def test_numbers_and_specials() -> None:
    fields = Fields(
        {"a": "NaN", "b": "-Infinity", "c": 3, "d": "2.5", "e": "12", "f": True, "g": 2**64}
    )
    assert math.isnan(fields.number("a") or 0)
    assert fields.number("b") == -math.inf
    assert fields.number("c") == 3.0 and fields.number("d") == 2.5
    assert fields.integer("e") == 12
    with pytest.raises(MlflowError, match="f: must be a number, got a boolean"):
        fields.number("f")
    with pytest.raises(MlflowError, match=r"g: .* out of range"):
        fields.integer("g")
    for digits in ("³", "١٢", "½"):  # str.isdigit() says yes, int() says no
        with pytest.raises(MlflowError, match="must be an integer"):
            Fields({"n": digits}).integer("n")


def test_query_strings_read_like_json() -> None:
    req = Request.from_query(
        {"experiment_ids": [b"1", b"2"], "max_results": [b"5"], "flag": [b"True"]}, user="u"
    )
    assert req.texts("experiment_ids") == ["1", "2"]
    assert req.integer("max_results") == 5
    assert req.boolean("flag") is True
    with pytest.raises(MlflowError, match="not valid UTF-8"):
        Request.from_query({"x": [b"\xff"]}, user="u")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["key", "value", "step", "timestamp", "x"]), json_values))
def test_field_reader_accepts_or_refuses_cleanly(values: dict[str, Any]) -> None:
    """Whatever JSON arrives, a getter returns a value of its type or raises MlflowError."""
    fields = Fields(values)
    checks = [
        (lambda: fields.text("key"), (str, type(None))),
        (lambda: fields.integer("step"), (int, type(None))),
        (lambda: fields.number("value"), (float, type(None))),
        (lambda: fields.texts("x"), (list,)),
        (lambda: fields.messages("x", max_items=10), (list,)),
        (lambda: fields.boolean("x"), (bool,)),
    ]
    for getter, kinds in checks:
        try:
            result = getter()
        except MlflowError as exc:
            assert exc.status == 400 and exc.message
            continue
        assert isinstance(result, kinds)
        if isinstance(result, int) and not isinstance(result, bool):
            assert -(2**63) <= result <= INT64_MAX


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_json_bodies_parse_or_refuse(raw: bytes) -> None:
    try:
        req = Request.from_json(raw, user="u")
    except MlflowError as exc:
        assert exc.error_code == "MALFORMED_REQUEST" and exc.status == 400
    else:
        assert isinstance(req, Request)


def test_answers_are_checked_against_the_documented_schemas() -> None:
    """The schema check used above rejects an answer that breaks docs/openapi.yaml."""
    check_documented(
        "/api/2.0/mlflow/runs/get", "GET", 200, {"run": {"info": {"status": "KILLED"}}}
    )
    with pytest.raises(AssertionError):
        check_documented(
            "/api/2.0/mlflow/runs/get", "GET", 200, {"run": {"info": {"status": "ASLEEP"}}}
        )
    with pytest.raises(AssertionError):
        check_documented("/api/2.0/mlflow/runs/get", "GET", 404, {"error": "not_found"})
