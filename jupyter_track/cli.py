"""``jupyter-track`` (also ``jupyter track``): runs, show, export, gc, db-path, db, copy, serve,
reproduce, lineage, env-diff, datasets, import-mlflow."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence

from . import __version__, formatting
from .store import Run, TrackError, ViewType, open_store
from .store.interface import Store


def _store(args: argparse.Namespace) -> Store:
    return open_store(args.db)


def _experiment_ids(store: Store, names: Sequence[str] | None) -> list[str] | None:
    if not names:
        return None
    ids = []
    for name in names:
        experiment = store.get_experiment_by_name(name)
        if experiment is None:
            raise TrackError(f"experiment {name!r} does not exist")
        ids.append(experiment.experiment_id)
    return ids


def _search(args: argparse.Namespace) -> list[Run]:
    store = _store(args)
    page = store.search_runs(
        _experiment_ids(store, args.experiment),
        args.filter or "",
        run_view_type=ViewType.ALL if getattr(args, "all", False) else ViewType.ACTIVE_ONLY,
        max_results=args.max_results,
        order_by=args.order_by or None,
    )
    return page.runs


_fmt_time = formatting.format_time
_fmt_value = formatting.format_value


def _print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def cmd_runs(args: argparse.Namespace) -> int:
    runs = _search(args)
    columns = args.columns or []
    if args.json:
        print(json.dumps([r.to_dict() for r in runs], indent=2))
        return 0
    store = _store(args)
    names: dict[str, str] = {}
    for run in runs:
        exp_id = run.info.experiment_id
        if exp_id not in names:
            try:
                names[exp_id] = store.get_experiment(exp_id).name
            except TrackError:
                names[exp_id] = exp_id
    several = len(names) > 1
    headers = ["run_id", "name", *(["experiment"] if several else []), "status", "start", *columns]
    rows = []
    for run in runs:
        row = [
            run.info.run_id[:12],
            run.info.run_name or "",
            *([names[run.info.experiment_id]] if several else []),
            run.info.status,
            _fmt_time(run.info.start_time),
        ]
        for column in columns:
            entity, _, key = column.partition(".")
            source = {
                "metrics": run.data.metrics,
                "params": run.data.params,
                "tags": run.data.tags,
            }.get(entity, {})
            row.append(_fmt_value(source.get(key)))
        rows.append(row)
    _print_table(headers, rows)
    counts: dict[str, int] = {}
    for run in runs:
        counts[names[run.info.experiment_id]] = counts.get(names[run.info.experiment_id], 0) + 1
    per_experiment = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items()))
    print(f"({len(runs)} runs{'; ' + per_experiment if several else ''})", file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = _store(args)
    run = store.get_run(store.resolve_run_id(args.run))
    if args.json:
        print(json.dumps(run.to_dict(), indent=2))
        return 0
    info = run.info
    print(f"run {info.run_name}  ({info.run_id})")
    print(f"  status      {info.status}")
    print(f"  experiment  {store.get_experiment(info.experiment_id).name}")
    print(f"  started     {_fmt_time(info.start_time)}")
    if info.end_time:
        print(f"  duration    {formatting.format_duration(info.end_time - info.start_time)}")
    for label, value in (
        ("user", info.user_id),
        ("notebook", info.notebook),
        ("cell", info.cell_id),
        ("parent", info.parent_run_id),
    ):
        if value:
            print(f"  {label:<11} {value}")
    from .payloads import is_system_tag

    tags = run.data.tags
    shown_tags = tags if args.all else {k: v for k, v in tags.items() if not is_system_tag(k)}
    for title, mapping in (("params", run.data.params), ("tags", shown_tags)):
        if mapping:
            print(title)
            for key, value in sorted(mapping.items()):
                print(f"  {key} = {value}")
    folded = len(tags) - len(shown_tags)
    if folded:
        print(f"  ({folded} system tags: mlflow.*, jt.*; --all shows them)")
    if run.summaries:
        print("metrics (last / min / max / count)")
        for key, s in sorted(run.summaries.items()):
            print(
                f"  {key} = {_fmt_value(s.last)} / {_fmt_value(s.min)} / "
                f"{_fmt_value(s.max)} / {s.count}"
            )
    artifacts = store.list_artifacts(info.run_id)
    if artifacts:
        print("artifacts")
        for item in artifacts:
            print(f"  {item.path}{'/' if item.is_dir else ''}")
    if info.error:
        print("error")
        print("  " + info.error.strip().replace("\n", "\n  "))
    if run.source and args.source:
        print("source")
        print(run.source)
    return 0


_EXPORT_FILE = re.compile(r"^[\w./\\~-]+\.(csv|json|parquet)$", re.IGNORECASE)


def cmd_export(args: argparse.Namespace) -> int:
    from .tracking.frames import runs_to_frame

    if args.output is None and _EXPORT_FILE.match(args.filter or ""):
        # `jupyter-track export runs.csv`: a file name, not a filter
        args.output, args.filter = args.filter, ""

    frame = runs_to_frame(_search(args))
    fmt = args.format
    if fmt is None:
        fmt = (args.output or "x.csv").rsplit(".", 1)[-1].lower()
    out = args.output
    if fmt == "csv":
        text = frame.to_csv(index=False)
    elif fmt == "json":
        text = frame.to_json(orient="records", date_format="iso", indent=2)
    elif fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise TrackError("--format parquet needs pyarrow (pip install pyarrow)") from None
        if not out:
            raise TrackError("--format parquet needs --output FILE")
        frame.to_parquet(out, index=False)
        print(f"wrote {len(frame)} runs to {out}", file=sys.stderr)
        return 0
    else:
        raise TrackError(f"--format {fmt!r}: use csv, json or parquet")
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {len(frame)} runs to {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    store = _store(args)
    older = None
    if args.older_than is not None:
        older = int((time.time() - args.older_than * 86400) * 1000)
    report = store.gc(deleted_before=older, dry_run=args.dry_run)
    if report.kept:  # a registered model version still loads its files from these runs
        print(
            f"keeping {len(report.kept)} deleted runs that hold registered model versions",
            file=sys.stderr,
        )
    if args.dry_run:
        for run_id in report.purged:
            print(run_id)
        print(f"{len(report.purged)} deleted runs would be purged", file=sys.stderr)
        return 0
    if report.purged and not args.no_vacuum:
        store.vacuum()
    print(f"purged {len(report.purged)} deleted runs and their artifacts", file=sys.stderr)
    from .models.folders import STAGING, remove_stale_partials

    partials = remove_stale_partials(store.artifact_root / STAGING)
    if partials:
        print(
            f"removed {len(partials)} partial model folders left by killed processes",
            file=sys.stderr,
        )
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    stats = _store(args).stats()
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    extra = f", {stats['journal_mode']}" if "journal_mode" in stats else ""
    print(f"{stats['location']}  ({stats['engine']}, schema {stats['schema_version']}{extra})")
    if "bytes" in stats:
        print(f"  {stats['bytes']['db']:,} bytes, WAL {stats['bytes']['wal']:,} bytes")
    _print_table(["table", "rows"], [[t, f"{n:,}"] for t, n in stats["tables"].items()])
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .lineage.reproduce import reproduce

    store = _store(args)
    result = reproduce(store, store.resolve_run_id(args.run), args.output, force=args.force)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result)
    return 0


def cmd_env_diff(args: argparse.Namespace) -> int:
    from .lineage.envdiff import format_diff, run_environment_diff

    store = _store(args)
    diff = run_environment_diff(
        store, store.resolve_run_id(args.run_a), store.resolve_run_id(args.run_b)
    )
    print(json.dumps(diff, indent=2) if args.json else format_diff(diff))
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    from .lineage.report import lineage_html, version_lineage
    from .models.resolve import parse_model_uri, resolve_version

    store = _store(args)
    ref = parse_model_uri(args.model)
    if ref.kind not in ("version", "latest", "alias"):
        raise TrackError(
            f"{args.model!r}: give a registered version, models:/NAME/VERSION (or @ALIAS, /latest)"
        )
    mv = resolve_version(store, ref)
    payload = version_lineage(store, mv.name, mv.version)
    text = lineage_html(payload) if args.format == "html" else json.dumps(payload, indent=2)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(
            f"wrote the lineage of {mv.name} version {mv.version} to {args.output}", file=sys.stderr
        )
    else:
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from .lineage.datasets import dataset_view

    if not args.digest and not args.name:
        raise TrackError("datasets: give --digest and/or --name")
    view = dataset_view(_store(args), digest=args.digest, name=args.name, limit=args.max_results)
    if args.json:
        print(json.dumps(view, indent=2))
        return 0
    headers = ["run_id", "name", "dataset", "digest", "start"]
    rows = [
        [
            r["run_id"][:12],
            r["run_name"] or "",
            r["name"],
            r["digest"][:16],
            _fmt_time(r["start_time"]),
        ]
        for r in view["runs"]
    ]
    _print_table(headers, rows)
    for version in view["model_versions"]:
        print(
            f"model {version['name']} version {version['version']} (run {version['run_id'][:12]})"
        )
    for warning in view["warnings"]:
        print(f"warning: {warning}")
    print(f"({len(view['runs'])} runs)", file=sys.stderr)
    return 0


def cmd_db_path(args: argparse.Namespace) -> int:
    store = _store(args)
    print(store.location)
    if args.verbose:
        print(f"artifacts: {store.artifact_root}")
    return 0


def _add_search_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "filter",
        nargs="?",
        default="",
        help="filter, e.g. \"metrics.acc > 0.9 and params.lr = '0.01'\"",
    )
    parser.add_argument(
        "-e",
        "--experiment",
        action="append",
        help="experiment name (repeatable; default: all experiments)",
    )
    parser.add_argument(
        "-o",
        "--order-by",
        action="append",
        metavar="FIELD [ASC|DESC]",
        help="e.g. 'metrics.acc DESC' (repeatable)",
    )
    parser.add_argument("-n", "--max-results", type=int, default=1000)
    parser.add_argument("--all", action="store_true", help="include deleted runs")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter-track", description="Experiment tracking inside Jupyter."
    )
    parser.add_argument("--version", action="version", version=f"jupyter-track {__version__}")
    parser.add_argument(
        "--db",
        help="store path, sqlite:/// or postgresql:// URI (default: "
        "$JUPYTER_TRACK_URI, $JUPYTER_TRACK_DB, the Jupyter data dir)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    runs = sub.add_parser("runs", help="list runs matching a filter")
    _add_search_args(runs)
    runs.add_argument(
        "-c",
        "--columns",
        nargs="+",
        metavar="ENTITY.KEY",
        help="extra columns, e.g. params.lr metrics.acc",
    )
    runs.add_argument("--json", action="store_true", help="print JSON")
    runs.set_defaults(func=cmd_runs)

    show = sub.add_parser("show", help="show one run")
    show.add_argument("run", help="run id (or an unambiguous prefix)")
    show.add_argument("--json", action="store_true")
    show.add_argument("--source", action="store_true", help="print the cell source")
    show.add_argument(
        "--all", action="store_true", help="also the system tags (mlflow.*, jt.*: provenance)"
    )
    show.set_defaults(func=cmd_show)

    export = sub.add_parser("export", help="export runs as CSV, JSON or Parquet")
    _add_search_args(export)
    export.add_argument("-f", "--format", choices=["csv", "json", "parquet"])
    export.add_argument("--output", help="file to write (default: stdout)")
    export.set_defaults(func=cmd_export)

    gc = sub.add_parser("gc", help="purge deleted runs and their artifacts")
    gc.add_argument(
        "--older-than", type=float, metavar="DAYS", help="only runs deleted at least DAYS ago"
    )
    gc.add_argument("--dry-run", action="store_true")
    gc.add_argument(
        "--no-vacuum",
        action="store_true",
        help="skip VACUUM (which gives the freed space back to the disk)",
    )
    gc.set_defaults(func=cmd_gc)

    stats = sub.add_parser("stats", help="rows per table and file sizes")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_stats)

    repro = sub.add_parser(
        "reproduce",
        help="write a folder that reproduces a run (notebook, requirements, git diff, data check)",
    )
    repro.add_argument("run", help="run id (or an unambiguous prefix)")
    repro.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write")
    repro.add_argument("--force", action="store_true", help="replace DIR if it exists")
    repro.add_argument("--json", action="store_true", help="print what was written as JSON")
    repro.set_defaults(func=cmd_reproduce)

    env_diff = sub.add_parser(
        "env-diff", help="packages added, removed or changed between two runs' environments"
    )
    env_diff.add_argument("run_a", help="run id (or an unambiguous prefix)")
    env_diff.add_argument("run_b", help="run id (or an unambiguous prefix)")
    env_diff.add_argument("--json", action="store_true")
    env_diff.set_defaults(func=cmd_env_diff)

    lineage = sub.add_parser(
        "lineage",
        help="a model version's lineage: run, params, metrics, data, code, environment, aliases",
    )
    lineage.add_argument("model", help="models:/NAME/VERSION, models:/NAME@ALIAS or /latest")
    lineage.add_argument("-f", "--format", choices=["json", "html"], default="json")
    lineage.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    lineage.set_defaults(func=cmd_lineage)

    datasets = sub.add_parser(
        "datasets", help="runs and model versions that read a dataset (by digest or name)"
    )
    datasets.add_argument("--digest", help="the dataset's SHA-256 digest")
    datasets.add_argument("--name", help="the dataset's name (as logged)")
    datasets.add_argument("-n", "--max-results", type=int, default=10_000)
    datasets.add_argument("--json", action="store_true")
    datasets.set_defaults(func=cmd_datasets)

    db_path = sub.add_parser("db-path", help="print the store's path")
    db_path.add_argument("-v", "--verbose", action="store_true")
    db_path.set_defaults(func=cmd_db_path)

    try:
        from .models import serve_cli
    except ImportError:
        serve_cli = None  # type: ignore[assignment]
    if serve_cli is not None:
        serve_cli.add_parser(sub)
    from . import db_cli
    from .client import cli as spool_cli
    from .mlflow_import import cli as import_cli
    from .service import cli as service_cli

    db_cli.add_parser(sub)

    service_cli.add_parser(sub)
    spool_cli.add_parser(sub)
    import_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except TrackError as exc:
        print(f"jupyter-track: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
