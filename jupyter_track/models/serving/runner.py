"""Running the model server: a socket, uvicorn, in the foreground or in a thread.

``serve`` (the CLI) and ``serve_in_thread`` (notebooks, tests) take an optional ``token``
(default: ``JUPYTER_TRACK_SERVE_TOKEN``); listening beyond loopback without one prints a warning,
since anyone who can reach the port could then call the model.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from ...store import SQLiteStore
from ...store.errors import InvalidInput
from .app import create_app
from .protocol import MAX_REQUEST_BYTES
from .state import ServingState

log = logging.getLogger("jupyter_track.serving")

TOKEN_ENV = "JUPYTER_TRACK_SERVE_TOKEN"


def resolve_token(token: str | None) -> str | None:
    """The token to require: ``token``, else ``JUPYTER_TRACK_SERVE_TOKEN``, else None."""
    if token is None:
        token = os.environ.get(TOKEN_ENV) or None
    if token is not None and not token.strip():
        raise InvalidInput("token: must not be empty")
    return token


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, token: str | None) -> str | None:
    """The warning to give when serving beyond loopback without a token, else None."""
    if token is not None or is_loopback(host):
        return None
    return (
        f"warning: serving on {host} without a token: anyone who can reach this port can call "
        f"the model. Pass --token (or set {TOKEN_ENV}) to require 'Authorization: Bearer "
        "<token>', or listen on 127.0.0.1."
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: without it, Nagle + delayed ACKs add ~40 ms per reply
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _server(
    state: ServingState,
    *,
    token: str | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    **uvicorn_options: Any,
) -> Any:
    import uvicorn

    config = uvicorn.Config(
        create_app(state, token=token, max_request_bytes=max_request_bytes),
        log_level=uvicorn_options.pop("log_level", "warning"),
        access_log=uvicorn_options.pop("access_log", False),
        lifespan="on",
        **uvicorn_options,
    )
    return uvicorn.Server(config)


def serve(
    model_uri: str,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    route: Mapping[str, float] | None = None,
    shadow: str | None = None,
    refresh_interval: float = 1.0,
    metrics_interval: float = 5.0,
    store: SQLiteStore | None = None,
    on_ready: Any = None,
    token: str | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
) -> None:
    """Serve ``model_uri`` until interrupted (Ctrl-C / SIGTERM end the serving run cleanly).

    With ``token`` (default ``JUPYTER_TRACK_SERVE_TOKEN``) every request must carry it.
    """
    token = resolve_token(token)
    warning = exposure_warning(host, token)
    if warning:
        log.warning(warning)
        print(warning, file=sys.stderr, flush=True)
    state = ServingState(
        model_uri,
        store=store,
        route=route,
        shadow=shadow,
        refresh_interval=refresh_interval,
        metrics_interval=metrics_interval,
    )
    sock = _bind(host, port)
    actual = sock.getsockname()[1]
    server = _server(state, token=token, max_request_bytes=max_request_bytes)
    if on_ready is not None:
        on_ready(f"http://{host}:{actual}", state)
    server.run(sockets=[sock])


class ServingThread:
    """A server running in a background thread (for notebooks and tests); ``stop()`` ends it."""

    def __init__(
        self,
        state: ServingState,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ):
        self.state = state
        self.token = resolve_token(token)
        warning = exposure_warning(host, self.token)
        if warning:
            log.warning(warning)
        self._sock = _bind(host, port)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        self._server = _server(state, token=self.token, max_request_bytes=max_request_bytes)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name="jupyter-track-serving",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 120
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._server.should_exit = True
                self._sock.close()
                raise RuntimeError("the model server did not start (see the log above)")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop accepting requests, finish those in flight, end the serving run."""
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()

    def __enter__(self) -> ServingThread:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<ServingThread {self.state.model_uri} at {self.url}>"


def serve_in_thread(
    model_uri: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    route: Mapping[str, float] | None = None,
    shadow: str | None = None,
    refresh_interval: float = 1.0,
    metrics_interval: float = 5.0,
    store: SQLiteStore | None = None,
    token: str | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
) -> ServingThread:
    """Start serving in a background thread (port 0: any free port); returns the handle with
    ``.url`` and ``.stop()``. ``token``: as for :func:`serve`."""
    if store is None:
        from ...tracking import session

        store = session.current().store
    state = ServingState(
        model_uri,
        store=store,
        route=route,
        shadow=shadow,
        refresh_interval=refresh_interval,
        metrics_interval=metrics_interval,
    )
    return ServingThread(state, host, port, token=token, max_request_bytes=max_request_bytes)
