"""The remaining method groups of the store, on every engine: imports (records that keep their
ids, numbers and times), access grants and the service audit, lineage and datasets, the cell
log and environments, and live-chart reads (``metric_*_since`` / ``_until``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from jupyter_track.store import Conflict, InvalidInput, NotFound, ViewType
from jupyter_track.store.interface import Store

# ----------------------------------------------------------------------------- imports


def test_import_keeps_ids_times_points_and_numbers(store: Any) -> None:
    experiment_id = store.import_experiment(
        "from-mlflow", creation_time=1_000, last_update_time=2_000, tags={"team": "risk"}
    )
    with pytest.raises(Conflict, match="already exists"):
        store.import_experiment("from-mlflow")
    run_id = "ab" * 16
    points = [("loss", 0.5, 10_000, 0), ("loss", math.nan, 10_001, 1), ("loss", -math.inf, 9, 2)]
    assert not store.run_exists(run_id)
    written = store.import_run(
        run_id,
        experiment_id,
        run_name="old run",
        status="FINISHED",
        start_time=5_000,
        end_time=6_000,
        user_id="ada",
        params={"lr": "0.1"},
        tags={"origin": "mlflow"},
        metrics=points,
    )
    assert written == 3 and store.run_exists(run_id)
    run = store.get_run(run_id)
    assert (run.info.run_name, run.info.status, run.info.start_time, run.info.end_time) == (
        "old run",
        "FINISHED",
        5_000,
        6_000,
    )
    assert run.info.experiment_id == experiment_id and run.info.user_id == "ada"
    assert run.data.params == {"lr": "0.1"} and run.data.tags["origin"] == "mlflow"
    history = store.get_metric_history(run_id, "loss")
    assert [(m.step, m.timestamp) for m in history] == [(0, 10_000), (1, 10_001), (2, 9)]
    assert history[0].value == 0.5 and math.isnan(history[1].value)
    assert history[2].value == -math.inf
    page = store.search_runs([experiment_id], "params.lr = '0.1'", run_view_type=ViewType.ALL)
    assert [r.info.run_id for r in page.runs] == [run_id]

    store.import_registered_model("m", description="imported", tags={"k": "v"}, actor="ada")
    store.import_model_version("m", 3, source=f"runs:/{run_id}/model", run_id=run_id)
    with pytest.raises(Conflict, match="already has version 3"):
        store.import_model_version("m", 3, source="s")
    with pytest.raises(NotFound):
        store.import_model_version("nope", 1, source="s")
    assert store.model_version_numbers("m") == {3}
    next_version = store.create_model_version("m", "s", run_id, artifact_path="model")
    assert next_version.version == 4  # counting goes on from the highest imported number
    assert store.get_model_version("m", 3).run_id == run_id
    actions = [e.action for e in store.registry_audit("m")]
    assert "create_registered_model" in actions and "create_model_version" in actions


def test_import_of_a_bad_run_writes_nothing(store: Any) -> None:
    experiment_id = store.import_experiment("e")
    with pytest.raises(InvalidInput):
        store.import_run(
            "cd" * 16,
            experiment_id,
            run_name="r",
            status="FINISHED",
            start_time=1,
            end_time=2,
            params={"": "empty key"},
        )
    assert not store.run_exists("cd" * 16)


# -------------------------------------------------------------------------------- grants


def test_grants_replace_revoke_and_are_audited(store: Store) -> None:
    grant = store.set_permission("experiment", "7", "user", "ada", "READ", actor="admin")
    assert grant is not None and (grant.permission, grant.granted_by) == ("READ", "admin")
    store.set_permission("experiment", "7", "user", "ada", "EDIT", actor="admin")
    store.set_permission("experiment", "7", "group", "ml", "READ", actor="admin")
    store.set_permission("experiment", "8", "everyone", "", "READ", actor="admin")
    store.set_permission("registered_model", "m", "user", "bob", "MANAGE", actor="admin")
    mine = store.permissions_of("ada", ["ml"], "experiment", None)
    assert sorted((g.object_id, g.principal_type, g.permission) for g in mine) == [
        ("7", "group", "READ"),
        ("7", "user", "EDIT"),
        ("8", "everyone", "READ"),
    ]
    assert [g.object_id for g in store.permissions_of("ada", [], "experiment", ["8"])] == ["8"]
    assert len(store.list_permissions("experiment")) == 3
    assert [g.principal for g in store.list_permissions("registered_model", "m")] == ["bob"]
    assert store.set_permission("experiment", "7", "user", "ada", None, actor="admin") is None
    assert [g.principal_type for g in store.list_permissions("experiment", "7")] == ["group"]
    audit = store.service_audit("experiment", "7")
    assert [(a.action, a.old_value, a.new_value) for a in audit] == [
        ("grant", None, "READ"),
        ("grant", "READ", "EDIT"),
        ("grant", None, "READ"),
        ("revoke", "EDIT", None),
    ]
    assert all(a.actor == "admin" and a.actor_verified for a in audit)
    with pytest.raises(InvalidInput, match="permission 'OWNER'"):
        store.set_permission("experiment", "7", "user", "ada", "OWNER", actor="admin")
    with pytest.raises(InvalidInput, match="object_type"):
        store.set_permission("notebook", "7", "user", "ada", "READ", actor="admin")


def test_service_audit_of_actions(store: Store) -> None:
    store.audit_service_action(
        "delete_run", "run", "r1", actor="ada", verified=False, old="active", new="deleted"
    )
    entries = store.service_audit("run", "r1")
    assert [(e.action, e.actor, e.actor_verified, e.old_value, e.new_value) for e in entries] == [
        ("delete_run", "ada", False, "active", "deleted")
    ]
    assert store.service_audit(limit=10)[-1].object_id == "r1"


# ------------------------------------------------------------------------------- lineage


def test_lineage_records_datasets_and_versions_of_runs(store: Store) -> None:
    run_id = store.create_run("0").run_id
    assert store.get_run_lineage(run_id) is None
    record = {"stale": ["x"], "unseeded": True, "session": "s1", "notebook": "a.ipynb"}
    store.put_run_lineage(run_id, record)
    assert store.get_run_lineage(run_id) == record
    store.put_run_lineage(run_id, {"stale": [], "unseeded": False})  # replaced
    assert store.get_run_lineage(run_id) == {"stale": [], "unseeded": False}
    with pytest.raises(NotFound):
        store.get_run_lineage("f" * 32)
    store.set_tags(run_id, {"jt.input.train.digest": "abc123"})
    other = store.create_run("0").run_id
    store.set_tags(other, {"jt.input.eval.digest": "abc123"})
    usage = store.dataset_usage(digest="abc123")  # type: ignore[attr-defined]
    assert sorted((u["run_id"], u["name"]) for u in usage) == sorted(
        [(run_id, "train"), (other, "eval")]
    )
    assert [u["run_id"] for u in store.dataset_usage(name="train")] == [run_id]  # type: ignore[attr-defined]
    store.create_model_version("m", f"runs:/{run_id}/model", run_id, create_model=True)
    assert store.model_versions_of_runs([run_id, other]) == [  # type: ignore[attr-defined]
        {"name": "m", "version": 1, "run_id": run_id}
    ]


# ------------------------------------------------------------------ cell log, environments


def test_cell_log_and_environments(store: Store, reopen: Callable[[Any], Any]) -> None:
    rows = [
        ("k1", "a.ipynb", "c1", 1, "x = 1", 1_000, 2.5, "ok", None, None),
        ("k1", "a.ipynb", "c2", 2, "1/0", 2_000, 0.5, "error", "ZeroDivisionError", None),
        ("k2", "b.ipynb", "c1", 1, "print('é\\t')", 3_000, 1.0, "ok", None, "r" * 32),
    ]
    store.write_cell_executions(rows)
    got = store.cell_executions(notebook="a.ipynb")
    assert [(c.cell_id, c.status, c.error_name) for c in got] == [
        ("c2", "error", "ZeroDivisionError"),
        ("c1", "ok", None),
    ]
    assert [c.source for c in store.cell_executions(session="k2")] == ["print('é\\t')"]
    assert len(store.cell_executions(cell_id="c1", limit=1)) == 1
    store.put_environment("h1", "3.11.7", "Linux", {"numpy": "2.1", "a": "1"})
    store.put_environment("h1", "other", "other", {})  # stored once: the first one stays
    seen = reopen(store).get_environment("h1")
    assert (seen["python"], seen["platform"], seen["packages"]) == (
        "3.11.7",
        "Linux",
        {"a": "1", "numpy": "2.1"},
    )
    with pytest.raises(NotFound):
        store.get_environment("missing")


# ------------------------------------------------------------------- live-chart reads


def test_live_reads_follow_new_points_in_writing_order(
    store: Store, reopen: Callable[[Any], Any]
) -> None:
    a, b = store.create_run("0").run_id, store.create_run("0").run_id
    start = store.last_metric_rowid()
    store.log_metrics(a, [("loss", 1.0, 10, 0), ("loss", 0.5, 11, 1)])
    store.log_metrics(b, [("acc", math.nan, 12, 0), ("loss", math.inf, 13, 0)])
    other = reopen(store)  # another process's view
    rows, cursor = other.metric_rows_since(None, start)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (a, "loss", 0),
        (a, "loss", 1),
        (b, "acc", 0),
        (b, "loss", 0),
    ]
    assert math.isnan(rows[2][4]) and rows[3][4] == math.inf
    assert other.metric_rows_since(None, cursor) == ([], cursor)
    series, cursor_b = other.metric_series_since([b], start)
    assert sorted((s[0], s[1], s[2]) for s in series) == [(b, "acc", [0]), (b, "loss", [0])]
    assert cursor_b == cursor
    store.log_metrics(a, [("loss", 0.25, 14, 2)])
    newer, _ = other.metric_rows_since([a], cursor)
    assert [(r[0], r[2], r[4]) for r in newer] == [(a, 2, 0.25)]
    until = other.metric_rows_until(a, cursor)
    assert [(k, s, v) for k, s, _, v in until] == [("loss", 0, 1.0), ("loss", 1, 0.5)]
    values, last = other.metric_series(a, "loss")
    assert [v for _, _, v in values] == [1.0, 0.5, 0.25] and last > cursor
