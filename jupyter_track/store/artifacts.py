"""Artifact files: a folder per run under the artifact root, confined against path traversal."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO, cast

from .db import Database
from .errors import InvalidInput, NotFound, StoreUnavailable
from .experiments import now_ms
from .validation import text_problem


@dataclass(frozen=True)
class ArtifactInfo:
    """A file or folder inside a run's artifacts (``path`` is relative, '/'-separated).

    ``unavailable`` says why an entry cannot be opened (a symbolic link that leads outside the
    run's artifacts, loops, or points to nothing); it is None for a usable entry.
    """

    path: str
    is_dir: bool
    size: int | None
    unavailable: str | None = None

    @property
    def file_size(self) -> int | None:
        """The size in bytes (None for a folder): MLflow's ``FileInfo.file_size``."""
        return self.size

    def __iter__(self) -> Iterator[tuple[str, object]]:
        """``dict(info)`` gives MLflow's ``FileInfo`` attributes."""
        yield "file_size", self.file_size
        yield "is_dir", self.is_dir
        yield "path", self.path

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"path": self.path, "is_dir": self.is_dir, "size": self.size}
        if self.unavailable is not None:
            out["unavailable"] = self.unavailable
        return out


MAX_ARTIFACT_PATH_BYTES = 1024
"""Longest artifact path accepted (UTF-8 bytes); file systems refuse longer ones."""
MAX_NAME_BYTES = 255
"""Longest file or folder name in an artifact path (UTF-8 bytes), as most file systems."""


def safe_relative_path(path: str | None) -> PurePosixPath:
    """Check an artifact path given by a user: relative, no '..', no drive, no NUL."""
    if path is None or path in ("", "."):
        return PurePosixPath()
    if not isinstance(path, str) or "\x00" in path:
        raise InvalidInput(f"artifact path {path!r}: must be a string without NUL characters")
    normalized = path.replace("\\", "/")
    pure = PurePosixPath(normalized)
    if pure.is_absolute() or (len(normalized) > 1 and normalized[1] == ":"):
        raise InvalidInput(f"artifact path {path!r}: must be relative to the run's artifacts")
    if any(part == ".." for part in pure.parts):
        raise InvalidInput(f"artifact path {path!r}: must not contain '..'")
    problem = text_problem(normalized)
    if problem:
        raise InvalidInput(f"artifact path {path[:60]!r}: {problem}")
    if len(normalized.encode()) > MAX_ARTIFACT_PATH_BYTES:
        raise InvalidInput(
            f"artifact path {path[:60]!r}...: longer than {MAX_ARTIFACT_PATH_BYTES:,} bytes"
        )
    if any(len(part.encode()) > MAX_NAME_BYTES for part in pure.parts):
        raise InvalidInput(
            f"artifact path {path[:60]!r}...: a name in it is longer than {MAX_NAME_BYTES} bytes"
        )
    return pure


def _entry(child: Path, base: Path, folder: Path) -> ArtifactInfo:
    """One entry of a listing; a link that cannot be followed safely is listed as unavailable
    (by its own path) instead of failing the whole listing."""
    own = (folder.relative_to(base) / child.name).as_posix() if folder != base else child.name
    try:
        target = child.resolve(strict=True)
    except (RuntimeError, OSError) as exc:  # a loop (RuntimeError before Python 3.13), missing
        looped = isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == 40  # ELOOP
        reason = "symbolic link loop" if looped else "broken symbolic link"
        return ArtifactInfo(own, False, None, reason)
    if target != base and base not in target.parents:
        return ArtifactInfo(own, False, None, "symbolic link to outside the run's artifacts")
    try:
        is_dir = target.is_dir()
        size = None if is_dir else target.stat().st_size
    except OSError as exc:
        return ArtifactInfo(own, False, None, f"cannot be read ({exc.strerror or exc})")
    return ArtifactInfo(target.relative_to(base).as_posix(), is_dir, size)


