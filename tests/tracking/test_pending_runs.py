"""Runs buffered by the kernel (``jupyter_track.tracking.pending``): a short run is one write
transaction, and nothing a user can observe changes.

* ``end_run`` returns once the run (creation, params, tags, points, end) is committed;
* a read in the same process sees a run at once (``get_run``, ``search_runs``, ``TrackClient``,
  the session's store), other processes within the writer's flush interval;
* params and tags on a buffered run behave exactly as on a stored run (same errors, same
  values kept), whatever the sequence of calls (a property test compares both).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jupyter_track as jt
from jupyter_track.store import SQLiteStore, TrackError
from jupyter_track.tracking import session
from jupyter_track.tracking.pending import PendingRun


@contextlib.contextmanager
def counted_transactions(store: Any) -> Iterator[list[int]]:
    """Count the write transactions ``store`` opens (joined nested ones are not counted)."""
    db = store.db
    original = db.write
    count = [0]

    @contextlib.contextmanager
    def write() -> Iterator[Any]:
        if not db.conn().in_transaction:
            count[0] += 1
        with original() as conn:
            yield conn

    db.write = write
    try:
        yield count
    finally:
        del db.write


@pytest.fixture
def quiet_writer() -> Any:
    """The session's writer with a background interval too long to flush during a test: every
    write then happens where the test says."""
    writer = session.current().writer
    writer.interval = 3600
    return writer


def test_a_short_run_is_one_write_transaction(quiet_writer: Any) -> None:
    jt.set_experiment("one-transaction")
    with jt.start_run():  # the first run stores the environment and warms the caches
        pass
    store = session.current().raw_store
    with counted_transactions(store) as count:
        with jt.start_run(run_name="short", tags={"team": "a"}) as run:
            jt.log_params({f"p{i}": i for i in range(10)})
            jt.log_metrics({f"m{k}": k * 0.5 for k in range(5)})
            jt.set_tag("kind", "test")
            assert isinstance(run._pk, PendingRun)  # nothing written so far
        assert count[0] == 1
    got = SQLiteStore(store.path).get_run(run.info.run_id)  # another connection: committed
    assert got.info.status == "FINISHED" and got.info.end_time is not None
    assert got.info.run_name == "short"
    assert got.data.params == {f"p{i}": str(i) for i in range(10)}
    assert got.data.metrics == {f"m{k}": k * 0.5 for k in range(5)}
    assert got.data.tags["team"] == "a" and got.data.tags["kind"] == "test"
    assert got.data.tags["jt.environment"] == got.info.environment
    assert store.get_environment(got.info.environment)["python"]


def test_reads_in_the_process_see_a_buffered_run_at_once(quiet_writer: Any) -> None:
    run = jt.start_run(run_name="seen")
    run_id = run.info.run_id
    jt.log_param("lr", 0.1)
    assert jt.get_run(run_id).data.params == {"lr": "0.1"}
    assert [r.info.run_id for r in jt.search_runs(output_format="list")] == [run_id]
    jt.log_param("depth", 3)  # written now: goes to the store
    assert jt.TrackClient().get_run(run_id).data.params == {"lr": "0.1", "depth": "3"}
    jt.log_metric("loss", 0.5)
    jt.end_run()
    got = session.current().store.get_run(run_id)
    assert got.info.status == "FINISHED" and got.data.metrics == {"loss": 0.5}


def test_the_session_store_and_a_client_write_buffered_runs_first(quiet_writer: Any) -> None:
    run = jt.start_run()
    jt.log_params({"a": 1})
    client = jt.TrackClient()  # its own store object on the same file
    assert client.get_run(run.info.run_id).data.params == {"a": "1"}
    run2 = jt.start_run(nested=True)
    assert session.current().store.get_run(run2.info.run_id).info.status == "RUNNING"
    assert run2.info.run_id in {r.info.run_id for r in client.search_runs(["0"])}
    jt.end_run()
    jt.end_run()


def test_another_process_sees_a_long_run_within_the_flush_interval(track_db: Path) -> None:
    run = jt.start_run(run_name="long")
    jt.log_param("lr", 0.01)
    jt.log_metric("loss", 1.0)
    deadline = time.monotonic() + 30  # the background writer flushes every 0.2 s
    while True:
        code = (
            "import sys; from jupyter_track.store import SQLiteStore; "
            f"r = SQLiteStore(sys.argv[1]).get_run({run.info.run_id!r}); "
            "print(r.info.status, r.data.params, r.data.metrics)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(track_db)], capture_output=True, text=True
        )
        if out.returncode == 0:
            break
        assert "does not exist" in out.stderr, out.stderr
        assert time.monotonic() < deadline, "the run was never written"
        time.sleep(0.1)
    assert out.stdout.split()[0] == "RUNNING"
    jt.end_run()


def test_start_run_checks_what_create_run_checks_on_the_callers_thread() -> None:
    with pytest.raises(TrackError, match="does not exist"):
        jt.start_run(experiment_id="424242")
    with pytest.raises(TrackError, match="does not exist"):
        jt.start_run(parent_run_id="0" * 32)
    with pytest.raises(ValueError, match="tag"):
        jt.start_run(tags={"": "empty key"})
    assert jt.active_run() is None
    assert jt.search_runs(output_format="list") == []


def test_run_name_tag_on_a_buffered_run_renames_it(quiet_writer: Any) -> None:
    with jt.start_run(run_name="before") as run:
        jt.set_tags({"mlflow.runName": "after", "x": 1})
    got = jt.get_run(run.info.run_id)
    assert got.info.run_name == "after" and got.data.tags["x"] == "1"


def test_a_run_whose_points_the_store_refuses_is_written_without_them(
    quiet_writer: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    run = jt.start_run()
    handle = run._pk
    assert isinstance(handle, PendingRun)
    jt.log_metric("good", 1.0, step=1)
    quiet_writer.append_metric((handle, "bad", 2**63, 0, 1.0))  # past the caller's checks
    jt.log_param("kept", "yes")
    jt.end_run()
    got = jt.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.metrics == {"good": 1.0} and got.data.params == {"kept": "yes"}
    assert "bad" in capfd.readouterr().err


def test_a_buffered_run_waits_for_a_store_that_cannot_be_written(
    quiet_writer: Any, track_db: Path
) -> None:
    from jupyter_track.store import StoreUnavailable

    run = jt.start_run()
    jt.log_metric("loss", 1.0)
    store = session.current().raw_store
    real = store.write_run

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("disk full (test)")

    store.write_run = unavailable
    try:
        with pytest.raises(StoreUnavailable):
            jt.end_run()
        assert SQLiteStore(track_db).search_runs().runs == []
    finally:
        store.write_run = real
    jt.flush()  # writable again: the run and its end are written, in order
    got = SQLiteStore(track_db).get_run(run.info.run_id)
    assert got.info.status == "FINISHED" and got.data.metrics == {"loss": 1.0}


# ------------------------------------------------------------- same semantics as the store

KEYS = st.sampled_from(["a", "b", "c", "", "bad\x01key"])
VALUES = st.one_of(st.sampled_from([1, 2, "x", "1"]), st.floats(allow_nan=False, width=16))
CALLS = st.lists(
    st.tuples(st.sampled_from(["params", "tags"]), st.dictionaries(KEYS, VALUES, max_size=3)),
    min_size=1,
    max_size=6,
)


def _apply(calls: list[tuple[str, dict[str, Any]]]) -> list[str | None]:
    outcomes: list[str | None] = []
    for kind, values in calls:
        try:
            if kind == "params":
                jt.log_params(values)
            else:
                jt.set_tags(values)
            outcomes.append(None)
        except Exception as exc:
            outcomes.append(f"{type(exc).__name__}: {exc}")
    return outcomes


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(calls=CALLS)
def test_params_and_tags_on_a_buffered_run_behave_as_on_a_stored_run(
    quiet_writer: Any, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    results = []
    for written_first in (False, True):
        run = jt.start_run()
        if written_first:
            session.current().write_pending_runs()
            assert not isinstance(run._pk, PendingRun)
        else:
            assert isinstance(run._pk, PendingRun)
        outcomes = _apply(calls)
        jt.end_run()
        got = jt.get_run(run.info.run_id)
        tags = {k: v for k, v in got.data.tags.items() if not k.startswith(("jt.", "mlflow."))}
        outcomes = [o.replace(run.info.run_id, "RUN") if o else o for o in outcomes]
        results.append((outcomes, got.data.params, tags))
    assert results[0] == results[1]


def test_logging_never_imports_numpy_or_pandas(tmp_path: Path) -> None:
    code = """
