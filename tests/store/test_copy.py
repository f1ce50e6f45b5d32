"""``jupyter-track copy SRC DST``: a personal SQLite file into a team PostgreSQL and back."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_track.store import Conflict, SQLiteStore, ViewType, connect_store
from jupyter_track.store.copy import copy_store


def fill(store: Any) -> dict[str, Any]:
    """A store with a bit of everything; what to expect after a copy."""
    exp = store.create_experiment("vision", tags={"owner": "ana"})
    runs = []
    for i in range(3):
        info = store.create_run(exp, run_name=f"r{i}", tags={"team": "x"}, source=f"x = {i}")
        store.log_params(info.run_id, {"lr": 10**-i, "opt": "adam"})
        points = [("loss", 1.0 / (s + 1), 1000 + s, s) for s in range(3000)]
        points.append(("acc", math.nan, 5000, 0))
        store.log_metrics(info.run_id, points)
        store.write_artifact_bytes(info.run_id, "notes/a.txt", f"run {i}".encode())
        store.update_run(info.run_id, status="FINISHED", end_time=info.start_time + 10)
        runs.append(info.run_id)
    store.delete_run(runs[2], actor="bob")
    store.put_environment("h1", "3.11", "linux", {"numpy": "2.0"})
    store.write_cell_executions(
        [("s1", "nb.ipynb", "c1", 1, "x = 1", 1000, 1.5, "ok", None, runs[0])]
    )
    store.create_model_version("m", f"runs:/{runs[0]}/model", runs[0], create_model=True)
    store.create_model_version("m", f"runs:/{runs[1]}/model", runs[1], tags={"v": "1"})
    store.set_registered_model_alias("m", "champion", 1, actor="ana", verified=True)
    store.set_registered_model_alias("m", "champion", 2, actor="bob")
    store.set_registered_model_tag("m", "team", "risk")
    return {"runs": runs, "experiment": "vision"}


def check(dst: Any, src: Any, expected: dict[str, Any]) -> None:
    for run_id in expected["runs"]:
        a, b = src.get_run(run_id), dst.get_run(run_id)
        assert b.info.run_name == a.info.run_name and b.info.status == a.info.status
        assert b.info.lifecycle_stage == a.info.lifecycle_stage
        assert b.data.params == a.data.params and b.data.tags == a.data.tags
        assert set(b.summaries) == set(a.summaries)
        for key, s in a.summaries.items():
            t = b.summaries[key]
            assert (t.count, t.step, t.timestamp) == (s.count, s.step, s.timestamp)
            assert (math.isnan(t.last) and math.isnan(s.last)) or t.last == s.last
        assert [(p.step, p.value) for p in dst.get_metric_history(run_id, "loss")] == [
            (p.step, p.value) for p in src.get_metric_history(run_id, "loss")
        ]
        assert dst.artifact_file(run_id, "notes/a.txt").read_bytes() == (
            src.artifact_file(run_id, "notes/a.txt").read_bytes()
        )
        assert dst.get_source(run_id) == src.get_source(run_id)
    exp = dst.get_experiment_by_name("vision")
    assert exp is not None and exp.tags == {"owner": "ana"}
    found = dst.search_runs([exp.experiment_id], "params.lr < 0.5", run_view_type=ViewType.ALL)
    assert {r.info.run_id for r in found.runs} == set(expected["runs"][1:])
    assert dst.get_environment("h1")["packages"] == {"numpy": "2.0"}
    assert [c.source for c in dst.cell_executions()] == ["x = 1"]
    model = dst.get_registered_model("m")
    assert model.aliases == src.get_registered_model("m").aliases and model.tags == {"team": "risk"}
    assert dst.get_model_version("m", 2).tags == {"v": "1"}
    assert [(e.action, e.actor, e.new_value) for e in dst.alias_history("m", "champion")] == [
        (e.action, e.actor, e.new_value) for e in src.alias_history("m", "champion")
    ]
    assert dst.get_latest_model_version("m").version == 2


def test_sqlite_to_postgres_and_back(tmp_path: Path, pg_store: Any) -> None:
    src = SQLiteStore(tmp_path / "mine.db")
    expected = fill(src)
    report = copy_store(src, pg_store)
    assert report.runs == 3 and report.models == 1 and report.artifact_files == 3
    assert report.counts["metrics"] == 3 * 3001
    check(pg_store, src, expected)
    assert pg_store.rollback_alias("m", "champion").version == 1  # the alias history came along

    back = SQLiteStore(tmp_path / "back.db")
    copy_store(pg_store, back)
    check(back, pg_store, expected)


def test_copy_refuses_existing_runs_unless_told_to_skip(tmp_path: Path, pg_store: Any) -> None:
    src = SQLiteStore(tmp_path / "mine.db")
    fill(src)
    copy_store(src, pg_store)
    before = pg_store.stats()["tables"]
    with pytest.raises(Conflict, match=r"3 runs with the same ids.*--skip-existing"):
        copy_store(src, pg_store)
    assert pg_store.stats()["tables"] == before  # nothing was written
    extra = src.create_run("0", run_name="new").run_id
    report = copy_store(src, pg_store, skip_existing=True)
    assert report.runs == 1 and len(report.skipped_runs) == 3 and report.skipped_models == ["m"]
    assert pg_store.get_run(extra).info.run_name == "new"
    assert len(pg_store.cell_executions()) == 1  # the cell log was not doubled


def test_copy_command(tmp_path: Path, postgres_uri: str, postgres_server: Any) -> None:
    src = SQLiteStore(tmp_path / "mine.db")
    fill(src)
    password_uri = postgres_uri.replace("postgres@", "postgres:pw-not-shown@", 1)
    env = {**os.environ, "JUPYTER_TRACK_ARTIFACTS": str(tmp_path / "team-artifacts")}
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_track.cli", "copy", str(src.path), password_uri],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "runs            3" in done.stdout and "verified" in done.stderr
    assert "pw-not-shown" not in done.stdout + done.stderr
    again = subprocess.run(
        [sys.executable, "-m", "jupyter_track.cli", "copy", str(src.path), password_uri],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert again.returncode == 1 and "--skip-existing" in again.stderr
    team = connect_store(postgres_uri, readonly=True)
    assert len(team.search_runs(run_view_type=ViewType.ALL).runs) == 3
    team.close()
