"""MLflow's fluent tracking API under the same names: ``import jupyter_track as mlflow`` works.

Differences that make notebooks nicer:

* starting a run while another is active never raises "already active": the open run (left
  dangling by an earlier cell, say) is finished first; ``nested=True`` nests as in MLflow;
* the active run is per thread, as in MLflow (:mod:`.session`): a thread's ``start_run`` never
  ends another thread's run; a thread with no run of its own inside a ``%%track`` cell logs into
  the cell's run;
* logging a param again with the same value is a no-op, another value raises naming both;
* ``log_metric`` does no I/O: points are buffered and written by a background thread.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import provenance
from ..store import (
    Experiment,
    InvalidInput,
    LifecycleStage,
    Metric,
    NotFound,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    ViewType,
)
from ..store.names import random_run_name
from ..store.runs import NewRun
from ..store.validation import (
    INT64_MAX,
    INT64_MIN,
    MAX_TAG_VALUE_LENGTH,
    check_key,
    check_name,
    metric_step,
    metric_timestamp,
    metric_value,
    text_problem,
    text_rows,
)
from . import context, session, system_metrics
from .pending import PendingRun
from .session import Session
from .system_metrics import (  # noqa: F401  (public names: jt.enable_system_metrics_logging)
    disable_system_metrics_logging,
    enable_system_metrics_logging,
)

if TYPE_CHECKING:  # the store's protocol, for annotations only
    from ..store.interface import Store


def _log() -> Any:
    """The package's logger (``logging`` is imported when something is logged)."""
    import logging

    return logging.getLogger("jupyter_track")


_time_ns = time.time_ns

DEFAULT_EXPERIMENT_ID = "0"


def _session() -> Session:
    return session.current()


def _store() -> Store:
    return session.current().store


@atexit.register
def _end_runs_at_exit() -> None:
    """Runs still open when the interpreter exits end FINISHED, as in MLflow, in every thread
    (this handler runs before the writer's own exit flush, which was registered earlier)."""
    state = session.current()
    for active in reversed(state.all_runs()):
        try:
            state.end_run(active.info.run_id, RunStatus.FINISHED)
        except Exception as exc:  # never raise at exit; say what was not recorded
            _log().warning(
                "jupyter-track: could not end run %s at exit: %s", active.info.run_id, exc
            )


# ------------------------------------------------------------------------------ the store


_EXPORTED_URI_ENV = ("JUPYTER_TRACK_URI", "MLFLOW_TRACKING_URI")
_env_before_set: dict[str, str | None] | None = None


def set_tracking_uri(uri: str | os.PathLike[str] | None) -> None:
    """Point the API at another store (``sqlite:///path``, a path or ``postgresql://...``);
    None: the default.

    As MLflow, the URI is exported to child processes: ``JUPYTER_TRACK_URI`` and
    ``MLFLOW_TRACKING_URI`` are set to it (a path made absolute), so a script started from
    here logs into the same store; ``MlflowClient()`` without a URI uses it too. None restores
    the variables as they were before the first call.
    """
    global _env_before_set
    text = None if uri is None else os.fspath(uri)
    if text is not None:
        from ..paths import resolve_uri

        resolved = resolve_uri(text)  # ValueError naming the schemes for an unknown one
        if _env_before_set is None:
            _env_before_set = {k: os.environ.get(k) for k in _EXPORTED_URI_ENV}
        for key in _EXPORTED_URI_ENV:
            os.environ[key] = resolved
    elif _env_before_set is not None:
        for key, value in _env_before_set.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _env_before_set = None
    session.current().set_tracking_uri(text)


def set_registry_uri(uri: str | os.PathLike[str] | None) -> None:
    """Where the model registry is (MLflow's ``set_registry_uri``). The registry lives in the
    tracking store here, so the URI must name the tracking store (None: follow it)."""
    from ..paths import resolve_uri

    text = None if uri is None else os.fspath(uri)
    if text is not None and resolve_uri(text) != resolve_uri(session.current().tracking_uri):
        raise InvalidInput(
            f"registry_uri {text!r}: the registry lives in the tracking store "
            f"({get_tracking_uri()}); set the tracking URI to use another store"
        )
    session.current().registry_uri = text


def get_registry_uri() -> str:
    """The registry's URI: the one given to :func:`set_registry_uri`, else the tracking URI."""
    return session.current().registry_uri or get_tracking_uri()


