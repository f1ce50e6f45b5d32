"""The team-service protocol without a hub: the wire encoding, batch ingestion with ids, store
calls over HTTP, uploads, grants, and the spool (the hub tests run the same through JupyterHub)."""

from __future__ import annotations

import gzip
import json
import math
import multiprocessing
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_track import wire
from jupyter_track.client import spool
from jupyter_track.store import Experiment, Run, RunData, RunInfo, SQLiteStore

# ------------------------------------------------------------------------------ wire encoding

keys = st.text(min_size=0, max_size=12)
floats = st.floats(allow_nan=True, allow_infinity=True)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | floats | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@settings(max_examples=200, deadline=None)
@given(values)
def test_wire_round_trips_json_values_with_any_keys_and_floats(value: Any) -> None:
    text = json.dumps(wire.encode(value), allow_nan=False)
    assert _same(value, wire.decode(json.loads(text)))


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(keys, st.text(max_size=10)), st.dictionaries(keys, floats, max_size=5))
def test_wire_round_trips_runs_with_any_tags_and_metrics(tags: dict, metrics: dict) -> None:
    info = RunInfo("abc", "0", "n", "RUNNING", 1, None, "active", "u", "file:///x")
    run = Run(info, RunData({"p": "1"}, metrics, tags))
    back = wire.decode(json.loads(json.dumps(wire.encode(run), allow_nan=False)))
    assert isinstance(back, Run) and back.info == info
    assert back.data.tags == tags and _same(back.data.metrics, metrics)


def test_wire_builds_only_known_records() -> None:
    with pytest.raises(ValueError, match="unknown record type"):
        wire.decode({"$type": "Popen", "args": ["rm"]})
    exp = Experiment("1", "e", "", "active", 1, 2, {"$type": "x"})
    assert wire.decode(wire.encode(exp)) == exp


# ------------------------------------------------------------ ingest and calls (server extension)


def _batch(run_id: str, steps: range, batch_id: str | None = None) -> dict[str, Any]:
    return {
        "batch_id": batch_id or uuid.uuid4().hex,
        "metrics": [[run_id, "loss", i, 1_700_000_000_000 + i, 1.0 / (i + 1)] for i in steps],
    }


async def test_a_batch_sent_twice_is_written_once(jp_fetch: Any, store: SQLiteStore) -> None:
    run_id = store.create_run("0").run_id
    batch = _batch(run_id, range(100))
    body = gzip.compress(json.dumps(batch).encode())
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    first = await jp_fetch(
        "jupyter-track", "api", "ingest", method="POST", body=body, headers=headers
    )
    again = await jp_fetch(
        "jupyter-track", "api", "ingest", method="POST", body=body, headers=headers
    )
    assert json.loads(first.body)["written"] is True
    assert json.loads(again.body) == {
        **json.loads(first.body),
        "written": False,
        "duplicate": True,
        "metrics": 0,
        "cells": 0,
        "calls": 0,
    }
    assert len(store.get_metric_history(run_id, "loss")) == 100


async def test_a_bad_row_names_itself_and_nothing_is_written(
    jp_fetch: Any, store: SQLiteStore
) -> None:
    from tornado.httpclient import HTTPClientError

    run_id = store.create_run("0").run_id
    batch = _batch(run_id, range(5))
    batch["metrics"][3][4] = "lots"
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("jupyter-track", "api", "ingest", method="POST", body=json.dumps(batch))
    assert caught.value.code == 400
    assert "metrics[3]" in json.loads(caught.value.response.body)["message"]
    assert store.get_metric_history(run_id, "loss") == []


