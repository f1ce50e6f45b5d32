"""Schema creation and migration: idempotent, and safe when many processes open a new file."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from jupyter_track.store import SQLiteStore
from jupyter_track.store import schema as schema_module
from jupyter_track.store.db import connect, migrate
from jupyter_track.store.dialects.sqlite import SQLITE
from jupyter_track.store.schema import SCHEMA_VERSION


def _open_and_create_run(path: str) -> str:
    store = SQLiteStore(path)
    info = store.create_run("0", run_name="p")
    return info.run_id


def test_new_file_gets_schema_and_default_experiment(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "new.db")
    assert [e.name for e in store.search_experiments()] == ["Default"]
    conn = sqlite3.connect(tmp_path / "new.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrate_twice_is_a_no_op(tmp_path: Path) -> None:
    (tmp_path / "x.db").touch()  # an empty file: created by the migrations, not the template
    conn = connect(tmp_path / "x.db")
    assert migrate(conn) == (0, SCHEMA_VERSION)
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    assert migrate(conn) == (SCHEMA_VERSION, SCHEMA_VERSION)
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == tables
    assert conn.execute("SELECT count(*) FROM experiments").fetchone()[0] == 1


def test_eight_processes_create_one_new_database_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "race.db")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(8) as pool:
        run_ids = pool.map(_open_and_create_run, [path] * 8)
    assert len(set(run_ids)) == 8
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    names = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    ]
    assert len(names) == len(set(names))
    assert (
        conn.execute("SELECT count(*) FROM experiments WHERE name = 'Default'").fetchone()[0] == 1
    )
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 8


def test_readonly_store_reads_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    writer = SQLiteStore(path)
    run = writer.create_run("0", run_name="visible")
    reader = SQLiteStore(path, readonly=True)
    assert reader.get_run(run.run_id).info.run_name == "visible"


def test_migration_from_a_version_1_file(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for step in schema_module.MIGRATIONS[0].steps:
        if isinstance(step, schema_module.Python):
            step.fn(conn, SQLITE)
        for statement in SQLITE.render(step):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO runs (run_id, experiment_id, status, start_time) "
        "VALUES ('abc', 0, 'FINISHED', 1)"
    )
    conn.close()
    store = SQLiteStore(path)
    assert store.get_run("abc").info.status == "FINISHED"
    store.create_registered_model("m")
    assert store.stored_schema_version() == len(schema_module.MIGRATIONS)
    assert len(schema_module.MIGRATIONS) >= 2
