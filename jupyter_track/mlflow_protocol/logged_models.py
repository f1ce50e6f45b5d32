"""MLflow 3's logged models (``mlflow.<flavor>.log_model`` against a server), kept in runs.

MLflow 3 gives a logged model its own id (``m-<hex>``) and artifact location. jupyter-track
keeps its files where MLflow 2 and jupyter-track keep models, in its source run's artifacts:
under the model's name (``<run artifacts>/clf``), or ``models/<model_id>`` when the run already
has a folder of that name. Its record (name, folder, status, type, times, tags, params beyond
the run's) is the run tag ``jt.logged_model.<model_id>`` (JSON), so a run shows its models and
``models:/<model_id>`` resolves. The model's ``artifact_uri`` points at that folder through the
artifact proxy, so MLflow's client uploads and downloads its files as usual; a model version
registered from it records the run and the folder. A logged model needs a source run here.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from ..store import SQLiteStore
from ..store.artifacts import safe_relative_path
from ..store.errors import InvalidInput, NotFound
from ..store.validation import MAX_KEY_LENGTH, MAX_TAG_VALUE_LENGTH
from . import convert
from .errors import invalid
from .messages import Fields, Request
from .tracking import _check_tag, _experiment_id

TAG_PREFIX = "jt.logged_model."
STATUSES = {
    "LOGGED_MODEL_STATUS_UNSPECIFIED": 0,
    "LOGGED_MODEL_PENDING": 1,
    "LOGGED_MODEL_READY": 2,
    "LOGGED_MODEL_UPLOAD_FAILED": 3,
}
STATUS_NAMES = {number: name for name, number in STATUSES.items()}
MAX_SEARCH = 1000

Answer = dict[str, Any]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _model_id(req: Fields) -> str:
    model_id = req.required_text("model_id", max_length=100)
    if not (model_id.startswith("m-") and model_id[2:].isascii() and model_id[2:].isalnum()):
        raise NotFound(f"logged model {model_id!r} does not exist")
    return model_id


def locate(store: SQLiteStore, model_id: str) -> tuple[str, dict[str, Any]]:
    """(run id, record) of a logged model; ``NotFound`` when there is none."""
    page = store.search_runs(
        None,
        f"tags.`{TAG_PREFIX}{model_id}` IS NOT NULL",
        run_view_type=3,
        max_results=1,
    )
    if not page.runs:
        raise NotFound(f"logged model {model_id!r} does not exist")
    run = page.runs[0]
    return run.info.run_id, json.loads(run.data.tags[f"{TAG_PREFIX}{model_id}"])


def _save(store: SQLiteStore, run_id: str, model_id: str, record: dict[str, Any]) -> None:
    record["updated"] = _now_ms()
    text = json.dumps(record, separators=(",", ":"))
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise invalid(
            f"logged model {model_id}: its tags and params take {len(text)} characters, the "
            f"limit is {MAX_TAG_VALUE_LENGTH}"
        )
    store.set_tags(run_id, {f"{TAG_PREFIX}{model_id}": text})


def model_json(store: SQLiteStore, run_id: str, model_id: str, record: dict[str, Any]) -> Answer:
    """MLflow's ``LoggedModel``."""
    run = store.get_run(run_id)
    params = {**run.data.params, **record.get("params", {})}
    info = {
        "model_id": model_id,
        "experiment_id": run.info.experiment_id,
        "name": record["name"],
        "creation_timestamp_ms": record.get("created"),
        "last_updated_timestamp_ms": record.get("updated"),
        "artifact_uri": f"{convert.run_artifact_uri(run.info.experiment_id, run_id)}/"
        f"{record['path']}",
        "status": record.get("status", "LOGGED_MODEL_PENDING"),
        "model_type": record.get("model_type") or "",
        "source_run_id": run_id,
        "tags": [{"key": k, "value": v} for k, v in record.get("tags", {}).items()],
    }
    data = {"params": [{"key": k, "value": v} for k, v in params.items()]}
    return {"info": info, "data": data}


def _folder(store: SQLiteStore, run_id: str, name: str, model_id: str) -> str:
    """The model's folder in the run's artifacts: its name, unless taken or not a plain name."""
    taken = set()
    for tag_run, _key, value in store.tags_with_prefix(TAG_PREFIX):
        if tag_run == run_id:
            taken.add(json.loads(value).get("path"))
    try:
        rel = str(safe_relative_path(name))
    except InvalidInput:
        rel = ""
    if (
        rel
        and "/" not in rel
        and rel not in taken
        and not store.artifact_path(run_id, rel).exists()
    ):
        return rel
    return f"models/{model_id}"


def create(store: SQLiteStore, req: Request) -> Answer:
    """``POST logged-models``: a PENDING model whose files go into its source run."""
    experiment_id = _experiment_id(req)
    run_id = req.text("source_run_id", max_length=256)
    if not run_id:
        raise invalid(
            "source_run_id: jupyter-track keeps logged models in runs; log the model inside "
            "mlflow.start_run()"
        )
    info = store.get_run(run_id).info
    if info.experiment_id != experiment_id:
        raise invalid(f"source_run_id: run {run_id} is in experiment {info.experiment_id}")
    name = req.text("name", max_length=200) or "model"
    tags = req.key_values("tags", max_items=100)
    for key, value in tags.items():
        _check_tag(key, value)
    run_params = store.get_run(run_id).data.params
    params = {
        k: v for k, v in req.key_values("params", max_items=1000).items() if run_params.get(k) != v
    }
    model_id = f"m-{uuid.uuid4().hex}"
    record = {
        "name": name,
        "path": _folder(store, run_id, name, model_id),
        "status": "LOGGED_MODEL_PENDING",
        "model_type": req.text("model_type", max_length=200) or "",
        "created": _now_ms(),
        "tags": tags,
        "params": params,
    }
    _save(store, run_id, model_id, record)
    return {"model": model_json(store, run_id, model_id, record)}