import sys, jupyter_track as jt
jt.set_tracking_uri(sys.argv[1])
with jt.start_run() as run:
    jt.log_params({"a": 1}); jt.set_tag("t", "v")
    jt.log_metric("x", 1.0); jt.log_metrics({"y": 2, "z": 3.5}, step=1)
jt.get_run(run.info.run_id)
jt.search_runs(output_format="list")
print(sorted(m for m in ("numpy", "pandas") if m in sys.modules))
"""
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "t.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_code_holding_the_store_sees_a_run_it_asks_for(quiet_writer: Any, tmp_path: Path) -> None:
    store = session.current().store  # taken before the run exists (as log_model does)
    run = jt.start_run()
    assert isinstance(run._pk, PendingRun)
    jt.log_artifact(_file(tmp_path), "notes")  # store fetched before get_or_start_run
    assert store.get_run(run.info.run_id).info.status == "RUNNING"
    assert [a.path for a in store.list_artifacts(run.info.run_id, "notes")] == ["notes/a.txt"]
    jt.end_run()
    run2 = jt.start_run()
    with pytest.raises(TrackError, match="not"):
        jt.delete_tag("missing")  # the run is written, then the store says the tag is not set
    assert store.get_run(run2.info.run_id).info.status == "RUNNING"
    jt.end_run()


def _file(folder: Path) -> Path:
    path = folder / "a.txt"
    path.write_text("a")
    return path


def test_numpy_values_are_logged_without_numpy_imported_by_the_logging_path(
    tmp_path: Path,
) -> None:
    """A script that never imports numpy never pays for it; one that does logs numpy values
    (recognised by what they are, not by importing numpy) exactly as Python numbers."""
    code = """
