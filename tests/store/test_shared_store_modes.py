"""A store in a group folder is writable by every member of the group (issue 8, section 3).

docs/deployment.md's recipe: a setgid folder owned by the team's group and ``umask 002``.
SQLite alone creates the database and its ``-wal``/``-shm`` files 0644 whatever the umask, so
the second user got "attempt to write a readonly database". The test makes two real non-root
users of one group (``groupadd``/``useradd``, so it needs root; it skips otherwise), and each
writes to the same store from its own process, the first keeping its connection open while the
second writes.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_track.store import SQLiteStore
from jupyter_track.store.db import create_files

needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("useradd") is None,
    reason="needs root and useradd/groupadd to create two users",
)


@pytest.fixture
def team() -> Iterator[tuple[Path, list[tuple[int, int, int]]]]:
    """A setgid folder of a fresh group, and two fresh users in that group: (uid, gid, team)."""
    tag = uuid.uuid4().hex[:6]
    group, users = f"jtteam{tag}", [f"jtana{tag}", f"jtbo{tag}"]
    subprocess.run(["groupadd", group], check=True)
    try:
        for user in users:
            subprocess.run(["useradd", "-M", "-U", "-s", "/usr/sbin/nologin", user], check=True)
            subprocess.run(["usermod", "-aG", group, user], check=True)
        import grp
        import pwd

        team_gid = grp.getgrnam(group).gr_gid
        ids = [(pwd.getpwnam(u).pw_uid, pwd.getpwnam(u).pw_gid, team_gid) for u in users]
        folder = Path(tempfile.mkdtemp(prefix="jt-team-", dir="/tmp"))
        os.chown(folder, 0, team_gid)
        os.chmod(folder, 0o2775)  # the recipe: install -d -m 2775 -g <team>
        yield folder, ids
    finally:
        if "folder" in locals():
            shutil.rmtree(folder, ignore_errors=True)
        for user in users:
            subprocess.run(["userdel", user], check=False, capture_output=True)
        subprocess.run(["groupdel", group], check=False, capture_output=True)


def _as_user(ids: tuple[int, int, int], work, wait_fd: int | None, done_fd: int | None) -> int:
    """Fork; the child becomes the user (umask 002), waits for ``wait_fd``, runs ``work``,
    writes to ``done_fd``; returns the child's pid."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        uid, gid, team = ids
        os.setgroups([gid, team])
        os.setgid(gid)
        os.setuid(uid)
        os.umask(0o002)
        if wait_fd is not None:
            os.read(wait_fd, 1)
        work()
        code = 0
    except BaseException as exc:  # report to the parent through the exit status and stderr
        os.write(2, f"user {os.getuid()}: {type(exc).__name__}: {exc}\n".encode())
    finally:
        if done_fd is not None:
            os.write(done_fd, b"x")
        os._exit(code)


def _exit_code(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@needs_root
def test_two_users_of_one_group_write_one_store(team: tuple[Path, list]) -> None:
    folder, (ana, bo) = team
    db = folder / "track.db"
    ana_ready_r, ana_ready_w = os.pipe()
    bo_done_r, bo_done_w = os.pipe()

    def ana_work() -> None:
        store = SQLiteStore(db)
        run = store.create_run("0", run_name="ana")
        store.log_metrics(run.run_id, [("loss", 1.0, 1, 0)])
        os.write(ana_ready_w, b"x")  # the connection stays open while bo writes
        os.read(bo_done_r, 1)
        store.log_metrics(run.run_id, [("loss", 0.5, 2, 1)])  # into pages bo wrote
        store.set_tags(run.run_id, {"after": "bo"})

    def bo_work() -> None:
        store = SQLiteStore(db)
        run = store.create_run("0", run_name="bo")
        store.log_metrics(run.run_id, [("loss", 2.0, 1, 0)])
        store.create_experiment("bo's experiment")

    first = _as_user(ana, ana_work, None, None)
    second = _as_user(bo, bo_work, ana_ready_r, bo_done_w)
    assert _exit_code(second) == 0, "the second user could not write the store"
    assert _exit_code(first) == 0, "the first user could not write after the second"
    store = SQLiteStore(db)
    names = {r.info.run_name for r in store.search_runs(None, "").runs}
    assert names == {"ana", "bo"}
    for name in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        if name.exists():
            mode = stat.S_IMODE(name.stat().st_mode)
            assert mode & 0o060 == 0o060, (name.name, oct(mode))  # group read and write
            assert name.stat().st_gid == ana[2]  # the folder's group (setgid)


def test_files_are_created_like_touch_and_existing_ones_are_left_alone(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        create_files(tmp_path / "a.db")
        (tmp_path / "b.db").write_bytes(b"")
        os.chmod(tmp_path / "b.db", 0o600)
        create_files(tmp_path / "b.db")
    finally:
        os.umask(old)
    for name in ("a.db", "a.db-wal", "a.db-shm", "b.db-wal"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o664, name
    assert stat.S_IMODE((tmp_path / "b.db").stat().st_mode) == 0o600
