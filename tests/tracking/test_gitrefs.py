"""HEAD, branch and origin read from a repository's files (jupyter_track.gitrefs) agree with
what ``git`` itself prints, in every state a notebook's repository can be in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from jupyter_track import gitrefs, provenance


def git(*args: str, cwd: Path) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    return out.stdout.strip() if out.returncode == 0 else ""


def run_git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def what_git_says(root: Path) -> gitrefs.Refs:
    return gitrefs.Refs(
        git("rev-parse", "HEAD", cwd=root) or None,
        git("rev-parse", "--abbrev-ref", "HEAD", cwd=root) or None,
        git("config", "--get", "remote.origin.url", cwd=root) or None,
    )


def new_repo(root: Path, *, commit: bool = True) -> Path:
    root.mkdir(parents=True)
    run_git("init", "-q", "-b", "main", cwd=root)
    run_git("config", "user.email", "t@example.com", cwd=root)
    run_git("config", "user.name", "T", cwd=root)
    if commit:
        (root / "a.txt").write_text("a\n")
        run_git("add", ".", cwd=root)
        run_git("commit", "-qm", "first", cwd=root)
    return root


def commit_file(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text)
    run_git("add", ".", cwd=root)
    run_git("commit", "-qm", name, cwd=root)


def states(tmp_path: Path) -> dict[str, Path]:
    """One repository (or worktree) per state, named."""
    out: dict[str, Path] = {}
    out["one commit"] = new_repo(tmp_path / "plain")
    out["unborn"] = new_repo(tmp_path / "unborn", commit=False)
    remote = new_repo(tmp_path / "remote")
    run_git("remote", "add", "origin", "https://example.com/team/repo.git", cwd=remote)
    run_git("remote", "add", "other", "git@example.com:x.git", cwd=remote)
    out["with remotes"] = remote
    packed = new_repo(tmp_path / "packed")
    run_git("checkout", "-q", "-b", "feature/x-1", cwd=packed)
    commit_file(packed, "b.txt", "b\n")
    run_git("pack-refs", "--all", cwd=packed)
    out["packed refs, branch with a slash"] = packed
    detached = new_repo(tmp_path / "detached")
    commit_file(detached, "c.txt", "c\n")
    run_git("checkout", "-q", "HEAD~1", cwd=detached)
    out["detached"] = detached
    main = new_repo(tmp_path / "main-tree")
    run_git("remote", "add", "origin", "/srv/origin.git", cwd=main)
    run_git("worktree", "add", "-q", "-b", "side", str(tmp_path / "linked"), cwd=main)
    commit_file(tmp_path / "linked", "d.txt", "d\n")
    out["linked worktree"] = tmp_path / "linked"
    run_git("pack-refs", "--all", cwd=main)
    commit_file(main, "e.txt", "e\n")  # a loose ref newer than the packed one
    out["loose ref over a packed one"] = main
    return out


def test_the_files_say_what_git_says(tmp_path: Path) -> None:
    for name, root in states(tmp_path).items():
        assert gitrefs.read_refs(root) == what_git_says(root), name


def test_what_the_reader_does_not_handle_goes_to_git(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    with (repo / ".git" / "config").open("a") as config:
        config.write("[include]\n\tpath = extra\n")
    assert gitrefs.read_refs(repo) is None  # origin could come from the included file
    odd = new_repo(tmp_path / "odd")
    (odd / ".git" / "HEAD").write_text("ref: refs/remotes/origin/main\n")
    assert gitrefs.read_refs(odd) is None
    assert gitrefs.read_refs(tmp_path) is None  # no repository at all


@pytest.mark.parametrize("dirty", [False, True])
def test_git_state_is_the_same_with_the_reader(tmp_path: Path, dirty: bool) -> None:
    repo = new_repo(tmp_path / "repo")
    run_git("remote", "add", "origin", "https://example.com/r.git", cwd=repo)
    if dirty:
        (repo / "a.txt").write_text("changed\n")
    provenance.clear_caches()
    state = provenance.git_state(repo)
    assert state is not None
    assert (state.commit, state.branch, state.remote) == tuple(what_git_says(repo))
    assert state.dirty is dirty and ("changed" in state.diff) is dirty
