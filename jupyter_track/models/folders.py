"""Model folders written atomically and checked before use.

A model folder appears complete or not at all:

* its files are written into a *partial* folder (``.jt-partial-<host>-<pid>-<random>``), on the
  same file system as the destination, and the manifest is written last, listing the size and
  SHA-256 of every other file;
* the partial folder is then renamed to its final name in one step (a rename never leaves half a
  folder: a process killed before it leaves only a partial folder, which is not a model);
* registering and loading a model check the files against the manifest, and say exactly what is
  missing or differs;
* partial folders left by killed processes are removed by the next save in the same place and
  by ``jupyter-track gc`` (those of a process that is gone on this host, or older than a day).
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from ..fsync import fsync_path
from ..store.errors import Conflict, InvalidInput

PARTIAL_PREFIX = ".jt-partial-"
STAGING = ".staging"
"""Folder of the artifact root where models logged in runs are staged."""
STALE_AFTER_S = 24 * 3600
"""A partial folder of another host (whose process cannot be checked) is stale after a day."""
_CHUNK = 1 << 20


class ModelIntegrityError(InvalidInput):
    """A model folder does not match its manifest (a file missing, truncated or changed)."""


# ------------------------------------------------------------------------------ manifest


def file_digest(path: Path) -> tuple[int, str]:
    """``(size, sha256 hex)`` of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def describe_files(folder: Path, exclude: str) -> dict[str, dict[str, Any]]:
    """``{relative path: {"size", "sha256"}}`` of every file under ``folder`` but ``exclude``."""
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel == exclude:
            continue
        size, sha = file_digest(path)
        files[rel] = {"size": size, "sha256": sha}
    return files


def verify_files(folder: Path, manifest: dict[str, Any], *, what: str) -> None:
    """Check ``folder`` against the ``files`` its manifest lists; raise naming each problem.

    Manifests written before the file list existed only name their model file, which must be
    there.
    """
    files = manifest.get("files")
    problems: list[str] = []
    if files is None:
        model_file = manifest.get("model_file")
        if model_file and not (folder / model_file).is_file():
            problems.append(f"{model_file} is missing")
    elif not isinstance(files, dict):
        problems.append("the manifest's file list is malformed")
    else:
        for rel, meta in files.items():
            pure = PurePosixPath(rel)
            if pure.is_absolute() or ".." in pure.parts or not isinstance(meta, dict):
                problems.append(f"the manifest lists a bad entry {rel!r}")
                continue
            path = folder / pure
            if not path.is_file():
                problems.append(f"{rel} is missing")
                continue
            size, sha = file_digest(path)
            if size != meta.get("size"):
                problems.append(f"{rel} has {size:,} bytes, the manifest says {meta.get('size')}")
            elif sha != meta.get("sha256"):
                problems.append(f"{rel} differs from what was saved (SHA-256 mismatch)")
    if problems:
        raise ModelIntegrityError(
            f"{what} at {str(folder)!r} is incomplete or damaged: {'; '.join(problems)}. "
            "Log the model again."
        )


# ---------------------------------------------------------------------- atomic placement


def _partial_name() -> str:
    host = socket.gethostname().replace("-", "_") or "host"
    return f"{PARTIAL_PREFIX}{host}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    except OSError:
        return False
    return True


def is_stale(entry: Path, *, now: float | None = None) -> bool:
    """Whether a partial folder was left by a process that is gone (or is older than a day)."""
    parts = entry.name[len(PARTIAL_PREFIX) :].rsplit("-", 2)
    try:
        age = (now if now is not None else time.time()) - entry.lstat().st_mtime
    except OSError:
        return False
    if len(parts) == 3 and parts[0] == socket.gethostname().replace("-", "_"):
        try:
            pid = int(parts[1])
        except ValueError:
            return age > STALE_AFTER_S
        return pid != os.getpid() and not _pid_alive(pid)
    return age > STALE_AFTER_S


def remove_stale_partials(folder: Path) -> list[Path]:
    """Remove the stale partial folders directly inside ``folder``; return what was removed."""
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if entry.name.startswith(PARTIAL_PREFIX) and is_stale(entry):
            shutil.rmtree(entry, ignore_errors=True)
            if not entry.exists():
                removed.append(entry)
    return removed


@contextmanager
def partial_folder(parent: Path) -> Iterator[Path]:
    """A fresh partial folder inside ``parent`` (created), removed on exit unless published.

    Stale partial folders already in ``parent`` are removed first.
    """
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(parent)
    folder = parent / _partial_name()
    folder.mkdir()
    try:
        yield folder
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)


def publish(partial: Path, target: Path, *, what: str) -> None:
    """Rename the finished ``partial`` folder to ``target`` in one step.

    The files are flushed to disk first, so after a crash the folder is either absent or
    complete. ``target`` must not exist, or be an empty folder (``Conflict`` otherwise).
    """
    for path in partial.rglob("*"):
        if path.is_file():
            fsync_path(path)
    fsync_path(partial, directory=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(partial, target)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise Conflict(f"{what}: {str(target)!r} already exists; pick another name") from exc
        if exc.errno != errno.EXDEV:
            raise
        # another file system: copy next to the target, then rename there
        with partial_folder(target.parent) as near:
            shutil.copytree(partial, near, dirs_exist_ok=True)
            publish(near, target, what=what)
    fsync_path(target.parent, directory=True)
