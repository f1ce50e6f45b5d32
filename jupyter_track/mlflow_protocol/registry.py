"""MLflow's model registry calls (registered models, versions, tags, aliases) over the store.

Every change is attributed to the authenticated user and lands in the registry's audit trail as
verified, exactly like a change made from the sidebar. Version numbers travel as text, as in
MLflow's protocol. A version whose ``source`` points inside a run's artifacts
(``runs:/<run_id>/<path>`` or ``mlflow-artifacts:/<exp>/<run_id>/artifacts/<path>``) also
records that folder, so ``jt.load_model("models:/<name>/<version>")`` finds it.
"""

from __future__ import annotations

import re
from typing import Any

from ..store import SQLiteStore
from ..store.errors import InvalidInput, NotFound
from ..store.registry import check_version
from ..store.validation import MAX_DESCRIPTION_LENGTH, MAX_KEY_LENGTH
from . import convert, logged_models
from .errors import invalid
from .messages import Fields, Request
from .tracking import _check_tag

MAX_MODEL_RESULTS = 1000
MAX_VERSION_RESULTS = 200_000

Answer = dict[str, Any]

_RUN_SOURCE = re.compile(
    r"^(?:runs:/(?P<run>[0-9A-Za-z]+)/(?P<path>.+)"
    r"|mlflow-artifacts:(?://[^/]*)?/+\d+/(?P<run2>[0-9A-Za-z]+)/artifacts/(?P<path2>.+))$"
)


def logged_model_id(source: str) -> str | None:
    """``models:/m-<hex>`` (an MLflow 3 logged model, not ``models:/<name>/<version>``)."""
    rest = source[len("models:/") :] if source.startswith("models:/m-") else ""
    return rest if rest and "/" not in rest and "@" not in rest else None


def run_model_path(source: str) -> tuple[str, str] | None:
    """(run id, artifact path) when ``source`` names a folder in a run's artifacts."""
    m = _RUN_SOURCE.match(source)
    if m is None:
        return None
    run_id = m.group("run") or m.group("run2")
    path = (m.group("path") or m.group("path2") or "").strip("/")
    return (run_id, path) if path else None


def _name(req: Fields, field: str = "name") -> str:
    return req.required_text(field, max_length=1000)


def _version(req: Fields) -> int:
    raw = req.raw("version")
    if raw is None:
        raise invalid("version: missing (a version number is required)")
    if isinstance(raw, str):
        req.text("version", max_length=40)  # text checks (length, UTF-8)
    try:
        return check_version(raw)
    except InvalidInput as exc:
        raise invalid(f"version: {exc}") from None


def _description(req: Fields) -> str | None:
    return req.text("description", max_length=MAX_DESCRIPTION_LENGTH)


def _tags(req: Fields) -> dict[str, str]:
    tags = req.key_values("tags", max_items=100)
    for key, value in tags.items():
        _check_tag(key, value)
    return tags


def _who(req: Request) -> dict[str, Any]:
    return {"actor": req.user, "verified": req.verified}


# ---------------------------------------------------------------------- registered models


def create_registered_model(store: SQLiteStore, req: Request) -> Answer:
    """``registered-models/create`` (``RESOURCE_ALREADY_EXISTS`` when the name is taken)."""
    model = store.create_registered_model(_name(req), _tags(req), _description(req), **_who(req))
    return {"registered_model": convert.registered_model(model)}


def rename_registered_model(store: SQLiteStore, req: Request) -> Answer:
    """``registered-models/rename``."""
    model = store.rename_registered_model(_name(req), _name(req, "new_name"), **_who(req))
    return {"registered_model": convert.registered_model(model)}


def update_registered_model(store: SQLiteStore, req: Request) -> Answer:
    """``registered-models/update``: the description."""
    name = _name(req)
    if req.has("description"):
        model = store.update_registered_model(name, _description(req), **_who(req))
    else:
        model = store.get_registered_model(name)
    return {"registered_model": convert.registered_model(model)}


def delete_registered_model(store: SQLiteStore, req: Request) -> Answer:
    """``registered-models/delete``: with its versions and aliases (the audit rows stay)."""
    store.delete_registered_model(_name(req), **_who(req))
    return {}


def get_registered_model(store: SQLiteStore, req: Request) -> Answer:
    """``registered-models/get``."""
    return {"registered_model": convert.registered_model(store.get_registered_model(_name(req)))}


def search_registered_models(store: SQLiteStore, req: Request) -> Answer:
    """``registered-models/search``."""
    found = store.search_registered_models(
        req.text("filter"),
        max_results=req.integer("max_results", default=100, lo=1, hi=MAX_MODEL_RESULTS) or 1,
        order_by=req.texts("order_by", max_items=20) or None,
        page_token=req.text("page_token", max_length=500),
    )
    answer: Answer = {"registered_models": [convert.registered_model(m) for m in found]}
    if found.token:
        answer["next_page_token"] = found.token
    return answer


def get_latest_versions(store: SQLiteStore, req: Request) -> Answer:
    """``registered-models/get-latest-versions``: jupyter-track has no stages (every version is
    in stage ``None``), so this is the newest version, unless other stages are asked for."""
    name = _name(req)
    stages = [s.lower() for s in req.texts("stages", max_items=10)]
    store.get_registered_model(name)
    if stages and "none" not in stages:
        return {"model_versions": []}
    try:
        latest = [store.get_latest_model_version(name)]
    except NotFound:
        latest = []
    return {"model_versions": [convert.model_version(v) for v in latest]}


