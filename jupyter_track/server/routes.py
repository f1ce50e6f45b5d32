"""The route table: ``<root>api/<template>`` -> handler, whoever serves it.

One table, one openapi file (``docs/openapi.yaml``, compared with this table by a test), two
hosts: the Jupyter server extension mounts it at ``{base_url}jupyter-track/api/`` with Jupyter's
authentication (:func:`setup_routes`), the JupyterHub team service at
``/services/jupyter-track/api/`` with the hub's (:mod:`jupyter_track.service.app`). Both call
:func:`handlers` with their prefix, their authenticated base class and their policy.
"""

from __future__ import annotations

import re
from typing import Any

from jupyter_server.utils import url_path_join
from tornado.web import RequestHandler

from .artifacts import ArtifactFileHandler, ArtifactsHandler
from .base import NotFoundHandler, TrackHandler, bind
from .catalog import CellRunsHandler, ExperimentsHandler, InfoHandler, KeysHandler
from .charts import (
    LearningCurvesHandler,
    ParallelCoordinatesHandler,
    ParamImportanceHandler,
    RunMetricsHandler,
    ScatterHandler,
)
from .evaluations import EVALUATION_ROUTES
from .ingest import IngestHandler
from .lineage_routes import LINEAGE_ROUTES
from .metrics import MetricHistoryHandler
from .mlflow_routes import MLFLOW_PREFIX, mlflow_handlers
from .permission_routes import PermissionsHandler
from .registry_routes import REGISTRY_ROUTES
from .runs import CompareHandler, RestoreHandler, RunHandler, RunsHandler
from .store_calls import StoreCallHandler
from .traces import TRACE_ROUTES
from .uploads import ArtifactUploadHandler

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
    ("/charts/run-metrics", RunMetricsHandler),
    *REGISTRY_ROUTES,
    ("/permissions/{object_type}/{object_id}", PermissionsHandler),
    ("/ingest", IngestHandler),
    ("/store/{method}", StoreCallHandler),
    ("/runs/{run_id}/artifacts/upload", ArtifactUploadHandler),
    *TRACE_ROUTES,
    *EVALUATION_ROUTES,
    *LINEAGE_ROUTES,
]

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def pattern(template: str, prefix: str = API_PREFIX) -> str:
    """``/runs/{run_id}`` -> ``jupyter-track/api/runs/(?P<run_id>[^/]+)`` (anchored by tornado)."""
    body = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return url_path_join(prefix, body)


def methods(handler: type[TrackHandler]) -> set[str]:
    """The HTTP methods a handler class implements itself."""
    return {m for m in HTTP_METHODS if m in vars(handler)}


def handlers(
    prefix: str, host: type[RequestHandler], kwargs: dict[str, Any]
) -> list[tuple[str, type[RequestHandler], dict[str, Any]]]:
    """Every route under ``prefix`` bound to ``host``, then the API's own 404."""
    table: list[tuple[str, type[RequestHandler], dict[str, Any]]] = [
        (pattern(t, prefix), bind(h, host), kwargs) for t, h in ROUTES
    ]
    table.append((url_path_join(prefix, "(?:.*)"), bind(NotFoundHandler, host), kwargs))
    return table


def setup_routes(app: Any) -> None:
    """Register every route on the extension app (Jupyter's authentication, everything open):
    the REST API and MLflow's protocol."""
    from jupyter_server.base.handlers import APIHandler

    from .team import team_handlers

    kwargs = {"access": app.access}
    app.handlers.extend(team_handlers())
    app.handlers.extend(handlers(API_PREFIX, APIHandler, kwargs))
    app.handlers.extend(mlflow_handlers(MLFLOW_PREFIX, APIHandler, kwargs))
