"""Reproducing a run end to end: a notebook run out of order and edited through nbclient, the
reproduction folder, and the produced notebook executed in a fresh kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import jupyter_track as jt
from jupyter_track import provenance
from jupyter_track.cli import main as cli_main
from jupyter_track.lineage.reproduce import OutputExists
from jupyter_track.store import NotFound, SQLiteStore

pytestmark = pytest.mark.slow

IMPORTS = (
    "import jupyter_track as jt\n"
    "import pandas as pd\n"
    "from sklearn.ensemble import RandomForestClassifier\n"
    "from sklearn.metrics import log_loss\n"
    "from sklearn.model_selection import train_test_split"
)
LOAD = 'df = pd.read_csv("data/iris.csv")'
PREPROCESS = 'X = df[features].to_numpy() * scale\ny = df["label"].to_numpy()'
PREPROCESS_EDITED = 'X = df[features].to_numpy() * scale + 100\ny = df["label"].to_numpy()'
FEATURES = 'features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]\nscale = 0.1'
TRAIN = (
    "%%track -e iris -n forest -m accuracy loss\n"
    "n_estimators = 25\n"
    "max_depth = 3\n"
    "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=7)\n"
    "model = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth,\n"
    "                               random_state=42).fit(X_train, y_train)\n"
    "accuracy = model.score(X_test, y_test)\n"
    "loss = log_loss(y_test, model.predict_proba(X_test))\n"
)


def write_iris(path: Path) -> None:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "label"]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def execute(nb: Any, folder: Path) -> None:
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()


@pytest.fixture
def original(track_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The analysis notebook, run through nbclient out of order, edited after a cell ran."""
    work = tmp_path / "project"
    write_iris(work / "data" / "iris.csv")
    nb_path = work / "analysis.ipynb"
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb_path))  # as the Jupyter server tells kernels
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(IMPORTS),
        nbformat.v4.new_code_cell(LOAD),
        nbformat.v4.new_code_cell(PREPROCESS),
        nbformat.v4.new_code_cell(FEATURES),
        nbformat.v4.new_code_cell(TRAIN),
    ]
    nbformat.write(nb, nb_path)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    with client.setup_kernel():
        for index in (0, 1, 3, 2):  # the features cell (below) runs before the preprocessing
            client.execute_cell(nb.cells[index], index)
        # the preprocessing cell is edited after it ran, and the notebook saved; not run again
        nb.cells[2].source = PREPROCESS_EDITED
        nbformat.write(nb, nb_path)
        client.execute_cell(nb.cells[4], 4)
    monkeypatch.delenv("JPY_SESSION_NAME")
    store = SQLiteStore(track_db)
    runs = store.search_runs(None, "").runs
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    return {"store": store, "run": runs[0], "work": work, "tmp": tmp_path}


def test_a_run_is_reproduced_exactly_by_the_notebook_it_writes(original: dict[str, Any]) -> None:
    store: SQLiteStore = original["store"]
    run = original["run"]
    tags = run.data.tags
    # the original: lineage with its stale-state flags, seeds and the CSV it read
    assert tags["jt.stale"] == "true"
    assert tags["jt.stale.reasons"] == "out-of-order,edited"
    assert "random_state=7" in tags["jt.seeds"] and "random_state=42" in tags["jt.seeds"]
    assert tags["jt.input.iris.csv.context"] == "lineage"
    lineage = store.get_run_lineage(run.info.run_id)
    assert lineage is not None
    assert [c["source"] for c in lineage["cells"]] == [IMPORTS, LOAD, FEATURES, PREPROCESS]

    out = original["tmp"] / "repro"
    result = jt.reproduce(run.info.run_id, out)
    assert result.files == ["reproduce.ipynb", "requirements.txt", "inputs.json"]
    assert any(w.startswith("out-of-order") for w in result.warnings)
    requirements = (out / "requirements.txt").read_text()
    assert f"python_version == {provenance.environment().python}" in requirements
    assert "scikit-learn==" in requirements and "pandas==" in requirements
    nb = nbformat.read(out / "reproduce.ipynb", as_version=4)
    header = nb.cells[0].source
    assert nb.cells[0].cell_type == "markdown"
    assert str(original["work"] / "analysis.ipynb") in header
    assert "`out-of-order`" in header and "`edited`" in header
    assert "git: not recorded" in header
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert "verify_inputs(" in code[1] and str(original["work"] / "data" / "iris.csv") in code[1]
    # the cells as they ran (not the edited preprocessing), in executed order, the run last
    assert code[2:6] == [IMPORTS, LOAD, FEATURES, PREPROCESS]
    assert code[6].startswith(
        f"%%track -e iris -n forest -m accuracy loss -t jt.reproduced_from={run.info.run_id}\n"
    )

    nbformat.validate(nb)
    execute(nb, out)
    check_output = "".join(o.get("text", "") for o in nb.cells[2].outputs)
    assert "verified iris.csv" in check_output

    runs = {r.info.run_id: r for r in store.search_runs(None, "").runs}
    assert len(runs) == 2
    (again,) = [r for r in runs.values() if r.info.run_id != run.info.run_id]
    assert again.data.tags["jt.reproduced_from"] == run.info.run_id
    assert again.data.params == run.data.params
    assert again.data.metrics == run.data.metrics  # exactly equal
    assert again.data.metrics["loss"] > 0
    digest = "jt.input.iris.csv.digest"
    assert again.data.tags[digest] == run.data.tags[digest]
    assert store.get_experiment(again.info.experiment_id).name == "iris"


