"""``jupyter-track db upgrade|status [URI]`` and ``jupyter-track copy SRC DST``.

URIs default to ``--db`` / ``JUPYTER_TRACK_URI`` / ``JUPYTER_TRACK_DB`` / the default store.
Every URI printed has its password redacted.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .paths import redact_uri
from .store import SCHEMA_VERSION, connect_store


def _uri(args: argparse.Namespace) -> str | None:
    return getattr(args, "uri", None) or args.db


def cmd_upgrade(args: argparse.Namespace) -> int:
    store: Any = connect_store(_uri(args))
    try:
        before, after = store.upgrade()
        if args.app_role:
            store.grant_app_role(args.app_role)
            print(
                f"granted {args.app_role}: read and write, the audit tables append-only",
                file=sys.stderr,
            )
    finally:
        store.close()
    if before == after:
        print(f"{store.location}: schema {after}, up to date")
    else:
        print(f"{store.location}: schema {before} -> {after}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    store: Any = connect_store(_uri(args))
    try:
        version = store.stored_schema_version()
        print(f"engine          {store.engine}")
        print(f"store           {store.location}")
        print(f"artifacts       {store.artifact_root}")
        if version != SCHEMA_VERSION:
            what = (
                "run `jupyter-track db upgrade`"
                if version < SCHEMA_VERSION
                else ("upgrade the package")
            )
            print(f"schema          {version} (this jupyter-track needs {SCHEMA_VERSION}: {what})")
            return 1
        stats = store.stats()
        print(f"schema          {version} (up to date)")
        for key in ("server_version", "journal_mode"):
            if key in stats:
                print(f"{key.replace('_', ' '):<15} {stats[key]}")
        if "bytes" in stats:
            print(f"size            {stats['bytes'].get('db', 0):,} bytes")
        for table in ("experiments", "runs", "metrics", "registered_models", "model_versions"):
            print(f"{table.replace('_', ' '):<15} {stats['tables'].get(table, 0):,}")
        return 0
    finally:
        store.close()


def cmd_copy(args: argparse.Namespace) -> int:
    from .store.copy import copy_store

    src: Any = connect_store(args.src, readonly=args.src != args.dst)
    dst: Any = connect_store(args.dst)
    try:
        report = copy_store(
            src,
            dst,
            skip_existing=args.skip_existing,
            copy_files=not args.no_artifact_files,
            progress=lambda text: print(text, file=sys.stderr),
        )
    finally:
        src.close()
        dst.close()
    print(f"copied {redact_uri(src.location)} -> {redact_uri(dst.location)}")
    print(f"  runs            {report.runs:,}")
    for table in ("metrics", "params", "tags", "cell_executions", "model_versions"):
        print(f"  {table.replace('_', ' '):<15} {report.counts.get(table, 0):,}")
    print(f"  models          {report.models:,}")
    print(f"  artifact files  {report.artifact_files:,}")
    if report.skipped_runs or report.skipped_models:
        print(
            f"  skipped         {len(report.skipped_runs):,} runs and "
            f"{len(report.skipped_models):,} models already in the destination"
        )
    return 0


def add_parser(sub: Any) -> None:
    """Register ``db`` and ``copy`` on the ``jupyter-track`` parser."""
    db = sub.add_parser("db", help="the store's schema: upgrade, status")
    db_sub = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    upgrade = db_sub.add_parser(
        "upgrade",
        help="apply schema migrations (PostgreSQL stores are only ever migrated by this)",
    )
    upgrade.add_argument("uri", nargs="?", help="store URI or path (default: --db / environment)")
    upgrade.add_argument(
        "--app-role",
        metavar="ROLE",
        help="PostgreSQL: grant ROLE what the store needs, with no UPDATE or DELETE on the "
        "audit tables",
    )
    upgrade.set_defaults(func=cmd_upgrade)
    status = db_sub.add_parser("status", help="engine, schema version and row counts")
    status.add_argument("uri", nargs="?", help="store URI or path (default: --db / environment)")
    status.set_defaults(func=cmd_status)

    copy = sub.add_parser(
        "copy", help="copy every run, metric, registry entry ... from one store to another"
    )
    copy.add_argument("src", help="source store URI or path")
    copy.add_argument("dst", help="destination store URI or path (PostgreSQL: db upgrade first)")
    copy.add_argument(
        "--skip-existing",
        action="store_true",
        help="copy only runs and models the destination does not have (else: refuse)",
    )
    copy.add_argument(
        "--no-artifact-files",
        action="store_true",
        help="copy the artifact index but not the files",
    )
    copy.set_defaults(func=cmd_copy)
