"""``jupyter-track service`` on the command line (the service itself is :mod:`.app`, imported
only when the command runs: JupyterHub is needed there and nowhere else)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..server.policy import EDIT, LEVELS, READ

STORE_ENV = "JUPYTER_TRACK_SERVICE_STORE"
DEFAULT_ADMIN_SCOPE = "custom:jupyter-track:admin"
DEFAULT_MAX_ARTIFACT_BYTES = 1 << 30


def config_from_args(args: argparse.Namespace) -> Any:
    """Flags first, then the hub's environment, then defaults."""
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", ""))
    store = args.store or os.environ.get(STORE_ENV) or f"sqlite:///{Path.cwd() / 'track.db'}"
    from .app import ServiceConfig

    return ServiceConfig(
        store=store,
        ip=args.ip or url.hostname or "127.0.0.1",
        port=args.port if args.port is not None else (url.port or 10101),
        prefix=os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/jupyter-track/"),
        default_experiment_permission=args.default_experiment_permission,
        default_model_permission=args.default_model_permission,
        admin_scope=args.admin_scope,
        max_artifact_bytes=args.max_artifact_bytes,
        cache_max_age=args.cache_max_age,
        read_threads=max(1, args.read_threads),
    )


SERVICE_DOC = """Run the team's store as a JupyterHub service.

Hub-managed: a `command` in c.JupyterHub.services (the hub sets JUPYTERHUB_* for it).
Externally managed: set JUPYTERHUB_API_TOKEN, JUPYTERHUB_API_URL, JUPYTERHUB_SERVICE_NAME,
JUPYTERHUB_SERVICE_URL and JUPYTERHUB_CLIENT_ID. See docs/deployment.md.
"""


def add_parser(subparsers: Any) -> None:
    """Register ``jupyter-track service``."""
    parser = subparsers.add_parser(
        "service",
        help="run the team store as a JupyterHub service",
        description=SERVICE_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--store",
        help=f"store URI (default: ${STORE_ENV}, else sqlite:///$PWD/track.db)",
    )
    parser.add_argument("--ip", help="address to listen on (default: from JUPYTERHUB_SERVICE_URL)")
    parser.add_argument(
        "--port", type=int, help="port to listen on (default: from JUPYTERHUB_SERVICE_URL)"
    )
    parser.add_argument(
        "--default-experiment-permission",
        choices=LEVELS,
        default=os.environ.get("JUPYTER_TRACK_SERVICE_EXPERIMENT_PERMISSION", EDIT),
        help="what every user of the service holds on an experiment that says nothing else "
        "(default EDIT: add runs; READ: read only; NO_PERMISSIONS: private unless granted)",
    )
    parser.add_argument(
        "--default-model-permission",
        choices=LEVELS,
        default=os.environ.get("JUPYTER_TRACK_SERVICE_MODEL_PERMISSION", READ),
        help="what every user of the service holds on a registered model that says nothing "
        "else (default READ)",
    )
    parser.add_argument(
        "--admin-scope",
        default=DEFAULT_ADMIN_SCOPE,
        help=f"hub scope whose holders manage everything (default {DEFAULT_ADMIN_SCOPE})",
    )
    parser.add_argument(
        "--max-artifact-bytes",
        type=int,
        default=int(os.environ.get("JUPYTER_TRACK_SERVICE_MAX_ARTIFACT_BYTES", 0))
        or DEFAULT_MAX_ARTIFACT_BYTES,
        help="largest artifact upload; larger ones get 413 (default 1 GiB)",
    )
    parser.add_argument(
        "--sqlite-cache-mb",
        type=float,
        default=float(os.environ.get("JUPYTER_TRACK_SQLITE_CACHE_MB", 0) or 8),
        help="SQLite page cache per connection, in MB, for a SQLite store (default 8; the "
        "service holds one connection per pool thread: --read-threads + 1)",
    )
    parser.add_argument(
        "--read-threads",
        type=int,
        default=4,
        help="threads that read the store at once (default 4)",
    )
    parser.add_argument(
        "--cache-max-age",
        type=int,
        default=300,
        help="seconds the hub's answers (token owner, groups) are cached; a revoked access "
        "takes effect within this time (default 300)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM/SIGINT."""
    from ..store.db import CACHE_ENV
    from .app import serve

    # bounds the memory of the store's page caches (one per pool thread); see --help
    os.environ[CACHE_ENV] = str(args.sqlite_cache_mb)

    logging.basicConfig(
        level=logging.INFO, format="[jupyter-track service %(levelname)s] %(message)s"
    )
    return asyncio.run(serve(config_from_args(args)))
