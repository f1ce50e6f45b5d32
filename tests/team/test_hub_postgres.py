"""The team service on PostgreSQL, end to end on a real JupyterHub.

A second hub (its own, module-wide) whose hub-managed service stores in a real PostgreSQL
database (``JUPYTER_TRACK_SERVICE_STORE=postgresql://...``, as docs/deployment.md shows for a
multi-node hub), artifacts on the service's own disk. alice and bob log from their kernels,
read each other's runs through their servers, move an alias after a grant, and load a model;
everything is in the PostgreSQL database, written by the service alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.slow

TRAIN = """
import jupyter_track as jt
from sklearn.linear_model import LogisticRegression
import numpy as np
jt.set_experiment({experiment!r})
with jt.start_run(run_name={name!r}) as run:
    jt.log_param("lr", 0.1)
    for i in range(300):
        jt.log_metric("loss", 1 / (i + 1), step=i)
    X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    jt.log_model(LogisticRegression().fit(X, y), "model", registered_model_name={model!r})
print(run.info.run_id)
"""


@pytest.fixture(scope="module")
def pg_hub(postgres_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import hubtools

    if hubtools.proxy_command() is None:
        pytest.skip("configurable-http-proxy is not installed (bash .ci/run installs it)")
    name = f"hub_{uuid.uuid4().hex[:12]}"
    uri = postgres_server.create_database(name, template="jt_template")
    hub = hubtools.start_hub(
        tmp_path_factory.mktemp("pg-hub"), service_env={"JUPYTER_TRACK_SERVICE_STORE": uri}
    )
    hub.pg_uri = uri  # type: ignore[attr-defined]
    try:
        for user in ("alice", "bob"):
            hub.start_server(user)
        yield hub
    finally:
        hub.stop()
        postgres_server.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _team(hub: Any, user: str, method: str, path: str, **kw: Any) -> Any:
    return hub.server_api(user, method, "jupyter-track/team/api/" + path, **kw)


def _count(uri: str, sql: str, *params: Any) -> int:
    import psycopg

    with psycopg.connect(uri) as conn:
        return int(conn.execute(sql, params).fetchone()[0])


def test_the_service_stores_in_postgresql(pg_hub: Any) -> None:
    hub = pg_hub
    info = hub.service("GET", "info", "alice").json()
    assert info["engine"] == "postgresql"
    assert info["store"].startswith("postgresql://") and info["user"] == "alice"
    experiment = f"pg-team-{uuid.uuid4().hex[:6]}"
    model = f"pg-model-{uuid.uuid4().hex[:6]}"
    alice = hub.kernel("alice")
    bob = hub.kernel("bob", env={"JUPYTERHUB_USER": "alice"})
    try:
        alice_run = alice.execute(
            TRAIN.format(experiment=experiment, name="alice-pg", model=model)
        ).split()[-1]
        out = bob.execute(
            "import jupyter_track as jt, numpy as np\n"
            f"jt.set_experiment({experiment!r})\n"
            "with jt.start_run(run_name='bob-pg') as run:\n"
            "    jt.log_metric('loss', 0.5)\n"
            f"m = jt.load_model('models:/{model}/1')\n"
            "print(list(m.predict(np.array([[0.0], [3.0]]))))\n"
            "print(run.info.run_id)\n"
        )
        bob_run = out.split()[-1]
        assert "[0, 1]" in out.replace("np.int64(", "").replace(")", "")
    finally:
        alice.shutdown()
        bob.shutdown()
    # both runs, with the users the hub verified, through each user's own server
    for user in ("alice", "bob"):
        rows = _team(hub, user, "GET", "runs", params={"filter": "run_name LIKE '%-pg'"})
        users = {r["run_id"]: r["user_id"] for r in rows.json()["runs"]}
        assert users.get(alice_run) == "alice" and users.get(bob_run) == "bob", user
    # the rows are in PostgreSQL (the service is the only writer)
    uri = hub.pg_uri
    assert (
        _count(uri, "SELECT count(*) FROM runs WHERE run_id IN (%s, %s)", alice_run, bob_run) == 2
    )
    assert (
        _count(
            uri,
            "SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run "
            "WHERE r.run_id = %s AND m.key = 'loss'",
            alice_run,
        )
        == 300
    )
    # permissions and audit on PostgreSQL: bob moves alice's alias only after her grant
    path = f"registry/models/{model}/aliases/champion"
    assert _team(hub, "bob", "PUT", path, json={"version": 1}).status_code == 403
    grant = _team(
        hub,
        "alice",
        "PUT",
        f"permissions/registered_model/{model}",
        json={"principal_type": "user", "principal": "bob", "permission": "EDIT"},
    )
    assert grant.status_code == 200, grant.text
    moved = _team(hub, "bob", "PUT", path, json={"version": 1})
    assert moved.status_code == 200, moved.text
    audit = _team(hub, "alice", "GET", f"registry/models/{model}/audit").json()
    assert any(
        e["action"] == "set_alias" and e["actor"] == "bob" and e["actor_verified"]
        for e in audit["entries"]
    ), audit
    # artifacts are on the service's disk, not in PostgreSQL and not in the users' homes
    stored = hub.service_dir / "track-artifacts" / alice_run / "artifacts" / "model"
    assert any(stored.rglob("MLmodel")) or (stored / "manifest.json").is_file()