def get_tracking_uri() -> str:
    """The URI of the store in use."""
    return session.current().resolved_uri


def flush() -> None:
    """Write buffered metrics now (also done at run end, cell end and interpreter exit)."""
    session.current().flush()


# ---------------------------------------------------------------------------- experiments


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment active (created when the name is new) and return it."""
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidInput("set_experiment: give exactly one of experiment_name, experiment_id")
    store = _store()
    if experiment_id is not None:
        experiment = store.get_experiment(experiment_id)
    else:
        assert experiment_name is not None
        experiment = store.get_or_create_experiment(experiment_name)
    session.current().experiment_id = experiment.experiment_id
    return experiment


def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
) -> str:
    """Create an experiment and return its id."""
    return _store().create_experiment(name, artifact_location, dict(tags or {}))


def get_experiment(experiment_id: str) -> Experiment:
    return _store().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return _store().get_experiment_by_name(name)


def search_experiments(
    view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Experiments matching ``filter_string`` (MLflow's: ``name``, ``experiment_id``,
    ``creation_time``, ``last_update_time``, ``tags.<key>``; ``LIKE``, ``ILIKE``, ``AND``, and
    here also OR, NOT and parentheses), ordered by ``order_by`` (``"name ASC"``, ...; default:
    newest first), at most ``max_results`` (None: all)."""
    if max_results is not None and (
        isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1
    ):
        raise InvalidInput(f"max_results {max_results!r}: must be a positive integer or None")
    return search_experiments_pages(_store(), view_type, max_results, filter_string, order_by)


def search_experiments_pages(
    store: Store,
    view_type: int,
    max_results: int | None,
    filter_string: str | None,
    order_by: Sequence[str] | None,
) -> list[Experiment]:
    """Every page of an experiment search, up to ``max_results`` (shared with the client)."""
    page_of = _store_method(store, "search_experiments_page")
    found: list[Experiment] = []
    token = None
    while max_results is None or len(found) < max_results:
        want = 1000 if max_results is None else min(max_results - len(found), 50_000)
        page, token = page_of(
            filter_string or None,
            view_type=view_type,
            max_results=want,
            order_by=order_by,
            page_token=token,
        )
        found.extend(page)
        if token is None:
            break
    return found


def _store_method(store: Store, name: str) -> Any:
    """``store.<name>``; a clear error for a store that does not have it (the team service's
    client serves the store interface, not every MLflow-only call yet)."""
    method = getattr(store, name, None)
    if method is None:
        from ..exceptions import MlflowNotImplementedException

        raise MlflowNotImplementedException(
            f"{name}: not available on the store {getattr(store, 'uri', store)!r} (the team "
            "service does not serve it yet)"
        )
    return method


def delete_experiment(experiment_id: str) -> None:
    _store().set_experiment_lifecycle(experiment_id, "deleted")


def set_experiment_tag(key: str, value: Any) -> None:
    """Set a tag on the active experiment."""
    _store().set_experiment_tag(_active_experiment_id(), key, value)


def set_experiment_tags(tags: Mapping[str, Any]) -> None:
    """Set several tags on the active experiment."""
    if not callable(getattr(tags, "items", None)):
        raise InvalidInput(f"tags: must be a mapping of key to value, got {type(tags).__name__}")
    experiment_id = _active_experiment_id()
    store = _store()
    for key, value in tags.items():
        store.set_experiment_tag(experiment_id, key, value)


def delete_experiment_tag(key: str) -> None:
    """Remove a tag from the active experiment (``RESOURCE_DOES_NOT_EXIST`` when not set)."""
    store = _store()
    _store_method(store, "delete_experiment_tag")(_active_experiment_id(), key)


