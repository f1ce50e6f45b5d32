"""``jupyter-track serve``: the command-line entry to :mod:`jupyter_track.models.serving`.

The main CLI (``jupyter_track.cli``) calls :func:`add_parser`; ``python -m
jupyter_track.models.serve_cli models:/<name>@<alias>`` runs it on its own.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

HELP = "serve a model over HTTP (POST /invocations), following alias moves"

DESCRIPTION = """\
Serve a logged or registered model with uvicorn + starlette.

  jupyter-track serve models:/fraud@champion --port 5000
  jupyter-track serve models:/fraud@champion --route champion=90,challenger=10
  jupyter-track serve models:/fraud@champion --shadow challenger

POST /invocations takes JSON records ([{"a": 1, ...}, ...]), {"columns": {"a": [...]}} or
{"dataframe_split": {...}}; GET /health reports the versions served. Moving an alias (or
rolling it back) takes effect within --refresh-interval seconds, without a restart. An
X-Request-Key header makes the --route split deterministic for that key.

With --token (or JUPYTER_TRACK_SERVE_TOKEN) every request needs 'Authorization: Bearer
<token>'; listening beyond 127.0.0.1 without one prints a warning. /health tells only a caller
with the token which model and serving run are behind it. Bodies over --max-request-bytes are
refused (413); every error is JSON.
"""


def add_parser(subparsers: Any) -> None:
    """Register the ``serve`` sub-command on an argparse ``subparsers`` object."""
    parser = subparsers.add_parser(
        "serve",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure(parser)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model_uri",
        help="models:/<name>@<alias>, models:/<name>/<version>, models:/<name>/latest or "
        "runs:/<run_id>/<name>",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", "-p", type=int, default=5000, help="port (5000; 0: any free)")
    parser.add_argument(
        "--route",
        default=None,
        help="weighted split between aliases, e.g. champion=90,challenger=10",
    )
    parser.add_argument(
        "--shadow", default=None, help="alias that also scores every request, unreturned"
    )
    parser.add_argument(
        "--refresh-interval",
        type=float,
        default=1.0,
        help="seconds between alias re-reads (1.0)",
    )
    parser.add_argument(
        "--metrics-interval",
        type=float,
        default=5.0,
        help="seconds between metric writes to the serving run (5.0)",
    )
    parser.add_argument(
        "--token",
        default=None,
        help="require 'Authorization: Bearer <token>' on every request "
        "(default: JUPYTER_TRACK_SERVE_TOKEN; none: no authentication)",
    )
    parser.add_argument(
        "--max-request-bytes",
        type=int,
        default=None,
        help="largest request body accepted (16 MiB); larger: 413",
    )
    parser.add_argument(
        "--tracking-uri",
        default=None,
        help="store to read (default: JUPYTER_TRACK_URI / JUPYTER_TRACK_DB / the Jupyter data dir)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``serve`` with parsed arguments; returns the exit code."""
    from ..store import open_store
    from ..store.errors import TrackError
    from .router import parse_route
    from .serving import MAX_REQUEST_BYTES, serve

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def ready(url: str, state: Any) -> None:
        served = ", ".join(f"{a}=v{v}" for a, v in state.current.items()) or state.model_uri
        print(f"Serving {state.model_uri} ({served}) on {url}", flush=True)
        print(f"  POST {url}/invocations   GET {url}/health   (Ctrl-C to stop)", flush=True)

    try:
        if args.refresh_interval <= 0 or args.metrics_interval <= 0:
            print("error: intervals must be positive", file=sys.stderr)
            return 2
        if args.max_request_bytes is not None and args.max_request_bytes <= 0:
            print("error: --max-request-bytes must be positive", file=sys.stderr)
            return 2
        route = parse_route(args.route) if args.route else None
        serve(
            args.model_uri,
            host=args.host,
            port=args.port,
            route=route,
            shadow=args.shadow,
            refresh_interval=args.refresh_interval,
            metrics_interval=args.metrics_interval,
            store=open_store(args.tracking_uri),
            on_ready=ready,
            token=args.token,
            max_request_bytes=args.max_request_bytes or MAX_REQUEST_BYTES,
        )
    except (TrackError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after a graceful shutdown
        return 0
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m jupyter_track.models.serve_cli ...``"""
    parser = argparse.ArgumentParser(prog="jupyter-track serve", description=DESCRIPTION)
    configure(parser)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
