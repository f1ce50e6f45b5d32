"""The HTTP client store: the store interface, served by the team service (or a Jupyter server).

``open_store("jupyterhub")`` returns one of these; the tracking API, ``%%track``, widgets, the
registry and the CLI call the same methods as on a SQLite store. Calls go to
``POST api/store/{method}`` (:mod:`jupyter_track.server.store_calls`), traces too (the
kernel's writer's ``write_traces``, ``get_trace``, ``search_traces``, feedback); the kernel's
background writer's metric points and cell-log rows go as one gzip-compressed batch per flush
to ``POST api/ingest``; artifacts are uploaded and downloaded through their routes.

Nothing is lost when the service is down, slow or failing (connection error, timeout, 5xx):
batches, and run updates that need no answer (a run's end, tags, params), go to the
:mod:`spool <.spool>` and are delivered in order when it answers again; each batch carries an
id the service writes once. One warning per episode, not one per metric. Calls that need an
answer (creating a run, reading) raise ``StoreUnavailable`` while it is down.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from .. import wire
from ..store.errors import InvalidInput, NotFound, StoreUnavailable, TrackError
from ..store.validation import metric_step, metric_value
from . import spool as spool_mod
from .endpoint import Endpoint, resolve

#: writes whose result nobody reads: spooled (in order) while the service is unreachable
DEFERRABLE = frozenset(
    {
        "update_run",
        "log_params",
        "set_tags",
        "delete_tag",
        "log_metrics",
        "put_environment",
        "set_experiment_tag",
    }
)
RETRY_EVERY = 2.0
#: the service's artifact limit when its ``info`` does not say (older services)
DEFAULT_MAX_ARTIFACT = 1 << 30

T = TypeVar("T")


class ServiceDown(StoreUnavailable):
    """The service did not answer (connection refused or reset, timeout, 5xx)."""


def _json_number(value: float) -> Any:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return value


class HttpStore:
    """The store interface over HTTP (see the module docstring)."""

    engine = "jupyterhub"

    def __init__(self, uri: str, *, endpoint: Endpoint | None = None, timeout: float = 30.0):
        self.endpoint = endpoint or resolve(uri)
        self._uri = uri
        self._client = httpx.Client(
            base_url=self.endpoint.api_url,
            headers={"Authorization": f"token {self.endpoint.token}"},
            timeout=httpx.Timeout(timeout, connect=5.0),
        )
        self.spool_folder = spool_mod.spool_root() / self.endpoint.key
        self.spool = spool_mod.Spool(self.spool_folder)
        self._deliver_lock = threading.RLock()
        self._warned = False
        self._retry: threading.Thread | None = None
        self._closed = False
        self._max_artifact_bytes: int | None = None
        self.cache_root = self.spool_folder.parent.parent / "cache" / self.endpoint.key
        self._deliver_orphans_later()

    # ----------------------------------------------------------------------------- identity

    @property
    def uri(self) -> str:
        return self._uri

    @property
    def location(self) -> str:
        return self.endpoint.base_url

    @property
    def path(self) -> str:  # what callers print as "where the store is"
        return self.endpoint.base_url

    def __repr__(self) -> str:
        return f"HttpStore({self.endpoint.base_url!r})"

    def info(self) -> dict[str, Any]:
        """The service's ``GET info`` (version, schema version, the user it sees)."""
        return self._request("GET", "info").json()

    @property
    def schema_version(self) -> int:
        return int(self.info()["schema_version"])

    # ------------------------------------------------------------------------------ HTTP

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kw)
        except httpx.TransportError as exc:
            raise ServiceDown(
                f"the team service at {self.endpoint.base_url} is unreachable: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if response.status_code >= 500:
            try:
                detail = f"HTTP {response.status_code} {response.json().get('message', '')}"
            except (ValueError, AttributeError):
                detail = _page_error(response)
            raise ServiceDown(f"the team service at {self.endpoint.base_url} failed: {detail}")
        if response.status_code >= 400:
            raise self._error(response)
        return response

    def _error(self, response: httpx.Response) -> Exception:
        try:
            body = response.json()
        except ValueError:  # not the service's JSON: a proxy's or the hub's error page
            body = {"message": _page_error(response)}
        if not isinstance(body, dict):
            body = {"message": str(body)}
        found = wire.decode_error(body)
        if found is not None:
            return found
        message = str(body.get("message") or f"HTTP {response.status_code}")
        if response.status_code == 404:
            return NotFound(message)
        if response.status_code == 403:
            return PermissionDenied(message, body)
        if response.status_code in (400, 413):
            return InvalidInput(message)
        return TrackError(message)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """One store call on the service."""
        if method in DEFERRABLE:
            with self._deliver_lock:
                if len(self.spool) or self._orphans_pending():
                    self._try_deliver()
                if len(self.spool):  # still down: keep the call, in order
                    self._keep({"calls": [[method, wire.encode(list(args)), wire.encode(kwargs)]]})
                    return None
                try:
                    return self._call(method, args, kwargs)
                except ServiceDown as exc:
                    self._keep(
                        {"calls": [[method, wire.encode(list(args)), wire.encode(kwargs)]]},
                        exc,
                    )
                    return None
        return self._call(method, args, kwargs)

    def _call(self, method: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        body = json.dumps({"args": wire.encode(list(args)), "kwargs": wire.encode(dict(kwargs))})
        response = self._request(
            "POST", f"store/{method}", content=body, headers={"Content-Type": "application/json"}
        )
        return wire.decode(response.json()["result"])

    # ---------------------------------------------------------------- batches and the spool

    def write_metric_rows(
        self, rows: Sequence[tuple[Any, str, int, int, float]], *, batch_id: str | None = None
    ) -> None:
        """The background writer's points, as one batch (``run`` is the run id); ``batch_id``
        (the writer's, the same on a retry) names the batch for exactly-once ingest."""
        if rows:
            metrics = [[str(r), k, s, t, _json_number(v)] for r, k, s, t, v in rows]
            batch: dict[str, Any] = {"metrics": metrics}
            if batch_id is not None:
                batch["batch_id"] = batch_id
            self._send_batch(batch)

    def write_cell_executions(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            self._send_batch({"cells": [list(r) for r in rows]})

    def _send_batch(self, batch: dict[str, Any]) -> None:
        batch = {"batch_id": uuid.uuid4().hex, **batch}
        with self._deliver_lock:
            if len(self.spool) or self._orphans_pending():
                self._try_deliver()
            if len(self.spool):
                self._keep(batch)
                return
            try:
                self._post_batch(batch)
            except ServiceDown as exc:
                self._keep(batch, exc)

    def _post_batch(self, batch: dict[str, Any]) -> None:
        body = gzip.compress(json.dumps(batch, separators=(",", ":")).encode(), 1)
        self._request(
            "POST",
            "ingest",
            content=body,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    def _keep(self, batch: dict[str, Any], exc: Exception | None = None) -> None:
        batch.setdefault("batch_id", uuid.uuid4().hex)
        self.spool.append(batch)
        if not self._warned:
            self._warned = True
            reason = f"{exc}. " if exc else ""
            print(
                f"jupyter-track: {reason}Logging continues: points are kept in "
                f"{self.spool.path} and delivered in order when the service answers again.",
                file=sys.stderr,
            )
        self._schedule_retry()

    def _deliver_kept(self, batch: dict[str, Any]) -> None:
        """Send one kept batch. The service refusing it (4xx: a param changed while it was
        down, a run since deleted) must not block the ones behind it: the batch is moved to
        ``rejected.jsonl`` beside the spool with the reason, and a warning says so."""
        try:
            self._post_batch(batch)
        except ServiceDown:
            raise
        except TrackError as exc:
            self.spool_folder.mkdir(parents=True, exist_ok=True)
            with (self.spool_folder / "rejected.jsonl").open("a", encoding="utf-8") as out:
                out.write(json.dumps({"error": str(exc), "batch": batch}) + "\n")
            print(
                f"jupyter-track: the team service refused a kept batch ({exc}); it was moved to "
                f"{self.spool_folder / 'rejected.jsonl'}",
                file=sys.stderr,
            )

    def _try_deliver(self) -> bool:
        """Deliver orphaned and own spooled batches; True when nothing is left."""
        with self._deliver_lock:
            try:
                spool_mod.drain_orphans(self.spool_folder, self._deliver_kept, skip=self.spool.path)
                delivered = self.spool.deliver(self._deliver_kept)
            except ServiceDown:
                return False
            if delivered and self._warned and not len(self.spool):
                self._warned = False
                print(
                    f"jupyter-track: the team service answers again; {delivered} kept batches "
                    "were delivered.",
                    file=sys.stderr,
                )
            return not len(self.spool)

    def _orphans_pending(self) -> bool:
        return self.spool_folder.is_dir() and any(
            p != self.spool.path and p.name != "rejected.jsonl"
            for p in self.spool_folder.glob("*.jsonl")
        )

    def _schedule_retry(self) -> None:
        if self._retry is not None and self._retry.is_alive():
            return

        def loop() -> None:
            while not self._closed and (len(self.spool) or self._orphans_pending()):
                time.sleep(RETRY_EVERY)
                if self._try_deliver() and not self._orphans_pending():
                    return

        self._retry = threading.Thread(target=loop, name="jupyter-track-spool", daemon=True)
        self._retry.start()

    def _deliver_orphans_later(self) -> None:
        """A kernel restarted with a non-empty spool delivers it (in the background)."""
        if self._orphans_pending():
            self._schedule_retry()

    def flush_spool(self) -> bool:
        """Deliver what is kept now; True when the spool is empty."""
        return self._try_deliver()

    # ------------------------------------------------------------------- local operations

    def run_pk(self, run_id: str) -> str:
        """The kernel's handle of a run: here, the run id itself."""
        return run_id

    run_handle = run_pk

    def validate_metric_point(self, key: Any, value: Any, step: Any) -> tuple[float, int]:
        return metric_value(key, value), metric_step(key, step)

    # --------------------------------------------------------------------------- artifacts

    @property
    def max_artifact_bytes(self) -> int:
        """The largest artifact the service accepts (its ``GET info``, asked once)."""
        if self._max_artifact_bytes is None:
            advertised = self.info().get("max_artifact_bytes")
            self._max_artifact_bytes = int(advertised) if advertised else DEFAULT_MAX_ARTIFACT
        return self._max_artifact_bytes

    def _check_size(self, path: str, size: int) -> None:
        """Refuse, before sending a byte, a file larger than the service accepts."""
        limit = self.max_artifact_bytes
        if size > limit:
            raise InvalidInput(
                f"artifact {path!r}: {size:,} bytes, larger than the {limit:,}-byte limit of "
                f"the team service at {self.endpoint.base_url} (its --max-artifact-bytes)"
            )

    def _upload(self, run_id: str, path: str, data: Any, size: int) -> None:
        self._check_size(path, size)
        self._request(
            "PUT",
            f"runs/{quote(run_id, safe='')}/artifacts/upload",
            params={"path": path},
            content=data,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )

    def write_artifact_bytes(self, run_id: str, artifact_file: str, data: bytes) -> str:
        self._upload(run_id, artifact_file, data, len(data))
        return artifact_file

    write_shared_artifact = write_artifact_bytes

    def add_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[str]:
        """Upload a file, or every file of a folder, streamed from disk."""
        source = Path(local_path)
        if not source.exists():
            raise InvalidInput(f"local_path {str(source)!r}: no such file or folder")
        prefix = (artifact_path or "").strip("/")
        files = (
            [
                (p, p.relative_to(source).as_posix())
                for p in sorted(source.rglob("*"))
                if p.is_file()
            ]
            if source.is_dir()
            else [(source, source.name)]
        )
        sent = []
        for file, rel in files:
            target = f"{prefix}/{rel}" if prefix else rel
            with file.open("rb") as handle:
                self._upload(run_id, target, _chunks(handle), os.fstat(handle.fileno()).st_size)
            sent.append(target)
        return sent

    def artifact_file(self, run_id: str, path: str) -> Path:
        """The file, downloaded into the local cache (streamed)."""
        target = self._cache_path(run_id, path)
        url = f"runs/{quote(run_id, safe='')}/artifacts/file"
        try:
            with self._client.stream(
                "GET", url, params={"path": path, "download": "1"}
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._error(response)
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:6]}")
                with tmp.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 20):
                        out.write(chunk)
                os.replace(tmp, target)
        except httpx.TransportError as exc:
            raise ServiceDown(f"cannot download {path!r} of run {run_id}: {exc}") from None
        return target

    def artifact_path(self, run_id: str, path: str | None) -> Path:
        """A local copy of a file or folder of the run's artifacts (downloaded now, READ
        checked by the service). A path the run does not have yet is the place to write it
        locally: :meth:`record_artifacts` then uploads it (how ``log_model`` works)."""
        target = self._cache_path(run_id, path or "")
        try:
            items = self.call("list_artifacts", run_id, path)
        except NotFound:
            if not path:
                raise
            return target
        if path and len(items) == 1 and not items[0].is_dir and items[0].path == path:
            return self.artifact_file(run_id, path)
        for item in items:
            if item.is_dir:
                self.artifact_path(run_id, item.path)
            else:
                self.artifact_file(run_id, item.path)
        target.mkdir(parents=True, exist_ok=True)
        return target

    @property
    def artifact_root(self) -> Path:
        """The local folder where artifacts are downloaded to and staged before upload."""
        return self.cache_root

    def record_artifacts(self, run_id: str, files: list[tuple[str, int]]) -> None:
        """Upload files written into the run's local folder (:meth:`artifact_path`)."""
        for rel, _size in files:
            local = self._cache_path(run_id, rel)
            with local.open("rb") as handle:
                self._upload(run_id, rel, _chunks(handle), os.fstat(handle.fileno()).st_size)

    def artifact_dir(self, run_id: str) -> Path:
        return self.artifact_path(run_id, None)

    def _cache_path(self, run_id: str, path: str) -> Path:
        from ..store.artifacts import safe_relative_path

        if not run_id.isalnum():
            raise InvalidInput(f"run id {run_id!r}: must be alphanumeric")
        return self.cache_root / run_id / safe_relative_path(path)

    # ------------------------------------------------------------------------------- end

    def atomically(self, fn: Callable[[Any], T]) -> T:
        """``fn(self)``: over HTTP the calls go one by one (each answered by the service from
        its own transaction); see ``Store.atomically``."""
        return fn(self)

    def defer_checkpoints(self) -> None:
        """Nothing to do: the service's store keeps its own log."""

    def checkpoint(self) -> None:
        """Nothing to do: the service's store keeps its own log."""

    def close(self) -> None:
        self._closed = True
        with self._deliver_lock:
            self._try_deliver()
            self.spool.close()
        self._client.close()


class PermissionDenied(TrackError):
    """The service refused: ``permission`` and ``object`` say what was needed on what."""

    default_error_code = "PERMISSION_DENIED"

    def __init__(self, message: str, body: Mapping[str, Any] | None = None):
        super().__init__(message)
        body = body or {}
        self.permission = body.get("permission")
        self.object = body.get("object")


def _page_error(response: httpx.Response) -> str:
    """What an error answer that is not the service's JSON says (a proxy's or the hub's HTML
    error page), in one line: status, who answered, the page's title."""
    import html
    import re

    text = response.text
    found = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
    summary = found.group(1) if found else re.sub(r"<[^>]+>", " ", text)
    summary = " ".join(html.unescape(summary).split())[:200]
    kind = response.headers.get("content-type", "").split(";")[0] or "no content type"
    reason = (
        "the request is larger than the service accepts (see GET info: max_artifact_bytes)"
        if response.status_code == 413
        else "a proxy between this client and the service answered"
    )
    return (
        f"HTTP {response.status_code} from {response.request.url.copy_with(query=None)} "
        f"with a {kind} page, not the service's JSON: {reason}"
        + (f" ({summary})" if summary else "")
    )


def _chunks(handle: Any, size: int = 1 << 20) -> Iterable[bytes]:
    while True:
        chunk = handle.read(size)
        if not chunk:
            return
        yield chunk


def _forwarder(method: str) -> Any:
    def forward(self: HttpStore, *args: Any, **kwargs: Any) -> Any:
        return self.call(method, *args, **kwargs)

    forward.__name__ = method
    forward.__doc__ = f"``{method}`` on the service (see the store interface)."
    return forward


#: methods of the store interface (:class:`~jupyter_track.store.interface.Store`) that the
#: HTTP client store does not implement, and why; calling one raises ``NotImplementedError``
#: naming it. Every other method of the interface is implemented (a test checks both lists).
NOT_SERVED: dict[str, str] = {
    **dict.fromkeys(
        ("prepare", "stored_schema_version", "upgrade", "vacuum", "remove_artifact_folder"),
        "the team service's own store is migrated and maintained on the service's host "
        "(jupyter-track db upgrade / gc there)",
    ),
    **dict.fromkeys(
        ("permissions_of", "set_permission", "audit_service_action"),
        "grants are changed through PUT/DELETE permissions/{type}/{id}, as the verified user",
    ),
}


def _not_served(method: str, reason: str) -> Any:
    def refuse(self: HttpStore, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"{method}: not available on the team service's HTTP client store; {reason}"
        )

    refuse.__name__ = method
    refuse.__doc__ = f"Not available over HTTP: {reason}."
    return refuse


def _install_forwarders() -> None:
    from ..server.store_calls import CALLS

    for method in CALLS:
        if not hasattr(HttpStore, method):
            setattr(HttpStore, method, _forwarder(method))
    for method, reason in NOT_SERVED.items():
        if not hasattr(HttpStore, method):
            setattr(HttpStore, method, _not_served(method, reason))


_install_forwarders()
