"""An MLflow file store (an ``mlruns`` folder), read-only.

MLflow's layout: ``<experiment id>/meta.yaml`` (deleted experiments under ``.trash/``), a folder
per run with ``meta.yaml``, ``params/``, ``tags/`` and ``metrics/`` (one file per key, nested
folders for keys with '/', a line ``<timestamp> <value> <step>`` per point), MLflow 3 logged
models under ``<experiment>/models/<model id>/``, and the registry under ``models/<name>/``
(``meta.yaml`` with the aliases, ``tags/``, ``version-<n>/meta.yaml``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

from . import local
from .model import (
    STATUS_BY_NUMBER,
    ArtifactFile,
    Closing,
    SourceError,
    SourceExperiment,
    SourceLoggedModel,
    SourceModel,
    SourceRun,
    SourceVersion,
)

_NOT_RUNS = {"models", "tags", "datasets", "traces", "outputs"}


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SourceError(f"{path}: cannot be read ({exc})") from None
    return data if isinstance(data, dict) else {}


def _values(folder: Path) -> dict[str, str]:
    """key -> text for every file below ``folder`` (keys with '/' are nested folders)."""
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


class FileSource(Closing):
    """Reads an ``mlruns`` folder (and the artifacts its runs point to on this machine)."""

    def __init__(self, location: str, *, artifacts_destination: Path | None = None):
        parsed = urlparse(location)
        raw = unquote(parsed.path) if parsed.scheme == "file" else location
        self.root = Path(raw).expanduser().absolute()
        if not self.root.is_dir():
            raise SourceError(f"{location!r}: no such folder")
        if not any((d / "meta.yaml").is_file() for d in self.root.iterdir() if d.is_dir()):
            raise SourceError(f"{self.root}: not an MLflow file store (no <experiment>/meta.yaml)")
        self.uri = self.root.as_uri()
        self.proxied_root = artifacts_destination
        self._experiment_dirs: dict[str, Path] = {}

    # -------------------------------------------------------------------------- tracking

    def experiments(self) -> Iterator[SourceExperiment]:
        folders = [d for d in self.root.iterdir() if d.is_dir() and d.name.isdigit()]
        trash = self.root / ".trash"
        if trash.is_dir():
            folders += [d for d in trash.iterdir() if d.is_dir() and d.name.isdigit()]
        for folder in sorted(folders, key=lambda d: int(d.name)):
            meta_path = folder / "meta.yaml"
            if not meta_path.is_file():
                continue
            meta = _read_yaml(meta_path)
            key = str(meta.get("experiment_id", folder.name))
            self._experiment_dirs[key] = folder
            stage = meta.get("lifecycle_stage") or (
                "deleted" if folder.parent == trash else "active"
            )
            yield SourceExperiment(
                key,
                str(meta.get("name", key)),
                stage,
                _int(meta.get("creation_time")),
                _int(meta.get("last_update_time")),
                _values(folder / "tags"),
            )

    def runs(self, experiment: SourceExperiment) -> Iterator[SourceRun]:
        folder = self._experiment_dirs[experiment.key]
        runs = []
        for run_dir in folder.iterdir():
            if run_dir.name in _NOT_RUNS or not (run_dir / "meta.yaml").is_file():
                continue
            meta = _read_yaml(run_dir / "meta.yaml")
            run_id = str(meta.get("run_id") or meta.get("run_uuid") or run_dir.name)
            status = meta.get("status", 3)
            tags = _values(run_dir / "tags")
            metrics_dir = run_dir / "metrics"
            keys = (
                sorted(
                    p.relative_to(metrics_dir).as_posix()
                    for p in metrics_dir.rglob("*")
                    if p.is_file()
                )
                if metrics_dir.is_dir()
                else []
            )
            artifacts = local.first_folder(
                local.uri_to_path(
                    meta.get("artifact_uri"), base=self.root, proxied_root=self.proxied_root
                ),
                [
                    run_dir / "artifacts",
                ],
            )
            runs.append(
                SourceRun(
                    run_id=run_id,
                    experiment_key=experiment.key,
                    name=meta.get("run_name") or tags.get("mlflow.runName"),
                    status=STATUS_BY_NUMBER.get(status, str(status))
                    if isinstance(status, int)
                    else str(status),
                    start_time=_int(meta.get("start_time")) or 0,
                    end_time=_int(meta.get("end_time")),
                    lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
                    user_id=meta.get("user_id"),
                    params=_values(run_dir / "params"),
                    tags=tags,
                    metric_keys=keys,
                    artifacts=artifacts,
                    artifact_uri=str(meta.get("artifact_uri") or ""),
                )
            )
        yield from sorted(runs, key=lambda r: (r.start_time, r.run_id))

    def _run_dir(self, run: SourceRun) -> Path:
        return self._experiment_dirs[run.experiment_key] / run.run_id

    def metric_history(self, run: SourceRun, key: str) -> Iterator[tuple[float, int, int]]:
        path = self._run_dir(run) / "metrics" / key
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                parts = line.split()
                if not parts:
                    continue
                try:
                    timestamp, value = int(parts[0]), float(parts[1])
                    step = int(parts[2]) if len(parts) > 2 else 0
                except (IndexError, ValueError):
                    raise SourceError(
                        f"{path}:{number}: not '<timestamp> <value> <step>'"
                    ) from None
                yield value, timestamp, step

    def logged_models(self, run: SourceRun) -> list[SourceLoggedModel]:
        models_dir = self._experiment_dirs[run.experiment_key] / "models"
        if not models_dir.is_dir():
            return []
        found = []
        for model_dir in sorted(models_dir.iterdir()):
            meta_path = model_dir / "meta.yaml"
            if not meta_path.is_file():
                continue
            meta = _read_yaml(meta_path)
            if meta.get("source_run_id") != run.run_id:
                continue
            folder = local.first_folder(
                local.uri_to_path(
                    meta.get("artifact_location"),
                    base=self.root,
                    proxied_root=self.proxied_root,
                ),
                [
                    model_dir / "artifacts",
                ],
            )
            model_id = str(meta.get("model_id") or model_dir.name)
            found.append(
                SourceLoggedModel(model_id, str(meta.get("name") or model_id), run.run_id, folder)
            )
        return found

    def artifact_files(self, location: Any) -> Iterator[ArtifactFile]:
        return local.list_files(location)

    def copy_artifact(self, location: Any, path: str, target: Path) -> None:
        local.copy_file(location, path, target)

    # -------------------------------------------------------------------------- registry

    def models(self) -> Iterator[SourceModel]:
        registry = self.root / "models"
        if not registry.is_dir():
            return
        for folder in sorted(registry.iterdir()):
            if not (folder / "meta.yaml").is_file():
                continue
            meta = _read_yaml(folder / "meta.yaml")
            aliases = {
                str(alias): int(version)
                for alias, version in (meta.get("aliases") or {}).items()
                if _int(version) is not None
            }
            yield SourceModel(
                str(meta.get("name") or folder.name),
                meta.get("description") or None,
                _int(meta.get("creation_timestamp")),
                _int(meta.get("last_updated_timestamp")),
                _values(folder / "tags"),
                aliases,
            )

    def versions(self, model: SourceModel) -> Iterator[SourceVersion]:
        folder = self.root / "models" / model.name
        found = []
        for version_dir in folder.glob("version-*"):
            if not (version_dir / "meta.yaml").is_file():
                continue
            meta = _read_yaml(version_dir / "meta.yaml")
            number = _int(meta.get("version"))
            if number is None or meta.get("current_stage") == "Deleted_Internal":
                continue
            found.append(
                SourceVersion(
                    number,
                    str(meta.get("source") or ""),
                    meta.get("run_id") or None,
                    meta.get("description") or None,
                    meta.get("user_id") or None,
                    str(meta.get("status") or "READY"),
                    _int(meta.get("creation_timestamp")),
                    _int(meta.get("last_updated_timestamp")),
                    _values(version_dir / "tags"),
                    meta.get("model_id") or None,
                )
            )
        yield from sorted(found, key=lambda v: v.version)

    def close(self) -> None:
        return None
