"""The HTTP client store gives the same answers as the SQLite store it talks to.

Each test runs twice: on a SQLite store, and on :class:`~jupyter_track.client.HttpStore` over
real HTTP to the shared route table serving a fresh SQLite store (``httpserve.py``). The same
scenario must produce equal results and the same exception classes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_track.store import (
    Conflict,
    FilterSyntaxError,
    InvalidInput,
    NotFound,
    SQLiteStore,
    ViewType,
)


@pytest.fixture(params=["sqlite", "http"])
def any_store(request: pytest.FixtureRequest, track_db: Path, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        store = SQLiteStore(track_db)
        yield store
        store.close()
        return
    import httpserve

    served = httpserve.ServedStore(track_db)
    client = served.client(tmp_path / "client")
    try:
        yield client
    finally:
        client.close()
        served.stop()


def test_experiments_runs_params_tags(any_store: Any) -> None:
    s = any_store
    exp = s.create_experiment("e1", tags={"team": "fraud"})
    assert s.get_experiment(exp).tags == {"team": "fraud"}
    assert s.get_experiment_by_name("e1").experiment_id == exp
    assert s.get_experiment_by_name("nope") is None
    info = s.create_run(exp, run_name="r1", tags={"$odd": "x", "k": "v"})
    s.log_params(info.run_id, {"lr": 0.1, "depth": 3})
    s.set_tags(info.run_id, {"stage": "dev"})
    s.delete_tag(info.run_id, "k")
    run = s.get_run(info.run_id)
    assert run.data.params == {"lr": "0.1", "depth": "3"}
    assert run.data.tags["$odd"] == "x" and "k" not in run.data.tags
    assert run.data.tags["stage"] == "dev"
    with pytest.raises(Conflict):
        s.log_params(info.run_id, {"lr": 0.2})
    with pytest.raises(NotFound):
        s.get_run("0" * 32)
    with pytest.raises(NotFound):
        s.delete_tag(info.run_id, "never-set")
    s.update_run(info.run_id, status="FINISHED", end_time=run.info.start_time + 5)
    assert s.get_run(info.run_id).info.status == "FINISHED"
    s.delete_run(info.run_id)
    assert s.search_runs([exp], "").runs == []
    assert len(s.search_runs([exp], "", run_view_type=ViewType.ALL).runs) == 1
    s.restore_run(info.run_id)
    assert [r.info.run_id for r in s.search_runs([exp], "").runs] == [info.run_id]


def test_metrics_histories_and_non_finite_values(any_store: Any) -> None:
    s = any_store
    run_id = s.create_run("0").run_id
    handle = s.run_pk(run_id)
    values = [0.5, math.nan, math.inf, -math.inf, 1e300]
    s.write_metric_rows([(handle, "m", i, 1000 + i, v) for i, v in enumerate(values)])
    history = s.get_metric_history(run_id, "m")
    assert [p.step for p in history] == list(range(5))
    got = [p.value for p in history]
    assert math.isnan(got[1]) and got[2] == math.inf and got[3] == -math.inf
    assert got[0] == 0.5 and got[4] == 1e300
    assert s.metric_keys(run_id) == ["m"]
    summary = s.get_run(run_id).summaries["m"]
    assert summary.count == 5


def test_search_filters_order_and_errors(any_store: Any) -> None:
    s = any_store
    exp = s.create_experiment("search")
    ids = []
    for i in range(6):
        run = s.create_run(exp, run_name=f"r{i}")
        s.log_params(run.run_id, {"lr": 10**-i})
        s.write_metric_rows([(s.run_pk(run.run_id), "acc", 0, 1, i / 10)])
        ids.append(run.run_id)
    found = s.search_runs(
        [exp], "metrics.acc > 0.25 OR params.lr = '1'", order_by=["metrics.acc DESC"]
    )
    assert [r.info.run_id for r in found.runs] == [ids[5], ids[4], ids[3], ids[0]]
    assert s.count_runs([exp], "metrics.acc > 0.25") == 3
    page = s.search_runs([exp], "", max_results=4, order_by=["attributes.run_name ASC"])
    assert len(page.runs) == 4 and page.next_page_token
    rest = s.search_runs(
        [exp],
        "",
        max_results=4,
        order_by=["attributes.run_name ASC"],
        page_token=page.next_page_token,
    )
    assert [r.info.run_name for r in page.runs + rest.runs] == [f"r{i}" for i in range(6)]
    with pytest.raises(FilterSyntaxError) as bad:
        s.search_runs([exp], "metrics.acc >")
    assert bad.value.position == len("metrics.acc >")


def test_registry_aliases_compare_and_set_and_audit(any_store: Any) -> None:
    from jupyter_track.store.registry import AliasConflict

    s = any_store
    run_id = s.create_run("0").run_id
    s.create_registered_model("fraud", description="d")
    for _ in range(2):
        s.create_model_version("fraud", source=f"runs:/{run_id}/model", run_id=run_id)
    s.set_registered_model_alias("fraud", "champion", 1)
    s.set_registered_model_alias("fraud", "champion", 2, expected_version=1)
    with pytest.raises(AliasConflict) as lost:
        s.set_registered_model_alias("fraud", "champion", 1, expected_version=1)
    assert lost.value.current_version == 2
    s.rollback_alias("fraud", "champion")
    assert s.get_aliases("fraud") == {"champion": 1}
    assert s.get_model_version_by_alias("fraud", "champion").version == 1
    actions = [e.action for e in s.alias_history("fraud", "champion")]
    assert actions[0] == "set_alias" and "rollback_alias" in actions[-1]
    with pytest.raises(InvalidInput):
        s.create_registered_model("bad/name")
    with pytest.raises(NotFound):
        s.get_registered_model("missing")


def test_artifacts_round_trip(any_store: Any, tmp_path: Path) -> None:
    s = any_store
    run_id = s.create_run("0").run_id
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("A")
    (folder / "sub" / "b.bin").write_bytes(bytes(range(256)))
    s.add_artifact(run_id, folder, "data")
    s.write_artifact_bytes(run_id, "notes.md", b"# hi")
    names = sorted(i.path for i in s.list_artifacts(run_id))
    assert names == ["data", "notes.md"]
    assert s.artifact_file(run_id, "data/sub/b.bin").read_bytes() == bytes(range(256))
    local = s.artifact_path(run_id, "data")
    assert (local / "a.txt").read_text() == "A"
    with pytest.raises(NotFound):
        s.artifact_file(run_id, "nope.txt")
    with pytest.raises(InvalidInput):
        s.write_artifact_bytes(run_id, "../escape.txt", b"x")


def test_traced_calls_in_a_run_are_written_searched_and_take_feedback(any_store: Any) -> None:
    """``@jt.trace``'d calls in a run: the kernel's background writer writes them through the
    store (over HTTP: ``write_traces`` as a store call, the trace records on the wire), then
    ``jt.get_trace`` and ``jt.search_traces`` see them whole, with a tag, feedback and an
    expectation attached; deleting one leaves the other."""
    import jupyter_track as jt
    from jupyter_track.tracking import session

    session.current()._store = any_store

    @jt.trace(span_type="TOOL", attributes={"k": 2})
    def lookup(q: str) -> dict[str, Any]:
        return {"docs": [q.upper()], "score": math.inf, "$odd": True}

    @jt.trace(name="answer")
    def answer(question: str) -> str:
        if question == "boom":
            raise ValueError("no answer")
        return f"{lookup(question)['docs'][0]}!"

    exp = jt.set_experiment("traced").experiment_id
    with jt.start_run(run_name="with traces") as run:
        assert answer("why") == "WHY!"
        ok_id = jt.get_last_active_trace_id()
        with pytest.raises(ValueError):
            answer("boom")
        error_id = jt.get_last_active_trace_id()
    run_id = run.info.run_id
    assert ok_id and error_id and ok_id != error_id

    trace = jt.get_trace(ok_id)
    assert trace is not None
    assert trace.info.state == "OK" and trace.info.run_id == run_id
    assert trace.info.experiment_id == exp and trace.info.name == "answer"
    spans = {sp.name: sp for sp in trace.data.spans}
    assert set(spans) == {"answer", "lookup"}
    assert spans["lookup"].parent_id == spans["answer"].span_id
    assert spans["lookup"].inputs == {"q": "why"} and spans["lookup"].span_type == "TOOL"
    assert spans["lookup"].outputs["docs"] == ["WHY"] and spans["lookup"].outputs["$odd"]
    assert spans["lookup"].attributes == {"k": 2}
    assert spans["answer"].outputs == "WHY!"

    jt.set_trace_tag(ok_id, "$reviewed", "yes")
    feedback = jt.log_feedback(ok_id, "correct", True, rationale="matches the docs")
    jt.log_expectation(ok_id, "expected_response", {"text": "WHY!"})
    assert jt.get_assessment(ok_id, feedback.assessment_id).value is True

    found = jt.search_traces(experiment_ids=[exp], return_type="list")
    assert [t.info.trace_id for t in found] == [error_id, ok_id]  # newest first
    assert found[0].info.state == "ERROR"
    by_run = jt.search_traces(
        run_id=run_id, filter_string="feedback.correct = 'true'", return_type="list"
    )
    assert [t.info.trace_id for t in by_run] == [ok_id]
    (kept,) = by_run
    assert kept.info.tags["$reviewed"] == "yes"
    assessments = {a.name: a for a in kept.info.assessments}
    assert assessments["correct"].rationale == "matches the docs"
    assert assessments["expected_response"].value == {"text": "WHY!"}
    assert any_store.count_traces([run_id]) == {run_id: 2}
    assert any_store.trace_exists(ok_id) and not any_store.trace_exists("0" * 32)
    assert set(any_store.assessments_for([ok_id, error_id])) == {ok_id}
    with pytest.raises(FilterSyntaxError):
        jt.search_traces(experiment_ids=[exp], filter_string="status =")

    jt.delete_trace_tag(ok_id, "$reviewed")
    jt.delete_assessment(ok_id, feedback.assessment_id)
    with pytest.raises(NotFound):
        any_store.get_assessment(ok_id, feedback.assessment_id)
    assert jt.delete_traces(trace_ids=[error_id]) == 1
    assert jt.get_trace(error_id) is None
    left = jt.get_trace(ok_id)
    assert left is not None and "$reviewed" not in left.info.tags
    assert [a.name for a in left.info.assessments] == ["expected_response"]


# ------------------------------------------------------------------ limits and error pages


def test_an_artifact_over_the_advertised_limit_is_refused_before_sending(
    track_db: Path, tmp_path: Path
) -> None:
    import httpserve
    import httpx

    served = httpserve.ServedStore(track_db, max_artifact_bytes=1000)
    client = served.client(tmp_path / "client")
    try:
        assert client.info()["max_artifact_bytes"] == 1000
        run = client.create_run(client.create_experiment("limits")).run_id
        client.write_artifact_bytes(run, "fits.bin", b"x" * 1000)
        big = tmp_path / "big.bin"
        big.write_bytes(b"y" * 1001)
        with pytest.raises(InvalidInput, match=r"1,001 bytes, larger than the 1,000-byte limit"):
            client.add_artifact(run, big)
        with pytest.raises(InvalidInput, match=r"big\.bin"):
            client.write_artifact_bytes(run, "big.bin", b"y" * 1001)
        # a client that sends it anyway gets the 413 in the error shape after its body is read
        # (any size: the body is read to its end and thrown away, so a proxy sees an answer)
        for size in (1001, 2001, 50_000):
            r = httpx.put(
                served.url + f"api/runs/{run}/artifacts/upload",
                params={"path": "big.bin"},
                content=b"z" * size,
                headers={"Authorization": f"token {served.token}"},
            )
            assert r.status_code == 413 and r.json()["limit"] == 1000, r.text
        names = [a.path for a in client.list_artifacts(run)]
        assert names == ["fits.bin"]
        folder = SQLiteStore(track_db).artifact_dir(run)
        assert not list(folder.rglob(".upload-*"))
    finally:
        client.close()
        served.stop()


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (502, "ServiceDown", "a proxy between this client and the service answered"),
        (413, "InvalidInput", "larger than the service accepts"),
        (403, "PermissionDenied", "a proxy between this client and the service answered"),
    ],
)
def test_an_error_page_that_is_not_json_is_reported_in_one_clear_line(
    tmp_path: Path, status: int, error: str, words: str
) -> None:
    """A proxy's or the hub's HTML error page (configurable-http-proxy answers with the hub's
    page when the service cuts a connection): the error says so, with the page's title."""
    import http.server
    import threading

    from jupyter_track.client.endpoint import Endpoint
    from jupyter_track.client.store import HttpStore

    class Page(http.server.BaseHTTPRequestHandler):
        def _page(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            body = f"<html><head><title>{status} Proxy &amp; hub</title></head><body><p>x</p>"
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        do_GET = do_POST = do_PUT = _page

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/services/jupyter-track/"
    store = HttpStore(url, endpoint=Endpoint(url, url, "token"))
    store.spool_folder = tmp_path / "spool"
    store.spool.folder = store.spool_folder
    store.spool.path = store.spool_folder / store.spool.path.name
    try:
        with pytest.raises(Exception) as raised:
            store.get_run("0" * 32)
        assert type(raised.value).__name__ == error
        message = str(raised.value)
        assert f"HTTP {status} from {url}api/store/get_run" in message
        assert "text/html page, not the service's JSON" in message and words in message
        assert f"({status} Proxy & hub)" in message and "<" not in message
    finally:
        store._closed = True
        server.shutdown()


# ------------------------------------------------------- what the HTTP client store implements

#: the methods of the store interface the HTTP client store does not implement (and says so)
NOT_OVER_HTTP = {
    # the service's own store is migrated and maintained where it runs
    "prepare",
    "stored_schema_version",
    "upgrade",
    "vacuum",
    "remove_artifact_folder",
    # grants go through the permissions route, as the verified user
    "permissions_of",
    "set_permission",
    "audit_service_action",
}


def _interface() -> dict[str, Any]:
    from jupyter_track.store.interface import Store

    return {
        name: value
        for name, value in vars(Store).items()
        if not name.startswith("_") and (callable(value) or isinstance(value, property))
    }


def test_the_http_store_implements_the_interface_except_a_listed_few(tmp_path: Path) -> None:
    """Every method of the Store protocol is on HttpStore: implemented (a store call to the
    service, or done locally), or in ``NOT_SERVED``, which raises NotImplementedError naming the
    method and what to do instead. The service's ``CALLS`` are methods of the protocol, with
    the protocol's parameters (the service binds a call's arguments by them)."""
    import inspect

    from jupyter_track.client.endpoint import Endpoint
    from jupyter_track.client.store import NOT_SERVED, HttpStore
    from jupyter_track.server.store_calls import CALLS

    interface = _interface()
    assert set(NOT_SERVED) == NOT_OVER_HTTP
    assert set(interface) >= NOT_OVER_HTTP
    implemented = set(interface) - NOT_OVER_HTTP
    assert all(hasattr(HttpStore, name) for name in implemented)
    assert len(implemented) >= 90 and not implemented & set(NOT_SERVED)
    url = "http://127.0.0.1:9/services/jupyter-track/"
    store = HttpStore(url, endpoint=Endpoint(url, url, "token"))
    store.spool_folder = tmp_path / "spool"
    store._closed = True
    for name in sorted(NOT_OVER_HTTP):
        with pytest.raises(NotImplementedError, match=rf"^{name}: not available on the team"):
            getattr(store, name)()
    assert set(CALLS) <= set(interface), sorted(set(CALLS) - set(interface))
    for name in CALLS:
        declared = list(inspect.signature(interface[name]).parameters)
        served = list(inspect.signature(getattr(SQLiteStore, name)).parameters)
        assert declared == served, (name, declared, served)
