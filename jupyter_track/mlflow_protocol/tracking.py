"""MLflow's tracking calls (experiments, runs, metrics) over the store.

Each function takes the store and the call's :class:`~.messages.Request` and returns the JSON
answer (a dict). Functions never touch HTTP: the Jupyter server extension and the team service
run them in their store threads. Runs created here are attributed to the authenticated user
(``user_id`` and the ``mlflow.user`` tag), never to the name a client sends.
"""

from __future__ import annotations

import time
from typing import Any

from ..lineage.inputs import entity_record, record_inputs, with_details
from ..store import SQLiteStore
from ..store.entities import Dataset, DatasetInput, InputTag, LifecycleStage, RunStatus, ViewType
from ..store.errors import InvalidInput, NotFound
from ..store.names import random_run_name
from ..store.runs import decode_page_token, encode_page_token
from ..store.validation import MAX_KEY_LENGTH, MAX_TAG_VALUE_LENGTH, check_key
from . import convert
from .errors import invalid
from .messages import INT64_MAX, Fields, Request, is_digits

DEFAULT_EXPERIMENT_ID = "0"
MAX_SEARCH_RESULTS = 50_000
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_TOTAL = 1000
MAX_HISTORY_PAGE = 100_000
VIEW_TYPES = {
    "ACTIVE_ONLY": ViewType.ACTIVE_ONLY,
    "DELETED_ONLY": ViewType.DELETED_ONLY,
    "ALL": ViewType.ALL,
}
RUN_STATUSES = {name: i for i, name in enumerate(RunStatus.ALL, start=1)}

Answer = dict[str, Any]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _run_id(req: Fields) -> str:
    return req.required_text("run_id", "run_uuid", max_length=256)


def _experiment_id(req: Fields, *, default: str | None = None) -> str:
    """An experiment id: text of a non-negative int64 (others cannot exist: 404)."""
    value = req.text("experiment_id", max_length=32) or default
    if value is None:
        raise invalid("experiment_id: missing (a string is required)")
    if not (is_digits(value) and int(value) <= INT64_MAX):
        raise NotFound(f"experiment {value!r} does not exist")
    return value


# --------------------------------------------------------------------------- experiments


def create_experiment(store: SQLiteStore, req: Request) -> Answer:
    """``experiments/create``: ``artifact_location`` is kept as information; artifacts always
    go to the store's own folder through the proxy."""
    name = req.required_text("name", max_length=500)
    tags = _experiment_tags(req)
    location = req.text("artifact_location", max_length=2000) or None
    return {"experiment_id": store.create_experiment(name, location, tags)}


def _experiment_tags(req: Fields) -> dict[str, str]:
    tags = req.key_values("tags", max_items=MAX_BATCH_TAGS)
    for key, value in tags.items():
        _check_tag(key, value)
    return tags


def _check_tag(key: str, value: str) -> None:
    check_key(key, "tag")
    if len(value) > MAX_TAG_VALUE_LENGTH:
        raise invalid(f"tag {key!r}: value is {len(value)} characters long, the limit is 8000")


def get_experiment(store: SQLiteStore, req: Request) -> Answer:
    """``experiments/get``."""
    return {"experiment": convert.experiment(store.get_experiment(_experiment_id(req)))}


def get_experiment_by_name(store: SQLiteStore, req: Request) -> Answer:
    """``experiments/get-by-name``: ``RESOURCE_DOES_NOT_EXIST`` when there is none (which
    ``mlflow.set_experiment`` answers by creating it)."""
    name = req.required_text("experiment_name", max_length=500)
    found = store.get_experiment_by_name(name)
    if found is None:
        raise NotFound(f"Could not find experiment with name {name!r}")
    return {"experiment": convert.experiment(found)}


def search_experiments(store: SQLiteStore, req: Request) -> Answer:
    """``experiments/search``: filter on ``name``, times and ``tags.<key>``, newest first."""
    experiments, token = store.search_experiments_page(
        req.text("filter"),
        view_type=req.enum("view_type", VIEW_TYPES, default=ViewType.ACTIVE_ONLY),
        max_results=req.integer("max_results", default=1000, lo=1, hi=MAX_SEARCH_RESULTS) or 1,
        order_by=req.texts("order_by", max_items=20),
        page_token=req.text("page_token", max_length=500),
    )
    answer: Answer = {"experiments": [convert.experiment(e) for e in experiments]}
    if token:
        answer["next_page_token"] = token
    return answer


