"""``jupyter-track import-mlflow SOURCE [--dry-run] [--artifacts-destination DIR] [--json]``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from ..store.errors import TrackError


def add_parser(sub: Any) -> None:
    """Add the ``import-mlflow`` command to the CLI's subparsers."""
    p = sub.add_parser(
        "import-mlflow",
        help="import an MLflow store (sqlite:///mlflow.db, an mlruns folder or http(s)://server)",
        description=(
            "Copy experiments, runs (params, tags, every metric point, status, times), "
            "artifacts, registered models, versions, aliases and tags from an MLflow store "
            "into jupyter-track. Runs keep their ids: importing again imports nothing twice."
        ),
    )
    p.add_argument(
        "source",
        metavar="SOURCE",
        help="sqlite:///path/mlflow.db, an mlruns folder (path or file:///...), or "
        "http(s)://host:port of a tracking server (MLFLOW_TRACKING_TOKEN / "
        "MLFLOW_TRACKING_USERNAME and _PASSWORD are used)",
    )
    p.add_argument("--dry-run", action="store_true", help="read everything, write nothing")
    p.add_argument(
        "--artifacts-destination",
        metavar="DIR",
        help="where the tracking server kept proxied artifacts (mlflow-artifacts:/ locations "
        "in a SQLite or file store; default: mlartifacts beside the database)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_import_mlflow)


def cmd_import_mlflow(args: argparse.Namespace) -> int:
    from ..store import open_store
    from . import SourceError, import_mlflow, open_source

    store = open_store(args.db)
    if not hasattr(store, "import_run"):
        raise TrackError(
            "import-mlflow writes into a local store (sqlite); point --db or JUPYTER_TRACK_URI "
            "at one"
        )
    started = time.perf_counter()

    def progress(message: str) -> None:
        if not args.quiet and not args.json:
            print(f"  {message}", file=sys.stderr)

    try:
        source = open_source(args.source, artifacts_destination=args.artifacts_destination)
    except SourceError as exc:
        raise TrackError(str(exc)) from None
    try:
        summary = import_mlflow(source, store, dry_run=args.dry_run, progress=progress)  # type: ignore[arg-type]
    except SourceError as exc:
        raise TrackError(f"{exc} (what was imported before stays; run again to go on)") from None
    finally:
        source.close()
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
        return 0
    what = "dry run, nothing written" if args.dry_run else f"into {store.location}"
    print(f"import-mlflow {summary.source} ({what}, {time.perf_counter() - started:.1f} s)")
    for line in summary.lines():
        print(line)
    return 0
