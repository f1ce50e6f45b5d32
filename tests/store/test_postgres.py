"""PostgreSQL end to end: ``db upgrade``/``db status``, schema errors, the tracking API, ``%%track``
in a real kernel, the REST API and the registry on PostgreSQL, faults (server down, restarted,
a commit whose outcome is unknown), NUL bytes, passwords never shown, concurrency."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

import jupyter_track as jt
from jupyter_track.store import (
    InvalidInput,
    NotFound,
    SchemaMismatch,
    StoreUnavailable,
    connect_store,
    open_store,
)
from jupyter_track.store.postgres import PostgresStore
from jupyter_track.tracking import session

API = ("jupyter-track", "api")


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_track.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def with_password(uri: str, password: str = "s3cret-pw") -> str:
    """The same URI with a password (the test cluster trusts loopback: any password works)."""
    return uri.replace("postgres@", f"postgres:{password}@", 1)


# ----------------------------------------------------------------------- db upgrade / status


def test_db_upgrade_status_and_the_schema_errors(postgres_server: Any) -> None:
    uri = postgres_server.create_database("fresh_upgrade")  # empty: no template
    secret = with_password(uri)
    with pytest.raises(SchemaMismatch, match="run `jupyter-track db upgrade") as err:
        open_store(secret).create_run("0")
    assert "s3cret-pw" not in str(err.value) and "fresh_upgrade" in str(err.value)

    status = cli("db", "status", secret)
    assert status.returncode == 1, status.stderr
    assert "schema          0 (this jupyter-track needs" in status.stdout
    assert "s3cret-pw" not in status.stdout + status.stderr

    upgraded = cli("db", "upgrade", secret)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "schema 0 -> " in upgraded.stdout and "***" in upgraded.stdout
    again = cli("db", "upgrade", secret)
    assert "up to date" in again.stdout

    store = connect_store(secret)
    run = store.create_run("0", run_name="after-upgrade")
    store.log_metrics(run.run_id, [("m", 1.0, 1, 0)])
    status = cli("db", "status", "--", secret)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "postgresql" in status.stdout and "up to date" in status.stdout
    assert "runs            1" in status.stdout and "metrics         1" in status.stdout
    assert "s3cret-pw" not in status.stdout + status.stderr

    # a database newer than the code: upgrade the package
    postgres_server.sql("UPDATE jt_schema SET version = version + 1", "fresh_upgrade")
    newer = connect_store(uri)
    with pytest.raises(SchemaMismatch, match="upgrade the package"):
        newer.get_run(run.run_id)
    newer.close()
    store.close()


def _upgrade(uri: str) -> tuple[int, int]:
    store = connect_store(uri)
    try:
        return store.upgrade()  # type: ignore[no-any-return]
    finally:
        store.close()


@pytest.mark.slow
def test_db_upgrade_from_six_processes_at_once(postgres_server: Any) -> None:
    uri = postgres_server.create_database("race_upgrade")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(6) as pool:
        results = pool.map(_upgrade, [uri] * 6)
    assert sorted(before for before, _ in results)[0] == 0
    assert sum(1 for before, _ in results if before == 0) == 1  # one migrated, five found it done
    store = connect_store(uri)
    assert [e.name for e in store.search_experiments()] == ["Default"]
    store.close()


def test_app_role_cannot_change_the_audit_trail(postgres_uri: str, postgres_server: Any) -> None:
    postgres_server.sql("DROP ROLE IF EXISTS jt_app")
    postgres_server.sql("CREATE ROLE jt_app LOGIN")
    done = cli("db", "upgrade", postgres_uri, "--app-role", "jt_app")
    assert done.returncode == 0, done.stderr
    app_uri = postgres_uri.replace("postgres@", "jt_app@", 1)
    app = connect_store(app_uri)
    run_id = app.create_run("0").run_id
    app.create_model_version("m", "s", run_id, create_model=True, actor="ana")
    app.set_registered_model_alias("m", "champion", 1)
    import psycopg

    with psycopg.connect(app_uri, autocommit=True) as conn:
        for statement in ("UPDATE registry_audit SET actor = 'x'", "DELETE FROM registry_audit"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)  # type: ignore[arg-type]
    assert [e.action for e in app.registry_audit("m")][-1] == "set_alias"
    app.close()


# ---------------------------------------------------------------------- faults and redaction


def test_unreachable_server_names_host_port_and_database_never_the_password() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    uri = f"postgresql://ana:hunter2-secret@127.0.0.1:{port}/teamdb"
    with pytest.raises(StoreUnavailable) as err:
        connect_store(uri).search_runs()
    text = str(err.value)
    assert f"port {port}" in text and "host 127.0.0.1" in text and "database teamdb" in text
    assert "hunter2" not in text
    shown = cli("--db", uri, "db-path")
    assert shown.stdout.strip() == f"postgresql://ana:***@127.0.0.1:{port}/teamdb"
    failed = cli("--db", uri, "runs")
    assert failed.returncode == 1 and "teamdb" in failed.stderr
    assert "hunter2" not in failed.stdout + failed.stderr


def test_login_refused_is_store_unavailable(postgres_server: Any) -> None:
    uri = with_password(postgres_server.uri("no_such_database"))
    with pytest.raises(StoreUnavailable, match="database no_such_database") as err:
        connect_store(uri).get_experiment("0")
    assert "s3cret-pw" not in str(err.value)


def test_tracking_uri_hides_the_password(postgres_uri: str) -> None:
    jt.set_tracking_uri(with_password(postgres_uri))
    shown = jt.get_tracking_uri()
    assert "s3cret-pw" not in shown and ":***@" in shown
    with jt.start_run() as run:
        jt.log_param("lr", 0.1)
    assert jt.get_run(run.info.run_id).data.params == {"lr": "0.1"}


def test_nul_bytes_are_refused_naming_the_key(pg_store: PostgresStore) -> None:
    run_id = pg_store.create_run("0").run_id
    with pytest.raises(InvalidInput, match=r"param 'bad'.*NUL"):
        pg_store.log_params(run_id, {"bad": "a\x00b", "good": "ok"})
    with pytest.raises(InvalidInput, match=r"tag 'bad'.*NUL"):
        pg_store.set_tags(run_id, {"bad": "x\x00", "fine": "y"})
    with pytest.raises(InvalidInput, match="metric key"):
        pg_store.log_metrics(run_id, [("a\x00b", 1.0, 1, 0), ("m", 2.0, 1, 0)])
    run = pg_store.get_run(run_id)
    assert run.data.params == {"good": "ok"} and run.data.tags["fine"] == "y"
    assert run.data.metrics == {"m": 2.0}
    jt.set_tracking_uri(pg_store.db.uri)
    with jt.start_run() as active:  # the kernel's API: refused on the caller's thread
        with pytest.raises(ValueError, match=r"metric key 'k\\x00'.*control characters"):
            jt.log_metric("k\x00", 1.0)
        with pytest.raises(ValueError, match=r"param 'p'.*NUL"):
            jt.log_param("p", "a\x00")
        jt.log_metric("ok", 1.0)
    assert jt.get_run(active.info.run_id).data.metrics == {"ok": 1.0}


def test_logging_survives_a_restart_of_the_server(postgres_uri: str, postgres_server: Any) -> None:
    jt.set_tracking_uri(postgres_uri)
    run = jt.start_run()
    for i in range(500):
        jt.log_metric("loss", 1.0 / (i + 1), step=i)
    jt.flush()
    stop = threading.Event()

    def restart() -> None:
        postgres_server.restart(down_for=1.0)
        stop.set()

    restarter = threading.Thread(target=restart)
    restarter.start()
    i = 500
    while not stop.is_set() or i < 1500:  # logging never blocks, never raises meanwhile
        jt.log_metric("loss", 1.0 / (i + 1), step=i)
        i += 1
        if i % 100 == 0:
            time.sleep(0.01)
    restarter.join()
    deadline = time.time() + 60
    while True:  # the writer retries until the server is back
        try:
            jt.flush()
            break
        except StoreUnavailable:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    jt.end_run()
    history = connect_store(postgres_uri).get_metric_history(run.info.run_id, "loss")
    assert [p.step for p in history] == list(range(i))  # nothing lost, nothing doubled
    assert jt.get_run(run.info.run_id).summaries["loss"].count == i


def test_a_run_started_while_the_server_is_down_is_written_when_it_is_back(
    postgres_uri: str, postgres_server: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    """A kernel whose PostgreSQL is down when a run starts: one warning naming the server,
    logging goes on in memory, ``end_run`` says the points are kept, and the background
    writer stores the run, its params and every point once the server is back -- nothing
    lost, nothing doubled, no further call needed."""
    jt.set_tracking_uri(with_password(postgres_uri))
    postgres_server.pause()
    try:
        run = jt.start_run(run_name="offline")
        jt.log_param("lr", 0.1)
        for i in range(2_000):
            jt.log_metric("loss", 1.0 / (i + 1), step=i)
        with pytest.raises(StoreUnavailable, match="2,000 metric points are kept in memory"):
            jt.end_run()
    finally:
        postgres_server.resume()
    err = capfd.readouterr().err
    assert err.count("cannot reach the jupyter-track store on PostgreSQL") == 1
    assert f"port {postgres_server.port}" in err and "s3cret-pw" not in err
    store = connect_store(postgres_uri)
    deadline = time.time() + 60
    while True:  # the writer's own retries, nothing called here
        try:
            stored = store.get_run(run.info.run_id)
            break
        except NotFound:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    assert (stored.info.run_name, stored.info.status) == ("offline", "FINISHED")
    assert stored.data.params == {"lr": "0.1"}
    history = store.get_metric_history(run.info.run_id, "loss")
    assert [p.step for p in history] == list(range(2_000))
    assert stored.summaries["loss"].count == 2_000


def test_a_batch_whose_commit_was_lost_is_written_once(
    pg_store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection drops after COMMIT reached the server: the writer cannot know the batch
    was stored, retries it under the same batch id, and the store writes it once."""
    from jupyter_track.tracking.writer import BackgroundWriter

    run_id = pg_store.create_run("0").run_id
    handle = pg_store.run_handle(run_id)
    real = pg_store.write_metric_rows
    calls: list[str | None] = []

    def commit_then_lose_the_answer(rows: Any, *, batch_id: str | None = None) -> None:
        calls.append(batch_id)
        real(rows, batch_id=batch_id)
        if len(calls) == 1:
            raise StoreUnavailable("server closed the connection unexpectedly (test)")

    monkeypatch.setattr(pg_store, "write_metric_rows", commit_then_lose_the_answer)
    writer = BackgroundWriter(pg_store)
    for i in range(100):
        writer.append_metric((handle, "m", i, i, float(i)))
    with pytest.raises(StoreUnavailable):
        writer.flush()
    for i in range(100, 150):
        writer.append_metric((handle, "m", i, i, float(i)))
    writer.flush()
    assert calls[0] is not None and calls[1] == calls[0]  # retried under the same id
    assert [p.step for p in pg_store.get_metric_history(run_id, "m")] == list(range(150))
    assert pg_store.get_run(run_id).summaries["m"].count == 150


