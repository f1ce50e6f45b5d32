"""Shared plumbing for the benchmarks: the MLflow peer venv, its worker process, the table.

The peer (MLflow with its SQLite backend) lives in its own virtualenv,
``benchmarks/.mlflow-venv`` (gitignored), created on demand by :func:`mlflow_python`. MLflow is
measured in a long-lived worker process (``_mlflow_worker.py`` run by that interpreter) that
takes one JSON command per line, so a benchmark can interleave rounds: ours, MLflow's, raw
SQLite's, ours, ... and report medians. Ratios matter more than absolute figures: the machine
is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MLFLOW_VERSION = "3.17.2"
MLFLOW_VENV = HERE / ".mlflow-venv"
WORKER = HERE / "_mlflow_worker.py"


# ------------------------------------------------------------------------------ the peer


def mlflow_python(*, create: bool = True) -> Path | None:
    """The interpreter of the MLflow venv, created (``pip install mlflow==3.17.2``) if missing.

    Returns None when the venv is missing and ``create`` is false, or when creating it fails
    (the reason is printed).
    """
    python = MLFLOW_VENV / "bin" / "python"
    if python.exists() and _has_mlflow(python):
        return python
    if not create:
        return None
    print(
        f"[benchmarks] creating {MLFLOW_VENV.relative_to(HERE.parent)} with mlflow=="
        f"{MLFLOW_VERSION} (once; a few minutes)...",
        file=sys.stderr,
        flush=True,
    )
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(MLFLOW_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"mlflow=={MLFLOW_VERSION}"],
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"[benchmarks] could not create the MLflow venv: {exc}", file=sys.stderr)
        return None
    return python if _has_mlflow(python) else None


def _has_mlflow(python: Path) -> bool:
    probe = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('mlflow'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.returncode == 0 and probe.stdout.strip() == MLFLOW_VERSION


class MlflowWorker:
    """A long-lived MLflow process: ``call(command, **args)`` returns the worker's JSON answer.

    Its stderr (MLflow's and alembic's logging) goes to a log file, shown if the worker fails.
    """

    def __init__(self, python: Path, workdir: Path):
        self.workdir = workdir
        self.log_path = workdir / "mlflow-worker.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in close())
        env = dict(os.environ)
        env.pop("JUPYTER_TRACK_DB", None)
        env["MLFLOW_TRACKING_URI"] = ""
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"  # no network calls from the peer
        env["DO_NOT_TRACK"] = "1"
        env["PYTHONUNBUFFERED"] = "1"
        env["GIT_PYTHON_REFRESH"] = "quiet"
        self.proc = subprocess.Popen(
            [str(python), str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=workdir,
            env=env,
        )
        self.python = python

    def call(self, command: str, **args: Any) -> dict[str, Any]:
        """Run one command in the worker and return its result (raises on a worker error)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"command": command, **args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self._log.flush()
            tail = self.log_path.read_text()[-3000:]
            raise RuntimeError(f"the MLflow worker died during {command!r}:\n{tail}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"MLflow worker, {command!r}: {answer['error']}")
        return answer

    def close(self) -> None:
        """Stop the worker."""
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except Exception:
                self.proc.kill()
        self._log.close()

    def __enter__(self) -> MlflowWorker:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ---------------------------------------------------------------------------- measuring


def median(values: Iterable[float]) -> float:
    """Median of the values (NaN for none)."""
    values = list(values)
    return statistics.median(values) if values else float("nan")


def fresh_python_seconds(python: str | Path, code: str, *, cwd: Path, env: dict[str, str]) -> float:
    """Run ``code`` in a new interpreter; it must print one float (seconds) on its last line."""
    out = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{python} -c ... failed:\n{out.stderr[-3000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for child interpreters: no store override from the caller's shell."""
    env = dict(os.environ)
    for name in ("JUPYTER_TRACK_DB", "JUPYTER_TRACK_URI", "MLFLOW_TRACKING_URI"):
        env.pop(name, None)
    env["GIT_PYTHON_REFRESH"] = "quiet"
    env.update(extra)
    return env


# -------------------------------------------------------------------------------- table


@dataclass
class Row:
    """One line of the results table. Figures are in ``unit``; ``lower_is_better`` decides
    which way the ratios and the goal read."""

    name: str
    unit: str
    ours: float
    mlflow: float | None = None
    raw: float | None = None
    goal: str = ""
    ok: bool | None = None
    lower_is_better: bool = True
    notes: list[str] = field(default_factory=list)
    trackio: float | None = None

    def _speedup(self, other: float | None) -> float | None:
        if other is None or not self.ours or other != other:
            return None
        return other / self.ours if self.lower_is_better else self.ours / other

    def vs_mlflow(self) -> str:
        """How many times faster than MLflow."""
        return _times(self._speedup(self.mlflow))

    def vs_trackio(self) -> str:
        """How many times faster than Trackio."""
        return _times(self._speedup(self.trackio))

    def vs_raw(self) -> str:
        """How many times faster than raw sqlite3 (below 1: the share of raw's speed)."""
        return _times(self._speedup(self.raw))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "ours": self.ours,
            "mlflow": self.mlflow,
            "raw_sqlite": self.raw,
            "trackio": self.trackio,
            "goal": self.goal,
            "ok": self.ok,
            "notes": self.notes,
        }


def _times(ratio: float | None) -> str:
    if ratio is None:
        return ""
    if ratio < 1:
        return f"{100 * ratio:.0f}% of its speed"
    return f"{ratio:,.0f}x faster" if ratio >= 10 else f"{ratio:.1f}x faster"


def fmt(value: float | None) -> str:
    """A figure with a sensible number of digits."""
    if value is None:
        return "-"
    if value != value:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def print_table(rows: Sequence[Row], file: Any = None) -> None:
    """Print the compact results table and the notes under it."""
    file = file or sys.stdout
    with_trackio = any(r.trackio is not None for r in rows)
    header: tuple[str, ...] = ("benchmark", "unit", "jupyter-track")
    header += ("Trackio",) * with_trackio + ("MLflow", "raw SQLite / psycopg")
    header += ("vs Trackio",) * with_trackio + ("vs MLflow", "vs raw", "goal", "met")
    lines = [header]
    for r in rows:
        met = "" if r.ok is None else ("yes" if r.ok else "NO")
        line: tuple[str, ...] = (r.name, r.unit, fmt(r.ours))
        line += (fmt(r.trackio),) * with_trackio + (fmt(r.mlflow), fmt(r.raw))
        line += (r.vs_trackio(),) * with_trackio + (r.vs_mlflow(), r.vs_raw(), r.goal, met)
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip(), file=file)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=file)
    notes = [(r.name, note) for r in rows for note in r.notes]
    if notes:
        print(file=file)
        for name, note in notes:
            print(f"* {name}: {note}", file=file)


