"""The kernel session (``jupyter_track.tracking.session``): per-thread active runs, as MLflow.

A thread's ``start_run`` never ends another thread's run; ``active_run()`` answers for the
calling thread; a thread with no run of its own inside a ``%%track`` cell logs into the cell's
run; runs of every thread end at interpreter exit.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

import jupyter_track as jt
from jupyter_track.tracking import session


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a new thread and return its result (or raise its exception)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    if "error" in box:
        raise box["error"]
    return box["value"]


def status(run_id: str) -> str:
    return jt.get_run(run_id).info.status


def test_a_threads_start_run_never_ends_another_threads_run() -> None:
    main = jt.start_run(run_name="main")

    def worker() -> tuple[str, Any]:
        assert jt.active_run() is None  # the main thread's run is not this thread's
        run = jt.start_run(run_name="worker")
        jt.log_metric("w", 1.0)
        jt.log_param("who", "worker")
        active = jt.active_run()
        jt.end_run()
        return run.info.run_id, active.info.run_id if active else None

    worker_id, seen = in_thread(worker)
    assert seen == worker_id != main.info.run_id
    assert status(main.info.run_id) == "RUNNING"  # untouched by the worker
    assert jt.active_run() is main
    assert status(worker_id) == "FINISHED"
    worker_run = jt.get_run(worker_id)
    assert worker_run.data.metrics == {"w": 1.0} and worker_run.data.params == {"who": "worker"}
    assert worker_run.info.parent_run_id is None  # threads do not nest (as MLflow)
    assert jt.get_run(main.info.run_id).data.metrics == {}
    jt.end_run()
    assert status(main.info.run_id) == "FINISHED"


def test_a_threads_end_run_ends_only_its_own_run() -> None:
    main = jt.start_run()
    in_thread(jt.end_run)  # no active run in that thread: a no-op
    assert status(main.info.run_id) == "RUNNING" and jt.active_run() is main
    jt.end_run()


def test_many_threads_log_to_their_own_runs() -> None:
    barrier = threading.Barrier(4)
    ids: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        with jt.start_run(run_name=f"t{n}") as run:
            barrier.wait(10)  # all four runs are active at once
            for step in range(50):
                jt.log_metric("loss", float(n), step=step)
            assert len(session.current().active_run_ids()) >= 4
            barrier.wait(10)
        with lock:
            ids.append(run.info.run_id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(set(ids)) == 4
    for run_id in ids:
        run = jt.get_run(run_id)
        n = float(run.info.run_name[1:])
        history = jt.get_metric_history(run_id, "loss")
        assert run.info.status == "FINISHED" and len(history) == 50
        assert {m.value for m in history} == {n}  # no point went to another thread's run
    assert session.current().active_run_ids() == set()


def test_last_active_run_is_per_thread() -> None:
    with jt.start_run() as main:
        pass

    def worker() -> Any:
        before = jt.last_active_run()
        with jt.start_run() as run:
            pass
        return before, run.info.run_id, jt.last_active_run().info.run_id

    before, worker_id, after = in_thread(worker)
    assert before is None and after == worker_id
    assert jt.last_active_run().info.run_id == main.info.run_id


def test_session_is_the_public_view_of_the_state(tmp_path: Path) -> None:
    state = session.current()
    assert state.started_writer is None and state.active() is None
    with jt.start_run() as run:
        jt.log_metric("m", 1.0)
        assert state.active() is run and state.is_active(run.info.run_id)
        assert state.find(run.info.run_id) is run
        assert state.started_writer is state.writer  # started by log_metric
        state.flush()
        assert state.store.get_run(run.info.run_id).data.metrics == {"m": 1.0}
    assert not state.is_active(run.info.run_id) and state.last_run_id == run.info.run_id
    other = tmp_path / "other.db"
    jt.set_tracking_uri(other)
    assert state.tracking_uri == str(other) and state.resolved_uri == f"sqlite:///{other}"
    assert state.store.path == other and state.started_writer is None


def test_a_forked_child_starts_a_fresh_session() -> None:
    if not hasattr(__import__("os"), "fork"):
        pytest.skip("no fork")
    import os

    run = jt.start_run()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no active run inherited, a new session object
        try:
            fresh = session.current().active() is None and jt.active_run() is None
            os.write(write, b"1" if fresh else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert jt.active_run() is run
    jt.end_run()


def test_open_runs_of_every_thread_end_finished_at_exit(tmp_path: Path) -> None:
    db = tmp_path / "exit.db"
    script = f"""
