"""The shared route table served over real HTTP from a background thread, for the HTTP client
store's conformance runs (``tests/store/``: the ``http`` engine).

The same handlers as the Jupyter server extension and the team service (``server/routes.py``),
bound to a small host that accepts one bearer token (the hub's authentication is what the hub
tests exercise); the store behind them is a fresh SQLite file per test. The client is the real
:class:`jupyter_track.client.HttpStore` over a real socket.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from pathlib import Path
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from jupyter_track.server.access import StoreAccess
from jupyter_track.server.routes import handlers

PREFIX = "/services/jupyter-track/"


class TokenHost(RequestHandler):
    """Authenticated when the request carries the server's token (user ``tester``)."""

    token = ""

    def get_current_user(self) -> Any:
        header = self.request.headers.get("Authorization", "")
        return {"name": "tester"} if header == f"token {self.token}" else None


class ServedStore:
    """A route-table server on a loopback port (stop with :meth:`stop`)."""

    def __init__(self, db: Path, **settings: Any):
        self.token = secrets.token_hex(16)
        self.access = StoreAccess(db)
        host = type("Host", (TokenHost,), {"token": self.token})
        app = Application(handlers(PREFIX + "api", host, {"access": self.access}), **settings)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port = 0

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            server = HTTPServer(app)
            server.listen(0, "127.0.0.1")
            self.port = next(iter(server._sockets.values())).getsockname()[1]
            self._server = server
            self._ready.set()
            loop.run_forever()
            server.stop()
            loop.close()

        self._thread = threading.Thread(target=serve, daemon=True, name="served-store")
        self._thread.start()
        self._ready.wait(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    def client(self, data_dir: Path) -> Any:
        """An HTTP client store on this server (its spool and cache under ``data_dir``)."""
        from jupyter_track.client.endpoint import Endpoint
        from jupyter_track.client.store import HttpStore

        store = HttpStore(self.url, endpoint=Endpoint(self.url, self.url, self.token))
        store.spool_folder = data_dir / "spool"
        store.spool.folder = store.spool_folder
        store.spool.path = store.spool_folder / store.spool.path.name
        store.cache_root = data_dir / "cache"
        return store

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self.access.close()
