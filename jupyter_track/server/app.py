"""The ``ExtensionApp``: configuration (``c.JupyterTrack.*``) and route registration."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Unicode

from .. import __version__


class JupyterTrack(ExtensionApp):
    """Serves the tracking store to the JupyterLab sidebar."""

    name = "jupyter_track"
    description = "Experiment tracking and model registry inside Jupyter"

    db_path = Unicode(
        "",
        config=True,
        help="Path of the SQLite store. Empty: JUPYTER_TRACK_URI / JUPYTER_TRACK_DB, else the "
        "Jupyter data dir. The value is exported to kernels started by this server.",
    )

    def initialize_handlers(self) -> None:
        from .routes import setup_routes

        setup_routes(self)

    @property
    def version(self) -> str:
        return __version__
