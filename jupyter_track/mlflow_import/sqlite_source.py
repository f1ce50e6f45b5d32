"""An MLflow tracking database in SQLite (``sqlite:///path/mlflow.db``), read-only.

Read with plain SQL from MLflow's own tables (``experiments``, ``runs``, ``params``, ``tags``,
``metrics``, ``logged_models``, ``registered_models``, ``model_versions``, their tag tables and
``registered_model_aliases``); the file is opened read-only, so the import never changes it.
Versions MLflow marked deleted (stage ``Deleted_Internal``) are left out.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import local
from .model import (
    ArtifactFile,
    Closing,
    SourceError,
    SourceExperiment,
    SourceLoggedModel,
    SourceModel,
    SourceRun,
    SourceVersion,
)


def path_from_uri(uri: str) -> Path:
    """``sqlite:///rel.db`` -> rel.db, ``sqlite:////abs.db`` -> /abs.db (SQLAlchemy's rule)."""
    if not uri.startswith("sqlite:///"):
        raise SourceError(f"{uri!r}: expected sqlite:///path/to/mlflow.db")
    return Path(uri[len("sqlite:///") :]).expanduser()


class SQLiteSource(Closing):
    """Reads an MLflow SQLite store (and the artifacts its runs point to on this machine)."""

    def __init__(self, uri: str, *, artifacts_destination: Path | None = None):
        self.path = path_from_uri(uri).absolute()
        if not self.path.is_file():
            raise SourceError(f"{uri!r}: no such file {self.path}")
        self.uri = f"sqlite:///{self.path}"
        try:
            self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            self.conn.execute("SELECT 1 FROM experiments LIMIT 1").fetchall()
            self.conn.execute("SELECT run_uuid FROM runs LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise SourceError(f"{self.path}: not an MLflow tracking database ({exc})") from None
        self.base = self.path.parent
        default_proxy = self.base / "mlartifacts"
        self.proxied_root = artifacts_destination or (
            default_proxy if default_proxy.is_dir() else None
        )
        self.tables = {
            name
            for (name,) in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }

    def _columns(self, table: str) -> set[str]:
        return {row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")}

    # -------------------------------------------------------------------------- tracking

    def experiments(self) -> Iterator[SourceExperiment]:
        rows = self.conn.execute(
            "SELECT experiment_id, name, lifecycle_stage, creation_time, last_update_time "
            "FROM experiments ORDER BY experiment_id"
        ).fetchall()
        for key, name, stage, created, updated in rows:
            tags = dict(
                self.conn.execute(
                    "SELECT key, value FROM experiment_tags WHERE experiment_id = ?", (key,)
                ).fetchall()
            )
            yield SourceExperiment(str(key), name, stage or "active", created, updated, tags)

    def runs(self, experiment: SourceExperiment) -> Iterator[SourceRun]:
        rows = self.conn.execute(
            "SELECT run_uuid, name, status, start_time, end_time, lifecycle_stage, user_id, "
            "artifact_uri FROM runs WHERE experiment_id = ? ORDER BY start_time, run_uuid",
            (int(experiment.key),),
        ).fetchall()
        for run_id, name, status, start, end, stage, user, artifact_uri in rows:
            params = dict(
                self.conn.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run_id,))
            )
            tags = {
                k: v or ""
                for k, v in self.conn.execute(
                    "SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,)
                )
            }
            keys = [
                k
                for (k,) in self.conn.execute(
                    "SELECT DISTINCT key FROM metrics WHERE run_uuid = ? ORDER BY key", (run_id,)
                )
            ]
            folder = local.first_folder(
                local.uri_to_path(artifact_uri, base=self.base, proxied_root=self.proxied_root),
                [
                    self.base / "mlruns" / experiment.key / run_id / "artifacts",
                ],
            )
            yield SourceRun(
                run_id=run_id,
                experiment_key=experiment.key,
                name=name or tags.get("mlflow.runName"),
                status=status or "FINISHED",
                start_time=int(start or 0),
                end_time=None if end is None else int(end),
                lifecycle_stage=stage or "active",
                user_id=user,
                params=params,
                tags=tags,
                metric_keys=keys,
                artifacts=folder,
                artifact_uri=artifact_uri or "",
            )

    def metric_history(self, run: SourceRun, key: str) -> Iterator[tuple[float, int, int]]:
        for value, timestamp, step, is_nan in self.conn.execute(
            "SELECT value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? AND key = ? "
            "ORDER BY step, timestamp",
            (run.run_id, key),
        ):
            yield (math.nan if is_nan else float(value)), int(timestamp), int(step or 0)

    def logged_models(self, run: SourceRun) -> list[SourceLoggedModel]:
        if "logged_models" not in self.tables:
            return []
        found = []
        for model_id, name, location, experiment_id in self.conn.execute(
            "SELECT model_id, name, artifact_location, experiment_id FROM logged_models "
            "WHERE source_run_id = ? AND lifecycle_stage = 'active' ORDER BY creation_timestamp_ms",
            (run.run_id,),
        ):
            folder = local.first_folder(
                local.uri_to_path(location, base=self.base, proxied_root=self.proxied_root),
                [
                    self.base / "mlruns" / str(experiment_id) / "models" / model_id / "artifacts",
                ],
            )
            found.append(SourceLoggedModel(model_id, name or model_id, run.run_id, folder))
        return found

    def artifact_files(self, location: Any) -> Iterator[ArtifactFile]:
        return local.list_files(location)

    def copy_artifact(self, location: Any, path: str, target: Path) -> None:
        local.copy_file(location, path, target)

    # -------------------------------------------------------------------------- registry

    def models(self) -> Iterator[SourceModel]:
        if "registered_models" not in self.tables:
            return
        rows = self.conn.execute(
            "SELECT name, description, creation_time, last_updated_time FROM registered_models "
            "ORDER BY name"
        ).fetchall()
        for name, description, created, updated in rows:
            tags = dict(
                self.conn.execute(
                    "SELECT key, value FROM registered_model_tags WHERE name = ?", (name,)
                )
            )
            aliases: dict[str, int] = {}
            if "registered_model_aliases" in self.tables:
                aliases = {
                    alias: int(version)
                    for alias, version in self.conn.execute(
                        "SELECT alias, version FROM registered_model_aliases WHERE name = ?",
                        (name,),
                    )
                }
            yield SourceModel(name, description, created, updated, tags, aliases)

    def versions(self, model: SourceModel) -> Iterator[SourceVersion]:
        rows = self.conn.execute(
            "SELECT version, source, run_id, description, user_id, status, creation_time, "
            "last_updated_time FROM model_versions WHERE name = ? "
            "AND current_stage != 'Deleted_Internal' ORDER BY version",
            (model.name,),
        ).fetchall()
        for version, source, run_id, description, user, status, created, updated in rows:
            tags = dict(
                self.conn.execute(
                    "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?",
                    (model.name, version),
                )
            )
            model_id = (
                source[len("models:/") :] if (source or "").startswith("models:/m-") else None
            )
            yield SourceVersion(
                int(version),
                source or "",
                run_id or None,
                description or None,
                user or None,
                status or "READY",
                created,
                updated,
                tags,
                model_id,
            )

    def close(self) -> None:
        self.conn.close()