@pytest.mark.parametrize("route", ["ingest", "store/get_run"])
async def test_gzip_bodies_are_decompressed_within_a_bound(
    jp_fetch: Any, store: SQLiteStore, route: str
) -> None:
    """A small gzip body that expands past the limit (a "zip bomb") is refused with 413 while
    decompressing, never held whole; a cut or corrupt one is a 400 naming gzip."""
    from tornado.httpclient import HTTPClientError

    from jupyter_track.server import ingest, store_calls

    limit = ingest.MAX_BODY if route == "ingest" else store_calls.MAX_CALL_BYTES
    bomb = gzip.compress(b" " * (limit + 1), 9)
    assert len(bomb) < 1 << 20  # under the request size limit: only the inflated size is over
    good = gzip.compress(json.dumps({"batch_id": uuid.uuid4().hex, "args": []}).encode())
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    for body, status, words in (
        (bomb, 413, f"over {limit:,} bytes"),
        (good[: len(good) // 2], 400, "not valid gzip"),
        (b"not gzip at all", 400, "not valid gzip"),
    ):
        with pytest.raises(HTTPClientError) as caught:
            await jp_fetch(
                "jupyter-track", "api", *route.split("/"), method="POST", body=body, headers=headers
            )
        assert caught.value.code == status
        assert words in json.loads(caught.value.response.body)["message"]


async def test_store_calls_round_trip_and_errors_keep_their_class(
    jp_fetch: Any, store: SQLiteStore
) -> None:
    from tornado.httpclient import HTTPClientError

    run_id = store.create_run("0", tags={"mlflow.user": "someone-else"}).run_id

    async def call(method: str, *args: Any, **kwargs: Any) -> Any:
        body = json.dumps({"args": wire.encode(list(args)), "kwargs": wire.encode(kwargs)})
        r = await jp_fetch("jupyter-track", "api", "store", method, method="POST", body=body)
        return wire.decode(json.loads(r.body)["result"])

    await call("log_params", run_id, {"lr": 0.1})
    await call("set_tags", run_id, {"$weird": "ok", "mlflow.user": "mallory"})
    run = await call("get_run", run_id)
    assert isinstance(run, Run) and run.data.params == {"lr": "0.1"}
    assert run.data.tags["$weird"] == "ok"
    assert run.data.tags.get("mlflow.user") != "mallory"  # who ran it is not the client's say
    with pytest.raises(HTTPClientError) as caught:
        await call("log_params", run_id, {"lr": 0.2})
    body = json.loads(caught.value.response.body)
    assert body["exception"] == "ParamConflict" and "lr" in body["message"]
    with pytest.raises(HTTPClientError) as caught:
        await call("search_runs", ["0"], "params.lr >")
    assert json.loads(caught.value.response.body)["exception"] == "FilterSyntaxError"
    with pytest.raises(HTTPClientError) as caught:
        await call("purge_everything")
    assert caught.value.code == 404


async def test_upload_streams_into_the_run_and_refuses_escapes(
    jp_fetch: Any, store: SQLiteStore
) -> None:
    from tornado.httpclient import HTTPClientError

    run_id = store.create_run("0").run_id
    data = bytes(range(256)) * 4096
    r = await jp_fetch(
        "jupyter-track",
        "api",
        "runs",
        run_id,
        "artifacts",
        "upload",
        method="PUT",
        body=data,
        params={"path": "model/weights.bin"},
    )
    assert json.loads(r.body) == {"run_id": run_id, "path": "model/weights.bin", "size": len(data)}
    assert store.artifact_file(run_id, "model/weights.bin").read_bytes() == data
    for bad in ("../x", "/etc/passwd", ""):
        with pytest.raises(HTTPClientError) as caught:
            await jp_fetch(
                "jupyter-track",
                "api",
                "runs",
                run_id,
                "artifacts",
                "upload",
                method="PUT",
                body=b"x",
                params={"path": bad},
            )
        assert caught.value.code == 400


# ---------------------------------------------------------------------------------- spool


def test_spool_delivers_in_order_and_keeps_what_failed(tmp_path: Path) -> None:
    own = spool.Spool(tmp_path)
    for i in range(5):
        own.append({"batch_id": f"b{i}", "metrics": [[i]]})
    sent: list[str] = []

    def flaky(batch: dict[str, Any]) -> None:
        if batch["batch_id"] == "b3" and "b3" not in failed:
            failed.add("b3")
            raise ConnectionError("down")
        sent.append(batch["batch_id"])

    failed: set[str] = set()
    with pytest.raises(ConnectionError):
        own.deliver(flaky)
    assert sent == ["b0", "b1", "b2"] and len(own) == 2
    assert [b["batch_id"] for b in spool._read(own.path.open())] == ["b3", "b4"]
    own.deliver(flaky)
    assert sent == ["b0", "b1", "b2", "b3", "b4"] and len(own) == 0
    own.close()
    assert not own.path.exists()


def _hold(folder: str, ready: Any, done: Any) -> None:
    held = spool.Spool(Path(folder))
    held.append({"batch_id": "live", "metrics": [[1], [2]]})
    ready.set()
    done.wait(30)


def test_orphaned_spools_are_drained_but_live_ones_are_left(tmp_path: Path) -> None:
    dead = tmp_path / "123-dead.jsonl"
    dead.write_text(json.dumps({"batch_id": "old", "metrics": [[1]]}) + "\n")
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()
    live = ctx.Process(target=_hold, args=(str(tmp_path), ready, done))
    live.start()
    try:
        assert ready.wait(30)
        found = {f.path.name: f for f in spool.status(tmp_path)}
        assert found["123-dead.jsonl"].in_use is False
        assert [f.in_use for n, f in found.items() if n != "123-dead.jsonl"] == [True]
        sent: list[str] = []
        assert spool.drain_orphans(tmp_path, lambda b: sent.append(b["batch_id"])) == (1, 1)
        assert sent == ["old"] and not dead.exists()
    finally:
        done.set()
        live.join(30)


# ------------------------------------------------------------------------- the hub's policy


def _policy_store(store: SQLiteStore) -> tuple[Any, str, str]:
    from jupyter_track.server.policy import Principal
    from jupyter_track.service.permissions import HubPolicy

    policy = HubPolicy()
    alice = Principal("alice")
    exp = store.create_experiment("alice-exp")
    policy.created(store, alice, "experiment", exp)
    run_id = store.create_run(exp, user_id="alice").run_id
    return policy, exp, run_id


def test_policy_defaults_creator_group_grants_and_private_experiments(store: SQLiteStore) -> None:
    from jupyter_track.server.errors import ApiError
    from jupyter_track.server.policy import Principal

    policy, exp, run_id = _policy_store(store)
    alice = Principal("alice")
    bob = Principal("bob", groups=frozenset({"ml-team"}))
    admin = Principal("root", admin=True)
    # defaults: everyone reads and adds runs; only the creator or a MANAGE holder changes a run
    policy.check_experiment(store, bob, exp, "EDIT")
    policy.check_run(store, bob, run_id, "READ")
    policy.check_run(store, alice, run_id, "EDIT")
    policy.check_run(store, admin, run_id, "EDIT")
    with pytest.raises(ApiError) as denied:
        policy.check_run(store, bob, run_id, "EDIT")
    assert denied.value.status_code == 403
    assert denied.value.body["permission"] == "MANAGE"
    assert denied.value.body["object"] == {"type": "experiment", "id": exp}
    assert "alice-exp" in denied.value.body["message"]
    # a grant to bob's group is enough
    store.set_permission("experiment", exp, "group", "ml-team", "MANAGE", actor="alice")
    policy.check_run(store, bob, run_id, "EDIT")
    # private: nobody else reads it, the listing hides it, grants still count
    store.set_permission("experiment", exp, "group", "ml-team", None, actor="alice")
    store.set_permission("experiment", exp, "everyone", "", "NO_PERMISSIONS", actor="alice")
    carol = Principal("carol")
    with pytest.raises(ApiError):
        policy.check_run(store, carol, run_id, "READ")
    assert exp not in (policy.readable_experiments(store, carol) or set())
    assert exp in (policy.readable_experiments(store, alice) or set())
    assert policy.readable_experiments(store, admin) is None
    # every change is in the audit log, with who made it
    actions = [(e.action, e.actor, e.principal, e.new_value) for e in store.service_audit()]
    assert ("grant", "alice", "alice", "MANAGE") in actions
    assert ("revoke", "alice", "ml-team", None) in actions
    assert ("grant", "alice", "*", "NO_PERMISSIONS") in actions


@settings(max_examples=150, deadline=None)
@given(
    principal_type=st.one_of(st.sampled_from(["user", "group", "everyone"]), st.text(max_size=8)),
    principal=st.one_of(st.text(max_size=300), st.integers(), st.none()),
    permission=st.one_of(
        st.sampled_from(["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"]),
        st.text(max_size=8),
        st.none(),
    ),
)
def test_any_grant_is_stored_or_refused_naming_the_field(
    tmp_path_factory: pytest.TempPathFactory, principal_type: Any, principal: Any, permission: Any
) -> None:
    from jupyter_track.store import InvalidInput

    store = SQLiteStore(tmp_path_factory.mktemp("grants") / "t.db")
    try:
        grant = store.set_permission(
            "experiment", "0", principal_type, principal, permission, actor="alice"
        )
    except InvalidInput as exc:
        assert any(f in str(exc) for f in ("principal_type", "principal", "permission"))
        assert store.list_permissions() == []
        return
    finally:
        store.close()
    if permission is None:
        assert grant is None
    else:
        assert grant is not None and grant.permission == permission


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"principal": "bob", "permission": "OWNER"}, "permission"),
        ({"principal": "bob"}, "permission"),
        ({"principal_type": "team", "principal": "x", "permission": "READ"}, "principal_type"),
        ({"principal": "", "permission": "READ"}, "principal"),
        ({"principal": "bob", "permission": "READ", "user": "mallory"}, "unknown fields"),
    ],
)
async def test_bad_grants_are_400_naming_the_field(
    jp_fetch: Any, store: SQLiteStore, body: dict[str, Any], field: str
) -> None:
    from tornado.httpclient import HTTPClientError

    store.create_registered_model("m")
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(
            "jupyter-track",
            "api",
            "permissions",
            "registered_model",
            "m",
            method="PUT",
            body=json.dumps(body),
        )
    assert caught.value.code == 400
    assert field in json.loads(caught.value.response.body)["message"]
    assert store.list_permissions() == []