def delete_experiment(store: SQLiteStore, req: Request) -> Answer:
    """``experiments/delete`` (soft; the Default experiment cannot be deleted, as in MLflow)."""
    experiment_id = _experiment_id(req)
    if experiment_id == DEFAULT_EXPERIMENT_ID:
        raise invalid("experiment_id: the Default experiment (0) cannot be deleted")
    store.set_experiment_lifecycle(experiment_id, LifecycleStage.DELETED)
    return {}


def restore_experiment(store: SQLiteStore, req: Request) -> Answer:
    """``experiments/restore``."""
    store.set_experiment_lifecycle(_experiment_id(req), LifecycleStage.ACTIVE)
    return {}


def update_experiment(store: SQLiteStore, req: Request) -> Answer:
    """``experiments/update``: renames it."""
    experiment_id = _experiment_id(req)
    new_name = req.text("new_name", max_length=500)
    if new_name:
        store.rename_experiment(experiment_id, new_name)
    return {}


def set_experiment_tag(store: SQLiteStore, req: Request) -> Answer:
    """``experiments/set-experiment-tag``."""
    experiment_id = _experiment_id(req)
    key = req.required_text("key", max_length=MAX_KEY_LENGTH)
    value = req.text("value", default="") or ""
    _check_tag(key, value)
    store.set_experiment_tag(experiment_id, key, value)
    return {}


def delete_experiment_tag(store: SQLiteStore, req: Request) -> Answer:
    """``experiments/delete-experiment-tag``."""
    store.delete_experiment_tag(_experiment_id(req), req.required_text("key"))
    return {}


# ---------------------------------------------------------------------------------- runs


def create_run(store: SQLiteStore, req: Request) -> Answer:
    """``runs/create``: a RUNNING run; ``mlflow.parentRunId`` among the tags makes it a child."""
    experiment_id = _experiment_id(req, default=DEFAULT_EXPERIMENT_ID)
    experiment = store.get_experiment(experiment_id)
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise invalid(f"experiment_id: experiment {experiment_id} is deleted; restore it first")
    tags = _experiment_tags(req)
    name = req.text("run_name", max_length=500) or tags.get("mlflow.runName") or random_run_name()
    tags["mlflow.runName"] = name
    tags["mlflow.user"] = req.user
    parent = tags.pop("mlflow.parentRunId", None) or None
    start = req.integer("start_time", lo=0) or _now_ms()
    info = store.create_run(
        experiment_id,
        run_name=name,
        user_id=req.user,
        start_time=start,
        tags=tags,
        parent_run_id=parent,
    )
    return {"run": convert.run(store.get_run(info.run_id))}


def update_run(store: SQLiteStore, req: Request) -> Answer:
    """``runs/update``: status, end time and name."""
    run_id = _run_id(req)
    status = None
    if req.has("status"):
        number = req.enum("status", RUN_STATUSES, default=0)
        status = RunStatus.ALL[number - 1]
    name = req.text("run_name", max_length=500)
    store.update_run(run_id, status=status, end_time=req.integer("end_time", lo=0), run_name=name)
    if name:
        store.set_tags(run_id, {"mlflow.runName": name})
    return {"run_info": convert.run_info(store.get_run(run_id).info)}


def delete_run(store: SQLiteStore, req: Request) -> Answer:
    """``runs/delete`` (soft: ``jupyter-track gc`` purges it later)."""
    store.delete_run(_run_id(req))
    return {}


def restore_run(store: SQLiteStore, req: Request) -> Answer:
    """``runs/restore``."""
    store.restore_run(_run_id(req))
    return {}


def get_run(store: SQLiteStore, req: Request) -> Answer:
    """``runs/get``: with its dataset inputs' whole records (schema, profile)."""
    return {"run": convert.run(with_details(store, store.get_run(_run_id(req))))}


