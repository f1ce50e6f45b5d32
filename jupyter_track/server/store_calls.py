"""``POST store/{method}``: the store interface over HTTP, for the HTTP client store.

The client (:mod:`jupyter_track.client`) sends ``{"args": [...], "kwargs": {...}}`` encoded by
:mod:`jupyter_track.wire`; the answer is ``{"result": ...}`` or the one error shape plus the
store exception's name (raised again by the client). Only the methods of :data:`CALLS` can be
called, and each says what it needs:

``("open",)``                  any authenticated user;
``("run", need, arg)``         ``need`` on the run named by argument ``arg``;
``("runs", need, arg)``        on each run of a list argument;
``("experiment", need, arg)``  on the experiment named by ``arg``;
``("model", need, arg)``       on the registered model named by ``arg``;
``("search",)``                a search: limited to the experiments the user may read;
``("prefix",)``                a run-id prefix: resolved among the runs the user may read;
``("model_optional", need, arg)``  ``need`` on the model ``arg`` when given;
``("new_model", arg)``         creating a model: open, but not over one private to others;
``("new_version", need, arg)`` ``need`` on the model, or creating it (``create_model=True``);
``("admin",)``                 hub admins and the admin scope only (maintenance);
``("trace", need, arg)``       ``need`` on the experiment of the trace named by ``arg``;
``("trace_records",)``         writing traces: EDIT on each record's experiment (one named by
                               name is created when new) and on the experiment of a trace
                               already stored under the same id;
``("trace_delete",)``          EDIT on ``experiment_id``, and on each listed trace's
                               experiment; deleting by age in every experiment: admins only.

A call whose answer may hold objects of several experiments or models also names what its
answer holds in :data:`RESULT_FILTERS`: the policy leaves out what the user may not read (the
team service; a personal server leaves everything), so nothing private to others comes back.

Writes run in the store's write thread, reads in its read pool. Arguments named ``actor``,
``verified`` and ``user_id`` are set from the authenticated user (never from the client), and
the creator of an experiment or model is told to the policy (the team service grants MANAGE).
Traces written by a kernel come this way (``write_traces``, :mod:`jupyter_track.wire` encodes
the trace records). Metric points and cell-log rows do not come this way but in batches
(``POST ingest``); artifacts through their upload and download routes.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

from .. import wire
from ..store.errors import InvalidInput, NotFound, TrackError
from .base import TrackHandler, dumps, gunzip_bounded
from .errors import ApiError
from .policy import EDIT, MANAGE, READ, Policy, Principal

#: largest store call once decompressed
MAX_CALL_BYTES = 64 << 20

Rule = tuple[Any, ...]
OPEN: Rule = ("open",)
ADMIN: Rule = ("admin",)
SEARCH: Rule = ("search",)

#: method -> (rule, writes?)
CALLS: dict[str, tuple[Rule, bool]] = {
    # experiments
    "create_experiment": (OPEN, True),
    "get_or_create_experiment": (OPEN, True),
    "get_experiment": (("experiment", READ, "experiment_id"), False),
    "get_experiment_by_name": (OPEN, False),
    "search_experiments": (OPEN, False),  # filtered: the experiments the user may read
    "experiment_run_counts": (OPEN, False),
    "set_experiment_lifecycle": (("experiment", MANAGE, "experiment_id"), True),
    "set_experiment_tag": (("experiment", EDIT, "experiment_id"), True),
    # runs
    "create_run": (("experiment", EDIT, "experiment_id"), True),
    "update_run": (("run", EDIT, "run_id"), True),
    "edit_run": (("run", EDIT, "run_id"), True),
    "delete_run": (("run", EDIT, "run_id"), True),
    "restore_run": (("run", EDIT, "run_id"), True),
    "log_params": (("run", EDIT, "run_id"), True),
    "set_tags": (("run", EDIT, "run_id"), True),
    "delete_tag": (("run", EDIT, "run_id"), True),
    "log_metrics": (("run", EDIT, "run_id"), True),
    "get_run": (("run", READ, "run_id"), False),
    "get_runs": (("runs", READ, "run_ids"), False),
    "get_source": (("run", READ, "run_id"), False),
    "resolve_run_id": (("prefix",), False),
    "run_ids_with_prefix": (OPEN, False),
    "search_runs": (SEARCH, False),
    "count_runs": (SEARCH, False),
    "run_columns": (("runs", READ, "run_ids"), False),
    "param_and_metric_keys": (SEARCH, False),
    "cell_runs": (OPEN, False),
    "previous_cell_run": (("run", READ, "before_run_id"), False),
    "child_run_ids": (("run", READ, "run_id"), False),
    "get_metric_history": (("run", READ, "run_id"), False),
    "metric_keys": (("run", READ, "run_id"), False),
    "metric_series": (("run", READ, "run_id"), False),
    "metric_histories": (("runs", READ, "run_ids"), False),
    "metric_rows_until": (("run", READ, "run_id"), False),
    # live charts and widgets (run_ids None: every run the user may read)
    "metric_rows_since": (("runs", READ, "run_ids"), False),
    "metric_series_since": (("runs", READ, "run_ids"), False),
    "last_metric_rowid": (OPEN, False),
    "cell_executions": (OPEN, False),
    "put_environment": (OPEN, True),
    "get_environment": (OPEN, False),
    "list_artifacts": (("run", READ, "run_id"), False),
    "artifact_tree": (("run", READ, "run_id"), False),
    "artifact_uri_for": (("run", READ, "run_id"), False),
    # lineage (store/lineage.py)
    "put_run_lineage": (("run", EDIT, "run_id"), True),
    "get_run_lineage": (("run", READ, "run_id"), False),
    "model_versions_of_runs": (("runs", READ, "run_ids"), False),
    "dataset_usage": (ADMIN, False),  # spans every experiment (not filtered by permission)
    # registry
    "create_registered_model": (("new_model", "name"), True),
    "get_registered_model": (("model", READ, "name"), False),
    "update_registered_model": (("model", EDIT, "name"), True),
    "edit_registered_model": (("model", EDIT, "name"), True),
    "delete_registered_model": (("model", MANAGE, "name"), True),
    "set_registered_model_tag": (("model", EDIT, "name"), True),
    "delete_registered_model_tag": (("model", EDIT, "name"), True),
    "search_registered_models": (OPEN, False),
    "create_model_version": (("new_version", EDIT, "name"), True),
    "get_model_version": (("model", READ, "name"), False),
    "get_model_versions": (("model", READ, "name"), False),
    "get_latest_model_version": (("model", READ, "name"), False),
    "update_model_version": (("model", EDIT, "name"), True),
    "edit_model_version": (("model", EDIT, "name"), True),
    "delete_model_version": (("model", MANAGE, "name"), True),
    "set_model_version_tag": (("model", EDIT, "name"), True),
    "delete_model_version_tag": (("model", EDIT, "name"), True),
    "search_model_versions": (OPEN, False),
    "registered_run_ids": (ADMIN, False),  # for purging; spans every model
    "set_registered_model_alias": (("model", EDIT, "name"), True),
    "delete_registered_model_alias": (("model", EDIT, "name"), True),
    "get_model_version_by_alias": (("model", READ, "name"), False),
    "get_aliases": (("model", READ, "name"), False),
    "rollback_alias": (("model", EDIT, "name"), True),
    "registry_audit": (("model_optional", READ, "name"), False),
    "alias_history": (("model", READ, "name"), False),
    # traces (store/traces.py): the kernel's writer, jt.get_trace/search_traces, feedback
    "write_traces": (("trace_records",), True),
    "get_trace": (("trace", READ, "trace_id"), False),
    "trace_exists": (OPEN, False),  # filtered: False for a trace the user may not read
    "search_traces": (SEARCH, False),
    "count_traces": (("runs", READ, "run_ids"), False),
    "delete_traces": (("trace_delete",), True),
    "set_trace_tag": (("trace", EDIT, "trace_id"), True),
    "delete_trace_tag": (("trace", EDIT, "trace_id"), True),
    "log_assessment": (("trace", EDIT, "trace_id"), True),
    "get_assessment": (("trace", READ, "trace_id"), False),
    "delete_assessment": (("trace", EDIT, "trace_id"), True),
    "assessments_for": (OPEN, False),  # filtered: the traces the user may read
    # permissions and audit (the team service)
    "list_permissions": (OPEN, False),
    "service_audit": (OPEN, False),
    # maintenance
    "stats": (OPEN, False),
    "deleted_run_ids": (ADMIN, False),
    "purge_runs": (ADMIN, True),
    "gc": (ADMIN, True),
}

#: method -> what its answer holds, for :meth:`Policy.filter_call` (see the module docstring)
RESULT_FILTERS: dict[str, str] = {
    "search_experiments": "experiments",
    "get_experiment_by_name": "experiment",
    "get_or_create_experiment": "experiment",
    "experiment_run_counts": "experiment_counts",
    "run_ids_with_prefix": "run_ids",
    "child_run_ids": "run_ids",  # a child may sit in an experiment private to others
    "cell_runs": "runs",
    "previous_cell_run": "run",
    "cell_executions": "cell_executions",
    "metric_rows_since": "rows_since",
    "metric_series_since": "rows_since",
    "search_registered_models": "models",
    "search_model_versions": "models",
    "model_versions_of_runs": "model_dicts",
    "registry_audit": "model_audit",
    "list_permissions": "grants",
    "service_audit": "service_audit",
    "trace_exists": "trace_exists",
    "assessments_for": "trace_dict",
}

#: filled from the authenticated user, whatever the client sent
IDENTITY_ARGS = ("actor", "user_id")
#: the experiment or model a call creates: (object type, argument or "result")
CREATES = {
    "create_experiment": ("experiment", "result"),
    "get_or_create_experiment": ("experiment", "result.experiment_id"),
    "create_registered_model": ("registered_model", "name"),
    "create_model_version": ("registered_model", "name"),  # with create_model=True
}


def bind(
    store: Any, method: str, args: list[Any], kwargs: dict[str, Any]
) -> inspect.BoundArguments:
    """The call's arguments by name (a 400 naming the problem when they do not fit)."""
    fn = getattr(store, method, None)
    if fn is None:
        raise ApiError(404, "not_found", f"store method {method!r} is not served")
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as exc:
        raise InvalidInput(f"{method}: {exc}") from None
    return bound


