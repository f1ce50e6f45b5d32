"""``jupyter-track import-mlflow`` against stores made by the real MLflow 3.17.2 in the test.

Three sources, each filled by the same script (:mod:`_mlflow_stores`) with MLflow's own client:
an MLflow SQLite database, an ``mlruns`` file store, and an ``mlflow server`` started here (SQLite
backend, proxied artifacts). What MLflow's client reads back from its store is what jupyter-track
must hold after the import: runs with every param, tag and metric point, artifacts (MLflow 3
logged models included), the registry with its version numbers, tags and aliases. Importing
again imports nothing; a dry run writes nothing; an import cut short resumes.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _mlflow_stores import SEED
from _mlflow_venv import client_env, mlflow_python, run_mlflow_sync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_track.cli import main
from jupyter_track.mlflow_import import ImportSummary, SourceError, import_mlflow, open_source
from jupyter_track.mlflow_import.file_source import FileSource
from jupyter_track.mlflow_import.importer import IMPORT_TAG
from jupyter_track.mlflow_import.model import ArtifactFile, SourceExperiment, SourceRun
from jupyter_track.store import SQLiteStore, ViewType

KINDS = ["sqlite", "file", "http"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_mlflow_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``mlflow server`` (SQLite backend, artifacts proxied into folder/mlartifacts)."""
    python = mlflow_python()
    port = _free_port()
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            str(python.parent / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder / 'server.db'}",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=folder,
        env=client_env(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((folder / "server.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5):
                return proc, url
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    _stop(proc)
    raise RuntimeError("mlflow server did not start in 300 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the workers it started
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.fixture(scope="module", params=KINDS)
def mlflow_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, the SOURCE to import, what MLflow's client reads from it)."""
    kind = request.param
    folder = tmp_path_factory.mktemp(f"mlflow-{kind}")
    env: dict[str, str] = {}
    server = None
    if kind == "sqlite":
        uri = source = f"sqlite:///{folder / 'mlflow.db'}"
    elif kind == "file":
        uri, source = (folder / "mlruns").as_uri(), str(folder / "mlruns")
        env["MLFLOW_ALLOW_FILE_STORE"] = "true"
    else:
        server, uri = _start_mlflow_server(folder)
        source = uri
    try:
        expected = run_mlflow_sync(SEED.replace("sys.argv[1]", repr(uri)), folder, **env)
        yield kind, source, expected
    finally:
        if server is not None:
            _stop(server)


def _value(v: float) -> Any:
    return v if math.isfinite(v) else str(v)


def _files(store: SQLiteStore, run_id: str) -> list[str]:
    items, _ = store.artifact_tree(run_id, limit=100_000)
    return sorted(i.path for i in items if not i.is_dir)


def _counts(store: SQLiteStore) -> dict[str, int]:
    return dict(store.stats()["tables"])


def test_import_reproduces_what_mlflow_reads(
    mlflow_store: tuple[str, str, dict[str, Any]], store: SQLiteStore
) -> None:
    _, source_uri, expected = mlflow_store
    runs = expected["runs"]
    assert len(runs) == 7 and len(expected["logged_models"]) == 1  # the seed did what it says
    deleted = sum(r["lifecycle_stage"] == "deleted" for r in runs.values())

    # a dry run reads everything and writes nothing
    before = _counts(store)
    with open_source(source_uri) as source:
        planned = import_mlflow(source, store, dry_run=True)
    assert _counts(store) == before
    assert store.search_runs(None, run_view_type=ViewType.ALL).runs == []

    with open_source(source_uri) as source:
        done = import_mlflow(source, store)
    assert {**planned.as_dict(), "dry_run": False} == done.as_dict()
    assert (done.runs_imported, done.runs_deleted, done.runs_existing) == (7, deleted, 0)
    assert done.models_imported == 1 and done.versions_imported == 3 and done.aliases_set == 2
    assert done.problems == []

    # experiments: by name, with their state and tags
    for name, exp in expected["experiments"].items():
        found = store.get_experiment_by_name(name)
        assert found is not None, name
        assert found.lifecycle_stage == exp["lifecycle_stage"]
        assert exp["tags"].items() <= found.tags.items()

    # runs: every field MLflow's client reads, every metric point, every artifact file
    logged = {m["run_id"]: m for m in expected["logged_models"].values()}
    points = 0
    for run_id, want in runs.items():
        got = store.get_run(run_id)
        assert store.get_experiment(got.info.experiment_id).name == want["experiment"]
        assert got.info.run_name == want["name"]
        assert got.info.status == want["status"]
        assert (got.info.start_time, got.info.end_time) == (want["start_time"], want["end_time"])
        assert got.info.lifecycle_stage == want["lifecycle_stage"]
        assert got.info.user_id == want["user_id"]
        assert got.data.params == want["params"]
        assert got.data.tags == {**want["tags"], IMPORT_TAG: done.source}
        assert got.info.parent_run_id == want["tags"].get("mlflow.parentRunId")
        assert sorted(got.data.metrics) == sorted(want["metrics"])
        for key, history in want["metrics"].items():
            ours = sorted(
                [p.step, p.timestamp, _value(p.value)]
                for p in store.get_metric_history(run_id, key)
            )
            assert ours == history, (run_id, key)
            points += len(history)
        files = list(want["artifacts"])
        if run_id in logged:  # the logged model's files, now under the run's artifacts
            model = logged[run_id]
            files += [f"{model['name']}/{f}" for f in model["files"]]
        assert _files(store, run_id) == sorted(files), run_id
    assert done.metric_points == points

    # the registry: numbers kept (3 was deleted in MLflow), sources inside our runs
    want_model = expected["models"]["digits"]
    model = store.get_registered_model("digits")
    assert model.description == want_model["description"]
    assert model.tags == want_model["tags"]
    assert model.aliases == want_model["aliases"] == {"champion": 2, "challenger": 4}
    versions = {v.version: v for v in store.get_model_versions("digits")}
    assert sorted(versions) == sorted(int(n) for n in want_model["versions"]) == [1, 2, 4]
    parent_id = next(r for r, w in runs.items() if w["name"] == "train")
    for number, want in want_model["versions"].items():
        mv = versions[int(number)]
        assert mv.run_id == want["run_id"]
        assert mv.tags == want["tags"] and mv.description == want["description"]
        path = "classifier" if mv.run_id == parent_id else "exported"
        assert (mv.artifact_path, mv.source) == (path, f"runs:/{mv.run_id}/{path}")
        assert (store.artifact_path(mv.run_id, path) / "MLmodel").is_file()
    audit = store.registry_audit("digits")
    assert {e.action for e in audit} >= {"create_registered_model", "create_model_version"}
    assert not any(e.actor_verified for e in audit)  # an import is not an authenticated change

    # again: nothing imported twice, nothing changed
    after = _counts(store)
    with open_source(source_uri) as source:
        again = import_mlflow(source, store)
    assert (again.runs_imported, again.runs_existing) == (0, 7)
    assert (again.experiments_imported, again.models_imported) == (0, 0)
    assert (again.versions_imported, again.versions_existing) == (0, 3)
    assert (again.aliases_set, again.aliases_existing) == (0, 2)
    assert (again.metric_points, again.artifact_files) == (0, 0)
    assert _counts(store) == after

    # an import cut short resumes: a run that is missing comes back, alone
    # (the run holds a registered version, which gc never purges: remove its rows directly,
    # as an import killed before this run's transaction leaves the store)
    pk = store.run_handle(parent_id)
    with store.db.write() as conn:
        for table in store._RUN_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE run = ?", (pk,))
        conn.execute("DELETE FROM runs WHERE id = ?", (pk,))
    store._run_pks.clear()
    store.remove_artifact_folder(parent_id)
    with open_source(source_uri) as source:
        resumed = import_mlflow(source, store)
    assert (resumed.runs_imported, resumed.runs_existing) == (1, 6)
    assert _files(store, parent_id) == sorted(
        runs[parent_id]["artifacts"] + [f"classifier/{f}" for f in logged[parent_id]["files"]]
    )
    assert len(store.get_metric_history(parent_id, "loss")) == len(
        runs[parent_id]["metrics"]["loss"]
    )


def test_cli_dry_run_import_and_json(
    mlflow_store: tuple[str, str, dict[str, Any]],
    track_db: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kind, source_uri, _ = mlflow_store
    if kind != "sqlite":
        pytest.skip("the command line is the same for every source")
    assert main(["import-mlflow", source_uri, "--dry-run", "-q"]) == 0
    out = capsys.readouterr().out
    assert "dry run, nothing written" in out and "7 would import" in out
    assert main(["import-mlflow", source_uri, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["runs_imported"] == 7 and summary["dry_run"] is False
    assert main(["import-mlflow", source_uri, "-q"]) == 0
    out = capsys.readouterr().out
    assert "0 imported (0 deleted), 7 already there" in out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: "sqlite:///" + str(d / "missing.db"), "no such file"),
        (lambda d: str(d / "nothing-here"), "no such file or folder"),
        (lambda d: (d / "empty").mkdir() or str(d / "empty"), "not an MLflow file store"),
        (lambda d: "s3://bucket/mlruns", "unsupported scheme 's3'"),
        (lambda d: f"http://127.0.0.1:{_free_port()}", "failed"),
    ],
)
def test_bad_sources_fail_with_a_reason(
    make: Any, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-mlflow", make(tmp_path)]) == 1
    assert message in capsys.readouterr().err


def test_a_jupyter_track_store_is_not_an_mlflow_store(store: SQLiteStore, tmp_path: Path) -> None:
    other = SQLiteStore(tmp_path / "other.db")
    other.create_run("0")
    with pytest.raises(SourceError, match="not an MLflow tracking database"):
        open_source(f"sqlite:///{other.path}")


# ------------------------------------------------------------------ what a source may send


class _Hostile:
    """A source whose artifact listing names paths outside the run (as a malicious server
    could): the importer must leave them out and write nothing outside the run's folder."""

    uri = "http://hostile.example"

    def experiments(self) -> Iterator[SourceExperiment]:
        yield SourceExperiment("1", "hostile")

    def runs(self, experiment: SourceExperiment) -> Iterator[SourceRun]:
        yield SourceRun("a" * 32, "1", "r", "FINISHED", 1, 2, "active", "u", artifacts="loc")

    def metric_history(self, run: SourceRun, key: str) -> Iterator[tuple[float, int, int]]:
        return iter(())

    def logged_models(self, run: SourceRun) -> list[Any]:
        return []

    def artifact_files(self, location: Any) -> Iterator[ArtifactFile]:
        for path in ("ok.txt", "../../escape.txt", "/etc/evil", "a/../../x"):
            yield ArtifactFile(path, 1)

    def copy_artifact(self, location: Any, path: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path)

    def models(self) -> Iterator[Any]:
        return iter(())

    def versions(self, model: Any) -> Iterator[Any]:
        return iter(())

    def close(self) -> None:
        return None


def test_artifact_paths_from_a_source_stay_inside_the_run(store: SQLiteStore) -> None:
    summary = import_mlflow(_Hostile(), store)  # type: ignore[arg-type]
    assert _files(store, "a" * 32) == ["ok.txt"]
    assert len(summary.problems) == 3 and all("left out" in p for p in summary.problems)
    assert not list(store.artifact_root.parent.rglob("escape.txt"))
    assert not list(store.artifact_root.rglob("evil"))


# ---------------------------------------------------------------- the file store's parser


points = st.lists(
    st.tuples(
        st.floats(allow_nan=True, allow_infinity=True, width=64),
        st.integers(min_value=0, max_value=2**62),
        st.integers(min_value=-(2**62), max_value=2**62),
    ),
    max_size=30,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(points)
def test_file_store_metric_lines_read_back(tmp_path: Path, history: list[Any]) -> None:
    """Lines as MLflow writes them (``<timestamp> <value> <step>``, Python's float text)."""
    root = tmp_path / "mlruns"
    run_dir = root / "1" / ("b" * 32)
    (run_dir / "metrics" / "nested").mkdir(parents=True, exist_ok=True)
    (root / "1" / "meta.yaml").write_text("experiment_id: '1'\nname: e\nlifecycle_stage: active\n")
    (run_dir / "meta.yaml").write_text(f"run_id: {'b' * 32}\nstatus: 3\nstart_time: 1\n")
    (run_dir / "metrics" / "nested" / "loss").write_text(
        "".join(f"{ts} {value} {step}\n" for value, ts, step in history)
    )
    source = FileSource(str(root))
    (experiment,) = list(source.experiments())
    (run,) = list(source.runs(experiment))
    assert run.metric_keys == ["nested/loss"]
    got = list(source.metric_history(run, "nested/loss"))
    assert [(_value(v), t, s) for v, t, s in got] == [(_value(v), t, s) for v, t, s in history]


def test_summary_lines_name_every_count() -> None:
    text = "\n".join(ImportSummary("sqlite:///x.db", dry_run=True, runs_imported=3).lines())
    for word in ("experiments", "runs", "metric points", "artifacts", "models", "versions"):
        assert word in text
    assert "3 would import" in text