# ---------------------------------------------------------------------------- scripts


def parser(description: str) -> argparse.ArgumentParser:
    """The command line every benchmark script shares."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="tiny sizes, one round: a smoke test")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5)")
    p.add_argument("--no-mlflow", action="store_true", help="skip the MLflow side")
    p.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    return p


@dataclass
class Context:
    """What a benchmark needs: sizes, rounds, a scratch folder and (maybe) the MLflow worker."""

    quick: bool
    rounds: int
    workdir: Path
    mlflow: MlflowWorker | None
    mlflow_python: Path | None
    skip_reason: str = ""

    def scratch(self, name: str) -> Path:
        """A new empty folder under the work dir."""
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.workdir))
        return path


def run_benchmarks(
    funcs: Sequence[Callable[[Context], list[Row]]],
    args: argparse.Namespace,
) -> list[Row]:
    """Create the context (MLflow venv and worker unless ``--no-mlflow``), run, print."""
    rounds = args.rounds or (1 if args.quick else 5)
    load_before = _load()
    json_path = Path(args.json).resolve() if args.json else None
    with tempfile.TemporaryDirectory(prefix="jt-bench-") as tmp:
        workdir = Path(tmp)
        python = None
        worker = None
        reason = ""
        if args.no_mlflow:
            reason = "--no-mlflow"
        else:
            python = mlflow_python()
            if python is None:
                reason = "the MLflow venv could not be created"
            else:
                worker = MlflowWorker(python, workdir)
        ctx = Context(args.quick, rounds, workdir, worker, python, reason)
        os.chdir(workdir)  # outside any git repository, for both sides
        rows: list[Row] = []
        try:
            for func in funcs:
                started = time.perf_counter()
                new_rows = func(ctx)
                rows.extend(new_rows)
                print(
                    f"[benchmarks] {func.__module__}: {time.perf_counter() - started:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
        finally:
            if worker is not None:
                worker.close()
            os.chdir(HERE)
    if args.quick:  # the goals are about the full sizes
        for row in rows:
            row.ok = None
    mode = "quick (smoke test: sizes too small to mean anything)" if args.quick else "full"
    print(
        f"\njupyter-track vs MLflow {MLFLOW_VERSION} (SQLite backend; rows named PostgreSQL: "
        "both on one PostgreSQL server) vs raw sqlite3 (PostgreSQL rows: raw psycopg), "
        f"{mode}, {rounds} interleaved round(s), medians; Python {sys.version.split()[0]}, "
        f"SQLite {_sqlite_version()}, {os.cpu_count()} CPUs, load average {load_before} "
        f"before / {_load()} after (other work on the machine slows both sides)\n"
    )
    print_table(rows)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps([r.as_dict() for r in rows], indent=2))
    return rows


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version