#: run changes written to the service audit log with the user who made them
AUDITED_RUN_CALLS = ("delete_run", "restore_run")
#: run tags that say who ran it: set from the authenticated user, never from the client
USER_TAGS = ("mlflow.user", "jt.user", "jt.user.verified")


def _verified_tags(method: str, bound: inspect.BoundArguments, who: Principal) -> None:
    tags = bound.arguments.get("tags")
    if method == "create_run":
        tags = dict(tags or {})
        verified = "true" if who.verified else "false"
        tags.update({"mlflow.user": who.name, "jt.user": who.name, "jt.user.verified": verified})
        bound.arguments["tags"] = tags
    elif method == "set_tags" and isinstance(tags, dict):
        bound.arguments["tags"] = {k: v for k, v in tags.items() if k not in USER_TAGS}


def prepared_call(
    store: Any,
    who: Principal,
    policy: Policy,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any],
    *,
    deferred: bool = False,
) -> Callable[[], Any]:
    """Check a call (served method, arguments, identity, permission) and return it ready to
    run (for a batch: in the batch's transaction)."""
    entry = CALLS.get(method)
    if entry is None:
        raise ApiError(404, "not_found", f"store method {method!r} is not served")
    rule, writes = entry
    if deferred and not writes:
        raise ApiError(400, "invalid_input", f"calls: {method} is not a write")
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ApiError(400, "bad_request", f"{method}: args must be a list and kwargs an object")
    bound = bind(store, method, args, kwargs)
    parameters = bound.signature.parameters
    for name in IDENTITY_ARGS:
        if name in parameters:
            bound.arguments[name] = who.name
    if "verified" in parameters:
        bound.arguments["verified"] = who.verified
    _verified_tags(method, bound, who)
    policy.check_call(store, who, method, rule, bound)
    fn = getattr(store, method)

    def call() -> Any:
        existed = _existed(store, method, bound)
        result = fn(*bound.args, **bound.kwargs)
        if method in AUDITED_RUN_CALLS:
            run_id = str(bound.arguments["run_id"])
            store.audit_service_action(method, "run", run_id, actor=who.name)
        created = None if existed else CREATES.get(method)
        if created is not None:
            object_type, source = created
            if source == "result":
                object_id = result
            elif source.startswith("result."):
                object_id = getattr(result, source.split(".", 1)[1])
            else:
                object_id = bound.arguments[source]
            policy.created(store, who, object_type, str(object_id))
        return policy.filter_call(store, who, method, rule, bound, result)

    return call


