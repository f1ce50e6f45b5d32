"""The MLflow-named fluent API, through ``import jupyter_track as mlflow``."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import pytest

import jupyter_track as mlflow
from jupyter_track.store import InvalidInput, ParamConflict, RunStatus
from jupyter_track.tracking import session


def test_mlflow_style_script_runs_unchanged(tmp_path: Path) -> None:
    mlflow.set_experiment("iris")
    with mlflow.start_run(run_name="baseline", tags={"team": "ml"}) as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"epochs": 3, "opt": "adam"})
        for epoch in range(3):
            mlflow.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8})
        mlflow.set_tag("stage", "dev")
        mlflow.set_tags({"owner": "ana"})
        mlflow.log_text("hello", "notes/readme.txt")
        mlflow.log_dict({"a": 1}, "config.json")
        (tmp_path / "data.csv").write_text("x\n1\n")
        mlflow.log_artifact(str(tmp_path / "data.csv"), artifact_path="data")
        assert mlflow.active_run().info.run_id == run.info.run_id
    assert mlflow.active_run() is None
    got = mlflow.get_run(run.info.run_id)
    assert got.info.status == "FINISHED" and got.info.end_time is not None
    assert got.data.params == {"lr": "0.01", "epochs": "3", "opt": "adam"}
    assert got.data.metrics == {"loss": pytest.approx(1 / 3), "acc": 0.9, "f1": 0.8}
    assert got.data.tags["team"] == "ml" and got.data.tags["stage"] == "dev"
    assert [m.step for m in mlflow.get_metric_history(run.info.run_id, "loss")] == [0, 1, 2]
    artifact_dir = Path(mlflow.TrackClient().download_artifacts(run.info.run_id, ""))
    assert (artifact_dir / "notes" / "readme.txt").read_text() == "hello"
    assert json.loads((artifact_dir / "config.json").read_text()) == {"a": 1}
    assert (artifact_dir / "data" / "data.csv").exists()


def test_search_runs_returns_mlflow_columns() -> None:
    mlflow.set_experiment("search")
    for lr in (0.1, 0.01):
        with mlflow.start_run():
            mlflow.log_param("lr", lr)
            mlflow.log_metric("acc", 1 - lr)
            mlflow.set_tag("team", "x")
    df = mlflow.search_runs(filter_string="metrics.acc > 0.95", order_by=["metrics.acc DESC"])
    assert list(df["params.lr"]) == ["0.01"]
    for column in (
        "run_id",
        "status",
        "start_time",
        "end_time",
        "metrics.acc",
        "params.lr",
        "tags.team",
        "experiment_id",
        "artifact_uri",
    ):
        assert column in df.columns
    assert str(df["start_time"].dtype).startswith("datetime64")
    runs = mlflow.search_runs(experiment_names=["search"], output_format="list")
    assert len(runs) == 2 and runs[0].data.params["lr"] in ("0.1", "0.01")
    assert len(mlflow.search_runs(experiment_names=["Default"])) == 0
    # an unknown experiment name finds nothing, as in MLflow
    assert len(mlflow.search_runs(experiment_names=["missing"])) == 0
    assert mlflow.search_runs(experiment_names=["missing", "search"], output_format="list")


def test_starting_a_run_while_one_is_open_ends_the_open_one() -> None:
    first = mlflow.start_run()  # a cell that never ended its run
    mlflow.log_metric("x", 1)
    second = mlflow.start_run()  # the cell runs again: no "already active" error
    assert mlflow.active_run().info.run_id == second.info.run_id
    assert mlflow.get_run(first.info.run_id).info.status == "FINISHED"
    assert mlflow.get_run(first.info.run_id).data.metrics == {"x": 1.0}
    mlflow.end_run()
    assert mlflow.get_run(second.info.run_id).info.status == "FINISHED"


def test_nested_runs_and_resume() -> None:
    with mlflow.start_run() as parent:
        with mlflow.start_run(nested=True) as child:
            mlflow.log_metric("fold_acc", 0.7)
        assert mlflow.active_run().info.run_id == parent.info.run_id
    child_run = mlflow.get_run(child.info.run_id)
    assert child_run.info.parent_run_id == parent.info.run_id
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    with mlflow.start_run(run_id=child.info.run_id):
        mlflow.log_metric("fold_acc", 0.9, step=1)
    assert mlflow.get_run(child.info.run_id).data.metrics["fold_acc"] == 0.9


def test_exceptions_mark_the_run_failed_or_killed() -> None:
    with pytest.raises(RuntimeError), mlflow.start_run() as failing:
        raise RuntimeError("diverged")
    run = mlflow.get_run(failing.info.run_id)
    assert run.info.status == "FAILED" and "RuntimeError: diverged" in run.info.error
    with pytest.raises(KeyboardInterrupt), mlflow.start_run() as killed:
        raise KeyboardInterrupt
    assert mlflow.get_run(killed.info.run_id).info.status == "KILLED"


def test_param_conflict_names_key_and_both_values() -> None:
    with mlflow.start_run():
        mlflow.log_param("lr", 0.01)
        mlflow.log_param("lr", 0.01)
        with pytest.raises(ParamConflict, match=r"'lr'.*'0\.01'.*'0\.02'"):
            mlflow.log_param("lr", 0.02)


def test_log_metric_does_no_io_on_the_callers_thread(track_db: Path) -> None:
    with mlflow.start_run() as run:
        writer = session.current().writer
        writer.interval = 3600  # the background thread will not flush by itself
        writes: list[str] = []
        store = session.current().store
        original = store.write_metric_rows

        def spy(rows):  # record which thread writes
            writes.append(threading.current_thread().name)
            return original(rows)

        store.write_metric_rows = spy  # type: ignore[method-assign]
        try:
            for i in range(1000):
                mlflow.log_metric("m", float(i), step=i)
            assert writes == [] and writer.pending == 1000
            writer._wake.set()
            for _ in range(200):
                if writes:
                    break
                threading.Event().wait(0.01)
            assert writes == ["jupyter-track-writer"]
        finally:
            store.write_metric_rows = original  # type: ignore[method-assign]
    assert len(mlflow.get_metric_history(run.info.run_id, "m")) == 1000


def test_bad_metrics_raise_naming_the_key_and_keep_the_rest() -> None:
    with mlflow.start_run() as run:
        with pytest.raises(ValueError, match=r"'acc'.*not a number"):
            mlflow.log_metric("acc", "high")
        with pytest.raises(ValueError, match="limit is 250"):
            mlflow.log_metric("k" * 251, 1.0)
        with pytest.raises(InvalidInput) as err:
            mlflow.log_metrics({"good": 1.0, "bad": "x", "": 2.0, "nan": math.nan})
        assert "'bad'" in str(err.value) and "must not be empty" in str(err.value)
    metrics = mlflow.get_run(run.info.run_id).data.metrics
    assert metrics["good"] == 1.0 and math.isnan(metrics["nan"]) and "bad" not in metrics


def test_numpy_values_and_steps_are_accepted() -> None:
    np = pytest.importorskip("numpy")
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", np.float32(0.5), step=np.int64(3))
        mlflow.log_param("size", np.int64(7))
    got = mlflow.get_run(run.info.run_id)
    assert got.data.metrics["acc"] == 0.5 and got.data.params["size"] == "7"


def test_log_figure_and_image() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with mlflow.start_run() as run:
        mlflow.log_figure(fig, "plots/curve.png")
        mlflow.log_image(np.zeros((4, 4, 3)), "img.png")
    client = mlflow.TrackClient()
    listed = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert listed == {"plots", "img.png"}
    png = Path(client.download_artifacts(run.info.run_id, "plots/curve.png")).read_bytes()
    assert png.startswith(b"\x89PNG")


def test_delete_and_restore_run() -> None:
    with mlflow.start_run() as run:
        pass
    mlflow.delete_run(run.info.run_id)
    assert len(mlflow.search_runs()) == 0
    mlflow.restore_run(run.info.run_id)
    assert len(mlflow.search_runs()) == 1


def test_client_is_explicit_and_synchronous() -> None:
    from jupyter_track.store import Metric, Param, RunTag

    client = mlflow.TrackClient()
    experiment_id = client.create_experiment("client")
    run = client.create_run(experiment_id, run_name="explicit")
    client.log_batch(
        run.info.run_id,
        metrics=[Metric("m", 1.5, 0, 0)],
        params=[Param("p", "1")],
        tags=[RunTag("t", "v")],
    )
    client.log_metric(run.info.run_id, "m", 2.5, step=1)
    client.set_terminated(run.info.run_id)
    got = client.get_run(run.info.run_id)
    assert got.data.metrics == {"m": 2.5} and got.data.params == {"p": "1"}
    assert got.info.status == RunStatus.FINISHED
    page = client.search_runs([experiment_id], "params.p = '1'", max_results=10)
    assert [r.info.run_id for r in page] == [run.info.run_id] and page.token is None


def test_tracking_uri_switches_store(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    mlflow.set_tracking_uri(f"sqlite:///{other}")
    assert mlflow.get_tracking_uri() == f"sqlite:///{other}"
    with mlflow.start_run():
        mlflow.log_metric("x", 1)
    assert other.exists()
    mlflow.set_tracking_uri(None)
