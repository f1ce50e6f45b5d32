"""Concurrent writers, killed processes and unwritable stores lose no flushed data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import jupyter_track as jt
from jupyter_track.store import SQLiteStore, StoreUnavailable
from jupyter_track.tracking import session

WRITER = textwrap.dedent("""
    import sys
    import jupyter_track as jt
    worker = int(sys.argv[1])
    for r in range(5):
        with jt.start_run(run_name=f"w{worker}-r{r}"):
            jt.log_params({"worker": worker, "r": r})
            for step in range(2000):
                jt.log_metric("loss", 1.0 / (step + 1), step=step)
                if step % 500 == 0:
                    jt.set_tag("progress", str(step))
""")


def test_several_processes_write_one_database(track_db: Path, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "JUPYTER_TRACK_DB": str(track_db)}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(w)], env=env, stderr=subprocess.PIPE, text=True
        )
        for w in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    store = SQLiteStore(track_db)
    runs = store.search_runs(None, "", max_results=100).runs
    assert len(runs) == 20
    assert all(r.info.status == "FINISHED" for r in runs)
    for run in runs:
        summary = run.summaries["loss"]
        assert summary.count == 2000 and summary.step == 1999
        assert len(store.get_metric_history(run.info.run_id, "loss")) == 2000


KILLED = textwrap.dedent("""
    import sys, time
    import jupyter_track as jt
    run = jt.start_run(run_name="doomed")
    print(run.info.run_id, flush=True)
    step = 0
    while True:
        jt.log_metric("m", float(step), step=step)
        step += 1
        if step % 10000 == 0:
            jt.flush()
            print("flushed", step, flush=True)
        if step % 100 == 0:
            time.sleep(0.0005)
""")


def test_sigkill_loses_nothing_already_flushed(track_db: Path, tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    env = {**os.environ, "JUPYTER_TRACK_DB": str(track_db)}
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    flushed = 0
    while flushed < 30000:
        line = proc.stdout.readline()
        assert line, "the child stopped early"
        flushed = int(line.split()[1])
    time.sleep(0.3)  # let the background writer flush a little more on its own
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    store = SQLiteStore(track_db)
    history = store.get_metric_history(run_id, "m")
    steps = [m.step for m in history]
    assert len(steps) >= flushed
    assert steps == list(range(len(steps)))  # a prefix: nothing lost in the middle
    summary = store.get_run(run_id).summaries["m"]
    assert summary.count == len(steps) and summary.last == float(len(steps) - 1)
    assert store.get_run(run_id).info.status == "RUNNING"  # it never got to end the run


def _fill_up(store: SQLiteStore) -> None:
    # Give the writer's connection a page budget equal to what is used now: the next
    # insert hits SQLite's real "database or disk is full" path (SQLITE_FULL).
    conn = store.db.conn()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")


def test_full_disk_gives_one_clear_error_and_the_kernel_keeps_working(
    capfd: pytest.CaptureFixture[str],
) -> None:
    run = jt.start_run(run_name="big")
    jt.log_metric("before", 1.0)
    jt.flush()
    writer = session.current().writer
    writer.close()  # no background flushes: the test decides on which thread writes happen
    store = session.current().store
    original = store.write_metric_rows

    def full_write(rows):
        _fill_up(store)  # this thread's connection now hits SQLITE_FULL on the next insert
        return original(rows)

    store.write_metric_rows = full_write  # type: ignore[method-assign]
    for i in range(5000):
        jt.log_metric("x" * 200, float(i), step=i)  # the caller never sees an error
    with pytest.raises(StoreUnavailable, match="disk is full") as err:
        jt.flush()
    assert "5,000 metric points are kept in memory" in str(err.value)
    jt.log_metric("during", 2.0)
    with pytest.raises(StoreUnavailable, match="5,001 metric points"):
        jt.flush()  # each explicit flush says so once; nothing was dropped
    assert capfd.readouterr().err.count("the disk is full") == 1  # one warning per episode
    # space comes back: everything buffered is written, nothing was lost
    store.write_metric_rows = original  # type: ignore[method-assign]
    store.db.conn().execute("PRAGMA max_page_count = 1073741823")
    jt.end_run()
    got = jt.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.summaries["x" * 200].count == 5000
    assert got.data.metrics["before"] == 1.0 and got.data.metrics["during"] == 2.0
    assert "writable again" in capfd.readouterr().err


def test_read_only_store_gives_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ro" / "track.db"
    SQLiteStore(path).create_run("0")  # the file exists
    store = SQLiteStore(path)
    store.db.conn().execute("PRAGMA query_only = ON")  # SQLite refuses every write
    with pytest.raises(StoreUnavailable, match="cannot write to the jupyter-track store"):
        store.create_run("0")
    with pytest.raises(StoreUnavailable):
        store.write_metric_rows([(1, "m", 0, 0, 1.0)])


def test_runs_left_open_end_when_the_interpreter_exits(track_db: Path, tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(
        "import jupyter_track as jt\n"
        "run = jt.start_run(run_name='forgotten')\n"
        "for i in range(100):\n"
        "    jt.log_metric('loss', 1 / (i + 1), step=i)\n"
        "print(run.info.run_id)\n"
    )
    env = {**os.environ, "JUPYTER_TRACK_DB": str(track_db)}
    out = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    run = SQLiteStore(track_db).get_run(out.stdout.strip())
    assert run.info.status == "FINISHED" and run.info.end_time is not None
    assert run.summaries["loss"].count == 100