def test_an_unreachable_service_gives_one_warning_and_keeps_every_batch_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import httpserve

    from jupyter_track.client.endpoint import Endpoint
    from jupyter_track.client.store import HttpStore

    served = httpserve.ServedStore(tmp_path / "service.db")
    try:
        live = served.client(tmp_path / "client")
        run_id = live.create_run("0").run_id
        live.close()
        # a client pointed at a port where nothing listens: every flush is kept
        down_url = "http://127.0.0.1:9/services/jupyter-track/"
        down = HttpStore(down_url, endpoint=Endpoint(down_url, down_url, served.token))
        down.spool_folder = tmp_path / "client" / "spool"
        down.spool.folder = down.spool_folder
        down.spool.path = down.spool_folder / down.spool.path.name
        for block in range(5):
            down.write_metric_rows([(run_id, "loss", block * 10 + i, 1, 0.1) for i in range(10)])
        down.update_run(run_id, status="FINISHED")  # a deferred call, kept in order
        assert len(down.spool) == 6
        warnings = capsys.readouterr().err
        assert warnings.count("Logging continues") == 1, warnings
        down._closed = True
        down.spool.close()
        # the service is back: a new client (a restarted kernel) delivers everything, in order
        back = served.client(tmp_path / "client")
        assert back.flush_spool()
        history = back.get_metric_history(run_id, "loss")
        assert [p.step for p in history] == list(range(50))
        assert back.get_run(run_id).info.status == "FINISHED"
        assert spool.status(back.spool_folder) == []  # the dead client's file is gone
        back.close()
    finally:
        served.stop()


