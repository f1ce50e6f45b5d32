"""``PUT runs/{run_id}/artifacts/upload?path=``: one artifact file, streamed to disk.

The body is the file's bytes, received in chunks and written to a temporary file inside the
run's artifact folder, renamed into place when complete and then indexed (a failed or cut
upload leaves nothing behind). Larger than the size limit (declared or counted while
streaming): 413 and nothing kept. The limit is the application setting ``max_artifact_bytes``
(``jupyter-track service --max-artifact-bytes``; 1 GiB by default), told to clients by
``GET info`` so they refuse a larger file before sending it (the HTTP client store does).

A refused upload's body is still read to its end and thrown away (nothing is written past the
limit): tornado closes a connection whose body it stops reading, and a proxy in between
(JupyterHub's configurable-http-proxy) that is still sending then answers with its own error
page instead of the 413. Reading costs the sender's bandwidth only; a client that checks the
limit first never sends it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Any

from tornado.web import stream_request_body

from ..store.artifacts import safe_relative_path
from ..store.errors import InvalidInput
from .base import TrackHandler
from .errors import ApiError
from .query import str_arg

DEFAULT_MAX_BYTES = 1 << 30
#: tornado's own cap on a body this route reads (to its end, also when refused)
DRAIN_LIMIT = 1 << 62


def max_artifact_bytes(settings: dict[str, Any]) -> int:
    """The largest artifact upload the application accepts (its ``max_artifact_bytes``
    setting, else 1 GiB); ``GET info`` tells clients."""
    return int(settings.get("max_artifact_bytes") or DEFAULT_MAX_BYTES)


@stream_request_body
class ArtifactUploadHandler(TrackHandler):
    """Streams the body into the run's artifact folder (see the module docstring)."""

    _tmp: IO[bytes] | None = None
    _target: Path | None = None
    _received = 0
    _too_large = False
    _refusal: ApiError | None = None

    @property
    def max_bytes(self) -> int:
        return max_artifact_bytes(self.settings)

    async def prepare(self) -> None:
        await super().prepare()  # authenticated and authorized before a byte is read
        if self.request.method != "PUT":
            return
        # every body is read to its end (see the module docstring): refusals wait for put()
        self.request.connection.set_max_body_size(DRAIN_LIMIT)  # type: ignore[union-attr]
        try:
            await self._open_target()
        except ApiError as exc:
            self._refusal = exc

    async def _open_target(self) -> None:
        run_id = self.path_kwargs["run_id"]
        path = str_arg(self, "path", required=True) or ""
        try:
            rel = safe_relative_path(path)
        except InvalidInput as exc:
            raise ApiError(400, "invalid_input", str(exc)) from None
        if not rel.parts:
            raise ApiError(400, "invalid_input", "path: must name a file")
        declared = self.request.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            self._too_large = True  # refused without opening anything
            return
        target: Path = await self.write_store(lambda s: s.artifact_path(run_id, str(rel)))
        await self.access.blocking(lambda: target.parent.mkdir(parents=True, exist_ok=True))
        self._target = target
        self._rel = str(rel)
        self._tmp = await self.access.blocking(
            lambda: tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in put/on_finish
                dir=target.parent, prefix=".upload-", delete=False
            )
        )

    async def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._tmp is None or self._too_large:
            return  # refused: read and thrown away
        if self._received > self.max_bytes:
            self._too_large = True
            tmp, self._tmp = self._tmp, None
            await self.access.blocking(_discard, tmp)
            return
        await self.access.blocking(self._tmp.write, chunk)

    async def put(self, run_id: str) -> None:
        if self._refusal is not None:
            raise self._refusal
        if self._too_large:
            raise ApiError(
                413,
                "too_large",
                f"the artifact is larger than the {self.max_bytes:,}-byte limit "
                f"({self._received:,} bytes received)",
                limit=self.max_bytes,
            )
        assert self._tmp is not None and self._target is not None
        tmp, target = self._tmp, self._target
        self._tmp = None
        size = self._received

        def finish() -> None:
            tmp.flush()
            os.fsync(tmp.fileno())
            tmp.close()
            os.replace(tmp.name, target)

        await self.access.blocking(finish)
        rel = self._rel
        await self.write_store(lambda s: s.record_artifacts(run_id, [(rel, size)]))
        self.send_json({"run_id": run_id, "path": rel, "size": size}, 201)

    def on_finish(self) -> None:
        if self._tmp is not None:  # an error before put() completed
            _discard(self._tmp)
            self._tmp = None

    def on_connection_close(self) -> None:
        if self._tmp is not None:  # the client went away mid-upload
            _discard(self._tmp)
            self._tmp = None


def _discard(tmp: Any) -> None:
    try:
        tmp.close()
    finally:
        try:
            os.unlink(tmp.name)
        except OSError:
            pass
