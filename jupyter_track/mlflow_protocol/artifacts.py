"""The artifact proxy's paths: ``<experiment_id>/<run_id>/artifacts/<path>`` -> a run's file.

MLflow's client reads and writes a run's artifacts through
``{tracking_uri}/api/2.0/mlflow-artifacts/artifacts/<path>`` when the run's ``artifact_uri`` is
``mlflow-artifacts:/<experiment_id>/<run_id>/artifacts`` (what this server gives every run). The
store confines every path to the run's own folder (no ``..``, no absolute paths, no symlink that
leads out), so nothing outside the artifact root is ever read or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..store import SQLiteStore
from ..store.errors import InvalidInput, NotFound
from .errors import invalid
from .messages import Request, is_digits


@dataclass(frozen=True)
class ArtifactPath:
    """Where a proxy path points: the run and the path inside its artifacts ('' = the root)."""

    experiment_id: str
    run_id: str
    path: str


def parse(proxy_path: str) -> ArtifactPath:
    """``1/<run_id>/artifacts/model/MLmodel`` -> ArtifactPath; anything else is a 404."""
    parts = [p for p in proxy_path.strip("/").split("/")]
    if len(parts) < 3 or parts[2] != "artifacts" or not is_digits(parts[0]):
        raise NotFound(
            f"artifact path {proxy_path!r}: not under <experiment_id>/<run_id>/artifacts "
            "(the artifact_uri of a run on this server)"
        )
    if not (parts[1].isascii() and parts[1].isalnum()):
        raise NotFound(f"artifact path {proxy_path!r}: {parts[1]!r} is not a run id")
    return ArtifactPath(parts[0], parts[1], "/".join(parts[3:]))


def locate(store: SQLiteStore, proxy_path: str, *, file: bool = False) -> ArtifactPath:
    """Parse the path and check that the run exists in that experiment and that the path
    stays inside the run's artifacts (``file``: and names a file, not the root)."""
    where = parse(proxy_path)
    info = store.get_run(where.run_id).info
    if info.experiment_id != where.experiment_id:
        raise NotFound(
            f"artifact path {proxy_path!r}: run {where.run_id} is in experiment "
            f"{info.experiment_id}, not {where.experiment_id}"
        )
    store.artifact_path(where.run_id, where.path or None)  # InvalidInput when it leads out
    if file and not where.path:
        raise InvalidInput(f"artifact path {proxy_path!r}: names the run's folder, not a file")
    return where


def list_proxy(store: SQLiteStore, req: Request) -> dict[str, Any]:
    """``GET mlflow-artifacts/artifacts?path=``: a folder's children by name (nothing for a
    file or a missing path, as MLflow's server answers)."""
    path = req.text("path", max_length=4096) or ""
    try:
        where = locate(store, path)
        items = store.list_artifacts(where.run_id, where.path or None)
    except NotFound:
        return {}
    except InvalidInput as exc:
        raise invalid(f"path: {exc}") from None
    files = []
    for item in items:
        if not item.is_dir and item.path == where.path.strip("/"):
            return {}  # the path is a file
        entry: dict[str, Any] = {"path": item.path.rsplit("/", 1)[-1], "is_dir": item.is_dir}
        if item.size is not None:
            entry["file_size"] = item.size
        files.append(entry)
    return {"files": files} if files else {}
