"""A real JupyterHub for the team-service tests (and the load benchmark).

``start_hub(folder)`` runs ``jupyterhub`` with ``examples/jupyterhub/jupyterhub_config.py`` (the
file the docs show), overriding only ports, folders and the demo password through a second
small config that loads it. The proxy is configurable-http-proxy from npm (``.ci/run`` installs
it into ``.hub-tools/``). The hub, its proxy, the hub-managed service and the single-user
servers are processes this harness started; ``Hub.stop()`` ends them by their ids.

Users: alice, bob (group ml-team), carol (no access to the service) and admin (hub admin).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "examples" / "jupyterhub" / "jupyterhub_config.py"
TOOLS_BIN = ROOT / ".hub-tools" / "bin"
PASSWORD = "track-" + uuid.uuid4().hex[:12]
SERVICE = "jupyter-track"
USERS = ("alice", "bob", "carol", "admin")
#: the tests' artifact size limit (the service's default is 1 GiB)
MAX_ARTIFACT_BYTES = 4 << 20


def proxy_command() -> str | None:
    """configurable-http-proxy: on PATH or in the repo's ``.hub-tools/bin``."""
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    local = TOOLS_BIN / "configurable-http-proxy"
    return str(local) if local.exists() and shutil.which("node") else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Hub:
    """A running hub: its URLs, an admin API token, and helpers for users and servers."""

    folder: Path
    url: str  # http://127.0.0.1:PORT/
    proc: subprocess.Popen[bytes]
    admin_token: str
    log_path: Path
    service_dir: Path
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    # --------------------------------------------------------------------------- hub API

    @property
    def api_url(self) -> str:
        return self.url + "hub/api/"

    @property
    def service_url(self) -> str:
        return self.url + f"services/{SERVICE}/"

    def hub_api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"token {self.admin_token}", **kw.pop("headers", {})}
        return httpx.request(method, self.api_url + path, headers=headers, timeout=60, **kw)

    def token(self, user: str, scopes: list[str] | None = None) -> str:
        """An API token of ``user`` (created once per scope list) as the user would make it
        on the hub's token page."""
        key = (user, json.dumps(scopes))
        if key not in self.tokens:
            body: dict[str, Any] = {"note": "hub tests"}
            if scopes is not None:
                body["scopes"] = scopes
            r = self.hub_api("POST", f"users/{user}/tokens", json=body)
            r.raise_for_status()
            self.tokens[key] = r.json()["token"]
        return self.tokens[key]

    def service_token(self, user: str) -> str:
        """A token of ``user`` with the service access scope and server access, or only
        server access for a user the hub does not let use the service (carol)."""
        try:
            return self.token(
                user, [f"access:services!service={SERVICE}", f"access:servers!user={user}"]
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 400:
                raise
            return self.token(user, [f"access:servers!user={user}"])

    # ------------------------------------------------------------------ the team service

    @property
    def service_direct_url(self) -> str:
        """The service's own URL (not through the proxy), as kernels find it in the hub's
        services API."""
        model = self.hub_api("GET", f"services/{SERVICE}").json()
        return model["url"].rstrip("/") + model["prefix"]

    def service(self, method: str, path: str, user: str, **kw: Any) -> httpx.Response:
        """A request to the team service's REST API as ``user``."""
        token = kw.pop("token", None) or self.service_token(user)
        headers = {"Authorization": f"token {token}", **kw.pop("headers", {})}
        return httpx.request(
            method, self.service_url + "api/" + path.lstrip("/"), headers=headers, timeout=60, **kw
        )

    def service_pid(self) -> int | None:
        """The process id of the hub-managed service (a child of the hub)."""
        try:
            children = psutil.Process(self.proc.pid).children(recursive=False)
        except psutil.NoSuchProcess:
            return None
        for child in children:
            try:
                if "service" in child.cmdline() and "jupyter_track" in " ".join(child.cmdline()):
                    return child.pid
            except psutil.NoSuchProcess:
                continue
        return None

    def wait_service(self, timeout: float = 90) -> None:
        """Until the service answers its info route."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                r = self.service("GET", "info", "alice")
                if r.status_code == 200:
                    return
                last = r.status_code
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.3)
        raise TimeoutError(f"the service did not answer within {timeout}s: {last}\n{self.log()}")

    def login(self, user: str) -> httpx.Client:
        """An HTTP client with ``user``'s hub login cookie (the login form, as a browser)."""
        client = httpx.Client(base_url=self.url, timeout=60, follow_redirects=True)
        client.get("hub/login")
        xsrf = client.cookies.get("_xsrf", "")
        r = client.post("hub/login", data={"username": user, "password": PASSWORD, "_xsrf": xsrf})
        r.raise_for_status()
        return client

    # ------------------------------------------------------------------ single-user servers

    def start_server(self, user: str, timeout: float = 120) -> str:
        """Start ``user``'s server (if needed); its URL (``.../user/<name>/``)."""
        r = self.hub_api("POST", f"users/{user}/server")
        if r.status_code not in (201, 202, 400):  # 400: already running
            r.raise_for_status()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.hub_api("GET", f"users/{user}").json()
            server = (model.get("servers") or {}).get("")
            if server and server.get("ready"):
                return self.url + f"user/{user}/"
            time.sleep(0.5)
        raise TimeoutError(f"{user}'s server did not start\n{self.log()}")

    def server_api(self, user: str, method: str, path: str, **kw: Any) -> httpx.Response:
        """A request to ``user``'s own Jupyter server, with ``user``'s token."""
        token = kw.pop("token", None) or self.service_token(user)
        headers = {"Authorization": f"token {token}", **kw.pop("headers", {})}
        url = self.url + f"user/{user}/" + path.lstrip("/")
        return httpx.request(method, url, headers=headers, timeout=120, **kw)

    def kernel(self, user: str, env: dict[str, str] | None = None) -> Kernel:
        """A new kernel in ``user``'s server (``env``: set in the kernel before anything)."""
        r = self.server_api(user, "POST", "api/kernels", json={"name": "python3"})
        r.raise_for_status()
        kernel = Kernel(self, user, r.json()["id"])
        if env:
            kernel.execute(f"import os; os.environ.update({env!r})")
        return kernel

    # ------------------------------------------------------------------------------ end

    def log(self, lines: int = 80) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the hub (SIGTERM lets it stop the proxy, the service and the servers), then
        end any of its descendants that are still there."""
        try:
            family = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            family = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for child in family:
            try:
                child.terminate()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(family, timeout=10)
        for child in family:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass


class Kernel:
    """A kernel running in a user's single-user server, driven over its websocket as
    JupyterLab drives it."""

    def __init__(self, hub: Hub, user: str, kernel_id: str):
        self.hub, self.user, self.id = hub, user, kernel_id
        self.session = uuid.uuid4().hex

    def execute(self, code: str, timeout: float = 180) -> str:
        """Run ``code``; its stdout and stderr. A Python error raises ``KernelError``."""
        import websocket

        token = self.hub.service_token(self.user)
        url = self.hub.url.replace("http", "ws", 1) + (
            f"user/{self.user}/api/kernels/{self.id}/channels?session_id={self.session}"
        )
        ws = websocket.create_connection(
            url, header=[f"Authorization: token {token}"], timeout=timeout
        )
        try:
            msg_id = uuid.uuid4().hex
            ws.send(
                json.dumps(
                    {
                        "header": {
                            "msg_id": msg_id,
                            "username": self.user,
                            "session": self.session,
                            "msg_type": "execute_request",
                            "version": "5.3",
                        },
                        "parent_header": {},
                        "metadata": {},
                        "content": {
                            "code": code,
                            "silent": False,
                            "store_history": True,
                            "user_expressions": {},
                            "allow_stdin": False,
                            "stop_on_error": True,
                        },
                        "channel": "shell",
                        "buffers": [],
                    }
                )
            )
            out: list[str] = []
            error: str | None = None
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                raw = ws.recv()
                if isinstance(raw, bytes):
                    continue
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["header"]["msg_type"]
                content = msg["content"]
                if kind == "stream":
                    out.append(content["text"])
                elif kind == "error":
                    error = "\n".join(content.get("traceback") or [content.get("evalue", "")])
                elif kind == "status" and content["execution_state"] == "idle":
                    break
            else:
                raise TimeoutError(f"kernel did not finish within {timeout}s: {code[:200]}")
        finally:
            ws.close()
        if error is not None:
            raise KernelError(error + "\n--- output ---\n" + "".join(out))
        return "".join(out)

    def restart(self) -> None:
        self.hub.server_api(self.user, "POST", f"api/kernels/{self.id}/restart").raise_for_status()

    def shutdown(self) -> None:
        self.hub.server_api(self.user, "DELETE", f"api/kernels/{self.id}")


class KernelError(AssertionError):
    """Code run in a hub kernel raised."""


def start_hub(folder: Path, *, service_env: dict[str, str] | None = None) -> Hub:
    """Start a hub in ``folder`` (see the module docstring); wait until it and the service
    answer."""
    folder.mkdir(parents=True, exist_ok=True)
    chp = proxy_command()
    if chp is None:
        raise RuntimeError("configurable-http-proxy is not installed (bash .ci/run installs it)")
    port, hub_port, proxy_api, service_port = (free_port() for _ in range(4))
    admin_token = uuid.uuid4().hex
    service_dir = folder / "service"
    service_dir.mkdir(exist_ok=True)
    config = folder / "hub_test_config.py"
    config.write_text(
        textwrap.dedent(
            f"""
            load_subconfig({str(EXAMPLE_CONFIG)!r})
            c.JupyterHub.bind_url = "http://127.0.0.1:{port}/"
            c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
            c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api}"
            c.ConfigurableHTTPProxy.command = [{chp!r}]
            c.ConfigurableHTTPProxy.pid_file = {str(folder / "proxy.pid")!r}
            c.JupyterHub.db_url = "sqlite:///{folder / "jupyterhub.sqlite"}"
            c.JupyterHub.cookie_secret_file = {str(folder / "cookie_secret")!r}
            c.JupyterHub.cleanup_servers = True
            c.DummyAuthenticator.password = {PASSWORD!r}
            c.SimpleLocalProcessSpawner.home_dir_template = {str(folder / "home" / "{username}")!r}
            c.Spawner.start_timeout = 120
            c.Spawner.http_timeout = 120
            c.Spawner.args = ["--ServerApp.allow_root=True"]
            c.JupyterHub.services.append({{"name": "hub-tests", "api_token": {admin_token!r}}})
            c.JupyterHub.load_roles.append(
                {{
                    "name": "hub-tests",
                    "scopes": ["admin:users", "admin:servers", "tokens", "admin:groups",
                               "read:services"],
                    "services": ["hub-tests"],
                }}
            )
            """
        )
    )
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        [str(Path(chp).parent), str(Path(sys.executable).parent), env.get("PATH", "")]
    )
    env["JUPYTER_TRACK_SERVICE_PORT"] = str(service_port)
    env["JUPYTER_TRACK_SERVICE_DIR"] = str(service_dir)
    env["JUPYTER_TRACK_SERVICE_MAX_ARTIFACT_BYTES"] = str(MAX_ARTIFACT_BYTES)
    env.pop("JUPYTER_TRACK_SERVICE_STORE", None)
    env.update(service_env or {})
    log_path = folder / "jupyterhub.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    hub = Hub(folder, f"http://127.0.0.1:{port}/", proc, admin_token, log_path, service_dir)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyterhub exited with {proc.returncode}\n{hub.log()}")
        try:
            if httpx.get(hub.api_url, timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    else:
        hub.stop()
        raise TimeoutError(f"jupyterhub did not start\n{hub.log()}")
    try:
        hub.wait_service()
    except BaseException:
        hub.stop()
        raise
    return hub
