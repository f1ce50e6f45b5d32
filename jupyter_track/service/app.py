"""``jupyter-track service``: the team's store behind JupyterHub.

Run by the hub (a ``command`` in ``c.JupyterHub.services``: the hub sets ``JUPYTERHUB_*`` in
its environment) or on its own (a Kubernetes Deployment registered with the hub by ``url`` and
``api_token``: set ``JUPYTERHUB_API_TOKEN``, ``JUPYTERHUB_API_URL``, ``JUPYTERHUB_SERVICE_NAME``,
``JUPYTERHUB_SERVICE_URL`` and ``JUPYTERHUB_CLIENT_ID`` yourself). It is the only process that
opens its store; users' kernels and servers reach it over HTTP with their hub tokens.

Routes, under ``JUPYTERHUB_SERVICE_PREFIX`` (``/services/jupyter-track/``):

* ``api/...``: the REST API of the Jupyter server extension (the same route table and openapi
  file), authenticated with the hub, with per-object permissions;
* ``oauth_callback``: the end of the hub login of the page;
* the page itself (``/services/jupyter-track/``): experiments, runs and models, read-only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass
from typing import Any

from jupyter_server.utils import url_path_join
from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler
from tornado.web import Application

from ..server.access import StoreAccess
from ..server.policy import EDIT, READ
from ..server.routes import handlers
from .auth import HubAuthenticatedHandler, HubDirectory
from .cli import DEFAULT_ADMIN_SCOPE, DEFAULT_MAX_ARTIFACT_BYTES
from .page import PageHandler
from .permissions import HubPolicy

log = logging.getLogger("jupyter_track.service")


@dataclass
class ServiceConfig:
    """What ``jupyter-track service`` is told (flags, else environment, else defaults)."""

    store: str
    ip: str = "127.0.0.1"
    port: int = 10101
    prefix: str = "/services/jupyter-track/"
    default_experiment_permission: str = EDIT
    default_model_permission: str = READ
    admin_scope: str = DEFAULT_ADMIN_SCOPE
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES
    read_threads: int = 4
    cache_max_age: int = 300


def make_app(config: ServiceConfig) -> tuple[Application, StoreAccess]:
    """The tornado application of the service, and the store access it owns."""
    from ..paths import resolve_uri

    access = StoreAccess(resolve_uri(config.store), read_threads=config.read_threads)
    auth = HubOAuth(cache_max_age=config.cache_max_age)
    if not auth.access_scopes:
        raise SystemExit(
            "jupyter-track service: JUPYTERHUB_SERVICE_NAME (or JUPYTERHUB_OAUTH_ACCESS_SCOPES) "
            "is not set; run it as a JupyterHub service"
        )
    directory = HubDirectory(auth)
    host = type(
        "HubApiHandler",
        (HubAuthenticatedHandler,),
        {"_hub_auth": auth, "directory": directory, "admin_scope": config.admin_scope},
    )
    policy = HubPolicy(
        default_experiment_permission=config.default_experiment_permission,
        default_model_permission=config.default_model_permission,
    )
    prefix = config.prefix
    kwargs: dict[str, Any] = {"access": access, "policy": policy}
    routes: list[Any] = handlers(url_path_join(prefix, "api"), host, kwargs)
    page = type("Page", (PageHandler, host), {})
    callback = type("OAuthCallback", (HubOAuthCallbackHandler,), {"_hub_auth": auth})
    routes += [
        (url_path_join(prefix, "oauth_callback"), callback),
        (prefix.rstrip("/") + "/?", page, kwargs),
    ]
    app = Application(
        routes,
        cookie_secret=os.urandom(32),
        jupyter_track_config=config,
        max_artifact_bytes=config.max_artifact_bytes,
    )
    return app, access


async def serve(config: ServiceConfig) -> int:
    """Serve until SIGTERM or SIGINT."""
    app, access = make_app(config)
    server = app.listen(
        config.port, config.ip, xheaders=True, max_body_size=config.max_artifact_bytes
    )
    log.info(
        "serving %s on http://%s:%s%s (store %s)",
        "jupyter-track",
        config.ip,
        config.port,
        config.prefix,
        access.location,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()
    access.close()
    return 0
