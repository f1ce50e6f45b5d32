"""Artifact listing and download, confined to the run's artifact folder.

The store resolves every path (``..``, absolute paths and symlinks that lead outside are
refused), so nothing outside the artifact root is ever opened. Downloads are streamed in chunks
read in the thread pool; only images are sent inline, and every file carries a sandboxing
Content-Security-Policy so an HTML or SVG artifact cannot run script in Jupyter's origin.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from ..store.interface import Store
from .base import TrackHandler
from .query import bool_arg, str_arg

CHUNK = 1 << 20
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"}


class ArtifactsHandler(TrackHandler):
    """``GET runs/{run_id}/artifacts?path=``: a folder's direct children."""

    async def get(self, run_id: str) -> None:
        path = str_arg(self, "path") or ""

        def work(store: Store) -> dict[str, Any]:
            items = store.list_artifacts(run_id, path or None)
            return {"run_id": run_id, "path": path, "items": [i.to_dict() for i in items]}

        await self.read_json(work)


class ArtifactFileHandler(TrackHandler):
    """``GET runs/{run_id}/artifacts/file?path=``: one file's bytes."""

    @property
    def content_security_policy(self) -> str:
        return super().content_security_policy + "; sandbox"

    async def get(self, run_id: str) -> None:
        path = str_arg(self, "path", required=True) or ""
        force_download = bool_arg(self, "download", False)
        target: Path = await self.read_store(lambda s: s.artifact_file(run_id, path))
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        inline = kind in INLINE_TYPES and not force_download
        handle: BinaryIO = await self.access.blocking(target.open, "rb")
        try:
            size = await self.access.blocking(_size, handle)
            self.set_header("Content-Type", kind)
            self.set_header("Content-Length", str(size))
            self.set_header("X-Content-Type-Options", "nosniff")
            self.set_header(
                "Content-Disposition",
                f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(target.name)}",
            )
            while True:
                chunk = await self.access.blocking(handle.read, CHUNK)
                if not chunk:
                    break
                self.write(chunk)
                await self.flush()
        finally:
            await self.access.blocking(handle.close)
        await self.finish()


def _size(handle: BinaryIO) -> int:
    import os

    return os.fstat(handle.fileno()).st_size
