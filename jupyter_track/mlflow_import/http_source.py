"""An MLflow tracking server (``http(s)://host:5000``), read through its REST API.

Experiments and runs come from ``experiments/search`` and ``runs/search`` (deleted ones
included), metric histories from ``metrics/get-history`` in pages, MLflow 3 logged models from
``logged-models/search``, the registry from ``registered-models/search`` and
``model-versions/search``. Artifacts come through the server: its artifact proxy
(``mlflow-artifacts:`` locations) or ``get-artifact`` / the logged-model artifact routes.
Credentials are MLflow's: ``MLFLOW_TRACKING_TOKEN`` (bearer), ``MLFLOW_TRACKING_USERNAME`` and
``MLFLOW_TRACKING_PASSWORD`` (basic), or ``user:password@`` in the URL; they never appear in what
the import records or prints.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse, urlunparse

import httpx

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

API = "api/2.0/mlflow"
PROXY = "api/2.0/mlflow-artifacts/artifacts"
PAGE = 1000
HISTORY_PAGE = 25_000


def _number(value: Any) -> float:
    if isinstance(value, str):
        return {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf}.get(
            value.lower(), math.nan
        )
    return float(value)


def _pairs(items: Any) -> dict[str, str]:
    return {i["key"]: i.get("value", "") for i in items or [] if isinstance(i, dict)}


def redact(url: str) -> str:
    """The URL without user and password."""
    parts = urlparse(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunparse(parts._replace(netloc=netloc))


class HttpSource(Closing):
    """Reads an MLflow tracking server (or anything serving MLflow's REST protocol)."""

    def __init__(self, url: str, *, timeout: float = 120.0):
        parts = urlparse(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceError(f"{url!r}: expected http(s)://host[:port][/path]")
        self.uri = redact(url).rstrip("/")
        auth: Any = None
        headers = {}
        if parts.username:
            auth = (parts.username, parts.password or "")
        elif os.environ.get("MLFLOW_TRACKING_USERNAME"):
            auth = (
                os.environ["MLFLOW_TRACKING_USERNAME"],
                os.environ.get("MLFLOW_TRACKING_PASSWORD", ""),
            )
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.client = httpx.Client(
            base_url=self.uri + "/", auth=auth, headers=headers, timeout=timeout
        )
        self._logged: dict[str, list[dict[str, Any]]] = {}
        self.call("GET", f"{API}/experiments/search", params={"max_results": 1})  # reachable?

    def call(
        self, method: str, path: str, *, params: Any = None, body: Any = None
    ) -> dict[str, Any]:
        """One JSON call; a failure is a :class:`SourceError` naming the call and the reason."""
        try:
            response = self.client.request(method, path, params=params, json=body)
        except httpx.HTTPError as exc:
            raise SourceError(f"{self.uri}: {method} {path} failed: {exc}") from None
        if response.status_code != 200:
            try:
                detail = response.json().get("message") or response.text[:300]
            except ValueError:
                detail = response.text[:300]
            raise SourceError(
                f"{self.uri}: {method} {path} answered {response.status_code}: {detail}"
            )
        try:
            data = response.json()
        except ValueError:
            raise SourceError(f"{self.uri}: {method} {path} did not answer JSON") from None
        return data if isinstance(data, dict) else {}

    def _pages(self, method: str, path: str, field: str, request: dict[str, Any]) -> Iterator[Any]:
        token = None
        while True:
            query = dict(request, page_token=token) if token else dict(request)
            if method == "GET":
                data = self.call("GET", path, params=query)
            else:
                data = self.call("POST", path, body=query)
            yield from data.get(field) or []
            token = data.get("next_page_token")
            if not token:
                return

    # -------------------------------------------------------------------------- tracking

    def experiments(self) -> Iterator[SourceExperiment]:
        for e in self._pages(
            "POST",
            f"{API}/experiments/search",
            "experiments",
            {"view_type": "ALL", "max_results": PAGE},
        ):
            yield SourceExperiment(
                str(e["experiment_id"]),
                e["name"],
                e.get("lifecycle_stage", "active"),
                e.get("creation_time"),
                e.get("last_update_time"),
                _pairs(e.get("tags")),
            )

    def runs(self, experiment: SourceExperiment) -> Iterator[SourceRun]:
        for r in self._pages(
            "POST",
            f"{API}/runs/search",
            "runs",
            {"experiment_ids": [experiment.key], "run_view_type": "ALL", "max_results": PAGE},
        ):
            info, data = r["info"], r.get("data") or {}
            tags = _pairs(data.get("tags"))
            run_id = info.get("run_id") or info["run_uuid"]
            artifact_uri = info.get("artifact_uri", "")
            yield SourceRun(
                run_id=run_id,
                experiment_key=experiment.key,
                name=info.get("run_name") or tags.get("mlflow.runName"),
                status=info.get("status", "FINISHED"),
                start_time=int(info.get("start_time") or 0),
                end_time=None if info.get("end_time") is None else int(info["end_time"]),
                lifecycle_stage=info.get("lifecycle_stage", "active"),
                user_id=info.get("user_id"),
                params=_pairs(data.get("params")),
                tags=tags,
                metric_keys=sorted({m["key"] for m in data.get("metrics") or []}),
                artifacts=("run", run_id, artifact_uri),
                artifact_uri=artifact_uri,
            )

    def metric_history(self, run: SourceRun, key: str) -> Iterator[tuple[float, int, int]]:
        for m in self._pages(
            "GET",
            f"{API}/metrics/get-history",
            "metrics",
            {"run_id": run.run_id, "metric_key": key, "max_results": HISTORY_PAGE},
        ):
            yield (
                _number(m.get("value", 0.0)),
                int(m.get("timestamp") or 0),
                int(m.get("step") or 0),
            )

    def logged_models(self, run: SourceRun) -> list[SourceLoggedModel]:
        if run.experiment_key not in self._logged:
            try:
                self._logged[run.experiment_key] = list(
                    self._pages(
                        "POST",
                        f"{API}/logged-models/search",
                        "models",
                        {"experiment_ids": [run.experiment_key], "max_results": 100},
                    )
                )
            except SourceError:
                self._logged[run.experiment_key] = []  # a server without logged models
        found = []
        for model in self._logged[run.experiment_key]:
            info = model.get("info") or {}
            if info.get("source_run_id") != run.run_id:
                continue
            model_id = info["model_id"]
            location = ("model", model_id, info.get("artifact_uri", ""))
            found.append(
                SourceLoggedModel(model_id, info.get("name") or model_id, run.run_id, location)
            )
        return found

    # ------------------------------------------------------------------------- artifacts

    @staticmethod
    def _proxied(location: tuple[str, str, str]) -> str | None:
        """The proxy path of a location, or None when the server keeps it elsewhere."""
        uri = location[2]
        if uri.startswith("mlflow-artifacts:"):
            return urlparse(uri).path.strip("/")
        return None

    def artifact_files(self, location: Any) -> Iterator[ArtifactFile]:
        kind, key, _ = location
        root = self._proxied(location)
        pending = [""]
        while pending:
            folder = pending.pop()
            if root is not None:
                data = self.call("GET", PROXY, params={"path": f"{root}/{folder}".rstrip("/")})
                entries = [
                    (f"{folder}/{f['path']}".lstrip("/"), f) for f in data.get("files") or []
                ]
            elif kind == "run":
                data = self.call(
                    "GET", f"{API}/artifacts/list", params={"run_id": key, "path": folder}
                )
                entries = [(f["path"], f) for f in data.get("files") or []]
            else:
                data = self.call(
                    "GET",
                    f"{API}/logged-models/{quote(key)}/artifacts/directories",
                    params={"artifact_directory_path": folder} if folder else None,
                )
                entries = [(f["path"], f) for f in data.get("files") or []]
            for path, entry in sorted(entries):
                if entry.get("is_dir"):
                    pending.append(path)
                else:
                    size = entry.get("file_size")
                    yield ArtifactFile(path, None if size is None else int(size))

    def copy_artifact(self, location: Any, path: str, target: Path) -> None:
        kind, key, _ = location
        root = self._proxied(location)
        if root is not None:
            request: tuple[str, Any] = (f"{PROXY}/{quote(f'{root}/{path}')}", None)
        elif kind == "run":
            request = ("get-artifact", {"run_uuid": key, "path": path})
        else:
            request = (
                f"ajax-api/2.0/mlflow/logged-models/{quote(key)}/artifacts/files",
                {"artifact_file_path": path},
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.client.stream("GET", request[0], params=request[1]) as response:
                if response.status_code != 200:
                    raise SourceError(
                        f"{self.uri}: artifact {path!r} answered {response.status_code}"
                    )
                with target.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 20):
                        out.write(chunk)
        except httpx.HTTPError as exc:
            raise SourceError(f"{self.uri}: artifact {path!r}: {exc}") from None

    # -------------------------------------------------------------------------- registry

    def models(self) -> Iterator[SourceModel]:
        for m in self._pages(
            "GET", f"{API}/registered-models/search", "registered_models", {"max_results": PAGE}
        ):
            aliases = {
                a["alias"]: int(a["version"])
                for a in m.get("aliases") or []
                if str(a.get("version", "")).isascii() and str(a.get("version", "")).isdigit()
            }
            yield SourceModel(
                m["name"],
                m.get("description") or None,
                m.get("creation_timestamp"),
                m.get("last_updated_timestamp"),
                _pairs(m.get("tags")),
                aliases,
            )

    def versions(self, model: SourceModel) -> Iterator[SourceVersion]:
        name = model.name.replace("'", "\\'")
        found = []
        for v in self._pages(
            "GET",
            f"{API}/model-versions/search",
            "model_versions",
            {"filter": f"name = '{name}'", "max_results": 10_000},
        ):
            source = v.get("source", "")
            model_id = v.get("model_id") or (
                source[len("models:/") :] if source.startswith("models:/m-") else None
            )
            found.append(
                SourceVersion(
                    int(v["version"]),
                    source,
                    v.get("run_id") or None,
                    v.get("description") or None,
                    v.get("user_id") or None,
                    v.get("status") or "READY",
                    v.get("creation_timestamp"),
                    v.get("last_updated_timestamp"),
                    _pairs(v.get("tags")),
                    model_id,
                )
            )
        yield from sorted(found, key=lambda v: v.version)

    def close(self) -> None:
        self.client.close()
