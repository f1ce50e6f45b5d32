"""Nothing private to others comes back from the team service, whichever route is asked.

alice keeps an experiment (a run with a param, a metric, a tag, an artifact, a cell-log row and
a trace) and a registered model private (``everyone: NO_PERMISSIONS``); a second, readable
model has a version made from her private run. bob, who may use the service, then walks

* every GET route of the shared route table, with its path and query arguments naming alice's
  objects: nothing of them (names, keys, values, ids he did not send) is in any answer;
* every write route of the table: 403;
* every store call the HTTP client store can make (``POST store/{method}``), with arguments
  built from the method's signature: reads leak nothing, writes on her objects are 403.

The walks go over ``ROUTES`` and ``CALLS`` themselves, so a new route or call is walked too.
"""

from __future__ import annotations

import inspect
import json
import re
import time
import uuid
from typing import Any

import pytest

from jupyter_track.server.routes import ROUTES, methods
from jupyter_track.server.store_calls import CALLS

pytestmark = pytest.mark.slow

TAG = uuid.uuid4().hex[:8]
SECRET = {
    "experiment": f"secret-exp-{TAG}",
    "run_name": f"secret-run-{TAG}",
    "param": f"secretparam{TAG}",
    "metric": f"secretmetric{TAG}",
    "tag_key": f"secrettag{TAG}",
    "tag_value": f"secret-tag-value-{TAG}",
    "artifact": f"secret artifact text {TAG}",
    "cell": f"secret-cell-{TAG}",
    "source": f"secret_source_{TAG} = 1",
    "span": f"secret-span-{TAG}",
    "model": f"secret-model-{TAG}",
}
PUBLIC_MODEL = f"public-model-{TAG}"


def _otlp(trace_id: str, span_name: str) -> dict[str, Any]:
    """One OTLP/JSON span."""
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": []},
                "scopeSpans": [
                    {
                        "scope": {"name": "hub-access-test"},
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": uuid.uuid4().hex[:16],
                                "name": span_name,
                                "kind": 1,
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000001000000000",
                                "attributes": [],
                                "status": {"code": 0},
                            }
                        ],
                    }
                ],
            }
        ]
    }


def _ok(response: Any) -> Any:
    assert response.status_code < 300, (response.request.url, response.status_code, response.text)
    return response.json() if response.content else None


def _call(hub: Any, user: str, method: str, *args: Any, **kwargs: Any) -> Any:
    from jupyter_track import wire

    r = hub.service(
        "POST",
        f"store/{method}",
        user,
        json={"args": wire.encode(list(args)), "kwargs": wire.encode(kwargs)},
    )
    return wire.decode(_ok(r)["result"])


@pytest.fixture(scope="module")
def private(hub: Any) -> dict[str, Any]:
    """alice's private experiment and model (see the module docstring)."""
    exp = _call(hub, "alice", "create_experiment", SECRET["experiment"])
    run = _call(
        hub,
        "alice",
        "create_run",
        exp,
        run_name=SECRET["run_name"],
        tags={SECRET["tag_key"]: SECRET["tag_value"]},
    ).run_id
    _call(hub, "alice", "log_params", run, {SECRET["param"]: "0.5"})
    now = int(time.time() * 1000)
    batch = {
        "batch_id": uuid.uuid4().hex,
        "metrics": [[run, SECRET["metric"], i, now + i, 0.5] for i in range(3)],
        "cells": [
            [
                *("session", "notebook.ipynb", SECRET["cell"], 1, SECRET["source"]),
                *(now, 5.0, "ok", None, run),
            ]
        ],
    }
    _ok(hub.service("POST", "ingest", "alice", json=batch))
    _ok(
        hub.service(
            "PUT",
            f"runs/{run}/artifacts/upload",
            "alice",
            params={"path": "notes.txt"},
            content=SECRET["artifact"].encode(),
        )
    )
    trace_id = uuid.uuid4().hex
    _ok(
        hub.service(
            "POST",
            "otlp/v1/traces",
            "alice",
            content=json.dumps(_otlp(trace_id, SECRET["span"])),
            headers={"Content-Type": "application/json", "x-mlflow-experiment-id": exp},
        )
    )
    (trace,) = _ok(hub.service("GET", "traces", "alice", params={"experiment_ids": exp}))["traces"]
    assert trace_id in trace["trace_id"]
    trace_id = trace["trace_id"]
    for model in (SECRET["model"], PUBLIC_MODEL):
        _ok(hub.service("POST", "registry/models", "alice", json={"name": model}))
        _call(hub, "alice", "create_model_version", model, f"runs:/{run}/model", run_id=run)
        _ok(
            hub.service(
                "PUT", f"registry/models/{model}/aliases/champion", "alice", json={"version": 1}
            )
        )
    for object_type, object_id in (("experiment", exp), ("registered_model", SECRET["model"])):
        _ok(
            hub.service(
                "PUT",
                f"permissions/{object_type}/{object_id}",
                "alice",
                json={"principal_type": "everyone", "permission": "NO_PERMISSIONS"},
            )
        )
    # alice herself still sees all of it
    assert SECRET["run_name"] in hub.service("GET", "runs", "alice").text
    assert SECRET["model"] in hub.service("GET", "registry/models", "alice").text
    return {"experiment": exp, "run": run, "trace": trace_id}


