"""``import jupyter_track`` (goal: <= 150 ms) and first use of a new DB (goal: <= 100 ms).

Each figure is timed inside a fresh interpreter (interpreter start-up itself is not counted),
several times, alternating ours / MLflow / raw. Import: ``import jupyter_track`` vs
``import mlflow``. First use, after the import: point the API at a new file and start the first
run (open + schema + run; ours: the new store is a copy of the shipped empty one, and the first,
uncached, environment/provenance capture; the API and store modules came with the import) vs ``mlflow.set_tracking_uri("sqlite:///new.db");
mlflow.start_run()``. Raw SQLite: ``sqlite3.connect`` + jupyter-track's schema as plain SQL +
one run row, committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import Context, Row, clean_env, fresh_python_seconds, median, parser, run_benchmarks

IMPORT_OURS = (
    "import time; t = time.perf_counter(); import jupyter_track; print(time.perf_counter() - t)"
)
IMPORT_MLFLOW = (
    "import time; t = time.perf_counter(); import mlflow; print(time.perf_counter() - t)"
)

FIRST_USE_OURS = """
import time, jupyter_track as jt
t = time.perf_counter()
jt.set_tracking_uri({path!r})
jt.start_run()
print(time.perf_counter() - t)
"""

FIRST_USE_MLFLOW = """
import logging, time, mlflow
logging.disable(logging.WARNING)
t = time.perf_counter()
mlflow.set_tracking_uri("sqlite:///" + {path!r})
mlflow.start_run()
print(time.perf_counter() - t)
"""

FIRST_USE_RAW = """
import time, sqlite3, uuid
t = time.perf_counter()
conn = sqlite3.connect({path!r}, isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("PRAGMA synchronous = NORMAL")
conn.execute("BEGIN IMMEDIATE")
for statement in {statements!r}:
    conn.execute(statement)
conn.execute(
    "INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, lifecycle_stage) "
    "VALUES (?, 0, 'first', 'RUNNING', ?, 'active')",
    (uuid.uuid4().hex, int(time.time() * 1000)),
)
conn.execute("COMMIT")
print(time.perf_counter() - t)
"""


def bench(ctx: Context) -> list[Row]:
    """Fresh interpreters, alternating sides; medians in ms."""
    from jupyter_track.store.dialects.sqlite import SQLITE
    from jupyter_track.store.schema import steps_between

    statements = [s for step in steps_between(0) for s in SQLITE.render(step)]
    per_round = 1 if ctx.quick else 3
    # Byte-code cached as after `pip install` (pip compiles every module it installs). This
    # machine sets PYTHONDONTWRITEBYTECODE=1, which would make every child interpreter compile
    # jupyter-track's sources (the editable install has no .pyc) but not MLflow's (pip-compiled):
    # both sides get a byte-code cache of their own and one untimed warm-up run.
    env = clean_env(PYTHONPYCACHEPREFIX=str(ctx.workdir / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    warm = ctx.scratch("startup-warmup")
    fresh_python_seconds(sys.executable, IMPORT_OURS, cwd=warm, env=env)
    fresh_python_seconds(
        sys.executable, FIRST_USE_OURS.format(path=str(warm / "track.db")), cwd=warm, env=env
    )
    if ctx.mlflow is not None and ctx.mlflow_python is not None:
        fresh_python_seconds(ctx.mlflow_python, IMPORT_MLFLOW, cwd=warm, env=env)
        fresh_python_seconds(
            ctx.mlflow_python,
            FIRST_USE_MLFLOW.format(path=str(warm / "mlflow.db")),
            cwd=warm,
            env=env,
        )
    ours_python = sys.executable
    ml_python = ctx.mlflow_python if ctx.mlflow is not None else None
    imports: dict[str, list[float]] = {"ours": [], "mlflow": []}
    first: dict[str, list[float]] = {"ours": [], "mlflow": [], "raw": []}
    n = 0
    for _ in range(ctx.rounds):
        for _ in range(per_round):
            n += 1
            folder = ctx.scratch(f"startup-{n}")
            imports["ours"].append(
                fresh_python_seconds(ours_python, IMPORT_OURS, cwd=folder, env=env)
            )
            first["ours"].append(
                fresh_python_seconds(
                    ours_python,
                    FIRST_USE_OURS.format(path=str(folder / "track.db")),
                    cwd=folder,
                    env=env,
                )
            )
            if ml_python is not None:
                imports["mlflow"].append(
                    fresh_python_seconds(ml_python, IMPORT_MLFLOW, cwd=folder, env=env)
                )
                first["mlflow"].append(
                    fresh_python_seconds(
                        ml_python,
                        FIRST_USE_MLFLOW.format(path=str(Path(folder) / "mlflow.db")),
                        cwd=folder,
                        env=env,
                    )
                )
            first["raw"].append(
                fresh_python_seconds(
                    ours_python,
                    FIRST_USE_RAW.format(path=str(folder / "raw.db"), statements=statements),
                    cwd=folder,
                    env=env,
                )
            )
    ms = 1000
    import_row = Row(
        "import jupyter_track",
        "ms",
        median(imports["ours"]) * ms,
        median(imports["mlflow"]) * ms if imports["mlflow"] else None,
        None,
        goal="<= 150 ms",
        ok=median(imports["ours"]) * ms <= 150,
    )
    import_row.notes.append(
        f"fresh interpreter each time, {len(imports['ours'])} times; MLflow: import mlflow"
    )
    first_row = Row(
        "first use of a new DB",
        "ms",
        median(first["ours"]) * ms,
        median(first["mlflow"]) * ms if first["mlflow"] else None,
        median(first["raw"]) * ms,
        goal="<= 100 ms",
        ok=median(first["ours"]) * ms <= 100,
    )
    first_row.notes.append(
        "after the import (which loads the API and store modules): set_tracking_uri(new file) "
        "+ start_run(), the new store a copy of the shipped empty one; raw: connect + the same "
        "schema as plain SQL + one run row; byte-code cached on both sides (one untimed "
        "warm-up run), as after pip install"
    )
    if ctx.mlflow is None:
        import_row.notes.append(f"MLflow skipped: {ctx.skip_reason}")
    return [import_row, first_row]


def main() -> None:
    """Run this benchmark alone."""
    args = parser(__doc__.splitlines()[0]).parse_args()
    run_benchmarks([bench], args)


if __name__ == "__main__":
    sys.exit(main())
