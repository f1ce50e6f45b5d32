"""SQLite checkpoints run on the background writer's thread, not in the user's commits.

What a checkpoint did is read from the database file alone (``immutable=1`` ignores the
write-ahead log): rows committed but not checkpointed are in the log only.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import jupyter_track as jt
from jupyter_track.store import SQLiteStore
from jupyter_track.store import db as sqlite_db
from jupyter_track.tracking import session


def rows_in_file(path: Path, table: str = "runs") -> int:
    """Rows of ``table`` in the database file itself, the write-ahead log ignored (0: not
    even the schema was checkpointed yet)."""
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchall():
            return 0
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def autocheckpoint(store: SQLiteStore) -> int:
    return int(store.db.conn().execute("PRAGMA wal_autocheckpoint").fetchone()[0])


def test_deferred_commits_stay_in_the_log_until_the_checkpoint(track_db: Path) -> None:
    store = SQLiteStore(track_db)
    store.create_run("0")
    store.db.conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert autocheckpoint(store) == sqlite_db.AUTOCHECKPOINT_PAGES
    store.defer_checkpoints()
    assert autocheckpoint(store) == sqlite_db.DEFERRED_AUTOCHECKPOINT_PAGES
    other: list[int] = []  # another thread's connection follows too
    thread = threading.Thread(target=lambda: other.append(autocheckpoint(store)))
    thread.start()
    thread.join()
    assert other == [sqlite_db.DEFERRED_AUTOCHECKPOINT_PAGES]
    run = store.create_run("0").run_id
    handle = store.run_handle(run)
    points = [(handle, "loss", i, i, i / 7) for i in range(200_000)]
    store.write_metric_rows(points)  # several thousand pages of log: SQLite's default
    for _ in range(sqlite_db.CHECKPOINT_AFTER_COMMITS - 2):  # would checkpoint in this commit
        store.create_run("0")
    assert rows_in_file(track_db) == 1 and rows_in_file(track_db, "metrics") == 0
    assert len(store.search_runs(["0"], max_results=100).runs) == 32  # readers see the log
    store.checkpoint()
    assert rows_in_file(track_db) == 32 and rows_in_file(track_db, "metrics") == 200_000
    store.checkpoint()  # nothing committed since: not due, nothing done
    assert store.db.commits == 0


def test_a_checkpoint_is_due_after_a_while_with_fewer_commits(track_db: Path) -> None:
    store = SQLiteStore(track_db)
    store.defer_checkpoints()
    store.create_run("0")
    store.checkpoint()  # one commit, just now: not due yet
    assert rows_in_file(track_db) == 0
    store.db._checkpointed_at -= sqlite_db.CHECKPOINT_AFTER_SECONDS
    store.checkpoint()
    assert rows_in_file(track_db) == 1


def test_the_kernels_writer_thread_checkpoints_ended_runs(track_db: Path) -> None:
    for i in range(sqlite_db.CHECKPOINT_AFTER_COMMITS + 8):
        with jt.start_run():
            jt.log_param("i", i)
            jt.log_metric("m", float(i))
    state = session.current()
    store = state.store
    assert autocheckpoint(store) == sqlite_db.DEFERRED_AUTOCHECKPOINT_PAGES
    deadline = time.monotonic() + 10
    while rows_in_file(track_db) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rows_in_file(track_db) == 40
    # and every ended run was durable before that, from the log
    assert len(jt.search_runs(output_format="list", max_results=100)) == 40