def _metric_point(item: Fields) -> tuple[str, float, int, int]:
    key = item.required_text("key", max_length=MAX_KEY_LENGTH)
    value = item.number("value", required=True)
    assert value is not None
    timestamp = item.integer("timestamp", lo=0)
    step = item.integer("step", default=0) or 0
    return key, value, _now_ms() if timestamp is None else timestamp, step


def log_metric(store: SQLiteStore, req: Request) -> Answer:
    """``runs/log-metric``: one point."""
    store.log_batch(_run_id(req), metrics=[_metric_point(req)], require_active=True)
    return {}


def log_param(store: SQLiteStore, req: Request) -> Answer:
    """``runs/log-parameter``: the same value again is a no-op; another value is refused."""
    key = req.required_text("key", max_length=MAX_KEY_LENGTH)
    value = req.text("value", default="") or ""
    store.log_batch(_run_id(req), params={key: value}, require_active=True)
    return {}


def set_tag(store: SQLiteStore, req: Request) -> Answer:
    """``runs/set-tag`` (``mlflow.runName`` renames the run)."""
    key = req.required_text("key", max_length=MAX_KEY_LENGTH)
    value = req.text("value", default="") or ""
    store.log_batch(_run_id(req), tags={key: value}, require_active=True)
    return {}


def delete_tag(store: SQLiteStore, req: Request) -> Answer:
    """``runs/delete-tag``."""
    store.delete_tag(_run_id(req), req.required_text("key", max_length=MAX_KEY_LENGTH))
    return {}


def log_batch(store: SQLiteStore, req: Request) -> Answer:
    """``runs/log-batch``: up to 1,000 metrics, 100 params and 100 tags (1,000 in all), stored
    in one transaction, or none of them when one is refused."""
    run_id = _run_id(req)
    items = req.messages("metrics", max_items=MAX_BATCH_METRICS)
    metrics = [_metric_point(m) for m in items]
    if any(m.has("model_id") for m in items):
        metrics = _without_model_copies(store, run_id, metrics, items)
    params: dict[str, str] = {}
    for item in req.messages("params", max_items=MAX_BATCH_PARAMS):
        key = item.required_text("key", max_length=MAX_KEY_LENGTH)
        value = item.text("value", default="") or ""
        if params.get(key, value) != value:
            raise invalid(f"params: {key!r} is given twice with different values")
        params[key] = value
    tags = {}
    for item in req.messages("tags", max_items=MAX_BATCH_TAGS):
        tags[item.required_text("key", max_length=MAX_KEY_LENGTH)] = item.text("value") or ""
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_BATCH_TOTAL:
        raise invalid(f"a batch holds at most {MAX_BATCH_TOTAL} metrics, params and tags ({total})")
    if total:
        store.log_batch(run_id, metrics=metrics, params=params, tags=tags, require_active=True)
    else:
        store.run_handle(run_id)  # an empty batch still needs a run that exists
    return {}


MAX_INPUTS = 100


def log_inputs(store: SQLiteStore, req: Request) -> Answer:
    """``runs/log-inputs``: MLflow datasets (``mlflow.log_input``, autologging) recorded the
    way ``jt.log_input`` records data (:func:`jupyter_track.lineage.inputs.record_inputs`):
    ``jt.input.<name>.{digest,kind,source,rows,context}`` tags (searchable, shown with the
    run's lineage) and ``inputs/<name>.json`` with MLflow's whole record (schema, profile,
    tags). Logged-model inputs are ignored."""
    run_id = _run_id(req)
    records: list[dict[str, Any]] = []
    for item in req.messages("datasets", max_items=MAX_INPUTS):
        dataset = item.message("dataset")
        entity = DatasetInput(
            Dataset(
                name=dataset.required_text("name", max_length=200),
                digest=dataset.required_text("digest", max_length=200),
                source_type=dataset.text("source_type", max_length=200) or "",
                source=dataset.text("source", max_length=100_000) or "",
                schema=dataset.text("schema", max_length=1_000_000),
                profile=dataset.text("profile", max_length=100_000),
            ),
            [InputTag(k, v) for k, v in item.key_values("tags", max_items=100).items()],
        )
        try:
            records.append(entity_record(entity))
        except InvalidInput as exc:
            raise invalid(str(exc)) from None
    record_inputs(store, run_id, records, require_active=True)
    return {}


