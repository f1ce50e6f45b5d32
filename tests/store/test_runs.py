"""Runs, params, tags, metrics and bad input, on real SQLite files."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    points=st.lists(
        st.tuples(
            st.sampled_from(["loss", "acc", "é/ü 数", "a" * 200]),
            st.integers(-(2**63), 2**63 - 1),
            st.integers(0, 2**62),
            st.floats(allow_nan=True, allow_infinity=True),
        ),
        min_size=300,  # past the small-batch INSERT: PostgreSQL's binary COPY
        max_size=700,
    )
)
def test_large_batches_keep_every_point_as_logged(
    store: Store, points: list[tuple[str, int, int, float]]
) -> None:
    """A batch as the kernel's writer sends it (two runs interleaved, any key text, 64-bit
    steps and timestamps, NaN and infinities) comes back point for point, in writing order."""
    first, second = store.create_run("0").run_id, store.create_run("0").run_id
    handles = [store.run_handle(first), store.run_handle(second)]
    after = store.last_metric_rowid()
    rows = [(handles[i % 2], k, s, t, v) for i, (k, s, t, v) in enumerate(points)]
    store.write_metric_rows(rows, batch_id=f"b{after}" if store.wants_batch_ids else None)
    got, _ = store.metric_rows_since([first, second], after)
    ids = {handles[0]: first, handles[1]: second}
    expected = [(ids[h], k, s, t, v) for h, k, s, t, v in rows]
    # live charts' reading: every point, in writing order (values: see the histories below)
    assert [g[:4] for g in got] == [e[:4] for e in expected]
    for run_id in (first, second):
        mine = [e for e in expected if e[0] == run_id]
        for key in {e[1] for e in mine}:
            logged = sorted(
                ((e[2], e[3], n, e[4]) for n, e in enumerate(mine) if e[1] == key),
                key=lambda p: p[:3],
            )
            history = store.get_metric_history(run_id, key)
            assert [(m.step, m.timestamp) for m in history] == [p[:2] for p in logged]
            for m, p in zip(history, logged):  # bit for bit, NaN and infinities included
                assert (math.isnan(m.value) and math.isnan(p[3])) or m.value == p[3]
            assert store.get_run(run_id).summaries[key].count == len(logged)


def test_a_large_batch_retried_under_its_id_is_written_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a network engine a batch past ``REMOTE_CHUNK`` goes in several transactions, each
    under an id derived from the batch's: sending it again (its commit answer was lost, or a
    chunk failed half-way) writes only what is missing."""
    from jupyter_track.store import metrics

    monkeypatch.setattr(metrics, "REMOTE_CHUNK", 400)
    run_id = store.create_run("0").run_id
    handle = store.run_handle(run_id)
    rows = [(handle, "loss", i, 1000 + i, 1.0 / (i + 1)) for i in range(1000)]
    if store.wants_batch_ids:
        store.write_metric_rows(rows[:400], batch_id="batch-1.0")  # the first chunk landed
        store.write_metric_rows(rows, batch_id="batch-1")
        store.write_metric_rows(rows, batch_id="batch-1")
    else:  # SQLite: one transaction, never retried blindly
        store.write_metric_rows(rows)
    history = store.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(1000))
    assert store.get_run(run_id).summaries["loss"].count == 1000
