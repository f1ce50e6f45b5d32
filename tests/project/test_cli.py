"""The ``jupyter-track`` command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import jupyter_track as jt


def cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JUPYTER_TRACK_DB": str(db)}
    return subprocess.run(
        [sys.executable, "-m", "jupyter_track.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def runs(track_db: Path) -> list[str]:
    jt.set_experiment("cli")
    ids = []
    for lr, acc in ((0.1, 0.7), (0.01, 0.9), (0.001, 0.8)):
        with jt.start_run(run_name=f"lr-{lr}") as run:
            jt.log_param("lr", lr)
            jt.log_metric("acc", acc)
        ids.append(run.info.run_id)
    jt.flush()
    return ids


def test_runs_filters_orders_and_shows_columns(track_db: Path, runs: list[str]) -> None:
    out = cli(
        "runs",
        "metrics.acc > 0.75",
        "-o",
        "metrics.acc DESC",
        "-c",
        "params.lr",
        "metrics.acc",
        db=track_db,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].split()[:4] == ["run_id", "name", "status", "start"]
    assert [line.split()[1] for line in lines[1:]] == ["lr-0.01", "lr-0.001"]
    assert "0.9" in lines[1]


def test_runs_json_and_bad_filter(track_db: Path, runs: list[str]) -> None:
    out = cli("runs", "--json", "-e", "cli", db=track_db)
    assert len(json.loads(out.stdout)) == 3
    bad = cli("runs", "metrics.acc >", db=track_db)
    assert bad.returncode == 1
    assert "position 13" in bad.stderr and "expected" in bad.stderr


def test_show_accepts_a_prefix(track_db: Path, runs: list[str]) -> None:
    out = cli("show", runs[1][:10], db=track_db)
    assert out.returncode == 0, out.stderr
    assert "lr-0.01" in out.stdout and "lr = 0.01" in out.stdout and "acc = 0.9" in out.stdout
    missing = cli("show", "doesnotexist", db=track_db)
    assert missing.returncode == 1 and "does not exist" in missing.stderr


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export(track_db: Path, runs: list[str], tmp_path: Path, fmt: str) -> None:
    import pandas as pd

    target = tmp_path / f"runs.{fmt}"
    out = cli("export", "params.lr != '0.1'", "--output", str(target), db=track_db)
    assert out.returncode == 0, out.stderr
    frame = {"csv": pd.read_csv, "json": pd.read_json, "parquet": pd.read_parquet}[fmt](target)
    assert len(frame) == 2 and "metrics.acc" in frame.columns


def test_gc_purges_deleted_runs_and_their_artifacts(track_db: Path, runs: list[str]) -> None:
    client = jt.TrackClient()
    client.log_text(runs[0], "bye", "note.txt")
    folder = client.store.artifact_dir(runs[0])
    assert folder.exists()
    jt.delete_run(runs[0])
    dry = cli("gc", "--dry-run", db=track_db)
    assert runs[0] in dry.stdout and folder.exists()
    out = cli("gc", db=track_db)
    assert out.returncode == 0 and "purged 1" in out.stderr
    stats = json.loads(cli("stats", "--json", db=track_db).stdout)
    assert stats["tables"]["runs"] == 2 and stats["tables"]["metric_summaries"] == 2
    assert not folder.exists()
    remaining = cli("runs", "--all", "--json", db=track_db)
    assert {r["info"]["run_id"] for r in json.loads(remaining.stdout)} == set(runs[1:])


def test_db_path_and_jupyter_subcommand(track_db: Path) -> None:
    out = cli("db-path", db=track_db)
    assert out.stdout.strip() == str(track_db)
    env = {**os.environ, "JUPYTER_TRACK_DB": str(track_db)}
    via_jupyter = subprocess.run(
        ["jupyter", "track", "db-path"], env=env, capture_output=True, text=True, timeout=60
    )
    assert via_jupyter.stdout.strip() == str(track_db)


def test_stats_counts_rows_per_table(track_db: Path, runs: list[str]) -> None:
    out = cli("stats", "--json", db=track_db)
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert stats["tables"]["runs"] == 3 and stats["tables"]["params"] == 3
    assert stats["journal_mode"] == "wal" and stats["bytes"]["db"] > 0
    assert "rows" in cli("stats", db=track_db).stdout


def test_gc_keeps_deleted_runs_that_hold_registered_models(track_db: Path, runs: list[str]) -> None:
    from sklearn.linear_model import LinearRegression

    with jt.start_run() as run:
        jt.log_model(
            LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]),
            "model",
            registered_model_name="keeper",
        )
    jt.delete_run(run.info.run_id)
    out = cli("gc", db=track_db)
    assert out.returncode == 0 and "keeping 1 deleted run" in out.stderr
    assert jt.load_model("models:/keeper/1").predict([[2.0]])[0] == pytest.approx(2.0)


def test_export_to_a_file_named_like_the_format(
    track_db: Path, runs: list[str], tmp_path: Path
) -> None:
    target = tmp_path / "all.json"
    out = cli("export", str(target), db=track_db)
    assert out.returncode == 0, out.stderr
    assert len(json.loads(target.read_text())) == 3


def test_runs_of_several_experiments_name_them_with_counts(track_db: Path, runs: list[str]) -> None:
    jt.set_experiment("other")
    with jt.start_run(run_name="elsewhere"):
        pass
    jt.flush()
    out = cli("runs", db=track_db)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["run_id", "name", "experiment"]
    by_name = {line.split()[1]: line.split()[2] for line in lines[1:]}
    assert by_name["elsewhere"] == "other" and by_name["lr-0.1"] == "cli"
    assert "(4 runs; cli: 3, other: 1)" in out.stderr
    one = cli("runs", "-e", "cli", db=track_db)  # one experiment: no column
    assert "experiment" not in one.stdout.splitlines()[0]


def test_show_folds_system_tags_behind_all(track_db: Path, runs: list[str]) -> None:
    folded = cli("show", runs[0], db=track_db)
    assert folded.returncode == 0, folded.stderr
    assert "jt.python =" not in folded.stdout and "mlflow.runName =" not in folded.stdout
    assert "system tags: mlflow.*, jt.*; --all shows them" in folded.stdout
    everything = cli("show", runs[0], "--all", db=track_db)
    assert "jt.python =" in everything.stdout
