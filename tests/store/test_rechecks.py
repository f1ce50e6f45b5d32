"""Read-then-write paths decide inside their transaction: gc, restore, registry deletes,
alias compare-and-set and rollback, and run edits -- with races and killed processes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from jupyter_track.store import (
    AliasConflict,
    InvalidInput,
    NotFound,
    ViewType,
)
from jupyter_track.store.interface import Store

from .storetools import store_uri


def _deleted_run(store: Store, name: str = "r") -> str:
    run_id = store.create_run("0", run_name=name).run_id
    store.log_params(run_id, {"lr": 0.1})
    store.log_metrics(run_id, [("loss", 1.0, 1, 0)])
    store.write_artifact_bytes(run_id, "a.txt", b"x")
    store.delete_run(run_id)
    return run_id


def test_gc_keeps_a_run_restored_after_gc_listed_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    restored = _deleted_run(store, "restored")
    purged = _deleted_run(store, "purged")
    listed = store.registered_run_ids

    def restore_between_listing_and_purging() -> set[str]:
        store.restore_run(restored, actor="ana")  # another user, in the sidebar
        return listed()

    monkeypatch.setattr(store, "registered_run_ids", restore_between_listing_and_purging)
    report = store.gc()
    assert report.purged == [purged]
    run = store.get_run(restored)
    assert run.info.lifecycle_stage == "active"
    assert run.data.params == {"lr": "0.1"} and run.data.metrics == {"loss": 1.0}
    assert run.data.tags["jt.edited_by"] == "ana"
    assert store.artifact_file(restored, "a.txt").read_bytes() == b"x"
    assert not store.artifact_dir(purged).parent.exists()
    with pytest.raises(NotFound):
        store.get_run(purged)


def test_purge_rechecks_deleted_time_and_registered_versions(store: Store) -> None:
    recent = _deleted_run(store, "recent")
    registered = _deleted_run(store, "registered")
    store.create_model_version("m", f"runs:/{registered}/model", registered, create_model=True)
    cutoff = int(time.time() * 1000) - 60_000  # deleted before a minute ago
    assert store.purge_runs([recent, registered], deleted_before=cutoff) == []
    assert store.purge_runs([recent, registered]) == [recent]
    assert store.get_run(registered).info.lifecycle_stage == "deleted"
    report = store.gc()
    assert report.purged == [] and report.kept == [registered]


def test_restore_after_purge_is_not_found(store: Store, reopen: Callable[[Any], Any]) -> None:
    run_id = _deleted_run(store)
    other = reopen(store)  # another process's view: it knows the run's key
    assert other.get_run(run_id).info.lifecycle_stage == "deleted"
    assert store.gc().purged == [run_id]
    with pytest.raises(NotFound):
        other.restore_run(run_id)


def test_edit_run_is_one_transaction(store: Store) -> None:
    run_id = store.create_run("0", run_name="before", tags={"a": "1", "b": "2"}).run_id
    store.edit_run(
        run_id, run_name=" after ", set_tags={"c": "3"}, delete_tags=["a", "zz"], actor="ana"
    )
    run = store.get_run(run_id)
    assert run.info.run_name == "after"
    system = ("jt.", "mlflow.")
    assert {k: v for k, v in run.data.tags.items() if not k.startswith(system)} == {
        "b": "2",
        "c": "3",
    }
    assert run.data.tags["mlflow.runName"] == "after"  # MLflow's tag follows the rename
    assert run.data.tags["jt.edited_by"] == "ana"
    with pytest.raises(InvalidInput, match="tag key"):
        store.edit_run(run_id, run_name="never", set_tags={"": "x"}, delete_tags=["b"])
    with pytest.raises(InvalidInput, match="run_name"):
        store.edit_run(run_id, run_name="  ", delete_tags=["b"])
    run = store.get_run(run_id)
    assert run.info.run_name == "after" and run.data.tags["b"] == "2"
    with pytest.raises(NotFound):
        store.edit_run("nope", run_name="x")


def test_delete_and_restore_are_attributed(store: Store) -> None:
    run_id = store.create_run("0").run_id
    store.delete_run(run_id, actor="bob")
    assert store.get_run(run_id).data.tags["jt.edited_by"] == "bob"
    assert [r.info.run_id for r in store.search_runs(run_view_type=ViewType.DELETED_ONLY).runs] == [
        run_id
    ]
    store.restore_run(run_id, actor="carol")
    run = store.get_run(run_id)
    assert run.info.lifecycle_stage == "active" and run.data.tags["jt.edited_by"] == "carol"
    store.delete_run(run_id)  # a kernel: no attribution tags change
    assert store.get_run(run_id).data.tags["jt.edited_by"] == "carol"


def test_resolve_run_id(store: Store) -> None:
    ids = [store.create_run("0").run_id for _ in range(17)]  # hex ids: two share a first digit
    assert store.resolve_run_id(ids[0]) == ids[0]
    assert store.resolve_run_id(ids[1][:12]) == ids[1]
    with pytest.raises(NotFound):
        store.resolve_run_id("zzzz")
    firsts = [i[0] for i in ids]
    shared = next(c for c in firsts if firsts.count(c) > 1)
    with pytest.raises(InvalidInput, match="ambiguous"):
        store.resolve_run_id(shared)
    for text in ("%", "_", "*", "[", "?"):  # pattern characters are plain text
        with pytest.raises(NotFound):
            store.resolve_run_id(text)


def test_edit_registered_model_and_version_are_one_transaction(store: Store) -> None:
    run_id = store.create_run("0").run_id
    store.create_model_version("m", "s", run_id, tags={"k": "v"}, create_model=True)
    store.set_registered_model_tag("m", "keep", "1")
    before = store.registry_audit("m")
    with pytest.raises(NotFound, match="'missing'"):
        store.edit_registered_model(
            "m", description="new", set_tags={"x": "1"}, delete_tags=["missing"], actor="ana"
        )
    assert store.registry_audit("m") == before
    assert store.get_registered_model("m").description is None
    model = store.edit_registered_model(
        "m", description="new", set_tags={"x": "1"}, delete_tags=["keep"], actor="ana"
    )
    assert model.description == "new" and model.tags == {"x": "1"}
    mv = store.edit_model_version("m", 1, description="d", set_tags={"y": "2"}, delete_tags=["k"])
    assert (mv.description, mv.tags) == ("d", {"y": "2"})
    with pytest.raises(NotFound, match="no version 9"):
        store.edit_model_version("m", 9, description="x")


def test_compare_and_set_from_many_threads_has_one_winner_per_round(
    store: Store, reopen: Callable[[Any], Any]
) -> None:
    run_id = store.create_run("0").run_id
    for _ in range(4):
        store.create_model_version("m", "s", run_id, create_model=True)
    store.set_registered_model_alias("m", "champion", 1)
    rounds, threads = 10, 20
    winners: list[list[int]] = [[] for _ in range(rounds)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def mover(n: int) -> None:
        own = reopen(store)  # its own connections, as another process would have
        try:
            for r in range(rounds):
                barrier.wait()
                current = 1 + r % 4
                target = 1 + (r + 1) % 4
                try:
                    own.set_registered_model_alias(
                        "m", "champion", target, expected_version=current, actor=f"t{n}"
                    )
                    winners[r].append(n)
                except AliasConflict as exc:
                    assert exc.current_version == target
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    pool = [threading.Thread(target=mover, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors
    assert [len(w) for w in winners] == [1] * rounds
    moves = [e for e in store.alias_history("m", "champion") if e.old_value is not None]
    assert [(e.actor, e.old_value, e.new_value) for e in moves] == [
        (f"t{w[0]}", str(1 + r % 4), str(1 + (r + 1) % 4)) for r, w in enumerate(winners)
    ]


def test_rollback_decides_on_the_history_at_write_time(
    store: Store, reopen: Callable[[Any], Any]
) -> None:
    run_id = store.create_run("0").run_id
    for _ in range(3):
        store.create_model_version("m", "s", run_id, create_model=True)
    for v in (1, 2, 3):
        store.set_registered_model_alias("m", "champion", v)
    other = reopen(store)
    other.delete_model_version("m", 2)  # between a reader's look at the history and its rollback
    assert store.rollback_alias("m", "champion", expected_version=3).version == 1
    with pytest.raises(AliasConflict, match="now points to version 1"):
        other.rollback_alias("m", "champion", expected_version=3)


# ------------------------------------------------------------------------ killed processes

GC_CHILD = textwrap.dedent(
    """
    import sys
    from jupyter_track.store import open_store
    store = open_store(sys.argv[1])
    print("start", flush=True)
    store.gc()
    print("done", flush=True)
    """
)


@pytest.mark.slow
def test_gc_killed_at_any_moment_loses_nothing_it_did_not_purge(
    store: Store, reopen: Callable[[Any], Any]
) -> None:
    uri = store_uri(store)
    runs = []
    for i in range(300):
        run_id = store.create_run("0", run_name=f"r{i}").run_id
        store.log_params(run_id, {"i": i})
        store.log_metrics(run_id, [("m", float(j), j, j) for j in range(50)])
        store.write_artifact_bytes(run_id, "f.txt", b"data")
        runs.append(run_id)
    rng = random.Random(7)
    deleted = set(rng.sample(runs, 200))
    for run_id in deleted:
        store.delete_run(run_id)
    for _attempt in range(4):
        child = subprocess.Popen(
            [sys.executable, "-c", GC_CHILD, uri],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "JUPYTER_TRACK_ARTIFACTS": str(store.artifact_root)},
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "start"
        time.sleep(rng.uniform(0.0, 0.15))
        child.send_signal(signal.SIGKILL)
        child.wait()
        _check_whole(reopen(store), runs, deleted)
    report = reopen(store).gc()  # finishes what the killed ones left
    assert set(report.purged) <= deleted
    final = reopen(store)
    _check_whole(final, runs, deleted)
    assert {r.info.run_id for r in final.search_runs(run_view_type=ViewType.ALL).runs} == (
        set(runs) - deleted
    )
    assert final.db.conn().execute("SELECT count(*) FROM purged_runs").fetchone()[0] == 0
    left = {p.name for p in final.artifact_root.iterdir() if not p.name.startswith(".")}
    assert left == set(runs) - deleted


def _check_whole(store: Store, runs: list[str], deleted: set[str]) -> None:
    """Every run is either entirely there (row, param, 50 points, summary) or entirely gone;
    runs that were not deleted are all there with their files."""
    queued = {r[0] for r in store.db.conn().execute("SELECT run_id FROM purged_runs")}
    for run_id in runs:
        try:
            run = store.get_run(run_id)
        except NotFound:
            assert run_id in deleted
            assert (
                store.db.conn()
                .execute(
                    "SELECT count(*) FROM metrics m WHERE NOT EXISTS "
                    "(SELECT 1 FROM runs r WHERE r.id = m.run)"
                )
                .fetchone()[0]
                == 0
            )
            assert run_id in queued or not store.artifact_dir(run_id).parent.exists()
            continue
        assert len(store.get_metric_history(run_id, "m")) == 50
        assert run.summaries["m"].count == 50 and "i" in run.data.params
        assert store.artifact_file(run_id, "f.txt").read_bytes() == b"data"