# ------------------------------------------------------------------------------ end to end


def test_tracking_api_end_to_end(postgres_uri: str) -> None:
    jt.set_tracking_uri(postgres_uri)
    jt.set_experiment("pg-e2e")
    with jt.start_run(run_name="fit") as run:
        jt.log_params({"lr": 0.01, "depth": 3})
        for step in range(2000):
            jt.log_metric("loss", 1.0 / (step + 1), step=step)
        jt.log_metric("acc", math.nan)
        jt.set_tag("team", "vision")
        jt.log_text("hello", "notes/a.txt")
    got = jt.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params == {"lr": "0.01", "depth": "3"}
    assert math.isnan(got.data.metrics["acc"]) and got.summaries["loss"].count == 2000
    frame = jt.search_runs(filter_string="params.depth = 3 and tags.team ILIKE 'VIS%'")
    assert list(frame["run_id"]) == [run.info.run_id]
    assert jt.search_runs(filter_string="metrics.acc > 0").empty  # NaN compares as NaN
    client = jt.TrackClient(postgres_uri)
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 2000


def test_registry_api_end_to_end_on_postgres(postgres_uri: str) -> None:
    """The model registry through ``jt``: log and register scikit-learn models, aliases with
    compare-and-set, load by alias, roll back, the audit trail -- on PostgreSQL."""
    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    from jupyter_track.store.registry import AliasConflict

    X, y = load_iris(return_X_y=True, as_frame=True)
    first = LogisticRegression(max_iter=500).fit(X, y)
    second = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    jt.set_tracking_uri(with_password(postgres_uri))
    with jt.start_run():
        info = jt.log_model(first, "model", registered_model_name="iris")
    assert info.registered_model_version == 1
    with jt.start_run():
        info2 = jt.log_model(second, "model")
    assert jt.register_model(info2.model_uri, "iris", tags={"algo": "tree"}).version == 2
    jt.set_registered_model_alias("iris", "champion", 1)
    with pytest.raises(AliasConflict) as conflict:
        jt.set_registered_model_alias("iris", "champion", 2, expected_version=2)
    assert conflict.value.current_version == 1
    jt.set_registered_model_alias("iris", "champion", 2, expected_version=1)
    rows = X.iloc[[0, 60, 120]]
    np.testing.assert_array_equal(
        jt.load_model("models:/iris@champion").predict(rows), second.predict(rows)
    )
    jt.rollback_alias("iris", "champion")
    np.testing.assert_array_equal(
        jt.load_model("models:/iris@champion").predict(rows), first.predict(rows)
    )
    store = connect_store(postgres_uri)
    moves = [(e.action, e.old_value, e.new_value) for e in store.alias_history("iris", "champion")]
    assert moves == [
        ("set_alias", None, "1"),
        ("set_alias", "1", "2"),
        ("rollback_alias", "2", "1"),
    ]
    assert store.get_model_version("iris", 2).tags == {"algo": "tree"}
    store.close()