def set_registered_model_tag(store: SQLiteStore, req: Request) -> Answer:
    """``registered-models/set-tag``."""
    key = req.required_text("key", max_length=MAX_KEY_LENGTH)
    value = req.text("value", default="") or ""
    _check_tag(key, value)
    store.set_registered_model_tag(_name(req), key, value, **_who(req))
    return {}


def delete_registered_model_tag(store: SQLiteStore, req: Request) -> Answer:
    """``registered-models/delete-tag``."""
    store.delete_registered_model_tag(_name(req), req.required_text("key"), **_who(req))
    return {}


# ------------------------------------------------------------------------------ versions


def create_model_version(store: SQLiteStore, req: Request) -> Answer:
    """``model-versions/create``: any source string is accepted, as in MLflow."""
    name = _name(req)
    source = req.required_text("source", max_length=4096)
    run_id = req.text("run_id", max_length=256) or None
    artifact_path = None
    model_id = req.text("model_id", max_length=100) or logged_model_id(source)
    located = run_model_path(source)
    if model_id:  # MLflow 3: a logged model, kept in its source run
        try:
            run_id, record = logged_models.locate(store, model_id)
            artifact_path = record["path"]
        except NotFound:
            pass
    elif located is not None and (run_id is None or run_id == located[0]):
        run_id, artifact_path = located
        try:
            store.run_handle(run_id)
        except NotFound:
            run_id, artifact_path = req.text("run_id") or None, None
    mv = store.create_model_version(
        name,
        source,
        run_id,
        _tags(req),
        _description(req),
        artifact_path=artifact_path,
        **_who(req),
    )
    return {"model_version": convert.model_version(mv)}


def update_model_version(store: SQLiteStore, req: Request) -> Answer:
    """``model-versions/update``: the description."""
    name, version = _name(req), _version(req)
    if req.has("description"):
        mv = store.update_model_version(name, version, _description(req), **_who(req))
    else:
        mv = store.get_model_version(name, version)
    return {"model_version": convert.model_version(mv)}


def delete_model_version(store: SQLiteStore, req: Request) -> Answer:
    """``model-versions/delete`` (and the aliases pointing at it)."""
    store.delete_model_version(_name(req), _version(req), **_who(req))
    return {}


def get_model_version(store: SQLiteStore, req: Request) -> Answer:
    """``model-versions/get``."""
    return {
        "model_version": convert.model_version(store.get_model_version(_name(req), _version(req)))
    }


def search_model_versions(store: SQLiteStore, req: Request) -> Answer:
    """``model-versions/search``."""
    found = store.search_model_versions(
        req.text("filter"),
        max_results=req.integer("max_results", default=10_000, lo=1, hi=MAX_VERSION_RESULTS) or 1,
        order_by=req.texts("order_by", max_items=20) or None,
        page_token=req.text("page_token", max_length=500),
    )
    answer: Answer = {"model_versions": [convert.model_version(v) for v in found]}
    if found.token:
        answer["next_page_token"] = found.token
    return answer


def get_model_version_download_uri(store: SQLiteStore, req: Request) -> Answer:
    """``model-versions/get-download-uri``: the version's source, or for a version of an
    MLflow 3 logged model its folder through the artifact proxy (as MLflow answers)."""
    mv = store.get_model_version(_name(req), _version(req))
    if logged_model_id(mv.source) and mv.run_id and mv.artifact_path:
        info = store.get_run(mv.run_id).info
        root = convert.run_artifact_uri(info.experiment_id, mv.run_id)
        return {"artifact_uri": f"{root}/{mv.artifact_path}"}
    return {"artifact_uri": mv.source}


def set_model_version_tag(store: SQLiteStore, req: Request) -> Answer:
    """``model-versions/set-tag``."""
    key = req.required_text("key", max_length=MAX_KEY_LENGTH)
    value = req.text("value", default="") or ""
    _check_tag(key, value)
    store.set_model_version_tag(_name(req), _version(req), key, value, **_who(req))
    return {}


def delete_model_version_tag(store: SQLiteStore, req: Request) -> Answer:
    """``model-versions/delete-tag``."""
    store.delete_model_version_tag(_name(req), _version(req), req.required_text("key"), **_who(req))
    return {}


# ------------------------------------------------------------------------------- aliases


def set_alias(store: SQLiteStore, req: Request) -> Answer:
    """``registered-models/alias`` (POST): point the alias at a version (audited)."""
    store.set_registered_model_alias(
        _name(req), req.required_text("alias", max_length=300), _version(req), **_who(req)
    )
    return {}


def delete_alias(store: SQLiteStore, req: Request) -> Answer:
    """``registered-models/alias`` (DELETE)."""
    store.delete_registered_model_alias(
        _name(req), req.required_text("alias", max_length=300), **_who(req)
    )
    return {}


def get_version_by_alias(store: SQLiteStore, req: Request) -> Answer:
    """``registered-models/alias`` (GET): the version the alias points to."""
    mv = store.get_model_version_by_alias(_name(req), req.required_text("alias", max_length=300))
    return {"model_version": convert.model_version(mv)}