class ArtifactsMixin:
    db: Database
    artifact_root: Path

    if TYPE_CHECKING:  # provided by another part of the store

        def _run_pk(self, run_id: str) -> int: ...

    def artifact_dir(self, run_id: str) -> Path:
        """The folder holding ``run_id``'s artifacts (not created)."""
        if not run_id or not run_id.isalnum():
            raise InvalidInput(f"run id {run_id!r}: must be alphanumeric")
        return self.artifact_root / run_id / "artifacts"

    def artifact_uri_for(self, run_id: str) -> str:
        """``file://`` URI of ``run_id``'s artifact folder (as ``artifact_dir(run_id).as_uri()``;
        the root's URI is computed once per root)."""
        if not (isinstance(run_id, str) and run_id.isascii() and run_id.isalnum()):
            return self.artifact_dir(run_id).as_uri()  # checks it; quotes non-ASCII letters
        root = self.artifact_root
        cached = self.__dict__.get("_artifact_root_uri")
        if cached is None or cached[0] is not root:
            prefix = root.as_uri()
            if not prefix.endswith("/"):
                prefix += "/"
            cached = self.__dict__["_artifact_root_uri"] = (root, prefix)
        # an alphanumeric run id needs no quoting: the same text pathlib would give
        return f"{cached[1]}{run_id}/artifacts"

    def artifact_path(self, run_id: str, path: str | None) -> Path:
        """Resolve ``path`` inside the run's artifacts; never returns a path outside them."""
        self._run_pk(run_id)
        base = self.artifact_dir(run_id).resolve()
        try:
            target = (base / safe_relative_path(path)).resolve()
        except (RuntimeError, OSError) as exc:  # a symbolic link loop on the way
            raise InvalidInput(f"artifact path {path!r}: cannot be resolved ({exc})") from exc
        if target != base and base not in target.parents:
            raise InvalidInput(f"artifact path {path!r}: resolves outside the run's artifacts")
        return target

    def record_artifacts(self, run_id: str, files: list[tuple[str, int]]) -> None:
        """Index files already copied into the run's folder: (relative path, size)."""
        pk = self._run_pk(run_id)
        with self.db.write() as conn:
            conn.executemany(
                "INSERT INTO artifacts (run, path, size, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (run, path) DO UPDATE SET size = excluded.size, "
                "created = excluded.created",
                [(pk, p, size, now_ms()) for p, size in files],
            )

    def add_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[str]:
        """Copy a file or a folder into the run's artifacts and index what was copied."""
        source = Path(local_path)
        if not source.exists():
            raise InvalidInput(f"local_path {str(source)!r}: no such file or folder")
        dest_dir = self.artifact_path(run_id, artifact_path)
        prefix = safe_relative_path(artifact_path)
        copied: list[tuple[str, int]] = []
        if source.is_dir():
            for file in sorted(p for p in source.rglob("*") if p.is_file()):
                rel = file.relative_to(source)
                target = dest_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, target)
                copied.append((str(prefix / rel.as_posix()), target.stat().st_size))
        else:
            dest_dir.mkdir(parents=True, exist_ok=True)
            target = dest_dir / source.name
            shutil.copy2(source, target)
            copied.append((str(prefix / source.name), target.stat().st_size))
        self.record_artifacts(run_id, copied)
        return [p for p, _ in copied]

    def write_artifact_bytes(self, run_id: str, artifact_file: str, data: bytes) -> str:
        """Write ``data`` to ``artifact_file`` inside the run's artifacts and index it."""
        rel = safe_relative_path(artifact_file)
        if not rel.parts:
            raise InvalidInput(f"artifact_file {artifact_file!r}: must name a file")
        target = self.artifact_path(run_id, str(rel))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.record_artifacts(run_id, [(str(rel), len(data))])
        return str(rel)

    def write_shared_artifact(self, run_id: str, artifact_file: str, data: bytes) -> str:
        """Like :meth:`write_artifact_bytes`, but identical content is stored once on disk and
        hard-linked into each run (the git diff of a dirty tree, shared by many runs)."""
        import hashlib

        rel = safe_relative_path(artifact_file)
        shared = self.artifact_root / ".shared" / hashlib.sha256(data).hexdigest()
        if not shared.exists():
            shared.parent.mkdir(parents=True, exist_ok=True)
            tmp = shared.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, shared)
        target = self.artifact_path(run_id, str(rel))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(shared, target)
        except OSError:
            shutil.copyfile(shared, target)
        self.record_artifacts(run_id, [(str(rel), len(data))])
        return str(rel)

    def artifact_upload_file(self) -> tuple[Path, BinaryIO]:
        """A new temporary file (path, open handle) beside the artifacts, for an upload that
        :meth:`put_artifact_file` then moves into a run in one rename."""
        folder = self.artifact_root / ".uploads"
        folder.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=folder, prefix="upload-", delete=False)  # noqa: SIM115
        return Path(handle.name), cast(BinaryIO, handle)

    def put_artifact_file(self, run_id: str, artifact_file: str, temp_path: Path) -> str:
        """Move a finished upload (from :meth:`artifact_upload_file`) to ``artifact_file`` in
        the run's artifacts, replacing what was there in one rename, and index it."""
        rel = safe_relative_path(artifact_file)
        if not rel.parts:
            raise InvalidInput(f"artifact_file {artifact_file!r}: must name a file")
        target = self.artifact_path(run_id, str(rel))
        if target.is_dir():
            raise InvalidInput(f"artifact_file {artifact_file!r}: is a folder")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            size = temp_path.stat().st_size
            os.replace(temp_path, target)
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
            raise InvalidInput(
                f"artifact_file {artifact_file!r}: a file and a folder would share a name"
            ) from exc
        except OSError as exc:
            raise StoreUnavailable(f"cannot write artifact {artifact_file!r}: {exc}") from exc
        self.record_artifacts(run_id, [(str(rel), size)])
        return str(rel)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
        """Direct children of ``path`` (the artifact root when None), folders first."""
        folder = self.artifact_path(run_id, path)
        if not folder.exists():
            if path:
                raise NotFound(f"artifact {path!r} does not exist in run {run_id}")
            return []
        if folder.is_file():
            return [ArtifactInfo(str(safe_relative_path(path)), False, folder.stat().st_size)]
        base = self.artifact_dir(run_id).resolve()
        items = [_entry(child, base, folder) for child in folder.iterdir()]
        items.sort(key=lambda i: (not i.is_dir, i.path))
        return items

    def artifact_file(self, run_id: str, path: str) -> Path:
        """The file behind ``path``; ``NotFound`` when it is missing or a folder."""
        target = self.artifact_path(run_id, path)
        if not target.is_file():
            raise NotFound(f"artifact {path!r} does not exist in run {run_id}")
        return target

    def remove_artifact_folder(self, run_id: str) -> None:
        folder = self.artifact_root / run_id
        if folder.exists():
            shutil.rmtree(folder)