def _active_experiment_id() -> str:
    """The experiment of new runs: the one set with :func:`set_experiment`, else
    ``MLFLOW_EXPERIMENT_NAME`` (or ``JUPYTER_TRACK_EXPERIMENT_NAME``; created when new), else
    ``MLFLOW_EXPERIMENT_ID`` (which must exist), else the Default experiment (0)."""
    experiment_id = session.current().experiment_id
    if experiment_id is not None:
        return experiment_id
    name = os.environ.get("JUPYTER_TRACK_EXPERIMENT_NAME") or os.environ.get(
        "MLFLOW_EXPERIMENT_NAME"
    )
    env_id = os.environ.get("MLFLOW_EXPERIMENT_ID")
    if name:
        found = set_experiment(name).experiment_id
        if env_id and env_id != found:
            raise InvalidInput(
                f"MLFLOW_EXPERIMENT_ID {env_id!r} and MLFLOW_EXPERIMENT_NAME {name!r} name "
                f"different experiments ({name!r} is {found})"
            )
        return found
    if env_id:
        try:
            return set_experiment(experiment_id=env_id).experiment_id
        except NotFound:
            raise NotFound(
                f"MLFLOW_EXPERIMENT_ID {env_id!r}: no such experiment in {get_tracking_uri()}"
            ) from None
    return DEFAULT_EXPERIMENT_ID


# ------------------------------------------------------------------------------------ runs


