"""``PUT runs/{run_id}/artifacts/upload?path=``: one artifact file, streamed to disk.

The body is the file's bytes, received in chunks and written to a temporary file inside the
run's artifact folder, renamed into place when complete and then indexed (a failed or cut
upload leaves nothing behind). Larger than the size limit (counted while streaming): 413 and
nothing kept; a ``Content-Length`` over twice the limit is refused before reading. The limit
is the application setting ``max_artifact_bytes`` (``jupyter-track service
--max-artifact-bytes``; 1 GiB by default).
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

    @property
    def max_bytes(self) -> int:
        return max_artifact_bytes(self.settings)

    async def prepare(self) -> None:
        await super().prepare()  # authenticated and authorized before a byte is read
        if self.request.method != "PUT":
            return
        limit = self.max_bytes
        declared = self.request.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > 2 * limit:
            # far too large: refuse at once (the connection is closed without reading it)
            raise ApiError(413, "too_large", f"the artifact is larger than the {limit}-byte limit")
        # a body up to twice the limit is read to its end and discarded past the limit, so the
        # 413 reaches the client (and a proxy) on a connection still in order
        self.request.connection.set_max_body_size(2 * limit)  # type: ignore[union-attr]
        run_id = self.path_kwargs["run_id"]
        path = str_arg(self, "path", required=True) or ""
        try:
            rel = safe_relative_path(path)
        except InvalidInput as exc:
            raise ApiError(400, "invalid_input", str(exc)) from None
        if not rel.parts:
            raise ApiError(400, "invalid_input", "path: must name a file")
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
        if self._tmp is None or self._too_large:
            return
        self._received += len(chunk)
        if self._received > self.max_bytes:
            self._too_large = True
            return
        await self.access.blocking(self._tmp.write, chunk)

    async def put(self, run_id: str) -> None:
        assert self._tmp is not None and self._target is not None
        tmp, target = self._tmp, self._target
        self._tmp = None
        if self._too_large:
            await self.access.blocking(_discard, tmp)
            raise ApiError(
                413, "too_large", f"the artifact is larger than the {self.max_bytes}-byte limit"
            )
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