def test_changed_data_fails_the_check_cell_naming_the_file_and_both_digests(
    original: dict[str, Any],
) -> None:
    run = original["run"]
    out = original["tmp"] / "repro"
    jt.reproduce(run.info.run_id, out)
    csv = original["work"] / "data" / "iris.csv"
    recorded = run.data.tags["jt.input.iris.csv.digest"]
    csv.write_text(csv.read_text().replace("5.1,3.5", "5.2,3.5", 1))
    now = provenance.fingerprint(csv).digest
    assert now != recorded
    nb = nbformat.read(out / "reproduce.ipynb", as_version=4)
    with pytest.raises(CellExecutionError) as failed:
        execute(nb, out)
    message = str(failed.value)
    assert "InputChanged" in message
    assert str(csv) in message and recorded in message and now in message
    # nothing trained: no second run
    assert len(original["store"].search_runs(None, "").runs) == 1


def test_the_cli_writes_the_folder_and_refuses_an_existing_one(
    original: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = original["run"].info.run_id
    out = original["tmp"] / "cli-out"
    assert cli_main(["reproduce", run_id[:10], "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out / 'reproduce.ipynb'}" in printed and "warning: out-of-order" in printed
    assert cli_main(["reproduce", run_id, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "exists" in err and "--force" in err
    (out / "stray.txt").write_text("old")
    assert cli_main(["reproduce", run_id, "-o", str(out), "--force", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["run_id"] == run_id and not (out / "stray.txt").exists()


def test_unknown_run_ids_are_named(track_db: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(NotFound, match="nope-123"):
        jt.reproduce("nope-123", tmp_path / "x")
    assert cli_main(["reproduce", "nope-123", "-o", str(tmp_path / "y")]) == 1
    assert "run 'nope-123' does not exist" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_an_existing_folder_is_refused_unless_forced(track_db: Path, tmp_path: Path) -> None:
    with jt.start_run() as run:
        pass
    target = tmp_path / "exists"
    target.mkdir()
    with pytest.raises(OutputExists, match="exists"):
        jt.reproduce(run.info.run_id, target)
    jt.reproduce(run.info.run_id, target, force=True)
    assert (target / "reproduce.ipynb").exists()


def test_a_run_made_by_a_script_gets_what_is_known(track_db: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    script = repo / "train.py"
    script.write_text(
        "import jupyter_track as jt\n"
        "with jt.start_run(run_name='scripted'):\n"
        "    jt.log_input('data.txt')\n"
        "    jt.log_param('alpha', 0.5)\n"
    )
    (repo / "data.txt").write_text("1 2 3\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    script.write_text(script.read_text() + "# an uncommitted change\n")
    env = {**os.environ, "JUPYTER_TRACK_DB": str(track_db)}
    subprocess.run([sys.executable, str(script)], cwd=repo, env=env, check=True)
    store = SQLiteStore(track_db)
    run = next(r for r in store.search_runs(None, "").runs if r.info.run_name == "scripted")
    assert run.data.tags["mlflow.source.name"] == str(script)
    assert store.get_run_lineage(run.info.run_id) is None
    out = tmp_path / "out"
    result = jt.reproduce(run.info.run_id, out)
    assert result.files == ["reproduce.ipynb", "requirements.txt", "git.diff", "inputs.json"]
    assert "+# an uncommitted change" in (out / "git.diff").read_text()
    assert any("cell lineage" in m for m in result.missing)
    nb = nbformat.read(out / "reproduce.ipynb", as_version=4)
    assert str(script) in nb.cells[0].source and "**dirty**" in nb.cells[0].source
    assert nb.cells[-1].source.endswith(f"%run {script}")