class ActiveRun:
    """The run returned by :func:`start_run`; a context manager that ends it.

    ``with`` exits end the run FINISHED, FAILED on an exception, KILLED on KeyboardInterrupt.
    """

    def __init__(self, info: RunInfo, pk: Any):
        self.info = info
        self._pk = pk

    @property
    def data(self) -> RunData:
        """What has been logged so far (buffered metrics are flushed first)."""
        flush()
        return _store().get_run(self.info.run_id).data

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        error = None
        if exc is not None and status == RunStatus.FAILED:
            import traceback

            error = "".join(traceback.format_exception(exc_type, exc, tb))
        state = session.current()
        if state.is_active(self.info.run_id):
            state.end_run(self.info.run_id, status, error=error)

    def __repr__(self) -> str:
        return f"<ActiveRun: run_id={self.info.run_id} name={self.info.run_name!r}>"


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``) and make it the calling thread's active run.

    Without ``nested=True`` any run still open in this thread is ended first (FINISHED), so
    re-running a cell never leaves a run dangling and never fails with "already active". Runs
    of other threads are never touched. Inside a ``%%track`` cell the new run nests under the
    cell's run.
    """
    state = session.current()
    store = state.store
    stack = state.runs
    if run_id is None and os.environ.get("MLFLOW_RUN_ID"):
        run_id = os.environ.pop("MLFLOW_RUN_ID")  # as MLflow: resume it, once
    if run_id is not None:
        existing = store.get_run(run_id)  # RESOURCE_DOES_NOT_EXIST for an unknown id
        if existing.info.lifecycle_stage == LifecycleStage.DELETED:
            from ..exceptions import MlflowException

            raise MlflowException(  # MLflow's message and code (INTERNAL_ERROR)
                f"Cannot start run with ID {run_id} because it is in the deleted state."
            )
    if stack and not nested and parent_run_id is None:
        for open_run in reversed(list(stack)):
            if state.is_cell_run(open_run.info.run_id):
                nested = True  # inside a %%track cell: nest under the cell's run
                break
            _log().info("jupyter-track: ending run %s left open", open_run.info.run_id)
            state.end_run(open_run.info.run_id, RunStatus.FINISHED)
    if parent_run_id is None:
        if nested and stack:
            parent_run_id = stack[-1].info.run_id
        elif not stack:
            cell_run = state.cell_run()  # another thread of a running %%track cell
            if cell_run is not None:
                parent_run_id = cell_run.info.run_id

    if run_id is not None:
        run = store.get_run(run_id)
        store.update_run(run_id, status=RunStatus.RUNNING)
        info = run.info
        info.status = RunStatus.RUNNING
        resumed_tags: dict[str, Any] = dict(tags or {})
        if description is not None:
            resumed_tags["mlflow.note.content"] = description
        if resumed_tags:
            store.set_tags(run_id, resumed_tags)
        active = ActiveRun(info, store.run_handle(run_id))
        state.push(active)
        if info.parent_run_id is None and system_metrics.wanted(log_system_metrics):
            system_metrics.watch(run_id)
        return active

    exp_id = experiment_id if experiment_id is not None else _active_experiment_id()
    env = provenance.environment()
    git = provenance.git_state()
    all_tags: dict[str, Any] = provenance.system_tags(git, env)
    if description:
        all_tags["mlflow.note.content"] = description
    if parent_run_id is not None:
        all_tags["mlflow.parentRunId"] = parent_run_id
    if tags:
        all_tags.update(tags)
    if "mlflow.runName" in all_tags:  # MLflow: the tag names the run
        run_name = str(all_tags["mlflow.runName"])
    elif not run_name:
        run_name = random_run_name()
    all_tags["mlflow.runName"] = run_name
    cell = context.current
    user, _ = provenance.current_user()
    if state.buffers_runs():
        active = _buffered_run(state, exp_id, run_name, user, all_tags, parent_run_id, cell, env)
    else:
        store.put_environment(env.hash, env.python, env.platform, env.packages)
        info = store.create_run(
            exp_id,
            run_name=run_name,
            user_id=user,
            tags=all_tags,
            parent_run_id=parent_run_id,
            notebook=provenance.notebook_path(),
            cell_id=cell.cell_id,
            execution_count=cell.execution_count,
            source=cell.source,
            environment=env.hash,
        )
        active = ActiveRun(info, store.run_handle(info.run_id))
    if git is not None and git.dirty and git.diff:
        state.store.write_shared_artifact(
            active.info.run_id, "provenance/git.diff", git.diff.encode()
        )
    if cell.run_ids is not None:
        cell.run_ids.append(active.info.run_id)
    state.push(active)
    if parent_run_id is None and system_metrics.wanted(log_system_metrics):
        system_metrics.watch(active.info.run_id)
    return active


def _buffered_run(
    state: Session,
    experiment_id: str,
    run_name: str | None,
    user: str,
    tags: dict[str, Any],
    parent_run_id: str | None,
    cell: Any,
    env: provenance.Environment,
) -> ActiveRun:
    """A new run named and checked here, queued with the writer (:mod:`.pending`): written
    with its params, points and end in one transaction, at the latest when anyone reads."""
    store = state.raw_store
    state.check_experiment(experiment_id)
    if parent_run_id is not None and state.find(parent_run_id) is None:
        store.run_handle(parent_run_id)  # NotFound, as create_run would say
    run_id = uuid.uuid4().hex
    name = check_name(run_name, "run_name") if run_name else random_run_name()
    rows = text_rows(tags.items(), "tag", MAX_TAG_VALUE_LENGTH)
    if "mlflow.runName" in tags:
        name = str(tags["mlflow.runName"])
    record = NewRun(
        run_id=run_id,
        experiment_id=str(experiment_id),
        run_name=name,
        start_time=_time_ns() // 1_000_000,
        user_id=user,
        tags=dict(rows),
        parent_run_id=parent_run_id,
        notebook=provenance.notebook_path(),
        cell_id=cell.cell_id,
        execution_count=cell.execution_count,
        source=cell.source,
        environment=env.hash,
        environment_record=(env.hash, env.python, env.platform, env.packages),
    )
    info = RunInfo(
        run_id=run_id,
        experiment_id=record.experiment_id,
        run_name=name,
        status=RunStatus.RUNNING,
        start_time=record.start_time,
        end_time=None,
        lifecycle_stage="active",
        user_id=user,
        artifact_uri=store.artifact_uri_for(run_id),
        parent_run_id=parent_run_id,
        notebook=record.notebook,
        cell_id=record.cell_id,
        execution_count=record.execution_count,
        environment=env.hash,
    )
    pending = PendingRun(record)
    active = ActiveRun(info, pending)
    pending.owner = active
    state.writer.add_run(pending)
    return active


def end_run(status: str = RunStatus.FINISHED) -> None:
    """End the calling thread's active run (the innermost one when nested)."""
    if status not in RunStatus.ALL:
        raise InvalidInput(f"status {status!r}: must be one of {', '.join(RunStatus.ALL)}")
    state = session.current()
    active = state.active()
    if active is not None:
        state.end_run(active.info.run_id, status)


def active_run() -> ActiveRun | None:
    """The calling thread's innermost active run, or None (as MLflow: per thread)."""
    return session.current().active()


def last_active_run() -> Run | None:
    """The active run, else the run this thread ended most recently."""
    state = session.current()
    active = state.active()
    run_id = active.info.run_id if active is not None else state.last_run_id
    return get_run(run_id) if run_id else None


def get_or_start_run() -> ActiveRun:
    """The run logging calls go to: this thread's active run, else the running ``%%track``
    cell's run, else a new run (as MLflow starts one when you log without one)."""
    state = session.current()
    active = state.active()
    if active is not None:
        return active
    cell_run = state.cell_run()
    if cell_run is not None:
        return cell_run
    return start_run()


