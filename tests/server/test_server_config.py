"""``c.JupyterTrack.db_path`` through a real Jupyter server: used, and exported to kernels."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from jupyter_track.store import SQLiteStore


@pytest.fixture
def configured_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # recorded by monkeypatch, so what the server exports is undone after the test
    monkeypatch.setenv("JUPYTER_TRACK_URI", "")
    monkeypatch.setenv("JUPYTER_TRACK_DB", str(tmp_path / "not-this-one.db"))
    return tmp_path / "configured" / "team.db"


@pytest.fixture
def jp_server_config(configured_db: Path) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_track": True}},
        "JupyterTrack": {"db_path": str(configured_db)},
    }


async def test_configured_store_is_served_and_exported(jp_fetch: Any, configured_db: Path) -> None:
    writer = SQLiteStore(configured_db)
    run_id = writer.create_run("0", run_name="from-a-kernel").run_id
    response = await jp_fetch("jupyter-track", "api", "info")
    assert json.loads(response.body)["store"] == str(configured_db)
    response = await jp_fetch("jupyter-track", "api", "runs")
    assert [r["run_id"] for r in json.loads(response.body)["runs"]] == [run_id]
    # a kernel started by this server inherits these and resolves the same file
    assert os.environ["JUPYTER_TRACK_DB"] == str(configured_db)
    assert os.environ["JUPYTER_TRACK_URI"] == f"sqlite:///{configured_db}"
    from jupyter_track.paths import resolve_db_path

    assert resolve_db_path() == configured_db