def _leaks(body: str, sent: str, private: dict[str, Any]) -> list[str]:
    """alice's private names and values in ``body`` that bob did not send himself. A version
    of the readable model names the run it was made from (its id, in ``run_id`` and the
    source URI, as in MLflow); nothing else of that run may come back."""
    if PUBLIC_MODEL in body:
        run = private["run"]
        body = body.replace(f'"run_id":"{run}"', "").replace(f"runs:/{run}/", "")
    markers = [*SECRET.values(), private["run"], private["trace"]]
    return [m for m in markers if m in body and m not in sent]


def _path(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


def _path_values(private: dict[str, Any], *, model: str) -> list[dict[str, str]]:
    base = {
        "run_id": private["run"],
        "cell_id": SECRET["cell"],
        "name": model,
        "version": "1",
        "alias": "champion",
        "trace_id": private["trace"],
        "method": "get_run",
    }
    return [
        {**base, "object_type": "experiment", "object_id": private["experiment"]},
        {**base, "object_type": "registered_model", "object_id": SECRET["model"]},
    ]


def _query(private: dict[str, Any], bob_run: str) -> dict[str, str]:
    run = private["run"]
    return {
        "run_ids": run,
        "experiment_ids": private["experiment"],
        "run_id": run,
        "run_a": run,
        "run_b": bob_run,
        "keys": "loss",
        "key": "loss",
        "metric": "loss",
        "param": "lr",
        "params": "lr",
        "path": "notes.txt",
        "digest": "0" * 64,
        "spans": "true",
        "include_deleted": "true",
        "view": "all",
    }


@pytest.fixture(scope="module")
def bob_run(hub: Any) -> str:
    exp = _call(hub, "bob", "get_or_create_experiment", f"bob-open-{TAG}").experiment_id
    return str(_call(hub, "bob", "create_run", exp, run_name="bob's").run_id)


#: GET routes that answer a list of what the user may read (200 for bob, without alice's)
LISTS = {
    "/info",
    "/experiments",
    "/runs",
    "/keys",
    "/cells/{cell_id}/runs",
    "/registry/models",
    "/traces",
}


def test_every_get_route_leaks_nothing_private(hub: Any, private: dict[str, Any], bob_run):
    walked = 0
    for model in (SECRET["model"], PUBLIC_MODEL):
        for values in _path_values(private, model=model):
            for template, handler in ROUTES:
                if "get" not in methods(handler):
                    continue
                path = _path(template, values)
                for query in (_query(private, bob_run), {}):
                    r = hub.service("GET", path, "bob", params=query)
                    sent = path + json.dumps(query)
                    leaked = _leaks(r.text, sent, private)
                    assert not leaked, (template, model, r.status_code, leaked, r.text[:500])
                    assert r.status_code < 500, (template, r.status_code, r.text[:500])
                    if template in LISTS and not query:
                        assert r.status_code == 200, (template, r.status_code, r.text[:300])
                    walked += 1
    assert walked >= 8 * 20
    # the readable model's version does not show the private run it was made from
    detail = _ok(hub.service("GET", f"registry/models/{PUBLIC_MODEL}", "bob"))
    assert detail["versions"] and detail["versions"][0]["run"] is None
    # and the private ones' own routes are refused, not empty
    for path in (
        f"runs/{private['run']}",
        f"runs/{private['run']}/artifacts/file?path=notes.txt",
        f"traces/{private['trace']}",
        f"registry/models/{SECRET['model']}",
        f"registry/models/{PUBLIC_MODEL}/versions/1/lineage",
        f"permissions/experiment/{private['experiment']}",
    ):
        r = hub.service("GET", path, "bob")
        assert r.status_code == 403, (path, r.status_code, r.text[:300])
        assert r.json()["error"] == "permission_denied"
        assert SECRET["experiment"] not in r.text  # the 403 names the id, not the name


WRITE_BODIES: dict[tuple[str, str], Any] = {
    ("/runs/{run_id}", "patch"): {"run_name": "renamed by bob"},
    ("/registry/models", "post"): {"name": SECRET["model"]},
    ("/registry/models/{name}", "patch"): {"description": "bob was here"},
    ("/registry/models/{name}/versions", "post"): {"source": "runs:/x/model"},
    ("/registry/models/{name}/versions/{version}", "patch"): {"description": "bob"},
    ("/registry/models/{name}/aliases/{alias}", "put"): {"version": 1},
    ("/permissions/{object_type}/{object_id}", "put"): {
        "principal_type": "user",
        "principal": "bob",
        "permission": "MANAGE",
    },
    ("/runs/{run_id}/reproduce", "post"): {},
}


def test_every_write_route_on_private_objects_is_403(
    hub: Any, private: dict[str, Any], bob_run
) -> None:
    run = private["run"]
    now = int(time.time() * 1000)
    walked = 0
    for values in _path_values(private, model=SECRET["model"]):
        for template, handler in ROUTES:
            for method in sorted(methods(handler) - {"get"}):
                path = _path(template, values)
                kw: dict[str, Any] = {}
                if template == "/ingest":
                    kw["json"] = {
                        "batch_id": uuid.uuid4().hex,
                        "metrics": [[run, "bobs", 0, now, 1.0]],
                    }
                elif template == "/store/{method}":
                    path = "store/log_params"
                    kw["json"] = {"args": [run, {"bobs": "1"}]}
                elif template == "/runs/{run_id}/artifacts/upload":
                    kw["params"] = {"path": "bob.txt"}
                    kw["content"] = b"bob's bytes"
                elif template == "/otlp/v1/traces":
                    kw["content"] = json.dumps(_otlp(uuid.uuid4().hex, "bob's span"))
                    kw["headers"] = {
                        "Content-Type": "application/json",
                        "x-mlflow-experiment-id": private["experiment"],
                    }
                elif template == "/permissions/{object_type}/{object_id}" and method == "delete":
                    kw["params"] = {"principal_type": "everyone", "principal": ""}
                elif (template, method) in WRITE_BODIES:
                    kw["json"] = WRITE_BODIES[(template, method)]
                r = hub.service(method.upper(), path, "bob", **kw)
                assert r.status_code == 403, (method, template, r.status_code, r.text[:300])
                assert not _leaks(r.text, path + json.dumps(kw, default=str), private)
                walked += 1
    assert walked >= 2 * 15
    # nothing changed: alice's run is as she left it
    detail = _ok(hub.service("GET", f"runs/{run}", "alice"))
    assert detail["run_name"] == SECRET["run_name"] and detail["lifecycle_stage"] == "active"


def _arguments(fn: Any, private: dict[str, Any]) -> dict[str, Any] | None:
    """Arguments for a store method naming alice's objects; None when a required parameter
    has no value here (the method is then listed in ``UNWALKED``)."""
    from jupyter_track.store.trace_records import TraceRecord

    run = private["run"]
    values: dict[str, Any] = {
        "trace_id": private["trace"],
        "trace_ids": [private["trace"]],
        # her trace's id, written into her experiment: would replace her spans
        "records": [
            TraceRecord(
                trace_id=private["trace"],
                experiment_id=private["experiment"],
                name="bob's",
                spans=[
                    (uuid.uuid4().hex[:16], None, "bob's", "UNKNOWN", "OK", None, 1, 2)
                    + (None,) * 4
                ],
            )
        ],
        "kind": "feedback",
        "assessment_id": "a-" + "0" * 32,
        "run_id": run,
        "run_ids": [run],
        "before_run_id": run,
        "experiment_id": private["experiment"],
        "experiment_ids": [private["experiment"]],
        "name": SECRET["model"],
        "version": 1,
        "alias": "champion",
        "prefix": run[:10],
        "cell_id": SECRET["cell"],
        "key": SECRET["metric"],
        "keys": [SECRET["metric"]],
        "metric_key": SECRET["metric"],
        "path": None,
        "filter_string": None,
        "params": {"bobs": "1"},
        "tags": {"bobs": "1"},
        "metrics": [],
        "value": "1",
        "stage": "deleted",
        "status": "FINISHED",
        "source": "runs:/x/model",
        "env_hash": "0" * 16,
        "artifact_file": "notes.txt",
        "description": "bob was here",
        "until_rowid": 2**40,
        "after_rowid": 0,
        "record": {"cells": []},
    }
    kwargs: dict[str, Any] = {}
    for name, parameter in inspect.signature(fn).parameters.items():
        if name in ("self", "actor", "verified", "user_id"):
            continue
        if name in values:
            kwargs[name] = values[name]
        elif parameter.default is inspect.Parameter.empty and parameter.kind not in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            return None
    return kwargs


#: store calls with no object of alice's to name (they create bob's own, or need no argument)
OPEN_WRITES = {"create_experiment", "get_or_create_experiment", "put_environment"}


def test_every_store_call_leaks_nothing_and_writes_nothing(
    hub: Any, private: dict[str, Any], bob_run
) -> None:
    from jupyter_track import wire
    from jupyter_track.store import SQLiteStore

    walked, unwalked = [], []
    for method, (_rule, writes) in sorted(CALLS.items()):
        kwargs = _arguments(getattr(SQLiteStore, method), private)
        if kwargs is None or (writes and method in OPEN_WRITES):
            unwalked.append(method)
            continue
        body = {"args": [], "kwargs": wire.encode(kwargs)}
        r = hub.service("POST", f"store/{method}", "bob", json=body)
        sent = json.dumps(body)
        assert r.status_code < 500, (method, r.status_code, r.text[:300])
        assert not _leaks(r.text, sent, private), (method, r.text[:500])
        if writes:
            assert r.status_code == 403, (method, r.status_code, r.text[:300])
        walked.append(method)
    assert len(walked) >= 50, walked
    assert set(unwalked) <= OPEN_WRITES, unwalked
    # live charts following every run: only the runs bob may read
    for method in ("metric_rows_since", "metric_series_since"):
        r = hub.service("POST", f"store/{method}", "bob", json={"args": [None, 0]})
        assert r.status_code == 200 and not _leaks(r.text, "", private), r.text[:300]
    rows, _cursor = _call(hub, "alice", "metric_rows_since", None, 0)
    assert any(row[0] == private["run"] for row in rows)  # she sees her own
    # found by name: refused, not answered with the experiment
    r = hub.service(
        "POST", "store/get_experiment_by_name", "bob", json={"args": [SECRET["experiment"]]}
    )
    assert r.status_code == 403 and private["experiment"] in r.text
    r = hub.service(
        "POST", "store/get_or_create_experiment", "bob", json={"args": [SECRET["experiment"]]}
    )
    assert r.status_code == 403
    # a run-id prefix resolves among the runs bob may read only
    r = hub.service("POST", "store/resolve_run_id", "bob", json={"args": [private["run"][:12]]})
    assert r.status_code == 404 and private["run"] not in r.text
    # and alice still gets all of it
    assert _call(hub, "alice", "resolve_run_id", private["run"][:12]) == private["run"]
    _traces_stay_private(hub, private)
    names = [m.name for m in _call(hub, "alice", "search_registered_models")]
    assert SECRET["model"] in names


def _traces_stay_private(hub: Any, private: dict[str, Any]) -> None:
    """The trace store calls (how a kernel on the team store writes and reads traces): bob
    writes and reads traces in his own experiment; alice's private trace is neither readable,
    nor said to exist, nor replaceable by a record with its id in bob's experiment."""
    from jupyter_track import wire
    from jupyter_track.store.trace_records import TraceRecord

    mine = _call(hub, "bob", "get_or_create_experiment", f"bob-traces-{TAG}").experiment_id
    bobs_trace = uuid.uuid4().hex

    def record(trace_id: str, **kw: Any) -> TraceRecord:
        span = (uuid.uuid4().hex[:16], None, "bob's span", "UNKNOWN", "OK", None, 1, 2)
        return TraceRecord(trace_id=trace_id, name="bob's", spans=[span + (None,) * 4], **kw)

    _call(hub, "bob", "write_traces", [record(bobs_trace, experiment_id=mine)])
    assert _call(hub, "bob", "get_trace", bobs_trace).summary.experiment_id == mine
    _call(hub, "bob", "log_assessment", bobs_trace, "feedback", "good", True)
    page = _call(hub, "bob", "search_traces", None, None)
    assert [t.trace_id for t in page.traces] == [bobs_trace]  # not alice's
    assert _call(hub, "bob", "trace_exists", bobs_trace) is True
    assert _call(hub, "bob", "trace_exists", private["trace"]) is False
    assert _call(hub, "alice", "trace_exists", private["trace"]) is True
    found = _call(hub, "bob", "assessments_for", [bobs_trace, private["trace"]])
    assert list(found) == [bobs_trace]
    refused = [
        # her trace's id, in bob's own experiment: her spans would be replaced
        ("write_traces", [[record(private["trace"], experiment_id=mine)]]),
        # her experiment, by name
        ("write_traces", [[record(uuid.uuid4().hex, experiment_name=SECRET["experiment"])]]),
        # linked to her run
        ("write_traces", [[record(uuid.uuid4().hex, experiment_id=mine, run_id=private["run"])]]),
        # by age in every experiment: admins only
        ("delete_traces", [None]),
        ("search_traces", [[private["experiment"]]]),
    ]
    for method, args in refused:
        body = {"args": wire.encode(args), "kwargs": {}}
        if method == "delete_traces":
            body["kwargs"] = {"max_timestamp_millis": 2**50}
        r = hub.service("POST", f"store/{method}", "bob", json=body)
        assert r.status_code == 403, (method, r.status_code, r.text[:300])
        assert not _leaks(r.text, json.dumps(body), private), (method, r.text[:300])
    # her trace is as she sent it
    theirs = _call(hub, "alice", "get_trace", private["trace"])
    assert [s.name for s in theirs.spans] == [SECRET["span"]]
    assert _call(hub, "alice", "search_traces", [private["experiment"]]).traces


def test_a_child_run_in_a_private_experiment_is_not_listed(
    hub: Any, private: dict[str, Any], bob_run: str
) -> None:
    """alice's run in her private experiment, made a child of bob's readable run: bob's run
    detail and the child_run_ids call leave it out for bob, alice sees it."""
    child = _call(
        hub, "alice", "create_run", private["experiment"], run_name="child", parent_run_id=bob_run
    ).run_id
    for who, listed in (("bob", False), ("alice", True)):
        detail = _ok(hub.service("GET", f"runs/{bob_run}", who))
        assert (child in detail["children"]) is listed, (who, detail["children"])
        assert (child in _call(hub, who, "child_run_ids", bob_run)) is listed, who