def get(store: SQLiteStore, req: Request) -> Answer:
    """``GET logged-models/{model_id}``."""
    model_id = _model_id(req)
    run_id, record = locate(store, model_id)
    return {"model": model_json(store, run_id, model_id, record)}


def finalize(store: SQLiteStore, req: Request) -> Answer:
    """``PATCH logged-models/{model_id}``: its status (READY once its files are uploaded)."""
    model_id = _model_id(req)
    status = req.enum("status", STATUSES, default=2)
    run_id, record = locate(store, model_id)
    record["status"] = STATUS_NAMES[status]
    _save(store, run_id, model_id, record)
    return {"model": model_json(store, run_id, model_id, record)}


def set_tags(store: SQLiteStore, req: Request) -> Answer:
    """``PATCH logged-models/{model_id}/tags``."""
    model_id = _model_id(req)
    tags = req.key_values("tags", max_items=100)
    for key, value in tags.items():
        _check_tag(key, value)
    run_id, record = locate(store, model_id)
    record.setdefault("tags", {}).update(tags)
    _save(store, run_id, model_id, record)
    return {}


def delete_tag(store: SQLiteStore, req: Request) -> Answer:
    """``DELETE logged-models/{model_id}/tags/{tag_key}``."""
    model_id = _model_id(req)
    key = req.required_text("tag_key", max_length=MAX_KEY_LENGTH)
    run_id, record = locate(store, model_id)
    if key not in record.get("tags", {}):
        raise NotFound(f"tag {key!r} is not set on logged model {model_id}")
    del record["tags"][key]
    _save(store, run_id, model_id, record)
    return {}


def log_params(store: SQLiteStore, req: Request) -> Answer:
    """``POST logged-models/{model_id}/params``."""
    model_id = _model_id(req)
    params = req.key_values("params", max_items=1000)
    run_id, record = locate(store, model_id)
    record.setdefault("params", {}).update(params)
    _save(store, run_id, model_id, record)
    return {}


def delete(store: SQLiteStore, req: Request) -> Answer:
    """``DELETE logged-models/{model_id}``: forgets the model (its files stay in the run)."""
    model_id = _model_id(req)
    run_id, _ = locate(store, model_id)
    store.delete_tag(run_id, f"{TAG_PREFIX}{model_id}")
    return {}


def search(store: SQLiteStore, req: Request) -> Answer:
    """``POST logged-models/search``: in some experiments, filtered on ``name``,
    ``source_run_id``, ``model_id`` or ``status`` (the filter language of the store)."""
    from ..store import search as grammar

    experiment_ids = req.texts("experiment_ids", max_items=1000)
    for i, experiment_id in enumerate(experiment_ids):
        _experiment_id(Fields({"experiment_id": experiment_id}, where=f"experiment_ids[{i}]"))
    try:
        tree = grammar.parse_filter(req.text("filter"), grammar.LOGGED_MODELS)
    except InvalidInput as exc:
        raise invalid(f"filter: {exc}") from None
    limit = req.integer("max_results", default=100, lo=1, hi=MAX_SEARCH) or 100
    found = []
    for run_id, key, value in store.tags_with_prefix(TAG_PREFIX, experiment_ids or None):
        model_id = key[len(TAG_PREFIX) :]
        try:
            record = json.loads(value)
        except ValueError:
            continue
        values = {
            "name": record.get("name"),
            "source_run_id": run_id,
            "model_id": model_id,
            "status": record.get("status"),
        }
        if grammar.evaluate(tree, {"attributes": values}, grammar.LOGGED_MODELS):
            found.append(model_json(store, run_id, model_id, record))
    return {"models": found[:limit]}


def list_artifacts(store: SQLiteStore, req: Request) -> Answer:
    """``GET logged-models/{model_id}/artifacts/directories``: a folder's children."""
    model_id = _model_id(req)
    path = req.text("artifact_directory_path", max_length=4096) or ""
    run_id, record = locate(store, model_id)
    base = record["path"]
    try:
        items = store.list_artifacts(run_id, f"{base}/{path}".rstrip("/"))
    except NotFound:
        items = []
    files = []
    for item in items:
        rel = item.path[len(base) + 1 :] if item.path.startswith(base + "/") else item.path
        if path and rel == path.strip("/") and not item.is_dir:
            continue
        entry: dict[str, Any] = {"path": rel, "is_dir": item.is_dir}
        if item.size is not None:
            entry["file_size"] = item.size
        files.append(entry)
    info = store.get_run(run_id).info
    root = f"{convert.run_artifact_uri(info.experiment_id, run_id)}/{base}"
    return {"root_uri": root, "files": files}


def log_outputs(store: SQLiteStore, req: Request) -> Answer:
    """``POST runs/outputs``: links a run to the models it produced (here a logged model
    already belongs to its source run; another run's link is refused)."""
    run_id = req.required_text("run_id", max_length=256)
    store.run_handle(run_id)
    for item in req.messages("models", max_items=100):
        model_id = _model_id(item)
        source_run, _ = locate(store, model_id)
        if source_run != run_id:
            raise invalid(
                f"models: logged model {model_id} belongs to run {source_run}; jupyter-track "
                "keeps a model in the run that logged it"
            )
    return {}
