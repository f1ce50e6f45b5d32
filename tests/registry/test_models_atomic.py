"""Model folders are atomic and checked (issue 8, section 1).

A process killed while ``log_model`` writes leaves no folder that looks like a model (the files
go to a partial folder renamed into the run when complete, the manifest last); registering or
loading a damaged model fails with an error naming the file; partial folders of killed processes
are cleaned up by the next ``log_model`` and by ``jupyter-track gc``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import jupyter_track as jt
from jupyter_track.models.folders import PARTIAL_PREFIX, STAGING, ModelIntegrityError, is_stale
from jupyter_track.models.resolve import run_model_paths
from jupyter_track.store import NotFound, SQLiteStore
from jupyter_track.tracking import session


class Doubler:
    """A plain model with ``predict``."""

    def predict(self, data):  # type: ignore[no-untyped-def]
        return [2 * float(row[0]) for row in data]


# the child logs a model and stops at a chosen point, tells the parent, and is killed there
CHILD = textwrap.dedent(
    """
    import sys, time
    import jupyter_track as jt
    from jupyter_track.models import folders

    where, marker = sys.argv[1], sys.argv[2]

    def stop_here():
        open(marker, "w").write("ready")
        time.sleep(120)

    class Slow:
        def predict(self, data):
            return data

        def __reduce__(self):
            if where == "pickling":
                stop_here()
            return (Slow, ())

    if where == "before-rename":
        real_publish = folders.publish
        def publish(partial, target, *, what):
            stop_here()
            real_publish(partial, target, what=what)
        import jupyter_track.models.fluent as models_fluent
        models_fluent.publish = publish

    run = jt.start_run()
    print(run.info.run_id, flush=True)
    jt.log_model(Slow(), name="model")
    """
)


def _kill_while_logging(where: str, tmp_path: Path) -> str:
    marker = tmp_path / f"{where}.ready"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, where, str(marker)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert child.stdout is not None
    run_id = child.stdout.readline().strip()
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert child.poll() is None, "the child ended before reaching the kill point"
        assert time.monotonic() < deadline, "the child never reached the kill point"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    return run_id


@pytest.mark.parametrize("where", ["pickling", "before-rename"])
def test_a_killed_log_model_leaves_nothing_that_looks_like_a_model(
    where: str, tmp_path: Path, track_db: Path
) -> None:
    run_id = _kill_while_logging(where, tmp_path)
    store = SQLiteStore(track_db)
    assert run_model_paths(store, run_id) == []
    assert not (store.artifact_dir(run_id) / "model").exists()
    with pytest.raises(NotFound, match="has no model artifact 'model'"):
        jt.register_model(f"runs:/{run_id}/model", "victim")
    with pytest.raises(NotFound):
        jt.load_model(f"runs:/{run_id}/model")
    # the killed process left its partial folder in the staging area, nowhere else
    staging = store.artifact_root / STAGING
    (partial,) = [p for p in staging.iterdir() if p.name.startswith(PARTIAL_PREFIX)]
    assert is_stale(partial)
    if where == "before-rename":  # complete, manifest included, but never became a model
        assert (partial / "manifest.json").is_file()
    # the next log_model cleans it up and logs under the same name
    jt.start_run(run_id=run_id)
    info = jt.log_model(Doubler(), name="model")
    jt.end_run()
    assert not partial.exists()
    assert [p.name for p in staging.iterdir()] == []
    assert jt.load_model(info.model_uri).predict([[1.0], [2.5]]) == [2.0, 5.0]


def test_gc_removes_partial_folders_of_killed_processes(tmp_path: Path, track_db: Path) -> None:
    _kill_while_logging("pickling", tmp_path)
    staging = SQLiteStore(track_db).artifact_root / STAGING
    assert len(list(staging.iterdir())) == 1
    live = staging / f"{PARTIAL_PREFIX}elsewhere-1-abc"  # another host's, recent: kept
    live.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_track.cli", "gc"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "removed 1 partial model folders" in done.stderr
    assert [p.name for p in staging.iterdir()] == [live.name]
    old = time.time() - 2 * 86400
    os.utime(live, (old, old))
    assert is_stale(live)


@pytest.fixture
def logged(track_db: Path) -> tuple[str, Path]:
    with jt.start_run() as run:
        info = jt.log_model(Doubler(), name="model", input_example=[[1.0]])
    folder = session.current().store.artifact_dir(run.info.run_id) / "model"
    return info.model_uri, folder


def test_the_manifest_lists_every_file_with_size_and_hash(logged: tuple[str, Path]) -> None:
    _, folder = logged
    manifest = json.loads((folder / "manifest.json").read_text())
    on_disk = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    )
    assert sorted(manifest["files"]) == on_disk and "model.pkl" in on_disk
    for rel, meta in manifest["files"].items():
        assert meta["size"] == (folder / rel).stat().st_size and len(meta["sha256"]) == 64
    assert manifest["format_version"] == 2


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "model.pkl").unlink(), "model.pkl is missing"),
        (
            lambda f: (f / "model.pkl").write_bytes((f / "model.pkl").read_bytes()[:10]),
            "model.pkl has 10 bytes, the manifest says",
        ),
        (
            lambda f: (f / "requirements.txt").write_text(
                "x" * len((f / "requirements.txt").read_text())
            ),
            "requirements.txt differs from what was saved",
        ),
    ],
)
def test_register_and_load_refuse_a_damaged_model_naming_the_file(
    logged: tuple[str, Path], damage, message: str
) -> None:
    uri, folder = logged
    damage(folder)
    with pytest.raises(ModelIntegrityError, match=message):
        jt.load_model(uri)
    with pytest.raises(ModelIntegrityError, match=message):
        jt.register_model(uri, "damaged")
    with pytest.raises(NotFound):
        jt.get_registered_model("damaged")  # nothing was registered


def test_an_older_manifest_without_a_file_list_still_needs_its_model_file(
    logged: tuple[str, Path],
) -> None:
    uri, folder = logged
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["files"]
    manifest["format_version"] = 1
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert jt.load_model(uri).predict([[3.0]]) == [6.0]  # still loads
    (folder / "model.pkl").unlink()
    with pytest.raises(ModelIntegrityError, match=r"model\.pkl is missing"):
        jt.register_model(uri, "old")


def test_save_model_to_a_path_is_atomic_and_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "models" / "saved"
    jt.save_model(Doubler(), target)
    assert [p.name for p in target.parent.iterdir()] == ["saved"]  # no partial left
    assert jt.load_model(str(target)).predict([[1.0]]) == [2.0]
    with pytest.raises(ValueError, match="folder is not empty"):
        jt.save_model(Doubler(), target)


def test_log_model_over_other_artifacts_of_the_same_name_is_a_conflict(track_db: Path) -> None:
    with jt.start_run():
        jt.log_text("notes", "model/readme.txt")
        with pytest.raises(jt.store.Conflict, match="already exists; pick another name"):
            jt.log_model(Doubler(), name="model")


LOOP_CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    import jupyter_track as jt

    class Big:
        def __init__(self, i):
            self.weights = np.full(2_500_000, float(i))  # 20 MB to pickle and write

        def predict(self, data):
            return [float(self.weights[0])] * len(data)

    run = jt.start_run()
    print(run.info.run_id, flush=True)
    for i in range(1000):
        jt.log_model(Big(i), name=f"m{i}")
        print(i, flush=True)
    """
)


