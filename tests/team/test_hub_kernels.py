"""Team scenarios through the users' own single-user servers and kernels, on a real JupyterHub.

Kernels use ``JUPYTER_TRACK_URI=jupyterhub`` (set for every server by the example config) and
authenticate with their server's token; the sidebar API is each user's own server relaying to
the service with the visiting user's token (``jupyter-track/team/api/``).
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid

import pytest

pytestmark = pytest.mark.slow

TRAIN = """
import jupyter_track as jt
jt.set_experiment({experiment!r})
with jt.start_run(run_name={name!r}) as run:
    jt.log_param("lr", 0.1)
    for i in range(200):
        jt.log_metric("loss", 1 / (i + 1), step=i)
print(run.info.run_id)
"""


def _team(hub, user: str, method: str, path: str, **kw):
    """A request to the team store through ``user``'s own server (the sidebar's route)."""
    return hub.server_api(user, method, "jupyter-track/team/api/" + path, **kw)


@pytest.fixture(scope="module")
def servers(hub):
    for user in ("alice", "bob"):
        hub.start_server(user)
    return hub


@pytest.fixture(scope="module")
def runs(servers):
    """alice's and bob's runs, logged from their kernels (bob's kernel claims to be alice)."""
    hub = servers
    experiment = f"shared-{uuid.uuid4().hex[:6]}"
    alice = hub.kernel("alice")
    bob = hub.kernel("bob", env={"JUPYTERHUB_USER": "alice", "USER": "alice"})
    try:
        alice_run = alice.execute(TRAIN.format(experiment=experiment, name="alice-run")).split()[-1]
        bob_run = bob.execute(TRAIN.format(experiment=experiment, name="bob-run")).split()[-1]
    finally:
        alice.shutdown()
        bob.shutdown()
    return {"experiment": experiment, "alice": alice_run, "bob": bob_run}


def test_each_user_sees_both_runs_with_the_users_the_hub_verified(servers, runs) -> None:
    hub = servers
    for viewer in ("alice", "bob"):
        r = _team(hub, viewer, "GET", "runs", params={"columns": "tags.*,metrics.*"})
        assert r.status_code == 200, r.text
        by_id = {row["run_id"]: row for row in r.json()["runs"]}
        assert runs["alice"] in by_id and runs["bob"] in by_id
        assert by_id[runs["alice"]]["user_id"] == "alice"
        # bob's kernel set JUPYTERHUB_USER=alice and USER=alice: the hub says bob
        assert by_id[runs["bob"]]["user_id"] == "bob"
        assert by_id[runs["bob"]]["tags"]["mlflow.user"] == "bob"
        assert by_id[runs["bob"]]["tags"]["jt.user.verified"] == "true"
        assert by_id[runs["alice"]]["metrics"]["loss"] == pytest.approx(1 / 200)


def test_the_relay_acts_as_the_visiting_user(servers) -> None:
    hub = servers
    # the admin visits alice's server: the service sees the admin, not alice
    admin_token = hub.token("admin", ["access:servers!user=alice", "access:services"])
    r = _team(hub, "alice", "GET", "info", token=admin_token)
    assert r.status_code == 200, r.text
    assert r.json()["user"] == "admin"
    assert _team(hub, "alice", "GET", "info").json()["user"] == "alice"


def test_carol_gets_403_from_the_service_through_her_own_server(hub) -> None:
    hub.start_server("carol")
    r = _team(hub, "carol", "GET", "runs")
    assert r.status_code == 403
    kernel = hub.kernel("carol")
    try:
        out = kernel.execute(
            "import jupyter_track as jt\n"
            "try:\n    jt.search_runs(search_all_experiments=True)\n"
            "except Exception as exc:\n    print(type(exc).__name__, exc)\n"
        )
    finally:
        kernel.shutdown()
    assert "403" in out or "may not use this service" in out or "read:services" in out


def test_alias_and_run_permissions_with_grants_audited(servers, runs) -> None:
    hub = servers
    model = f"fraud-{uuid.uuid4().hex[:6]}"
    kernel = hub.kernel("alice")  # alice registers her model from her kernel
    try:
        kernel.execute(
            "from jupyter_track.store import open_store\n"
            "store = open_store()\n"
            f"store.create_registered_model({model!r})\n"
            f"store.create_model_version({model!r}, source='runs:/{runs['alice']}/model', "
            f"run_id={runs['alice']!r})\n"
        )
    finally:
        kernel.shutdown()
    detail = _team(hub, "alice", "GET", f"registry/models/{model}").json()
    assert [v["version"] for v in detail["versions"]] == [1], detail
    owner = _team(hub, "alice", "GET", f"permissions/registered_model/{model}").json()
    assert owner["you"]["permission"] == "MANAGE"  # the creator manages it
    assert ("alice", "MANAGE") in [(g["principal"], g["permission"]) for g in owner["grants"]]

    # bob cannot move the alias of alice's model until alice grants him EDIT
    denied = _team(
        hub, "bob", "PUT", f"registry/models/{model}/aliases/champion", json={"version": 1}
    )
    assert denied.status_code == 403, denied.text
    body = denied.json()
    assert body["error"] == "permission_denied" and body["permission"] == "EDIT"
    assert body["object"] == {"type": "registered_model", "id": model}
    assert model in body["message"] and "bob" in body["message"]

    grant = _team(
        hub,
        "alice",
        "PUT",
        f"permissions/registered_model/{model}",
        json={"principal_type": "user", "principal": "bob", "permission": "EDIT"},
    )
    assert grant.status_code == 200, grant.text
    moved = _team(
        hub, "bob", "PUT", f"registry/models/{model}/aliases/champion", json={"version": 1}
    )
    assert moved.status_code == 200, moved.text
    audit = _team(hub, "alice", "GET", f"registry/models/{model}/audit").json()["entries"]
    alias_rows = [e for e in audit if e["action"] == "set_alias"]
    assert alias_rows and alias_rows[0]["actor"] == "bob" and alias_rows[0]["actor_verified"]

    # bob cannot delete alice's run until he holds MANAGE on its experiment
    denied = _team(hub, "bob", "DELETE", f"runs/{runs['alice']}")
    assert denied.status_code == 403, denied.text
    assert denied.json()["permission"] == "MANAGE"
    assert denied.json()["object"]["type"] == "experiment"
    experiment_id = _team(hub, "alice", "GET", f"runs/{runs['alice']}").json()["experiment_id"]
    grant = _team(
        hub,
        "alice",
        "PUT",
        f"permissions/experiment/{experiment_id}",
        json={"principal": "ml-team", "principal_type": "group", "permission": "MANAGE"},
    )
    assert grant.status_code == 200, grant.text
    deleted = _team(hub, "bob", "DELETE", f"runs/{runs['alice']}")
    assert deleted.status_code == 200, deleted.text
    restored = _team(hub, "bob", "POST", f"runs/{runs['alice']}/restore")
    assert restored.status_code == 200, restored.text

    grants = _team(hub, "bob", "GET", f"permissions/experiment/{experiment_id}").json()
    assert grants["you"]["permission"] == "MANAGE"
    history = grants["history"]
    assert [(h["action"], h["actor"], h["principal"]) for h in history if h["action"] == "grant"][
        -1
    ] == ("grant", "alice", "ml-team")
    run_audit = hub.service(
        "POST", "store/service_audit", "bob", json={"args": ["run", runs["alice"]]}
    )
    actions = [(e["action"], e["actor"]) for e in run_audit.json()["result"]]
    assert ("delete_run", "bob") in actions and ("restore_run", "bob") in actions

    # carol: 403 everywhere, whatever she asks
    for method, path in [
        ("GET", f"registry/models/{model}"),
        ("PUT", f"registry/models/{model}/aliases/champion"),
        ("DELETE", f"runs/{runs['bob']}"),
        ("GET", f"permissions/experiment/{experiment_id}"),
    ]:
        assert (
            hub.service(
                method, path, "carol", json={"version": 1} if method == "PUT" else None
            ).status_code
            == 403
        )


def test_service_stopped_mid_training_every_point_arrives_once(servers) -> None:
    hub = servers
    kernel = hub.kernel("alice")
    points = 3000
    try:
        run_id = kernel.execute(
            "import jupyter_track as jt, time\n"
            "jt.set_experiment('outage')\n"
            "run = jt.start_run(run_name='through-the-outage')\n"
            "jt.log_metric('warmup', 1.0); jt.flush()\n"
            "print(run.info.run_id)\n"
        ).split()[-1]
        pid = hub.service_pid()
        assert pid is not None
        marker = hub.folder / f"stop-{uuid.uuid4().hex[:6]}"
        # the training cell: the service is stopped while it runs (after ~1/4 of the points)
        cell = (
            "import os, time\n"
            f"for i in range({points}):\n"
            "    jt.log_metric('loss', 1.0 / (i + 1), step=i)\n"
            f"    if i == {points // 4}:\n"
            f"        open({str(marker)!r}, 'w').close()\n"
            "    time.sleep(0.002)\n"
            "jt.end_run()\n"
            "print('cell finished')\n"
        )
        import threading

        result: dict[str, object] = {}

        def run_cell() -> None:
            try:
                result["out"] = kernel.execute(cell, timeout=300)
            except BaseException as exc:  # reported below
                result["error"] = exc

        worker = threading.Thread(target=run_cell)
        worker.start()
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(pid, signal.SIGTERM)  # the hub restarts its managed service
        worker.join(300)
        assert "error" not in result, result.get("error")
        assert "cell finished" in str(result["out"])
        hub.wait_service(timeout=120)
        assert hub.service_pid() not in (None, pid)

        # delivered in the background once the service is back
        deadline = time.monotonic() + 90
        history: list[int] = []
        status = None
        while time.monotonic() < deadline:
            got = hub.service(
                "GET",
                "metrics/history",
                "alice",
                params={"run_ids": run_id, "keys": "loss", "max_points": 100000},
            )
            series = got.json().get("series") or []
            history = series[0]["step"] if series else []
            status = hub.service("GET", f"runs/{run_id}", "alice").json().get("status")
            if len(history) >= points and status == "FINISHED":
                break
            time.sleep(1)
        steps = list(history)
        assert len(steps) == points, (len(steps), hub.log())
        assert sorted(steps) == list(range(points))  # each point exactly once
        assert status == "FINISHED"
        spool = kernel.execute(
            "import json\nfrom jupyter_track.store import open_store\n"
            "from jupyter_track.client import spool\n"
            "print(json.dumps([f.to_dict() for f in spool.status(open_store().spool_folder)]))"
        )
        assert all(f["batches"] == 0 for f in json.loads(spool.strip().splitlines()[-1]))
    finally:
        kernel.shutdown()


def test_models_and_artifacts_go_through_the_service(servers) -> None:
    hub = servers
    alice = hub.kernel("alice")
    bob = hub.kernel("bob")
    try:
        run_id = alice.execute(
            "import jupyter_track as jt\n"
            "from sklearn.linear_model import LogisticRegression\n"
            "import numpy as np\n"
            "X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])\n"
            "with jt.start_run(run_name='model-run') as run:\n"
            "    jt.log_model(LogisticRegression().fit(X, y), 'model')\n"
            "    jt.log_text('hello team', 'notes/hello.txt')\n"
            "print(run.info.run_id)\n"
        ).split()[-1]
        # the files are on the service's disk, not only in alice's cache
        stored = hub.service_dir / "track-artifacts" / run_id / "artifacts"
        assert (stored / "model" / "manifest.json").is_file() or any(stored.rglob("MLmodel"))
        assert (stored / "notes" / "hello.txt").read_text() == "hello team"
        out = bob.execute(
            "import jupyter_track as jt, numpy as np\n"
            f"model = jt.load_model('runs:/{run_id}/model')\n"
            "print(list(model.predict(np.array([[0.0], [3.0]]))))\n"
            "from jupyter_track.store import open_store\n"
            f"print(open_store().artifact_file({run_id!r}, 'notes/hello.txt').read_text())\n"
        )
        assert "[0, 1]" in out.replace("np.int64(", "").replace(")", "")
        assert "hello team" in out
        # larger than the service's limit: the kernel refuses before sending, naming the limit
        limit = hubtools_limit()
        refused = alice.execute(
            "import os, tempfile, jupyter_track as jt\n"
            "from jupyter_track.store import InvalidInput\n"
            "big = os.path.join(tempfile.mkdtemp(), 'big.bin')\n"
            f"open(big, 'wb').write(b'x' * {limit + 1})\n"
            "try:\n"
            f"    jt.log_artifact(big, run_id={run_id!r})\n"
            "except InvalidInput as exc:\n"
            "    print('refused:', exc)\n"
        )
        assert f"refused: artifact 'big.bin': {limit + 1:,} bytes" in refused, refused
        assert f"the {limit:,}-byte limit" in refused
        # sent anyway, through the hub's proxy: 413 in the service's JSON shape every time (the
        # body is read to its end, so the proxy never answers with the hub's error page)
        for size in (limit + 1, 2 * limit + 1, 3 * limit):
            too_big = hub.service(
                "PUT",
                f"runs/{run_id}/artifacts/upload",
                "alice",
                params={"path": "big.bin"},
                content=b"x" * size,
            )
            assert too_big.status_code == 413, too_big.text[:300]
            assert too_big.json()["limit"] == limit
        assert not (stored / "big.bin").exists()
        assert not [p for p in stored.rglob(".upload-*")]
    finally:
        alice.shutdown()
        bob.shutdown()


def test_a_kernel_started_later_delivers_what_a_dead_one_kept(servers) -> None:
    hub = servers
    first = hub.kernel("alice")
    try:
        out = first.execute(
            "import os, jupyter_track as jt\n"
            "from jupyter_track.store import open_store\n"
            "run = jt.start_run(run_name='kept-by-a-dead-kernel'); jt.flush()\n"
            "store = open_store()\n"
            "store._closed = True  # no delivery from this kernel: it is killed first\n"
            "store.spool.append({'batch_id': 'kept-' + run.info.run_id, 'metrics': "
            "[[run.info.run_id, 'kept', i, 1700000000000 + i, float(i)] for i in range(50)]})\n"
            "print(run.info.run_id, os.getpid())\n"
        ).split()
        run_id, pid = out[-2], int(out[-1])
        os.kill(pid, signal.SIGKILL)  # the kernel dies with a non-empty spool
    finally:
        first.shutdown()
    second = hub.kernel("alice")
    try:
        second.execute(
            "import time\n"
            "from jupyter_track.store import open_store\n"
            "store = open_store()  # opening the team store delivers orphaned spools\n"
            "deadline = time.time() + 60\n"
            "while store._orphans_pending() and time.time() < deadline:\n"
            "    time.sleep(0.2)\n"
        )
    finally:
        second.shutdown()
    got = hub.service(
        "GET", "metrics/history", "alice", params={"run_ids": run_id, "keys": "kept"}
    ).json()
    assert got["series"] and list(got["series"][0]["step"]) == list(range(50))


def hubtools_limit() -> int:
    import hubtools

    return hubtools.MAX_ARTIFACT_BYTES


def test_a_private_experiment_is_left_out_of_other_users_lists(servers) -> None:
    hub = servers
    name = f"private-{uuid.uuid4().hex[:6]}"
    kernel = hub.kernel("alice")
    try:
        run_id = kernel.execute(
            "import jupyter_track as jt\n"
            f"jt.set_experiment({name!r})\n"
            "with jt.start_run() as run:\n"
            "    jt.log_metric('x', 1.0)\n"
            "print(run.info.run_id)\n"
        ).split()[-1]
    finally:
        kernel.shutdown()
    experiment_id = _team(hub, "alice", "GET", f"runs/{run_id}").json()["experiment_id"]
    private = _team(
        hub,
        "alice",
        "PUT",
        f"permissions/experiment/{experiment_id}",
        json={"principal_type": "everyone", "permission": "NO_PERMISSIONS"},
    )
    assert private.status_code == 200, private.text
    for user, sees in (("alice", True), ("bob", False)):
        runs = [r["run_id"] for r in _team(hub, user, "GET", "runs").json()["runs"]]
        names = [e["name"] for e in _team(hub, user, "GET", "experiments").json()["experiments"]]
        assert (run_id in runs) is sees and (name in names) is sees, user
    assert _team(hub, "bob", "GET", f"runs/{run_id}").status_code == 403
    asked = _team(hub, "bob", "GET", "runs", params={"experiment_ids": experiment_id}).json()
    assert asked["runs"] == [] and asked["total"] == 0


TRACED = """
import jupyter_track as jt
jt.set_experiment({experiment!r})

@jt.trace(span_type="TOOL")
def lookup(q):
    return [q.upper()]

@jt.trace(name="answer")
def answer(q):
    return lookup(q)[0] + "!"

with jt.start_run(run_name="traced") as run:
    print(answer("why"))
trace_id = jt.get_last_active_trace_id()
jt.log_feedback(trace_id, "correct", True, rationale="checked")
found = jt.search_traces(run_id=run.info.run_id, return_type="list")
print(run.info.run_id, trace_id, [t.info.trace_id for t in found])
"""


def test_a_kernels_traced_calls_are_kept_by_the_service(servers) -> None:
    """A kernel on the team store traces a call in a run: the background writer sends the
    trace through the HTTP client store, the kernel reads it back (search_traces), and the
    user, and another user of the service, see it with its spans and feedback."""
    hub = servers
    experiment = f"traced-{uuid.uuid4().hex[:6]}"
    kernel = hub.kernel("alice")
    try:
        out = kernel.execute(TRACED.format(experiment=experiment))
    finally:
        kernel.shutdown()
    lines = out.strip().splitlines()
    assert lines[0] == "WHY!" and "left out" not in out, out
    run_id, trace_id, found = lines[-1].split(None, 2)
    assert found == repr([trace_id]), out
    for viewer in ("alice", "bob"):
        r = _team(hub, viewer, "GET", "traces", params={"run_id": run_id, "spans": "true"})
        assert r.status_code == 200, r.text
        (trace,) = r.json()["traces"]
        assert trace["trace_id"] == trace_id and trace["status"] == "OK"
        assert [s["name"] for s in trace["spans"]] == ["answer", "lookup"]
        (feedback,) = trace["assessments"]
        assert feedback["name"] == "correct" and feedback["value"] is True
