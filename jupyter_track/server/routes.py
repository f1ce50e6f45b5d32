"""Route table (placeholder until the REST API lands)."""

from __future__ import annotations

import json
from typing import Any

import tornado
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .. import __version__
from ..paths import resolve_db_path
from ..store.schema import SCHEMA_VERSION


class InfoHandler(APIHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.finish(
            json.dumps(
                {
                    "version": __version__,
                    "schema_version": SCHEMA_VERSION,
                    "store": str(resolve_db_path()),
                }
            )
        )


def setup_routes(app: Any) -> None:
    base = url_path_join(app.serverapp.base_url, "jupyter-track", "api")
    app.handlers.extend([(url_path_join(base, "info"), InfoHandler)])
