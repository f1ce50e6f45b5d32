"""The route table: ``{base_url}jupyter-track/api/<template>`` -> handler.

Templates use the ``{name}`` placeholders of ``docs/openapi.yaml``, which a test compares with
this table. ``ExtensionApp`` prefixes the server's ``base_url``.
"""

from __future__ import annotations

import re
from typing import Any

from jupyter_server.utils import url_path_join

from .artifacts import ArtifactFileHandler, ArtifactsHandler
from .base import NotFoundHandler, TrackHandler
from .catalog import CellRunsHandler, ExperimentsHandler, InfoHandler, KeysHandler
from .charts import (
    LearningCurvesHandler,
    ParallelCoordinatesHandler,
    ParamImportanceHandler,
    ScatterHandler,
)
from .metrics import MetricHistoryHandler
from .registry_routes import REGISTRY_ROUTES
from .runs import CompareHandler, RestoreHandler, RunHandler, RunsHandler

API_PREFIX = "jupyter-track/api"

ROUTES: list[tuple[str, type[TrackHandler]]] = [
    ("/info", InfoHandler),
    ("/experiments", ExperimentsHandler),
    ("/runs", RunsHandler),
    ("/runs/{run_id}", RunHandler),
    ("/runs/{run_id}/restore", RestoreHandler),
    ("/runs/{run_id}/artifacts", ArtifactsHandler),
    ("/runs/{run_id}/artifacts/file", ArtifactFileHandler),
    ("/metrics/history", MetricHistoryHandler),
    ("/compare", CompareHandler),
    ("/cells/{cell_id}/runs", CellRunsHandler),
    ("/keys", KeysHandler),
    ("/charts/learning-curves", LearningCurvesHandler),
    ("/charts/parallel-coordinates", ParallelCoordinatesHandler),
    ("/charts/scatter", ScatterHandler),
    ("/charts/param-importance", ParamImportanceHandler),
    *REGISTRY_ROUTES,
]

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def pattern(template: str) -> str:
    """``/runs/{run_id}`` -> ``jupyter-track/api/runs/(?P<run_id>[^/]+)`` (anchored by tornado)."""
    body = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return url_path_join(API_PREFIX, body)


def methods(handler: type[TrackHandler]) -> set[str]:
    """The HTTP methods a handler class implements itself."""
    return {m for m in HTTP_METHODS if m in vars(handler)}


def setup_routes(app: Any) -> None:
    """Register every route (and the API's own 404) on the extension app."""
    kwargs = {"access": app.access}
    app.handlers.extend((pattern(t), h, kwargs) for t, h in ROUTES)
    app.handlers.append((url_path_join(API_PREFIX, "(?:.*)"), NotFoundHandler, kwargs))