import json, sys, jupyter_track as jt
jt.set_tracking_uri(sys.argv[1])
with jt.start_run() as run:
    jt.log_metric("plain", 1.0)
assert "numpy" not in sys.modules, "the logging path imported numpy"
import numpy as np
with jt.start_run() as run:
    jt.log_metric("f32", np.float32(0.5), step=np.int64(3))
    jt.log_metrics({"f64": np.float64(0.25), "i": np.int32(7), "b": np.bool_(True)},
                   step=np.int16(4))
    jt.log_param("p", np.float64(0.1))
    jt.log_metric("zero_d", np.array(2.5))
got = jt.get_run(run.info.run_id)
hist = jt.get_metric_history(run.info.run_id, "f32")
print(json.dumps([got.data.metrics, got.data.params, [[m.step, m.value] for m in hist]]))
"""
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "t.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    metrics, params, history = json.loads(out.stdout)
    assert metrics == {"f32": 0.5, "f64": 0.25, "i": 7.0, "b": 1.0, "zero_d": 2.5}
    assert params == {"p": "0.1"}
    assert history == [[3, 0.5]]


def test_a_first_run_loads_only_what_it_needs(tmp_path: Path) -> None:
    """The first run of a fresh process (issue 15: first use <= 10 ms) loads neither the filter
    grammar, the trace records, the registry and cell-log records, logging, subprocess, socket,
    getpass nor psutil (the system
    metrics thread imports psutil half an interval later, never for a run shorter than that);
    each still loads when asked for."""
    code = """
import json, sys, jupyter_track as jt
jt.set_tracking_uri(sys.argv[1])
with jt.start_run() as run:
    jt.log_metric("x", 1.0)
heavy = ("jupyter_track.store.search", "jupyter_track.store.trace_records",
         "jupyter_track.store.records", "logging",
         "subprocess", "socket", "getpass", "psutil", "numpy", "pandas")
first = sorted(m for m in heavy if m in sys.modules)
found = jt.search_runs(filter_string="metrics.x = 1", output_format="list")
from jupyter_track.store import TraceRecord
from jupyter_track.store.traces import SpanRow, StoredTrace
print(json.dumps({"first": first, "found": [r.info.run_id for r in found],
                  "run": run.info.run_id, "grammar": "jupyter_track.store.search" in sys.modules,
                  "records": TraceRecord.__module__, "span_row": str(SpanRow)}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "t.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(out.stdout)
    assert answer["first"] == []
    assert answer["found"] == [answer["run"]] and answer["grammar"]
    assert answer["records"] == "jupyter_track.store.trace_records"
    assert answer["span_row"] == "tuple[typing.Any, ...]"
