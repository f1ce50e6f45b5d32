"""The table of MLflow endpoints this package serves: path, methods, function, read or write.

Paths are relative to the tracking URI (``{base_url}jupyter-track/mlflow`` on a Jupyter
server). The same table is served by the Jupyter server extension and (later) the team service;
``docs/openapi.yaml`` documents every path, and a test checks they agree. The artifact proxy's
file routes (``/api/2.0/mlflow-artifacts/artifacts/<path>``: GET a file, PUT a file) stream
bodies and are served by the web layer itself; listing (``?path=``) is in this table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..store import SQLiteStore
from . import logged_models as lm
from . import registry as reg
from . import tracking as trk
from .artifacts import list_proxy
from .errors import MlflowError, invalid
from .messages import Request

Call = Callable[[SQLiteStore, Request], dict[str, Any]]

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


@dataclass(frozen=True)
class Endpoint:
    """One path of the protocol: ``call(store, request)`` for each method; ``writes`` says
    whether it runs on the writable store (one writer thread) or the read-only one."""

    path: str
    methods: tuple[str, ...]
    call: Call
    writes: bool


def _r(path: str, call: Call, *methods: str) -> Endpoint:
    return Endpoint(path, methods or ("GET",), call, False)


def _w(path: str, call: Call, *methods: str) -> Endpoint:
    return Endpoint(path, methods or ("POST",), call, True)


#: MLflow endpoints its client calls that jupyter-track does not serve: ENDPOINT_NOT_FOUND
#: (404, as from an MLflow server without them) with the reason and what to do instead.
NOT_SERVED: dict[str, str] = {
    f"{API}/model-versions/transition-stage": "model stages (deprecated by MLflow): use aliases",
}

ENDPOINTS: list[Endpoint] = [
    # experiments
    _w(f"{API}/experiments/create", trk.create_experiment),
    _r(f"{API}/experiments/get", trk.get_experiment),
    _r(f"{API}/experiments/get-by-name", trk.get_experiment_by_name),
    _r(f"{API}/experiments/search", trk.search_experiments, "GET", "POST"),
    _w(f"{API}/experiments/delete", trk.delete_experiment),
    _w(f"{API}/experiments/restore", trk.restore_experiment),
    _w(f"{API}/experiments/update", trk.update_experiment),
    _w(f"{API}/experiments/set-experiment-tag", trk.set_experiment_tag),
    _w(f"{API}/experiments/delete-experiment-tag", trk.delete_experiment_tag),
    # runs
    _w(f"{API}/runs/create", trk.create_run),
    _w(f"{API}/runs/update", trk.update_run),
    _w(f"{API}/runs/delete", trk.delete_run),
    _w(f"{API}/runs/restore", trk.restore_run),
    _r(f"{API}/runs/get", trk.get_run),
    _r(f"{API}/runs/search", trk.search_runs, "GET", "POST"),
    _w(f"{API}/runs/log-metric", trk.log_metric),
    _w(f"{API}/runs/log-parameter", trk.log_param),
    _w(f"{API}/runs/set-tag", trk.set_tag),
    _w(f"{API}/runs/delete-tag", trk.delete_tag),
    _w(f"{API}/runs/log-batch", trk.log_batch),
    _w(f"{API}/runs/log-inputs", trk.log_inputs),
    _r(f"{API}/metrics/get-history", trk.get_metric_history),
    _r(f"{API}/artifacts/list", trk.list_artifacts),
    # MLflow 3 logged models (kept in their source runs: logged_models.py)
    _w(f"{API}/logged-models", lm.create),
    _r(f"{API}/logged-models/search", lm.search, "POST"),
    _r(f"{API}/logged-models/{{model_id}}", lm.get),
    _w(f"{API}/logged-models/{{model_id}}", lm.finalize, "PATCH"),
    _w(f"{API}/logged-models/{{model_id}}", lm.delete, "DELETE"),
    _w(f"{API}/logged-models/{{model_id}}/tags", lm.set_tags, "PATCH"),
    _w(f"{API}/logged-models/{{model_id}}/tags/{{tag_key}}", lm.delete_tag, "DELETE"),
    _w(f"{API}/logged-models/{{model_id}}/params", lm.log_params),
    _r(f"{API}/logged-models/{{model_id}}/artifacts/directories", lm.list_artifacts),
    _w(f"{API}/runs/outputs", lm.log_outputs),
    # registry
    _w(f"{API}/registered-models/create", reg.create_registered_model),
    _w(f"{API}/registered-models/rename", reg.rename_registered_model),
    _w(f"{API}/registered-models/update", reg.update_registered_model, "PATCH"),
    _w(f"{API}/registered-models/delete", reg.delete_registered_model, "DELETE"),
    _r(f"{API}/registered-models/get", reg.get_registered_model),
    _r(f"{API}/registered-models/search", reg.search_registered_models),
    _r(f"{API}/registered-models/get-latest-versions", reg.get_latest_versions, "GET", "POST"),
    _w(f"{API}/registered-models/set-tag", reg.set_registered_model_tag),
    _w(f"{API}/registered-models/delete-tag", reg.delete_registered_model_tag, "DELETE"),
    _w(f"{API}/model-versions/create", reg.create_model_version),
    _w(f"{API}/model-versions/update", reg.update_model_version, "PATCH"),
    _w(f"{API}/model-versions/delete", reg.delete_model_version, "DELETE"),
    _r(f"{API}/model-versions/get", reg.get_model_version),
    _r(f"{API}/model-versions/search", reg.search_model_versions),
    _r(f"{API}/model-versions/get-download-uri", reg.get_model_version_download_uri),
    _w(f"{API}/model-versions/set-tag", reg.set_model_version_tag),
    _w(f"{API}/model-versions/delete-tag", reg.delete_model_version_tag, "DELETE"),
    # aliases: one path, three methods (each its own endpoint entry)
    _w(f"{API}/registered-models/alias", reg.set_alias, "POST"),
    _w(f"{API}/registered-models/alias", reg.delete_alias, "DELETE"),
    _r(f"{API}/registered-models/alias", reg.get_version_by_alias, "GET"),
    # artifact proxy listing, server capabilities
    _r(ARTIFACTS, list_proxy),
    _r("/api/3.0/mlflow/server-info", trk.server_info),
]

_BY_PATH: dict[str, dict[str, Endpoint]] = {}
for _endpoint in ENDPOINTS:
    for _method in _endpoint.methods:
        _BY_PATH.setdefault(_endpoint.path, {})[_method] = _endpoint
#: templated paths (``{model_id}``): their pattern, tried after the exact paths
_TEMPLATES = [
    (re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"), path)
    for path in _BY_PATH
    if "{" in path
]


def paths() -> dict[str, dict[str, Endpoint]]:
    """path -> method -> endpoint."""
    return _BY_PATH


def find(path: str, method: str) -> tuple[Endpoint, dict[str, str]]:
    """The endpoint for ``method path``: ``ENDPOINT_NOT_FOUND`` (404) for an unknown path or
    one of :data:`NOT_SERVED` (with the reason), 405 for a known path asked with another
    method."""
    key = "/" + path.strip("/")
    by_method = _BY_PATH.get(key)
    params: dict[str, str] = {}
    if by_method is None:
        for pattern, template in _TEMPLATES:
            m = pattern.match(key)
            if m is not None:
                by_method, params = _BY_PATH[template], m.groupdict()
                break
    if key in NOT_SERVED:
        raise MlflowError(
            "ENDPOINT_NOT_FOUND", f"jupyter-track does not serve MLflow's {NOT_SERVED[key]}"
        )
    if by_method is None:
        raise MlflowError(
            "ENDPOINT_NOT_FOUND", f"jupyter-track does not serve the MLflow endpoint {path!r}"
        )
    endpoint = by_method.get(method.upper())
    if endpoint is None:
        allowed = ", ".join(sorted(by_method))
        raise MlflowError(
            "ENDPOINT_NOT_FOUND",
            f"{path}: method {method} is not allowed (use {allowed})",
            status=405,
        )
    return endpoint, params


def answer(endpoint: Endpoint, store: SQLiteStore, request: Request) -> dict[str, Any]:
    """Run one call. A request too deeply nested to read (a filter of thousands of
    parentheses) is ``INVALID_PARAMETER_VALUE``, not a server failure."""
    try:
        return endpoint.call(store, request)
    except RecursionError:
        raise invalid("the request is nested too deeply to read (filter or body)") from None