cell_values = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "x", ""]),
    st.booleans(),
    st.none(),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["loss", "acc", "", "bad\x00key", "a" * 300]),
            cell_values,
            cell_values,
            cell_values,
        ),
        max_size=8,
    )
)
def test_batch_rows_are_kept_exactly_or_refused_naming_the_row(rows: list[tuple]) -> None:
    from jupyter_track.server.ingest import _value, check_metric_rows
    from jupyter_track.store import InvalidInput
    from jupyter_track.store.validation import check_key, metric_step, metric_timestamp

    raw = [["run", key, step, ts, value] for key, step, ts, value in rows]
    expected: list[tuple] = []
    first_bad = None
    for i, (key, step, ts, value) in enumerate(rows):
        try:
            k = check_key(key, "metric")
            expected.append(
                ("run", k, metric_step(k, step), metric_timestamp(k, ts), _value(k, value))
            )
        except InvalidInput:
            first_bad = i
            break
    try:
        got = check_metric_rows(raw)
    except InvalidInput as exc:
        assert first_bad is not None and str(exc).startswith(f"metrics[{first_bad}]: ")
        return
    assert first_bad is None
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a[:4] == b[:4]
        assert a[4] == b[4] or (math.isnan(a[4]) and math.isnan(b[4]))


def test_a_refused_kept_batch_does_not_block_the_ones_behind_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import httpserve

    served = httpserve.ServedStore(tmp_path / "service.db")
    try:
        client = served.client(tmp_path / "client")
        run_id = client.create_run("0").run_id
        client.spool.append({"batch_id": uuid.uuid4().hex, "metrics": [[run_id, "a", 0, 1, 1.0]]})
        client.spool.append({"batch_id": uuid.uuid4().hex, "metrics": [[run_id, "a", 1, 1, "x"]]})
        client.spool.append({"batch_id": uuid.uuid4().hex, "metrics": [[run_id, "a", 2, 1, 3.0]]})
        assert client.flush_spool()
        assert [p.step for p in client.get_metric_history(run_id, "a")] == [0, 2]
        rejected = (client.spool_folder / "rejected.jsonl").read_text().splitlines()
        assert len(rejected) == 1 and "metrics[0]" in json.loads(rejected[0])["error"]
        assert "refused a kept batch" in capsys.readouterr().err
        assert [f.batches for f in spool.status(client.spool_folder)] == [0]  # its own, empty
        client.close()
        assert spool.status(client.spool_folder) == []
    finally:
        served.stop()
