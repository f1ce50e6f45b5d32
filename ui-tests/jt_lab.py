"""Start and stop a real ``jupyter lab`` for browser tests and benchmarks.

Used by ``ui-tests/conftest.py`` (the ``lab_server`` fixture) and ``benchmarks/bench_sidebar.py``.
The server gets its own token, root folder, user-settings folder (the news toast switched off)
and a store named by ``JUPYTER_TRACK_DB``, which the kernels it starts inherit.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    """Debian's chromium (``playwright install`` cannot download a browser here)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


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
    _log: IO[bytes] | None = field(default=None, repr=False)

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

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early:\n{self.log()[-4000:]}")
            try:
                self.api("GET", "api/status")
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.25)
        raise RuntimeError(f"jupyter lab did not answer in {timeout} s:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        """Shut kernels down, stop the server (and its child process), close the log."""
        if self.process.poll() is None:
            try:
                self.shutdown_sessions()
            except Exception:
                pass
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_lab(
    base: Path, db_path: Path | None = None, extra_args: list[str] | None = None
) -> LabServer:
    """Start ``python -m jupyterlab`` with its folders under ``base``; wait until it answers."""
    root = base / "root"
    settings = base / "user-settings"
    workspaces = base / "workspaces"
    for folder in (root, settings, workspaces):
        folder.mkdir(parents=True, exist_ok=True)
    if db_path is None:
        db_path = base / "store" / "track.db"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    token = "jt-ui-tests-" + os.urandom(8).hex()
    port = free_port()
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
        *(extra_args or []),
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
        _log=log,
    )
    # The "official Jupyter news" toast would cover every screenshot.
    server.write_settings(
        "@jupyterlab/apputils-extension:notification",
        {"fetchNews": "false", "checkForUpdates": False},
    )
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server