def _pk_for(run_id: str | None) -> int:
    if run_id is None:
        return get_or_start_run()._pk
    active = session.current().find(run_id)
    if active is not None:
        return active._pk
    return _store().run_handle(run_id)


# --------------------------------------------------------------------------------- metrics


class RunOperations:
    """What a call with ``synchronous=False`` returns (MLflow's ``RunOperations``):
    :meth:`wait` returns once what the call logged is stored."""

    __slots__ = ("_flush",)

    def __init__(self, flush: Any) -> None:
        self._flush = flush

    def wait(self) -> None:
        """Block until the logged values are written (errors of the write are raised)."""
        self._flush()

    def __repr__(self) -> str:
        return "<RunOperations>"


def _done() -> None:
    return None


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    synchronous: bool | None = None,
) -> RunOperations | None:
    """Log one metric point. No I/O: the point is buffered and written in the background.

    ``value`` is any real number (NaN and +/-inf are kept); ``step`` defaults to 0 and
    ``timestamp`` (ms since the epoch) to now, as in MLflow; both must fit a signed 64-bit
    integer. A value the store cannot hold raises ``ValueError`` (``InvalidInput``) naming the
    key, here on the caller's thread. ``synchronous=True`` writes before returning;
    ``synchronous=False`` returns a :class:`RunOperations` whose ``wait()`` writes (MLflow's).
    """
    # The hot path: no I/O, no lock, a few attribute reads and one deque.append (~0.5 us).
    # Every check starts with a type test that is true for the common float value, int step.
    state = session._session
    stack = state._runs.stack
    pk = stack[-1]._pk if run_id is None and stack else _pk_for(run_id)
    try:
        known = key in state.valid_keys
    except TypeError:  # unhashable: not a string
        known = False
    if not known:
        check_key(key, "metric")
        state.valid_keys.add(key)
    if type(value) is not float:
        value = metric_value(key, value)
    if step is None:
        step = 0
    elif type(step) is not int or not INT64_MIN <= step <= INT64_MAX:
        step = metric_step(key, step)
    writer = state._writer or state.writer  # the hot path reads the session's slots directly
    now = _time_ns() // 1_000_000  # ms: one call, no float (cheaper than int(time() * 1000))
    if now > writer.relief_deadline:  # a flush starved by this thread: let it finish
        writer.relieve()
    writer.append_metric(
        (
            pk,
            key,
            step,
            now if timestamp is None else metric_timestamp(key, timestamp),
            value,
        )
    )
    if synchronous is not None:
        if synchronous:
            writer.flush()
        else:
            return RunOperations(writer.flush)
    return None


def log_metrics(
    metrics: Mapping[str, Any],
    step: int | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    synchronous: bool | None = None,
) -> RunOperations | None:
    """Log several metrics at one step.

    Every valid entry is buffered; then one ``ValueError`` (``InvalidInput``) names each bad
    key and its reason, whatever the bad value is.
    """
    if not callable(getattr(metrics, "items", None)):
        raise InvalidInput(
            f"metrics: must be a mapping of key to value, got {type(metrics).__name__}"
        )
    pk = _pk_for(run_id)
    now = _time_ns() // 1_000_000
    state = session.current()
    writer = state.started_writer or state.writer
    if now > writer.relief_deadline:  # a flush starved by this thread: let it finish
        writer.relieve()
    append = writer.append_metric
    valid_keys = state.valid_keys
    shared_error = None  # a bad step or timestamp: every entry is refused, each named
    ts = at = 0
    try:
        ts = now if timestamp is None else metric_timestamp("", timestamp)
        at = metric_step("", step)
    except InvalidInput as exc:
        shared_error = str(exc).replace("metric '': ", "")
    errors = []
    for key, value in metrics.items():
        try:
            if shared_error is not None:
                raise InvalidInput(f"metric {key!r}: {shared_error}")
            if key not in valid_keys:
                check_key(key, "metric")
                valid_keys.add(key)
            append((pk, key, at, ts, value if type(value) is float else metric_value(key, value)))
        except InvalidInput as exc:
            errors.append(str(exc))
    if synchronous:
        writer.flush()
    if errors:
        raise InvalidInput("; ".join(errors))
    return RunOperations(writer.flush) if synchronous is False else None


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    """Every logged point of ``key`` in ``run_id``, in step order."""
    flush()
    return _store().get_metric_history(run_id, key)


