"""The ``ExtensionApp``: configuration (``c.JupyterTrack.*``), store access, route registration."""

from __future__ import annotations

import os
from pathlib import Path

from jupyter_server.extension.application import ExtensionApp
from traitlets import Integer, Unicode

from .. import __version__
from ..paths import DB_ENV, URI_ENV, personal_uri
from ..store import search as _grammar  # noqa: F401  (with the server, not its first request)
from .access import StoreAccess


class JupyterTrack(ExtensionApp):
    """Serves the tracking store to the JupyterLab sidebar."""

    name = "jupyter_track"
    description = "Experiment tracking and model registry inside Jupyter"

    db_path = Unicode(
        "",
        config=True,
        help="Path of the SQLite store. Empty: JUPYTER_TRACK_URI (a SQLite or PostgreSQL URI) / "
        "JUPYTER_TRACK_DB, else the Jupyter data dir. The value is exported to kernels started "
        "by this server.",
    )
    read_threads = Integer(
        4, config=True, help="Threads that answer read requests (SQLite never runs on the loop)."
    )

    access: StoreAccess | None = None

    def initialize_settings(self) -> None:
        if self.db_path:
            path = Path(self.db_path).expanduser().absolute()
            # kernels inherit the server's environment: point them at the same file
            os.environ[DB_ENV] = str(path)
            os.environ[URI_ENV] = f"sqlite:///{path}"
        self.access = StoreAccess(personal_uri(), read_threads=self.read_threads)
        self.log.info("jupyter-track: store %s", self.access.location)

    def initialize_handlers(self) -> None:
        from .routes import setup_routes

        setup_routes(self)

    async def stop_extension(self) -> None:
        if self.access is not None:
            self.access.close()

    @property
    def version(self) -> str:
        return __version__
