"""Every performance target in one command: jupyter-track vs MLflow vs raw SQLite / psycopg.

    python benchmarks/run_all.py            # full sizes, 5 interleaved rounds (~10 minutes)
    python benchmarks/run_all.py --quick    # smoke test: tiny sizes, 1 round (~1 minute)
    python benchmarks/run_all.py --only throughput search --rounds 3

The MLflow side runs in ``benchmarks/.mlflow-venv`` (created on first use; ``--no-mlflow`` skips
it). One table is printed at the end; ``--json PATH`` also writes the rows (default
``benchmarks/results/latest.json`` for full runs).
"""

from __future__ import annotations

import sys
from pathlib import Path

import bench_lineage
import bench_log_metric
import bench_magic
import bench_postgres
import bench_runs
import bench_search
import bench_startup
import bench_throughput
from _common import HERE, parser, run_benchmarks

BENCHMARKS = {
    "startup": bench_startup.bench,
    "log_metric": bench_log_metric.bench,
    "throughput": bench_throughput.bench,
    "runs": bench_runs.bench,
    "search": bench_search.bench,
    "magic": bench_magic.bench,
    "lineage": bench_lineage.bench,
    "postgres": bench_postgres.bench,
}


def main() -> int:
    """Run the chosen benchmarks (all by default) and print one table."""
    p = parser(__doc__.splitlines()[0])
    p.add_argument(
        "--only",
        nargs="+",
        choices=sorted(BENCHMARKS),
        default=None,
        help="run only these benchmarks",
    )
    args = p.parse_args()
    if args.json is None and not args.quick:
        args.json = HERE / "results" / "latest.json"
    chosen = args.only or list(BENCHMARKS)
    rows = run_benchmarks([BENCHMARKS[name] for name in chosen], args)
    missed = [r.name for r in rows if r.ok is False]
    if missed and not args.quick:
        print(f"\ntargets missed in this run: {', '.join(missed)}")
    if args.json is not None:
        print(f"\nrows written to {Path(args.json).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
