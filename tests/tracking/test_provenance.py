"""Provenance recorded on every run: user, host, Python environment, git state."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jupyter_track as jt
from jupyter_track import provenance


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git("init", "-q", "-b", "main", cwd=root)
    _git("config", "user.email", "t@example.com", cwd=root)
    _git("config", "user.name", "T", cwd=root)
    (root / "train.py").write_text("lr = 0.1\n")
    _git("add", ".", cwd=root)
    _git("commit", "-qm", "init", cwd=root)
    monkeypatch.chdir(root)
    provenance.clear_caches()
    return root


def test_clean_repo_records_commit_and_branch(repo: Path) -> None:
    with jt.start_run() as run:
        pass
    tags = jt.get_run(run.info.run_id).data.tags
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    assert tags["jt.git.commit"] == head == tags["mlflow.source.git.commit"]
    assert tags["jt.git.branch"] == "main" and tags["jt.git.dirty"] == "false"
    assert not jt.TrackClient().list_artifacts(run.info.run_id)


def test_dirty_repo_stores_the_diff_as_an_artifact(repo: Path) -> None:
    (repo / "train.py").write_text("lr = 0.2\n")
    with jt.start_run() as first:
        pass
    with jt.start_run() as second:
        pass
    client = jt.TrackClient()
    for run in (first, second):
        assert jt.get_run(run.info.run_id).data.tags["jt.git.dirty"] == "true"
        diff = Path(client.download_artifacts(run.info.run_id, "provenance/git.diff"))
        assert "+lr = 0.2" in diff.read_text()


def test_environment_is_stored_once_and_referenced_by_hash() -> None:
    with jt.start_run() as a:
        pass
    with jt.start_run() as b:
        pass
    run_a, run_b = jt.get_run(a.info.run_id), jt.get_run(b.info.run_id)
    assert run_a.info.environment == run_b.info.environment
    store = jt.TrackClient().store
    env = store.get_environment(run_a.info.environment)
    assert env["packages"]["pytest"] and env["python"] == run_a.data.tags["jt.python"]
    count = store.db.conn().execute("SELECT count(*) FROM environments").fetchone()[0]
    assert count == 1


def test_user_and_hub_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    with jt.start_run() as run:
        pass
    got = jt.get_run(run.info.run_id)
    assert got.info.user_id == "ana"
    assert got.data.tags["jt.user"] == "ana" and got.data.tags["jt.user.verified"] == "false"
    assert got.data.tags["jt.host"]


def test_notebook_path_from_the_kernel_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", "work/train.ipynb")
    with jt.start_run() as run:
        pass
    got = jt.get_run(run.info.run_id)
    assert got.info.notebook == "work/train.ipynb"
    assert got.data.tags["jt.notebook"] == "work/train.ipynb"


def test_log_input_fingerprints_files_frames_and_arrays(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    data = tmp_path / "train.csv"
    data.write_text("x,y\n1,2\n3,4\n")
    frame = pd.DataFrame({"x": [1, 3], "y": [2, 4]})
    with jt.start_run() as run:
        file_record = jt.log_input(str(data), context="training")
        frame_record = jt.log_input(frame, name="features")
        jt.log_input(np.arange(6).reshape(3, 2), name="labels")
    tags = jt.get_run(run.info.run_id).data.tags
    assert tags["jt.input.train.csv.digest"] == file_record["digest"]
    assert tags["jt.input.train.csv.context"] == "training"
    assert tags["jt.input.features.rows"] == "2" and frame_record["schema"] == {
        "x": "int64",
        "y": "int64",
    }
    assert tags["jt.input.labels.kind"] == "array"
    # same content, same digest; changed content, another digest
    with jt.start_run() as again:
        assert jt.log_input(str(data))["digest"] == file_record["digest"]
        assert (
            jt.log_input(frame.assign(y=[2, 5]), name="features")["digest"]
            != frame_record["digest"]
        )
    found = jt.search_runs(
        filter_string=f"tags.`jt.input.train.csv.digest` = '{file_record['digest']}'"
    )
    assert set(found["run_id"]) == {run.info.run_id, again.info.run_id}
    with pytest.raises(ValueError, match="no such file"), jt.start_run():
        jt.log_input(str(tmp_path / "missing.csv"))


def test_track_magic_records_files_the_cell_reads(tmp_path: Path) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    (Path.cwd() / "data.csv").write_text("a\n1\n")
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    shell.run_cell("%load_ext jupyter_track")
    shell.run_cell("%%track -q\nimport pandas as pd\nframe = pd.read_csv('data.csv')\n")
    shell.run_cell("%unload_ext jupyter_track")
    InteractiveShell.clear_instance()
    tags = jt.search_runs(output_format="list")[0].data.tags
    assert tags["jt.input.data.csv.kind"] == "file" and tags["jt.input.data.csv.context"] == "cell"


@given(st.text(alphabet=st.sampled_from("aZ9-_.é"), max_size=24))
def test_package_names_are_normalized_as_pep_503_says(name: str) -> None:
    assert provenance._normalize(name) == re.sub(r"[-_.]+", "-", name).lower()
