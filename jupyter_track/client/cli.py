"""``jupyter-track spool status|flush``: what the team service has not taken yet, and sending it."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(subparsers: Any) -> None:
    """Register ``jupyter-track spool``."""
    parser = subparsers.add_parser(
        "spool",
        help="show or deliver batches kept while the team service was unreachable",
        description="Batches a kernel could not deliver to the team service are kept in "
        "<jupyter data dir>/jupyter_track/spool/ and delivered in order when it answers "
        "again. `status` lists them; `flush` delivers those of kernels that are gone.",
    )
    parser.add_argument("action", choices=["status", "flush"])
    parser.add_argument(
        "--uri", help="team service URI (default: $JUPYTER_TRACK_URI, e.g. jupyterhub)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..paths import team_uri
    from ..store.errors import StoreUnavailable
    from . import spool

    root = spool.spool_root()
    if args.action == "flush":
        uri = team_uri(args.uri) if args.uri else team_uri()
        if uri is None:
            print("jupyter-track: no team service: pass --uri or set JUPYTER_TRACK_URI")
            return 2
        from .store import HttpStore

        store = HttpStore(uri)
        try:
            batches, points = spool.drain_orphans(store.spool_folder, store._post_batch)
        except StoreUnavailable as exc:
            print(f"jupyter-track: {exc}; the spool is kept")
            return 1
        finally:
            store.close()
        print(f"delivered {batches} batches ({points} rows) to {store.endpoint.base_url}")
    files = [f for folder in sorted(root.glob("*")) for f in spool.status(folder)]
    if args.json:
        print(json.dumps([f.to_dict() for f in files], indent=2))
        return 0
    if args.action == "status":
        if not files:
            print(f"the spool is empty ({root})")
        for f in files:
            state = "in use by a running kernel" if f.in_use else "waiting for delivery"
            print(f"{f.path}: {f.batches} batches, {f.points} rows ({state})")
    return 0