def _existed(store: Any, method: str, bound: inspect.BoundArguments) -> bool:
    """Whether the object a creating call may create was already there (its creator is then
    not told to the policy)."""
    if method == "get_or_create_experiment":
        return store.get_experiment_by_name(bound.arguments["name"]) is not None
    if method == "create_model_version":
        try:
            store.get_registered_model(bound.arguments["name"])
        except NotFound:
            return False
        return True
    return False


class StoreCallHandler(TrackHandler):
    """``POST store/{method}``."""

    async def post(self, method: str) -> None:
        entry = CALLS.get(method)
        if entry is None:
            raise ApiError(404, "not_found", f"store method {method!r} is not served")
        _rule, writes = entry
        body = self._call_body()
        args = body.get("args") or []
        kwargs = body.get("kwargs") or {}
        who = self.principal
        policy = self.policy

        def work(store: Any) -> bytes:
            result = prepared_call(store, who, policy, method, args, kwargs)()
            return dumps({"result": wire.encode(result)})

        try:
            if writes:
                answer = await self.write_store(work)
            else:
                answer = await self.read_store(work)
        except ApiError as exc:
            cause = exc.__cause__
            if isinstance(cause, TrackError):
                exc.body.update(wire.encode_error(cause))
            raise
        self.send_bytes(answer)

    def _call_body(self) -> dict[str, Any]:
        raw = self.request.body or b"{}"
        if self.request.headers.get("Content-Encoding", "").lower() == "gzip":
            raw = gunzip_bounded(raw, MAX_CALL_BYTES)
        try:
            body = wire.decode(json.loads(raw))
        except ValueError as exc:
            raise ApiError(400, "bad_request", f"the body is not a valid call: {exc}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "the body must be a JSON object")
        return body