import threading, jupyter_track as jt
jt.set_tracking_uri({str(db)!r})
main = jt.start_run(run_name="main")
def worker():
    jt.start_run(run_name="worker")
    jt.log_metric("x", 2.0)
t = threading.Thread(target=worker); t.start(); t.join()
jt.log_metric("x", 1.0)
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    jt.set_tracking_uri(db)
    runs = jt.search_runs(search_all_experiments=True, output_format="list")
    assert sorted((r.info.run_name, r.info.status, r.data.metrics["x"]) for r in runs) == [
        ("main", "FINISHED", 1.0),
        ("worker", "FINISHED", 2.0),
    ]


# ------------------------------------------------------------------------ %%track and threads


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    ip.run_cell("%load_ext jupyter_track", store_history=True)
    ip.run_cell("import jupyter_track as jt", store_history=True)
    yield ip
    ip.run_cell("%unload_ext jupyter_track")
    InteractiveShell.clear_instance()


def test_threads_inside_a_track_cell_log_into_the_cells_run(shell: InteractiveShell) -> None:
    result = shell.run_cell(
        """%%track -n cell -q
import threading
def work():
    jt.log_metric("from_thread", 1.0)      # no run of its own: the cell's run
    with jt.start_run(run_name="child"):  # nests under the cell's run
        jt.log_metric("in_child", 2.0)
t = threading.Thread(target=work); t.start(); t.join()
jt.log_metric("from_cell", 3.0)
""",
        store_history=True,
    )
    assert result.success, result.error_in_exec
    runs = {r.info.run_name: r for r in jt.search_runs(output_format="list")}
    cell, child = runs["cell"], runs["child"]
    assert cell.info.status == child.info.status == "FINISHED"
    assert cell.data.metrics == {"from_thread": 1.0, "from_cell": 3.0}
    assert child.data.metrics == {"in_child": 2.0}
    assert child.info.parent_run_id == cell.info.run_id
    assert child.data.tags["mlflow.parentRunId"] == cell.info.run_id


def test_track_cell_in_the_main_thread_is_unchanged_by_a_worker_run(
    shell: InteractiveShell,
) -> None:
    """A run a background thread keeps open across cells is not ended by ``%%track``."""
    shell.run_cell(
        """
import threading
started, stop = threading.Event(), threading.Event()
def background():
    with jt.start_run(run_name="background"):
        started.set()
        stop.wait(30)
        jt.log_metric("bg", 1.0)
bg = threading.Thread(target=background); bg.start(); started.wait(10)
""",
        store_history=True,
    )
    result = shell.run_cell("%%track -n cell -q\njt.log_metric('c', 1.0)", store_history=True)
    assert result.success
    runs = {r.info.run_name: r for r in jt.search_runs(output_format="list")}
    assert runs["background"].info.status == "RUNNING"
    assert runs["cell"].info.status == "FINISHED"
    assert runs["cell"].info.parent_run_id is None
    shell.run_cell("stop.set(); bg.join(10)", store_history=True)
    background = jt.get_run(runs["background"].info.run_id)
    assert background.info.status == "FINISHED" and background.data.metrics == {"bg": 1.0}


def test_moving_to_another_store_stops_the_old_writer_thread(tmp_path: Path) -> None:
    """``set_tracking_uri`` writes what the old store's writer holds and lets its thread end;
    the new store gets its own writer."""
    jt.set_tracking_uri(tmp_path / "a.db")
    first = jt.start_run()
    jt.log_metric("m", 1.0)
    old = session.current().writer
    jt.log_metric("m", 2.0, step=1)  # still buffered when the store changes
    jt.set_tracking_uri(tmp_path / "b.db")
    thread = old._thread
    assert thread is not None
    thread.join(10)
    assert not thread.is_alive()
    assert [
        (m.step, m.value)
        for m in jt.MlflowClient(str(tmp_path / "a.db")).get_metric_history(first.info.run_id, "m")
    ] == [(0, 1.0), (1, 2.0)]
    assert session.current().writer is not old  # the new store's own
    jt.set_tracking_uri(tmp_path / "a.db")
    jt.end_run()
    assert jt.get_run(first.info.run_id).info.status == "FINISHED"
