"""Runs, params, tags, metrics and bad input, on real SQLite files."""

from __future__ import annotations

import math

import pytest

from jupyter_track.store import (
    InvalidInput,
    Metric,
    NotFound,
    ParamConflict,
    RunStatus,
    ViewType,
)
from jupyter_track.store.interface import Store


def test_run_lifecycle(store: Store) -> None:
    info = store.create_run("0", run_name="first", tags={"team": "vision"})
    assert info.status == RunStatus.RUNNING
    store.update_run(info.run_id, status=RunStatus.FINISHED, end_time=info.start_time + 1500)
    run = store.get_run(info.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.duration_ms == 1500
    assert run.data.tags["team"] == "vision"
    store.delete_run(info.run_id)
    assert store.search_runs(["0"]).runs == []
    assert len(store.search_runs(["0"], run_view_type=ViewType.DELETED_ONLY).runs) == 1
    store.restore_run(info.run_id)
    assert [r.info.run_id for r in store.search_runs(["0"]).runs] == [info.run_id]


def test_unknown_run_and_experiment(store: Store) -> None:
    with pytest.raises(NotFound, match="nope"):
        store.get_run("nope")
    with pytest.raises(NotFound, match="42"):
        store.create_run("42")


def test_params_are_immutable_but_relogging_same_value_is_fine(store: Store) -> None:
    run_id = store.create_run("0").run_id
    store.log_params(run_id, {"lr": 0.01, "opt": "adam"})
    store.log_params(run_id, {"lr": 0.01})
    with pytest.raises(ParamConflict) as err:
        store.log_params(run_id, {"lr": 0.02, "epochs": 3})
    message = str(err.value)
    assert "'lr'" in message and "0.01" in message and "0.02" in message
    assert isinstance(err.value, ValueError)
    # the valid entry of the failing batch was kept
    assert store.get_run(run_id).data.params == {"lr": "0.01", "opt": "adam", "epochs": "3"}


@pytest.mark.parametrize(
    ("key", "reason"),
    [("", "must not be empty"), ("x" * 251, "limit is 250"), (3, "must be a string")],
)
def test_bad_param_keys_name_the_key_and_reason(store: Store, key: object, reason: str) -> None:
    run_id = store.create_run("0").run_id
    with pytest.raises(ValueError, match=reason):
        store.log_params(run_id, {key: 1, "ok": 2})  # type: ignore[dict-item]
    assert store.get_run(run_id).data.params == {"ok": "2"}


def test_param_that_cannot_become_text(store: Store) -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    run_id = store.create_run("0").run_id
    with pytest.raises(ValueError, match=r"'weird'.*cannot be turned into text"):
        store.log_params(run_id, {"weird": Broken(), "fine": 1})
    assert store.get_run(run_id).data.params == {"fine": "1"}


def test_metrics_keep_nan_and_infinities(store: Store) -> None:
    run_id = store.create_run("0").run_id
    values = [0.5, math.nan, math.inf, -math.inf, 0.25]
    store.log_metrics(run_id, [Metric("m", v, 1000 + i, i) for i, v in enumerate(values)])
    history = store.get_metric_history(run_id, "m")
    assert [h.step for h in history] == [0, 1, 2, 3, 4]
    got = [h.value for h in history]
    assert got[0] == 0.5 and math.isnan(got[1]) and got[2] == math.inf
    assert got[3] == -math.inf and got[4] == 0.25
    summary = store.get_run(run_id).summaries["m"]
    assert (summary.last, summary.min, summary.max, summary.count) == (0.25, -math.inf, math.inf, 5)


def test_metric_summary_last_is_by_step_then_time(store: Store) -> None:
    run_id = store.create_run("0").run_id
    store.log_metrics(run_id, [("loss", 0.1, 2000, 5), ("loss", 0.9, 3000, 1)])
    store.log_metrics(run_id, [("loss", 0.3, 1000, 5)])  # same step, older timestamp
    s = store.get_run(run_id).summaries["loss"]
    assert (s.last, s.step, s.min, s.max, s.count) == (0.1, 5, 0.1, 0.9, 3)


def test_bad_metrics_are_reported_and_good_ones_kept(store: Store) -> None:
    run_id = store.create_run("0").run_id
    with pytest.raises(ValueError) as err:
        store.log_metrics(
            run_id,
            [("acc", 0.9, 1, 0), ("name", "high", 1, 0), ("", 1.0, 1, 0), ("loss", 0.1, 1, 0)],
        )
    text = str(err.value)
    assert "'name'" in text and "not a number" in text and "must not be empty" in text
    assert set(store.get_run(run_id).data.metrics) == {"acc", "loss"}


def test_tags_overwrite_and_delete(store: Store) -> None:
    run_id = store.create_run("0").run_id
    store.set_tags(run_id, {"stage": "dev"})
    store.set_tags(run_id, {"stage": "prod", "mlflow.runName": "renamed"})
    run = store.get_run(run_id)
    assert run.data.tags["stage"] == "prod"
    assert run.info.run_name == "renamed"
    store.delete_tag(run_id, "stage")
    assert "stage" not in store.get_run(run_id).data.tags
    with pytest.raises(NotFound):
        store.delete_tag(run_id, "stage")


def test_experiments(store: Store) -> None:
    experiment_id = store.create_experiment("vision", tags={"owner": "ana"})
    assert store.get_experiment(experiment_id).tags == {"owner": "ana"}
    assert store.get_or_create_experiment("vision").experiment_id == experiment_id
    from jupyter_track.store import Conflict

    with pytest.raises(Conflict, match="vision"):
        store.create_experiment("vision")
    with pytest.raises(InvalidInput):
        store.create_experiment("  ")


def test_artifacts_are_confined(store: Store, tmp_path) -> None:
    run_id = store.create_run("0").run_id
    store.write_artifact_bytes(run_id, "reports/a.txt", b"hello")
    assert [a.path for a in store.list_artifacts(run_id)] == ["reports"]
    assert store.artifact_file(run_id, "reports/a.txt").read_bytes() == b"hello"
    for bad in ("../../etc/passwd", "/etc/passwd", "reports/../../x", "C:/x"):
        with pytest.raises(InvalidInput):
            store.artifact_path(run_id, bad)
    with pytest.raises(NotFound):
        store.artifact_file(run_id, "reports")