@pytest.mark.slow
def test_track_magic_in_a_real_kernel_on_postgres(postgres_uri: str, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            f"import os; os.environ['JUPYTER_TRACK_URI'] = {postgres_uri!r}\n"
            "import jupyter_track as jt"
        ),
        nbformat.v4.new_code_cell(
            "%%track -e pg-kernel -n fit -m acc\n"
            "lr = 0.05\n"
            "for step in range(50):\n"
            "    jt.log_metric('loss', 1 / (step + 1), step=step)\n"
            "acc = 0.9\n"
        ),
    ]
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    store = connect_store(postgres_uri)
    (run,) = store.search_runs(None, "attributes.run_name = 'fit'").runs
    assert run.info.status == "FINISHED"
    assert run.data.params == {"lr": "0.05"} and run.data.metrics["acc"] == 0.9
    assert run.summaries["loss"].count == 50
    assert any(c.run_id == run.info.run_id for c in store.cell_executions())
    store.close()


@pytest.fixture
def pg_server_env(postgres_uri: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The Jupyter server of this test serves a PostgreSQL store (URI with a password)."""
    uri = with_password(postgres_uri)
    monkeypatch.setenv("JUPYTER_TRACK_URI", uri)
    monkeypatch.setenv("JUPYTER_TRACK_ARTIFACTS", str(Path(os.getcwd()) / "pg-artifacts"))
    return uri


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], pg_server_env: str) -> dict[str, Any]:
    """The suite's server config, started after the environment points at PostgreSQL."""
    return jp_server_config


async def _call(
    jp_fetch: Any, *path: str, expect: int = 200, method: str = "GET", body: Any = None, **kw: Any
) -> Any:
    response = await jp_fetch(
        *API,
        *path,
        method=method,
        body=None if body is None else json.dumps(body),
        raise_error=False,
        **kw,
    )
    payload = json.loads(response.body) if response.body else None
    assert response.code == expect, (response.code, payload)
    return payload


async def test_rest_api_and_registry_on_postgres(jp_fetch: Any, pg_server_env: str) -> None:
    store = connect_store(pg_server_env)
    runs = []
    for i, lr in enumerate((0.1, 0.01, 0.001)):
        run_id = store.create_run("0", run_name=f"r{i}").run_id
        store.log_params(run_id, {"lr": lr})
        store.log_metrics(run_id, [("acc", 0.5 + i / 10, 1, 0)])
        runs.append(run_id)
    info = await _call(jp_fetch, "info")
    assert info["engine"] == "postgresql" and ":***@" in info["store"]
    assert "s3cret-pw" not in json.dumps(info)
    page = await _call(
        jp_fetch,
        "runs",
        params={"filter": "params.lr < 0.05 OR metrics.acc > 0.65", "order_by": "metrics.acc"},
    )
    assert [r["run_id"] for r in page["runs"]] == [runs[1], runs[2]] and page["total"] == 2
    await _call(
        jp_fetch,
        "runs",
        runs[0],
        method="PATCH",
        body={"run_name": "renamed", "tags": {"k": "v"}, "note": "hi"},
    )
    got = store.get_run(runs[0])
    assert got.info.run_name == "renamed" and got.data.tags["jt.edited_by"] == "ana"
    await _call(jp_fetch, "runs", runs[2], method="DELETE")
    assert store.get_run(runs[2]).info.lifecycle_stage == "deleted"
    await _call(jp_fetch, "runs", runs[2], "restore", method="POST", body={})

    for run_id in runs[:2]:
        store.create_model_version("m", f"runs:/{run_id}/model", run_id, create_model=True)
    await _call(
        jp_fetch,
        "registry",
        "models",
        "m",
        "aliases",
        "champion",
        method="PUT",
        body={"version": 1, "expected_version": None},
    )
    conflict = await _call(
        jp_fetch,
        "registry",
        "models",
        "m",
        "aliases",
        "champion",
        method="PUT",
        body={"version": 2, "expected_version": 2},
        expect=409,
    )
    assert "version 1" in json.dumps(conflict)
    found = await _call(jp_fetch, "registry", "models", params={"filter": "alias = 'champion'"})
    assert [m["name"] for m in found["models"]] == ["m"]
    audit = store.registry_audit("m")
    assert (audit[-1].action, audit[-1].actor, audit[-1].actor_verified) == (
        "set_alias",
        "ana",
        True,
    )
    store.close()


# ----------------------------------------------------------------------------- concurrency

WRITER = """
import sys, time
from jupyter_track.store import connect_store
from jupyter_track.tracking.writer import BackgroundWriter
store = connect_store(sys.argv[1])
run_id = store.create_run("0", run_name=sys.argv[2]).run_id
handle = store.run_handle(run_id)
writer = BackgroundWriter(store)
writer.ensure_started()
append = writer.append_metric
print("ready", flush=True)
sys.stdin.readline()
for i in range(int(sys.argv[3])):
    append((handle, "loss", i, i, 1.0 / (i + 1)))
writer.close()
print(run_id, flush=True)
"""


@pytest.mark.slow
def test_eight_processes_log_100k_points_each(postgres_uri: str) -> None:
    n, points = 8, 100_000
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, postgres_uri, f"w{k}", str(points)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(n)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:  # all start at once
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    run_ids = []
    for p in procs:
        out, _ = p.communicate(timeout=600)
        assert p.returncode == 0
        run_ids.append(out.strip())
    store = connect_store(postgres_uri)
    for run_id in run_ids:
        run = store.get_run(run_id)
        s = run.summaries["loss"]
        assert (s.count, s.step, s.last) == (points, points - 1, 1.0 / points)
        (series,) = store.metric_histories([run_id], ["loss"], max_points=1000)
        assert series["count"] == points and series["downsampled"]
    total = store.db.conn().execute("SELECT count(*) FROM metrics").fetchone()[0]
    assert total == n * points
    rows, _ = store.metric_rows_since(None, 0, limit=n * points)
    assert [r[2] for r in rows if r[0] == run_ids[0]] == list(range(points))  # commit order
    store.close()


def test_session_store_is_postgres(postgres_uri: str) -> None:
    jt.set_tracking_uri(postgres_uri)
    assert session.current().store.engine == "postgresql"
