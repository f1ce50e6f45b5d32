"""Browser tests: a real ``jupyter lab`` driven by pytest-playwright in Debian's Chromium.

Fixtures for every browser test in this folder (sidebar, widgets, ...):

``lab_server`` (session)
    Starts ``python -m jupyterlab`` on a free loopback port with its own token, root folder,
    user-settings folder (the news toast switched off) and a temporary store named by
    ``JUPYTER_TRACK_DB``, which the kernels it starts inherit. It yields a :class:`LabServer`
    with ``url`` (``http://127.0.0.1:PORT/``), ``token``, ``root_dir``, ``db_path``,
    ``settings_dir`` and small helpers (``lab_url``, ``api``, ``write_settings``,
    ``shutdown_sessions``, ``store``).

``lab_page``
    A Playwright page with JupyterLab loaded (``/lab?reset``) and the splash screen gone.

``browser_type_launch_args`` (session)
    Debian's ``chromium`` (``playwright install`` cannot download a browser here).

pytest-jupyter's autouse loop fixtures (loaded by the root ``conftest.py``) are overridden with
no-ops here: their event loop clashes with Playwright's sync API ("Cannot close a running event
loop").
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

ARTIFACTS = Path(__file__).parent / "artifacts"
KERNEL_IDLE = "Python 3 (ipykernel) | Idle"


# ----------------------------------------------------------------------- pytest-jupyter overrides


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    """No pytest-jupyter event loop in browser tests (it breaks Playwright's sync API)."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    yield


# --------------------------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": chromium, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


# ----------------------------------------------------------------------------- the lab server


@dataclass
class LabServer:
    """A running ``jupyter lab`` and the folders it uses."""

    url: str  # http://127.0.0.1:PORT/ (base_url "/")
    token: str
    root_dir: Path
    db_path: Path
    settings_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def lab_url(self, path: str = "", **query: str) -> str:
        """``/lab`` (or ``/lab/tree/<path>``) with the token in the query string."""
        target = f"lab/tree/{path}" if path else "lab"
        params = "&".join([f"token={self.token}", *(f"{k}={v}" for k, v in query.items())])
        return f"{self.url}{target}?{params}"

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call a server route (``path`` without the leading slash); JSON in, JSON out."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def write_settings(self, plugin: str, values: dict[str, Any]) -> Path:
        """Write a user-settings file, e.g. ``("@jupyterlab/apputils-extension:themes", {...})``.

        JupyterLab reads it at the next page load.
        """
        package, _, name = plugin.partition(":")
        target = self.settings_dir / package / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
        return target

    def remove_settings(self, plugin: str) -> None:
        package, _, name = plugin.partition(":")
        (self.settings_dir / package / f"{name}.jupyterlab-settings").unlink(missing_ok=True)

    def shutdown_sessions(self) -> None:
        """Delete every session (and its kernel), so kernels do not pile up on two cores."""
        for session in self.api("GET", "api/sessions"):
            try:
                self.api("DELETE", f"api/sessions/{session['id']}")
            except urllib.error.HTTPError:
                pass

    def store(self) -> Any:
        """A store on the server's SQLite file (for seeding and checking from the test)."""
        from jupyter_track.store import SQLiteStore

        return SQLiteStore(self.db_path)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(server: LabServer, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited early:\n{server.log()[-4000:]}")
        try:
            server.api("GET", "api/status")
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.25)
    raise RuntimeError(f"jupyter lab did not answer in {timeout} s:\n{server.log()[-4000:]}")


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """One ``jupyter lab`` for the whole session, with a fresh store."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    settings = base / "user-settings"
    workspaces = base / "workspaces"
    for folder in (root, settings, workspaces):
        folder.mkdir()
    db_path = base / "store" / "track.db"
    db_path.parent.mkdir()
    token = "jt-ui-tests-" + os.urandom(8).hex()
    port = _free_port()
    log_path = base / "jupyter-lab.log"

    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_TRACK_")}
    env["JUPYTER_TRACK_DB"] = str(db_path)
    env.pop("MLFLOW_EXPERIMENT_NAME", None)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={workspaces}",
    ]
    log = log_path.open("wb")
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    server = LabServer(
        url=f"http://127.0.0.1:{port}/",
        token=token,
        root_dir=root,
        db_path=db_path,
        settings_dir=settings,
        log_path=log_path,
        process=process,
    )
    # The "official Jupyter news" toast would cover every screenshot.
    server.write_settings(
        "@jupyterlab/apputils-extension:notification",
        {"fetchNews": "false", "checkForUpdates": False},
    )
    try:
        _wait_ready(server)
        yield server
    finally:
        try:
            server.shutdown_sessions()
        except Exception:
            pass
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


# ----------------------------------------------------------------------------------- the page


@pytest.fixture
def lab_page(lab_server: LabServer, page: Any) -> Iterator[Any]:
    """JupyterLab loaded in a fresh page; sessions are shut down afterwards."""
    page.goto(lab_server.lab_url(reset=""))
    page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=60_000)
    page.locator(".jp-LabShell").wait_for(timeout=60_000)
    yield page
    lab_server.shutdown_sessions()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots and other outputs worth keeping (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
