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


try:  # the registry methods, when the models package is present
    from ..models.client import RegistryClientMixin as _RegistryBase
except ImportError:  # pragma: no cover - during development of the registry

    class _RegistryBase:  # type: ignore[no-redef]
        pass


class TrackClient(_RegistryBase):
    """Client for one store (``tracking_uri``: ``sqlite:///path``, a path, or the default)."""

    def __init__(self, tracking_uri: str | os.PathLike[str] | None = None):
        self._store: Store = open_store(tracking_uri)

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

    def search_experiments(self, view_type: int = ViewType.ACTIVE_ONLY) -> list[Experiment]:
        experiments = self.store.search_experiments(
            include_deleted=view_type != ViewType.ACTIVE_ONLY
        )
        if view_type == ViewType.DELETED_ONLY:
            experiments = [e for e in experiments if e.lifecycle_stage == "deleted"]
        return experiments

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

        user, _ = provenance.current_user()
        info = self.store.create_run(
            experiment_id,
            run_name=run_name,
            user_id=user,
            start_time=start_time,
            tags=dict(tags or {}),
        )
        return self.store.get_run(info.run_id)

    def get_run(self, run_id: str) -> Run:
        return self.store.get_run(run_id)

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

    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        self.store.log_params(run_id, {key: value})
        return value

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
    ) -> None:
        self.store.log_metrics(run_id, [(key, value, timestamp or _now_ms(), step or 0)])

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log metrics, params and tags; bad entries raise after the valid ones are stored."""
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

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.store.set_tags(run_id, {key: value})

    def delete_tag(self, run_id: str, key: str) -> None:
        self.store.delete_tag(run_id, key)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return self.store.get_metric_history(run_id, key)

    # ----------------------------------------------------------------------- artifacts

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        self.store.add_artifact(run_id, local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        self.store.add_artifact(run_id, local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self.store.write_artifact_bytes(run_id, artifact_file, text.encode("utf-8"))

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        self.log_text(run_id, json.dumps(dictionary, indent=2, default=str), artifact_file)

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