# ---------------------------------------------------------------------------- params, tags


def pending_run(run_id: str) -> PendingRun | None:
    """The record of ``run_id`` while it is active and not written yet (:mod:`.pending`)."""
    active = session.current().find(run_id)
    handle = getattr(active, "_pk", None)
    return handle if type(handle) is PendingRun and not handle.written else None


def _target(run_id: str | None) -> tuple[str, PendingRun | None]:
    """The run a params/tags call goes to, and its record when it is not written yet."""
    active = get_or_start_run() if run_id is None else session.current().find(run_id)
    if active is None:
        return str(run_id), None
    handle = active._pk
    return active.info.run_id, handle if type(handle) is PendingRun else None


def _operations(synchronous: bool | None) -> RunOperations | None:
    """MLflow's answer to a params/tags call: params and tags are stored (or kept with the
    run's pending record) before the call returns, so ``wait()`` has nothing left to do."""
    return RunOperations(_done) if synchronous is False else None


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a param and return its value (a :class:`RunOperations` with ``synchronous=False``,
    as MLflow). Same value again: no-op; another value: error."""
    log_params({key: value})
    return RunOperations(_done) if synchronous is False else value


def log_params(
    params: Mapping[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> RunOperations | None:
    """Log several params (see :func:`log_param`)."""
    target, pending = _target(run_id)
    if pending is None or not pending.add_params(params):
        _store().log_params(target, params)
    return _operations(synchronous)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> RunOperations | None:
    """Set a tag on the active run."""
    set_tags({key: value})
    return _operations(synchronous)


def set_tags(tags: Mapping[str, Any], synchronous: bool | None = None) -> RunOperations | None:
    """Set several tags on the active run."""
    target, pending = _target(None)
    if pending is None or not pending.set_tags(tags):
        _store().set_tags(target, tags)
    return _operations(synchronous)


def delete_tag(key: str) -> None:
    _store().delete_tag(get_or_start_run().info.run_id, key)


# ------------------------------------------------------------------------------- datasets


def log_input(
    dataset: Any,
    context: str | None = None,
    tags: Mapping[str, Any] | None = None,
    model: Any = None,
    *,
    name: str | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Record the data a run used (MLflow's ``log_input(dataset, context=, tags=)``): a
    :mod:`jupyter_track.data` dataset (``from_pandas``, ``from_numpy``), or a file or folder
    path, URL, DataFrame or numpy array (fingerprinted, named ``name``).

    The digest (SHA-256 of the content), source, rows and context are stored as
    ``jt.input.<name>.*`` tags, so ``tags."jt.input.train.digest" = '...'`` (or MLflow's
    ``dataset.digest = '...'``) finds every run that read exactly that data; the whole record
    (schema, profile, tags) as the artifact ``inputs/<name>.json``; ``get_run(...).inputs``
    lists them as MLflow's ``DatasetInput``. ``model`` (MLflow 3's logged-model input) is not
    recorded. Returns the record.
    """
    from ..lineage.inputs import record_inputs

    if context is not None and not isinstance(context, str):
        raise InvalidInput(f"context {context!r}: must be a string such as 'training'")
    if tags is not None and not callable(getattr(tags, "items", None)):
        raise InvalidInput(f"tags: must be a mapping of key to value, got {type(tags).__name__}")
    if callable(getattr(dataset, "input_record", None)):  # a jupyter_track.data dataset
        record = dataset.input_record(context, tags)
        if name is not None:
            record["name"] = check_name(name, "name")
    else:
        fp = provenance.fingerprint(dataset, name)
        record = {
            "name": fp.name,
            "kind": fp.kind,
            "digest": fp.digest,
            "source": fp.source,
            "rows": fp.rows,
            "size": fp.size,
            "schema": fp.schema,
            "sampled": fp.sampled,
            "context": context,
            "tags": {str(k): str(v) for k, v in (tags or {}).items()},
        }
    target = run_id or get_or_start_run().info.run_id
    record_inputs(_store(), target, [record])
    return record


