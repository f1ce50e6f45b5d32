"""New SQLite stores are copies of the shipped empty store (jupyter_track.store.template).

The copy must be exactly what the migrations make (else it is a different schema), never
replace a file another process created, and never be needed: without it a store is created
as before.
"""

from __future__ import annotations

import gzip
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from jupyter_track.store import SQLiteStore, template
from jupyter_track.store.schema import SCHEMA_VERSION


def shape(path: Path) -> dict[str, Any]:
    """Everything about a store file's schema that SQLite records."""
    conn = sqlite3.connect(path)
    try:
        return {
            "objects": conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
            ).fetchall(),
            **{
                pragma: conn.execute(f"PRAGMA {pragma}").fetchone()[0]
                for pragma in (
                    "user_version",
                    "page_size",
                    "journal_mode",
                    "auto_vacuum",
                    "encoding",
                    "application_id",
                )
            },
            "experiments": conn.execute("SELECT experiment_id, name FROM experiments").fetchall(),
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
        }
    finally:
        conn.close()


def unpack(gz: Path, to: Path) -> Path:
    to.write_bytes(gzip.decompress(gz.read_bytes()))
    return to


def test_the_shipped_template_is_what_the_migrations_make(tmp_path: Path) -> None:
    """Fails after a new migration until the template is rebuilt:
    python -c "from jupyter_track.store.template import build; build()"."""
    fresh = template.build(tmp_path / "fresh.sqlite.gz")
    shipped = shape(unpack(template.TEMPLATE, tmp_path / "shipped.db"))
    assert shipped == shape(unpack(fresh, tmp_path / "fresh.db"))
    assert shipped["user_version"] == SCHEMA_VERSION and shipped["journal_mode"] == "wal"
    assert shipped["integrity"] == "ok" and shipped["experiments"] == [(0, "Default")]


def test_a_new_store_is_a_copy_and_works(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "new.db"
    store = SQLiteStore(path)
    run = store.create_run("0", run_name="first")
    assert store.get_run(run.run_id).info.run_name == "first"
    migrated = tmp_path / "migrated.db"
    migrated.touch()  # an existing empty file is migrated, not copied
    SQLiteStore(migrated).prepare()
    ours, theirs = shape(path), shape(migrated)
    assert ours["objects"] == theirs["objects"] and ours["user_version"] == SCHEMA_VERSION
    assert not list(path.parent.glob(".new.db.*"))  # the temporary copy is gone
    assert template.create_from_template(tmp_path / "sub" / "another.db") is True


def test_an_existing_file_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "mine.db"
    store = SQLiteStore(path)
    run_id = store.create_run("0").run_id
    store.close()
    assert template.create_from_template(path) is False
    assert SQLiteStore(path).get_run(run_id).info.run_id == run_id


def test_threads_creating_one_store_at_once_all_land_in_it(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        results.append(template.create_from_template(path))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1  # one copy linked in place, the others found it there
    assert shape(path)["integrity"] == "ok"
    assert not list(tmp_path.glob(".race.db.*"))


def test_a_template_of_another_version_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = bytearray(gzip.decompress(template.TEMPLATE.read_bytes()))
    data[60:64] = (SCHEMA_VERSION - 1).to_bytes(4, "big")
    stale = tmp_path / "stale.sqlite.gz"
    stale.write_bytes(gzip.compress(bytes(data)))
    monkeypatch.setattr(template, "TEMPLATE", stale)
    assert template.template_bytes() is None
    path = tmp_path / "new.db"
    assert template.create_from_template(path) is False
    store = SQLiteStore(path)  # created by the migrations instead
    store.create_run("0")
    assert shape(path)["user_version"] == SCHEMA_VERSION
    monkeypatch.setattr(template, "TEMPLATE", tmp_path / "missing.gz")
    assert template.template_bytes() is None
