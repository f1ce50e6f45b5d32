"""Schemathesis over docs/openapi.yaml against a real running Jupyter server: no server errors.

Every operation of the file is called with data generated from its schema -- valid and
invalid (wrong types, missing fields, out-of-range numbers, odd strings) -- against
``jupyter server`` started in a subprocess on a store holding runs, metrics, artifacts and a
registered model. The check is schemathesis' ``not_a_server_error``: any 5xx fails the test.
The number of examples per operation is bounded so the run stays short in CI
(``JT_SCHEMATHESIS_EXAMPLES`` raises it for a longer local run).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
TOKEN = "schemathesis-token"
EXAMPLES = int(os.environ.get("JT_SCHEMATHESIS_EXAMPLES", "12"))

SEED = """
import jupyter_track as jt

class Model:
    def predict(self, data):
        return data

jt.set_experiment("fuzz")
for i in range(3):
    with jt.start_run(run_name=f"run-{i}") as run:
        jt.log_params({"lr": 0.1 * (i + 1), "opt": "sgd"})
        for step in range(5):
            jt.log_metric("loss", 1.0 / (step + 1 + i), step=step)
        jt.set_tag("team", "a")
        jt.log_text("hello", "notes/readme.txt")
        jt.log_model(Model(), name="model", registered_model_name="fuzz-model")
jt.set_registered_model_alias("fuzz-model", "champion", 1)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``jupyter server`` with the extension, on a seeded store; yields the API URL."""
    import httpx

    root = tmp_path_factory.mktemp("schemathesis")
    env = {**os.environ, "JUPYTER_TRACK_DB": str(root / "track.db"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("JUPYTER_TRACK_URI", None)
    subprocess.run([sys.executable, "-c", SEED], env=env, cwd=root, check=True)
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={root}",
        ],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=open(root / "server.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    base = f"http://127.0.0.1:{port}/jupyter-track/api"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/info", headers={"Authorization": f"token {TOKEN}"}).is_success:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((root / "server.log").read_text()[-3000:])
        time.sleep(0.2)
    yield base
    server.terminate()
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()
    log = (root / "server.log").read_text()
    assert "Traceback" not in log or "jupyter-track" not in log.split("Traceback")[-1][:2000], log[
        -3000:
    ]


schema = schemathesis.openapi.from_path(OPENAPI)  # the file: the server comes per call
#: paths served under another root than the REST API (MLflow's protocol: jupyter-track/mlflow)
OTHER_ROOTS = {
    path: item["servers"][0]["url"].replace("{base_url}", "/")
    for path, item in schema.raw_schema["paths"].items()
    if item.get("servers")
}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(case: Any, jupyter_server: str) -> None:
    base_url = jupyter_server
    root = OTHER_ROOTS.get(case.operation.path)
    if root is not None:  # e.g. /jupyter-track/mlflow instead of /jupyter-track/api
        base_url = jupyter_server.rsplit("/jupyter-track/api", 1)[0] + root
    case.call_and_validate(
        base_url=base_url,
        headers={"Authorization": f"token {TOKEN}"},
        checks=[not_a_server_error],
        timeout=60,
    )
