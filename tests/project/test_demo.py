"""The demo notebook the README's first command opens (and Binder seeds) runs end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_track.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_demo_notebook_records_its_runs(track_db: Path) -> None:
    env = {**os.environ, "JUPYTER_TRACK_DB": str(track_db)}
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "binder" / "seed_demo.py"),
            str(ROOT / "examples" / "demo.ipynb"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    store = SQLiteStore(track_db)
    experiment = store.get_experiment_by_name("breast-cancer")
    assert experiment is not None
    runs = store.search_runs([experiment.experiment_id], "", max_results=100).runs
    names = {r.info.run_name for r in runs}
    assert {"logistic-regression", "random-forest", "gradient-boosting"} <= names
    assert all(r.info.status == "FINISHED" for r in runs)
    tracked = next(r for r in runs if r.info.run_name == "random-forest")
    assert 0.8 < tracked.data.metrics["accuracy"] <= 1.0
    assert tracked.info.cell_id and tracked.info.notebook
    assert any(s.count > 1 for r in runs for s in r.summaries.values())  # learning curves
    # a registered model with a champion and a challenger (the Models tab has content)
    model = store.get_registered_model("breast-cancer-classifier")
    assert {"champion", "challenger"} <= set(model.aliases)


def test_demo_script_opens_the_notebook_from_a_copy(track_db: Path, tmp_path: Path) -> None:
    """``bash scripts/demo.sh``: JupyterLab on a copy of the notebook outside the checkout, its
    URL the notebook's (not the Launcher), the store seeded, the news prompt off."""
    import json
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = tmp_path / "demo"
    env = {
        **os.environ,
        "JUPYTER_TRACK_DB": str(track_db),
        "JT_DEMO_DIR": str(demo),
        "JT_DEMO_VENV": str(Path(sys.executable).parent.parent),
    }
    before = (ROOT / "examples" / "demo.ipynb").read_bytes()
    log = (tmp_path / "demo.log").open("wb")
    process = subprocess.Popen(
        [
            "bash",
            str(ROOT / "scripts" / "demo.sh"),
            "--no-browser",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=demo-token",
            "--ServerApp.ip=127.0.0.1",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 600
        url = f"http://127.0.0.1:{port}/?token=demo-token"
        while True:
            assert process.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(url, timeout=10) as reply:
                    landed = reply.url
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "demo.log").read_text()[-3000:]
                time.sleep(1)
        assert landed.split("?")[0].endswith("/lab/tree/demo.ipynb")
        assert (demo / "demo.ipynb").exists()
        settings = demo / ".lab-settings" / "@jupyterlab" / "apputils-extension"
        assert json.loads((settings / "notification.jupyterlab-settings").read_text()) == {
            "fetchNews": "false",
            "checkForUpdates": False,
        }
        store = SQLiteStore(track_db)
        assert store.get_experiment_by_name("breast-cancer") is not None
        assert {"champion", "challenger"} <= set(
            store.get_registered_model("breast-cancer-classifier").aliases
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()
    assert (ROOT / "examples" / "demo.ipynb").read_bytes() == before  # the checkout is clean
