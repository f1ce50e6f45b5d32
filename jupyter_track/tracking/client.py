"""``TrackClient``: explicit, stateless access to a store, shaped like ``MlflowClient``.

Unlike the fluent API it has no active run: every call names its run, and writes happen
synchronously before the method returns.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..paths import resolve_uri
from ..store import (
    ArtifactInfo,
    Experiment,
    InvalidInput,
    Metric,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
    open_store,
)
from ..store.interface import Store
from ..store.registry import PagedList  # one paged-results list (searches of runs and models)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _operations(synchronous: bool | None) -> Any:
    """What MLflow returns for ``synchronous=False``: here the call has stored everything."""
    if synchronous is not False:
        return None
    from .fluent import RunOperations, _done

    return RunOperations(_done)


try:  # the registry methods, when the models package is present
    from ..models.client import RegistryClientMixin as _RegistryBase
except ImportError:  # pragma: no cover - during development of the registry

    class _RegistryBase:  # type: ignore[no-redef]
        pass


class TrackClient(_RegistryBase):
    """Client for one store (``tracking_uri``: ``sqlite:///path``, a path, or None: the store
    :func:`jupyter_track.set_tracking_uri` chose, else the environment's or the default).

    ``jupyter_track.MlflowClient`` is this class under MLflow's name. ``registry_uri`` must name
    the same store (the registry lives in the tracking store).
    """

    def __init__(
        self,
        tracking_uri: str | os.PathLike[str] | None = None,
        registry_uri: str | os.PathLike[str] | None = None,
    ):
        from . import session

        if tracking_uri is None:
            tracking_uri = session.current().tracking_uri  # as MLflow: set_tracking_uri's
        self._store: Store = open_store(tracking_uri)
        if registry_uri is not None and resolve_uri(registry_uri) != resolve_uri(tracking_uri):
            raise InvalidInput(
                f"registry_uri {os.fspath(registry_uri)!r}: the registry lives in the tracking "
                f"store ({self._store.uri}); use that URI"
            )

    @property
    def store(self) -> Store:  # type: ignore[override]
        """The client's store; runs this process started and has not written yet are written
        first, so the client reads what the fluent API logged (read-your-writes)."""
        from . import session

        session.current().write_pending_runs()
        return self._store

    @property
    def tracking_uri(self) -> str:
        return self.store.uri

    # --------------------------------------------------------------------- experiments

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
    ) -> str:
        return self.store.create_experiment(name, artifact_location, dict(tags or {}))

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.store.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """One page of experiments matching ``filter_string`` (``.token`` fetches the next),
        as ``MlflowClient.search_experiments``; see :func:`jupyter_track.search_experiments`."""
        from .fluent import _store_method

        page, token = _store_method(self.store, "search_experiments_page")(
            filter_string or None,
            view_type=view_type,
            max_results=max_results,
            order_by=order_by,
            page_token=page_token,
        )
        return PagedList(page, token)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Give an experiment another name (``RESOURCE_ALREADY_EXISTS`` when taken)."""
        from .fluent import _store_method

        _store_method(self.store, "rename_experiment")(experiment_id, new_name)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from an experiment."""
        from .fluent import _store_method

        _store_method(self.store, "delete_experiment_tag")(experiment_id, key)

    def delete_experiment(self, experiment_id: str) -> None:
        self.store.set_experiment_lifecycle(experiment_id, "deleted")

    def restore_experiment(self, experiment_id: str) -> None:
        self.store.set_experiment_lifecycle(experiment_id, "active")

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self.store.set_experiment_tag(experiment_id, key, value)

    # ---------------------------------------------------------------------------- runs

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        from .. import provenance
        from ..store.names import random_run_name

        user, _ = provenance.current_user()
        all_tags = {"mlflow.user": user, **dict(tags or {})}
        if "mlflow.runName" in all_tags:  # MLflow: the tag names the run
            run_name = str(all_tags["mlflow.runName"])
        all_tags["mlflow.runName"] = run_name = run_name or random_run_name()
        info = self.store.create_run(
            experiment_id,
            run_name=run_name,
            user_id=user,
            start_time=start_time,
            tags=all_tags,
            parent_run_id=all_tags.get("mlflow.parentRunId"),
        )
        return self.store.get_run(info.run_id)

    def get_parent_run(self, run_id: str) -> Run | None:
        """The parent of ``run_id`` (a nested run), or None for a top-level run."""
        run = self.store.get_run(run_id)
        parent_id = run.info.parent_run_id or run.data.tags.get("mlflow.parentRunId")
        return self.store.get_run(parent_id) if parent_id else None

    def get_run(self, run_id: str) -> Run:
        """The run, with its inputs' whole records (``run.inputs.dataset_inputs``)."""
        from ..lineage.inputs import with_details

        store = self.store
        return with_details(store, store.get_run(run_id))

    def update_run(
        self,
        run_id: str,
        status: str | None = None,
        name: str | None = None,
        end_time: int | None = None,
    ) -> None:
        self.store.update_run(run_id, status=status, run_name=name, end_time=end_time)

    def set_terminated(
        self, run_id: str, status: str = RunStatus.FINISHED, end_time: int | None = None
    ) -> None:
        """End a run with ``status`` (FINISHED, FAILED or KILLED)."""
        if status not in RunStatus.TERMINAL:
            raise InvalidInput(f"status {status!r}: must be one of FINISHED, FAILED, KILLED")
        self.store.update_run(
            run_id, status=status, end_time=end_time if end_time is not None else _now_ms()
        )

    def delete_run(self, run_id: str) -> None:
        self.store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.store.restore_run(run_id)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """One page of runs (``.token`` fetches the next), as ``MlflowClient.search_runs``."""
        page = self.store.search_runs(
            experiment_ids,
            filter_string,
            run_view_type=run_view_type,
            max_results=max_results,
            order_by=order_by,
            page_token=page_token,
        )
        return PagedList(page.runs, page.next_page_token)

    # ------------------------------------------------------------------------- logging

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        """Log a param (stored before returning); returns its value, or a finished
        ``RunOperations`` with ``synchronous=False`` (MLflow's)."""
        self.store.log_params(run_id, {key: value})
        return _operations(synchronous) if synchronous is False else value

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
    ) -> Any:
        """Log one point (stored before returning)."""
        self.store.log_metrics(run_id, [(key, value, timestamp or _now_ms(), step or 0)])
        return _operations(synchronous)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> Any:
        """Log metrics, params and tags; bad entries raise after the valid ones are stored."""
        self._log_batch(run_id, metrics, params, tags)
        return _operations(synchronous)

    def _log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric],
        params: Sequence[Param],
        tags: Sequence[RunTag],
    ) -> None:
        errors: list[str] = []
        if params:
            try:
                self.store.log_params(run_id, {p.key: p.value for p in params})
            except InvalidInput as exc:
                errors.append(str(exc))
        if tags:
            try:
                self.store.set_tags(run_id, {t.key: t.value for t in tags})
            except InvalidInput as exc:
                errors.append(str(exc))
        if metrics:
            try:
                self.store.log_metrics(run_id, metrics)
            except InvalidInput as exc:
                errors.append(str(exc))
        if errors:
            raise InvalidInput("; ".join(errors))

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        """Set a tag on a run (stored before returning)."""
        self.store.set_tags(run_id, {key: value})
        return _operations(synchronous)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.store.delete_tag(run_id, key)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return self.store.get_metric_history(run_id, key)

    # ----------------------------------------------------------------------- artifacts

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a file (or a folder, under its own name, as MLflow) into the run's artifacts."""
        from .fluent import artifact_path_for

        self.store.add_artifact(run_id, local_path, artifact_path_for(local_path, artifact_path))

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        self.store.add_artifact(run_id, local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self.store.write_artifact_bytes(run_id, artifact_file, text.encode("utf-8"))

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        self.log_text(run_id, json.dumps(dictionary, indent=2, default=str), artifact_file)

    def log_image(
        self,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Save an image as ``artifact_file``, or as step ``step`` of the series ``key``."""
        from . import tables

        tables.log_image(self.store, run_id, image, artifact_file, key, step, timestamp)

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """Save a DataFrame (or dict of columns) as a table of the run (rows appended)."""
        from . import tables

        tables.log_table(self.store, run_id, data, artifact_file)

    def load_table(
        self,
        experiment_id: str,
        artifact_file: str,
        run_ids: Sequence[str] | None = None,
        extra_columns: Sequence[str] | None = None,
    ) -> Any:
        """The table ``artifact_file`` of every run of ``experiment_id`` that has it."""
        from . import tables

        return tables.load_table(self.store, [experiment_id], artifact_file, run_ids, extra_columns)

    def log_inputs(
        self, run_id: str, datasets: Sequence[Any] | None = None, models: Sequence[Any] = ()
    ) -> None:
        """Record MLflow ``DatasetInput`` entities as inputs of ``run_id`` (as
        ``jt.log_input``, searchable, listed by ``get_run(...).inputs``); ``models`` is not
        recorded."""
        from ..lineage.inputs import entity_record, record_inputs

        records = [entity_record(item) for item in datasets or []]
        record_inputs(self.store, run_id, records, require_active=hasattr(self.store, "log_batch"))

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
        return self.store.list_artifacts(run_id, path)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        """Local path of an artifact (copied to ``dst_path`` when given)."""
        source = self.store.artifact_path(run_id, path)
        if not source.exists():
            from ..store import NotFound

            raise NotFound(f"artifact {path!r} does not exist in run {run_id}")
        if dst_path is None:
            return str(source)
        import shutil

        target = os.path.join(dst_path, source.name)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
        return target

    def get_run_info(self, run_id: str) -> RunInfo:
        return self.store.get_run(run_id).info