@pytest.mark.parametrize("delay", [0.15, 0.4, 0.9])
def test_killed_at_any_moment_every_model_present_is_complete(delay: float, track_db: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", LOOP_CHILD], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    run_id = child.stdout.readline().strip()
    assert child.stdout.readline().strip() == "0"  # one model is written: kill mid-stream
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    store = SQLiteStore(track_db)
    paths = run_model_paths(store, run_id)
    assert paths, "at least the first model was logged"
    for name in paths:  # whatever was there when the kill came: complete, or absent
        i = int(name[1:])
        assert jt.load_model(f"runs:/{run_id}/{name}").predict([[0]]) == [float(i)]
    present = {p.name for p in store.artifact_dir(run_id).iterdir()}
    assert present == set(paths)  # no half-written folder in the run


def test_killed_the_moment_a_manifest_appears_the_model_is_complete(track_db: Path) -> None:
    """The old copy wrote manifest.json before model.pkl: a kill right after the manifest
    appeared left a model that registered but did not load."""
    child = subprocess.Popen([sys.executable, "-c", LOOP_CHILD], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    run_id = child.stdout.readline().strip()
    folder = SQLiteStore(track_db).artifact_dir(run_id)
    deadline = time.monotonic() + 120
    manifest = folder / "m1" / "manifest.json"  # m0 is logged before the watch starts
    while not manifest.exists():
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.0005)
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    assert jt.load_model(f"runs:/{run_id}/m1").predict([[0]]) == [1.0]
    jt.register_model(f"runs:/{run_id}/m1", "survivor")