def _without_model_copies(
    store: SQLiteStore,
    run_id: str,
    metrics: list[tuple[str, float, int, int]],
    items: list[Fields],
) -> list[tuple[str, float, int, int]]:
    """MLflow's ``log_model`` logs the run's points again, tagged with the new model's id;
    MLflow's store keeps one row for identical points, and so does this: a point tagged with a
    ``model_id`` that the run already has is left out."""
    kept = []
    seen: dict[str, set[tuple[int, int, Any]]] = {}
    for point, item in zip(metrics, items):
        key, value, timestamp, step = point
        if item.has("model_id"):
            if key not in seen:
                try:
                    history = store.get_metric_history(run_id, key)
                except NotFound:
                    history = []
                seen[key] = {(p.step, p.timestamp, _same(p.value)) for p in history}
            if (step, timestamp, _same(value)) in seen[key]:
                continue
        kept.append(point)
    return kept


def _same(value: float) -> Any:
    return "nan" if value != value else value


def search_runs(store: SQLiteStore, req: Request) -> Answer:
    """``runs/search``: MLflow's filter and order-by syntax (jupyter-track's grammar is a
    superset), pages by ``page_token``."""
    experiment_ids = req.texts("experiment_ids", max_items=1000)
    for i, experiment_id in enumerate(experiment_ids):
        if not (is_digits(experiment_id) and int(experiment_id) <= INT64_MAX):
            raise invalid(f"experiment_ids[{i}]: {experiment_id!r} is not an experiment id")
    page = store.search_runs(
        experiment_ids,
        req.text("filter"),
        run_view_type=req.enum("run_view_type", VIEW_TYPES, default=ViewType.ACTIVE_ONLY),
        max_results=req.integer("max_results", default=1000, lo=1, hi=MAX_SEARCH_RESULTS) or 1,
        order_by=req.texts("order_by", max_items=20) or None,
        page_token=req.text("page_token", max_length=500),
    )
    answer: Answer = {"runs": [convert.run(r) for r in page.runs]}
    if page.next_page_token:
        answer["next_page_token"] = page.next_page_token
    return answer


def get_metric_history(store: SQLiteStore, req: Request) -> Answer:
    """``metrics/get-history``: every point of one metric in step order, paged when
    ``max_results`` is given."""
    run_id = _run_id(req)
    key = req.required_text("metric_key", max_length=MAX_KEY_LENGTH)
    limit = req.integer("max_results", lo=1, hi=MAX_HISTORY_PAGE)
    offset = decode_page_token(req.text("page_token", max_length=500))
    points = store.get_metric_history(
        run_id, key, max_results=None if limit is None else limit + 1, offset=offset
    )
    answer: Answer = {}
    if limit is not None and len(points) > limit:
        points = points[:limit]
        answer["next_page_token"] = encode_page_token(offset + limit)
    answer["metrics"] = [convert.metric(p) for p in points]
    return answer


def list_artifacts(store: SQLiteStore, req: Request) -> Answer:
    """``artifacts/list``: a folder's direct children, paths from the run's artifact root."""
    run_id = _run_id(req)
    path = req.text("path", max_length=4096) or None
    info = store.get_run(run_id).info
    try:
        items = store.list_artifacts(run_id, path)
    except NotFound:
        items = []
    files = []
    for item in items:
        if path and item.path == path.strip("/") and not item.is_dir:
            continue  # the path names a file: MLflow lists nothing
        entry: dict[str, Any] = {"path": item.path, "is_dir": item.is_dir}
        if item.size is not None:
            entry["file_size"] = item.size
        files.append(entry)
    return {"root_uri": convert.run_artifact_uri(info.experiment_id, run_id), "files": files}


def server_info(store: SQLiteStore, req: Request) -> Answer:
    """``/api/3.0/mlflow/server-info``: what the artifact proxy supports (no multipart)."""
    return {
        "store_type": "jupyter-track",
        "workspaces_enabled": False,
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
    }
