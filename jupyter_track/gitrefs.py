"""A repository's HEAD commit, branch and ``origin`` URL read from its files, without ``git``.

Asking ``git`` costs a process each (``rev-parse HEAD``, ``rev-parse --abbrev-ref HEAD``,
``config --get remote.origin.url``: milliseconds apiece, more on a busy machine), and a run's
provenance asks on the first run of a kernel and again every few seconds. Git's on-disk format
for these is small and documented (gitrepository-layout(5)): ``HEAD`` names a branch
(``ref: refs/heads/main``) or holds a commit; a branch is a file under ``refs/heads`` or a line
of ``packed-refs``; a linked worktree's ``.git`` is a file pointing at its own folder, whose
``commondir`` leads to the shared refs and config. Anything else (the reftable format, a ref
that is itself symbolic, an unreadable file) returns None, and the caller asks ``git``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


class Refs(NamedTuple):
    """What ``git rev-parse HEAD``, ``git rev-parse --abbrev-ref HEAD`` and
    ``git config --get remote.origin.url`` print (None where git prints nothing)."""

    commit: str | None
    branch: str | None
    remote: str | None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def git_dirs(root: Path) -> tuple[Path, Path] | None:
    """``(gitdir, commondir)`` of the working tree at ``root``: the same folder for a plain
    repository; a linked worktree's own folder and the main repository's ``.git``."""
    dot_git = root / ".git"
    if dot_git.is_dir():
        git_dir = dot_git
    else:
        text = _read(dot_git)
        if text is None or not text.startswith("gitdir:"):
            return None
        git_dir = (root / text[len("gitdir:") :].strip()).resolve()
    common = _read(git_dir / "commondir")
    common_dir = (git_dir / common.strip()).resolve() if common else git_dir
    return git_dir, common_dir


def _packed_ref(common_dir: Path, ref: str) -> str | None:
    text = _read(common_dir / "packed-refs")
    if not text:
        return None
    for line in text.splitlines():
        if line.startswith(("#", "^")):
            continue
        sha, _, name = line.partition(" ")
        if name == ref:
            return sha
    return None


def _origin_url(config: str) -> str | None:
    """``remote.origin.url`` from a config file's text (the last value wins, as in git)."""
    url = None
    in_origin = False
    for raw in config.splitlines():
        line = raw.strip()
        if line.startswith("["):
            in_origin = re.fullmatch(r'\[\s*remote\s+"origin"\s*\]', line) is not None
            continue
        if in_origin and "=" in line:
            key, _, value = line.partition("=")
            if key.strip().lower() == "url":
                url = value.strip()
    return url


def read_refs(root: Path) -> Refs | None:
    """HEAD's commit and branch and ``origin``'s URL for the working tree at ``root``; None
    when the files say something this reader does not handle (then ask ``git``)."""
    dirs = git_dirs(root)
    if dirs is None:
        return None
    git_dir, common_dir = dirs
    config = _read(common_dir / "config")
    if config is None or re.search(r"^\s*(refstorage|worktreeconfig)\s*=", config, re.I | re.M):
        return None  # reftable refs, per-worktree config: leave it to git
    if "[include" in config or "[includeIf" in config:
        return None  # the origin URL may come from another file
    head = _read(git_dir / "HEAD")
    if head is None:
        return None
    head = head.strip()
    if _SHA.match(head):  # detached
        return Refs(head, "HEAD", _origin_url(config))
    if not head.startswith("ref: refs/heads/"):
        return None
    ref = head[len("ref: ") :]
    commit = None
    for folder in (git_dir, common_dir) if git_dir != common_dir else (git_dir,):
        text = _read(folder / ref)
        if text is not None:
            commit = text.strip()
            break
    if commit is None:
        commit = _packed_ref(common_dir, ref)
    if commit is not None and not _SHA.match(commit):
        return None  # a symbolic ref or something unexpected
    # an unborn branch (no commit yet): git prints nothing for either question
    branch = ref[len("refs/heads/") :] if commit is not None else None
    return Refs(commit, branch, _origin_url(config))
