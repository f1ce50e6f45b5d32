"""Artifacts of MLflow stores on this machine: where their URIs point, listing and copying.

MLflow records absolute artifact locations (``file:///.../mlruns/1/<run>/artifacts``, or a
plain path, or ``mlflow-artifacts:/1/<run>/artifacts`` for runs logged through a server that
proxies artifacts). A store that was moved or copied no longer lives at those paths, so each
location falls back to where MLflow's default layout puts it inside the store's own folder.
Only regular files are copied; symlinks are not followed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from .model import ArtifactFile


def uri_to_path(uri: str | None, *, base: Path, proxied_root: Path | None) -> Path | None:
    """The local folder an artifact URI names, or None (s3://, gs://, an unknown scheme)."""
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "mlflow-artifacts":
        if proxied_root is None:
            return None
        return proxied_root / unquote(parsed.path).lstrip("/")
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        path = Path(uri)
        return path if path.is_absolute() else base / path
    return None


def first_folder(recorded: Path | None, fallbacks: Sequence[Path | None] = ()) -> Path | None:
    """Where a location's files are: the recorded folder if it exists, else the first existing
    fallback (the store was moved), else the recorded folder (a run that logged no artifacts
    has none); None when the recorded location cannot be read from this machine at all."""
    for candidate in (recorded, *fallbacks):
        if candidate is not None and candidate.is_dir():
            return candidate
    return recorded


def list_files(folder: Path | None) -> Iterator[ArtifactFile]:
    """Regular files below ``folder`` (paths with '/'), sorted; symlinks left out."""
    if folder is None or not folder.is_dir():
        return
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            full = Path(root) / name
            if full.is_symlink() or not full.is_file():
                continue
            yield ArtifactFile(full.relative_to(folder).as_posix(), full.stat().st_size)


def copy_file(folder: Path, path: str, target: Path) -> None:
    """Copy ``folder/path`` to ``target`` (created with its parents)."""
    source = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