def log_inputs(
    datasets: Sequence[Any] | None = None,
    contexts: Sequence[str | None] | None = None,
    tags_list: Sequence[Mapping[str, Any] | None] | None = None,
    models: Sequence[Any] | None = None,
) -> None:
    """Record several datasets of the active run (MLflow 3's ``log_inputs``): the lists are
    parallel; a None entry is an empty value. ``models`` is not recorded."""
    datasets = list(datasets or [])
    for what, values in (("contexts", contexts), ("tags_list", tags_list)):
        if values is not None and len(values) != len(datasets):
            raise InvalidInput(
                f"{what}: {len(values)} entries for {len(datasets)} datasets (must be as many)"
            )
    for i, dataset in enumerate(datasets):
        if dataset is not None:
            log_input(
                dataset,
                context=contexts[i] if contexts is not None else None,
                tags=tags_list[i] if tags_list is not None else None,
            )


# ------------------------------------------------------------------------------ artifacts


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """``file://`` URI of the active run's artifacts (or of ``artifact_path`` inside them)."""
    run_id = get_or_start_run().info.run_id
    return _store().artifact_path(run_id, artifact_path).as_uri()


def log_artifact(
    local_path: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy a file (or a folder, under its own name, as MLflow) into the run's artifacts."""
    _store().add_artifact(
        run_id or get_or_start_run().info.run_id,
        local_path,
        artifact_path_for(local_path, artifact_path),
    )


def artifact_path_for(local_path: str | os.PathLike[str], artifact_path: str | None) -> str | None:
    """Where ``log_artifact`` puts ``local_path``: a folder keeps its name
    (``log_artifact("plots")`` gives ``plots/...``), a file goes into ``artifact_path``."""
    path = Path(local_path)
    if not path.is_dir():
        return artifact_path
    name = path.resolve().name
    return f"{artifact_path.rstrip('/')}/{name}" if artifact_path else name


def log_artifacts(
    local_dir: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy the contents of a folder into the run's artifacts."""
    if not Path(local_dir).is_dir():
        raise InvalidInput(f"local_dir {str(local_dir)!r}: not a folder")
    _store().add_artifact(run_id or get_or_start_run().info.run_id, local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    """Save ``text`` as ``artifact_file`` (e.g. ``"notes/summary.md"``)."""
    if not isinstance(text, str):
        raise InvalidInput(f"text: expected a string, got {type(text).__name__}")
    problem = text_problem(text)
    if problem:
        raise InvalidInput(f"text for {artifact_file!r}: {problem}")
    _store().write_artifact_bytes(
        run_id or get_or_start_run().info.run_id, artifact_file, text.encode("utf-8")
    )


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a dict as JSON, or as YAML when ``artifact_file`` ends in .yaml/.yml."""
    if artifact_file.endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError as exc:
            raise InvalidInput(f"artifact_file {artifact_file!r}: YAML needs PyYAML") from exc
        text = yaml.safe_dump(dictionary, sort_keys=False)
    else:
        text = json.dumps(dictionary, indent=2, default=str)
    log_text(text, artifact_file, run_id=run_id)


def log_figure(
    figure: Any,
    artifact_file: str,
    *,
    save_kwargs: Mapping[str, Any] | None = None,
    run_id: str | None = None,
) -> None:
    """Save a matplotlib (or plotly) figure; the format follows the file extension."""
    buffer = io.BytesIO()
    suffix = Path(artifact_file).suffix.lower().lstrip(".") or "png"
    if hasattr(figure, "savefig"):
        figure.savefig(buffer, format=suffix, **dict(save_kwargs or {}))
        data = buffer.getvalue()
    elif hasattr(figure, "write_html") and suffix == "html":
        data = figure.to_html().encode("utf-8")
    elif hasattr(figure, "to_image"):
        data = figure.to_image(format=suffix)
    else:
        raise InvalidInput(
            f"figure: expected a matplotlib or plotly figure, got {type(figure).__name__}"
        )
    _store().write_artifact_bytes(run_id or get_or_start_run().info.run_id, artifact_file, data)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
) -> None:
    """Save a numpy array (HxW, HxWx3, HxWx4) or a PIL image: as ``artifact_file``, or, with
    ``key`` (and ``step``, ``timestamp``), as one step of an image series in MLflow's layout
    (``images/<key>+step+<step>+...png``, see :mod:`.tables`)."""
    from . import tables

    target = run_id or get_or_start_run().info.run_id
    tables.log_image(_store(), target, image, artifact_file, key, step, timestamp)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a DataFrame (or a dict of columns) as the table ``artifact_file`` (``.json`` or
    ``.parquet``) of the active run; rows are appended when the run has it already."""
    from . import tables

    tables.log_table(_store(), run_id or get_or_start_run().info.run_id, data, artifact_file)


def load_table(
    artifact_file: str,
    run_ids: Sequence[str] | None = None,
    extra_columns: Sequence[str] | None = None,
) -> Any:
    """The table ``artifact_file`` of every run of the active experiment that logged it (or of
    ``run_ids``), as one DataFrame; ``extra_columns=["run_id"]`` says which run each row is
    from."""
    from . import tables

    flush()
    experiment_ids = None if run_ids else [_active_experiment_id()]
    return tables.load_table(_store(), experiment_ids, artifact_file, run_ids, extra_columns)


# --------------------------------------------------------------------------------- reading


def get_run(run_id: str) -> Run:
    """A run with ``.info``, ``.data.params/metrics/tags`` and ``.inputs.dataset_inputs``."""
    from ..lineage.inputs import with_details

    flush()
    store = _store()
    return with_details(store, store.get_run(run_id))


def get_parent_run(run_id: str) -> Run | None:
    """The parent of ``run_id`` (a nested run), or None for a top-level run."""
    flush()
    store = _store()
    run = store.get_run(run_id)
    parent_id = run.info.parent_run_id or run.data.tags.get("mlflow.parentRunId")
    return store.get_run(parent_id) if parent_id else None


def delete_run(run_id: str) -> None:
    """Soft-delete a run (``restore_run`` brings it back; ``jupyter-track gc`` purges it)."""
    _store().delete_run(run_id)


def restore_run(run_id: str) -> None:
    _store().restore_run(run_id)


def _experiment_ids_for(
    experiment_ids: Sequence[str] | None,
    experiment_names: Sequence[str] | None,
    search_all_experiments: bool,
) -> list[str] | None:
    if search_all_experiments and not experiment_ids and not experiment_names:
        return None
    ids = [str(e) for e in (experiment_ids or [])]
    store = _store()
    for name in experiment_names or []:
        experiment = store.get_experiment_by_name(name)
        if experiment is not None:  # an unknown name finds nothing, as in MLflow
            ids.append(experiment.experiment_id)
    if not ids and not experiment_names:
        ids = [_active_experiment_id()]
    return ids


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> Any:
    """Search runs with MLflow's filter syntax (plus OR, NOT and parentheses).

    Returns a pandas DataFrame with ``run_id``, ``experiment_id``, ``status``, ``start_time``,
    ``end_time``, ``params.*``, ``metrics.*``, ``tags.*`` columns, or a list of :class:`Run`
    with ``output_format="list"``. Without experiments, the active experiment is searched.
    """
    if output_format not in ("pandas", "list"):
        raise InvalidInput(f"output_format {output_format!r}: must be 'pandas' or 'list'")
    flush()
    ids = _experiment_ids_for(experiment_ids, experiment_names, search_all_experiments)
    runs: list[Run] = []
    token = None
    store = _store()
    while len(runs) < max_results and ids != []:  # [] names only unknown experiments
        page = store.search_runs(
            ids,
            filter_string,
            run_view_type=run_view_type,
            max_results=min(max_results - len(runs), 50_000),
            order_by=order_by,
            page_token=token,
        )
        runs.extend(page.runs)
        token = page.next_page_token
        if token is None:
            break
    if output_format == "list":
        return runs
    from .frames import runs_to_frame

    return runs_to_frame(runs)


def cell_history(
    cell_id: str | None = None, *, output_format: str = "pandas", max_results: int = 100
) -> Any:
    """The runs of one notebook cell, newest first (default: the cell that ran last).

    Every ``%%track`` execution of a cell is a run linked by the cell's id.
    """
    flush()
    store = _store()
    if cell_id is None:
        cell_id = context.last_tracked_cell_id or context.current.cell_id
    if cell_id is None:
        raise InvalidInput("cell_id: no tracked cell has run in this kernel yet; pass cell_id=")
    runs = store.cell_runs(cell_id, limit=max_results)
    if output_format == "list":
        return runs
    from .frames import runs_to_frame

    return runs_to_frame(runs)
