"""``jupyter-track copy SRC DST``: move everything from one store to another, any engines.

Experiments (matched by name), runs with their params, tags, metric histories, summaries and
rollups, artifact index and files, lineage, the cell log, environments, the registry (models,
versions, tags, aliases) with its audit trail, and the team service's grants. Row keys differ
between databases and are mapped; run ids, version numbers and timestamps are kept.

Each run is copied in one transaction, so a copy that stops half-way leaves whole runs only and
can be resumed with ``skip_existing``. A destination that already holds runs (or registered
models) with the same ids is refused unless ``skip_existing`` is given. Counts are verified at
the end: every copied run has as many points, params and tags as its source.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import Conflict
from .sqlstore import SQLStore

RUN_COLUMNS = (
    "run_id, experiment_id, run_name, status, user_id, start_time, end_time, lifecycle_stage, "
    "deleted_time, parent_run_id, artifact_uri, notebook, cell_id, execution_count, source, "
    "environment, error"
)
_CHUNK = 500
_POINTS = 50_000


@dataclass
class CopyReport:
    """What :func:`copy_store` did; ``counts`` maps a table to rows copied."""

    runs: int = 0
    skipped_runs: list[str] = field(default_factory=list)
    models: int = 0
    skipped_models: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    artifact_files: int = 0

    def add(self, table: str, n: int) -> None:
        self.counts[table] = self.counts.get(table, 0) + n


def _rows(store: SQLStore, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    return list(store.db.conn().execute(sql, params).fetchall())


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def copy_store(
    src: SQLStore,
    dst: SQLStore,
    *,
    skip_existing: bool = False,
    copy_files: bool = True,
    progress: Callable[[str], None] | None = None,
) -> CopyReport:
    """Copy ``src`` into ``dst`` (see the module docstring); raises ``Conflict`` before writing
    anything when ids collide and ``skip_existing`` is false."""
    say = progress or (lambda _text: None)
    report = CopyReport()
    run_ids = [r[0] for r in _rows(src, "SELECT run_id FROM runs ORDER BY id")]
    existing = _existing(dst, "runs", "run_id", run_ids)
    models = [r[0] for r in _rows(src, "SELECT name FROM registered_models ORDER BY id")]
    existing_models = _existing(dst, "registered_models", "name", models)
    if (existing or existing_models) and not skip_existing:
        what = []
        if existing:
            what.append(f"{len(existing)} runs with the same ids (e.g. {sorted(existing)[0]})")
        if existing_models:
            what.append(f"{len(existing_models)} registered models with the same names")
        raise Conflict(
            f"the destination already has {' and '.join(what)}: nothing was copied; pass "
            "--skip-existing to copy only what is missing"
        )
    report.skipped_runs = [r for r in run_ids if r in existing]
    report.skipped_models = [m for m in models if m in existing_models]

    experiments = _copy_experiments(src, dst, report)
    _copy_environments(src, dst, report)
    todo = [r for r in run_ids if r not in existing]
    say(f"copying {len(todo):,} runs")
    for n, run_id in enumerate(todo, 1):
        _copy_run(src, dst, run_id, experiments, report, copy_files)
        if n % 100 == 0:
            say(f"  {n:,} / {len(todo):,} runs")
    _copy_cells(src, dst, report)
    for name in models:
        if name not in existing_models:
            _copy_model(src, dst, name, report)
    _copy_grants(src, dst, report)
    _verify(src, dst, todo)
    say("verified: every copied run has as many points, params and tags as its source")
    return report


def _existing(store: SQLStore, table: str, column: str, values: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        found |= {
            r[0]
            for r in _rows(
                store,
                f"SELECT {column} FROM {table} WHERE {column} IN ({_marks(len(chunk))})",
                chunk,
            )
        }
    return found


def _copy_experiments(src: SQLStore, dst: SQLStore, report: CopyReport) -> dict[int, int]:
    """src experiment id -> dst experiment id (matched by name, created when missing)."""
    mapping: dict[int, int] = {}
    for exp_id, name, location, stage, created, updated in _rows(
        src,
        "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
        "last_update_time FROM experiments ORDER BY experiment_id",
    ):
        with dst.db.write() as conn:
            row = conn.execute(
                "SELECT experiment_id FROM experiments WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                row = conn.execute(
                    "INSERT INTO experiments (name, artifact_location, lifecycle_stage, "
                    "creation_time, last_update_time) VALUES (?, ?, ?, ?, ?) "
                    "RETURNING experiment_id",
                    (name, location, stage, created, updated),
                ).fetchone()
                report.add("experiments", 1)
            mapping[int(exp_id)] = int(row[0])
            tags = _rows(
                src, "SELECT key, value FROM experiment_tags WHERE experiment_id = ?", (exp_id,)
            )
            conn.executemany(
                "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (experiment_id, key) DO NOTHING",
                [(row[0], k, v) for k, v in tags],
            )
    return mapping


def _copy_environments(src: SQLStore, dst: SQLStore, report: CopyReport) -> None:
    rows = _rows(src, "SELECT hash, python, platform, packages, created FROM environments")
    with dst.db.write() as conn:
        conn.executemany(
            "INSERT INTO environments (hash, python, platform, packages, created) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
            rows,
        )
    report.add("environments", len(rows))


def _copy_run(
    src: SQLStore,
    dst: SQLStore,
    run_id: str,
    experiments: dict[int, int],
    report: CopyReport,
    copy_files: bool,
) -> None:
    (row,) = _rows(src, f"SELECT id, {RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,))
    src_pk, values = row[0], list(row[1:])
    values[1] = experiments[int(values[1])]
    with dst.db.write_metrics() as conn:
        (dst_pk,) = conn.execute(
            f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({_marks(len(values))}) RETURNING id",
            values,
        ).fetchone()
        for table, columns in (
            ("params", "key, value, num"),
            ("tags", "key, value, num"),
            ("metric_summaries", "key, last, step, timestamp, min, max, count"),
            ("metric_rollups", "key, bucket, n, lo, lo_step, lo_ts, hi, hi_step, hi_ts"),
            ("artifacts", "path, size, created"),
            ("run_lineage", "session, notebook, stale, unseeded, record, created"),
        ):
            rows = _rows(src, f"SELECT {columns} FROM {table} WHERE run = ?", (src_pk,))
            if rows:
                width = len(rows[0]) + 1
                conn.executemany(
                    f"INSERT INTO {table} (run, {columns}) VALUES ({_marks(width)})",
                    [(dst_pk, *r) for r in rows],
                )
                report.add(table, len(rows))
        last = -1
        while True:  # points in writing order, a chunk at a time
            chunk = _rows(
                src,
                "SELECT rowid, key, step, timestamp, value FROM metrics WHERE run = ? "
                "AND rowid > ? ORDER BY rowid LIMIT ?",
                (src_pk, last, _POINTS),
            )
            if not chunk:
                break
            last = chunk[-1][0]
            points = [
                (dst_pk, k, s, t, float("nan") if v is None else v) for _, k, s, t, v in chunk
            ]
            dst.db.dialect.insert_metric_points(conn, points)
            report.add("metrics", len(points))
    report.runs += 1
    if copy_files:
        source = src.artifact_root / run_id
        target = dst.artifact_root / run_id
        if source.is_dir() and source.resolve() != target.resolve() and not target.exists():
            shutil.copytree(source, target, symlinks=True)
            report.artifact_files += sum(1 for p in target.rglob("*") if p.is_file())


_CELL_COLUMNS = (
    "session, notebook, cell_id, execution_count, source, start_time, duration_ms, status, "
    "error_name, run_id"
)


def _copy_cells(src: SQLStore, dst: SQLStore, report: CopyReport) -> None:
    """The cell log, leaving out rows the destination already has (a resumed copy)."""
    last = -1
    while True:
        rows = _rows(
            src,
            f"SELECT id, {_CELL_COLUMNS} FROM cell_executions WHERE id > ? ORDER BY id LIMIT ?",
            (last, _POINTS),
        )
        if not rows:
            return
        last = rows[-1][0]
        same = dst.db.dialect.is_same
        seen = (
            f"SELECT 1 FROM cell_executions WHERE {same('session')} AND {same('cell_id')} "
            "AND start_time = ? AND source = ?"
        )
        with dst.db.write() as conn:
            for row in rows:
                values = row[1:]
                if conn.execute(seen, (values[0], values[2], values[5], values[4])).fetchone():
                    continue
                conn.execute(
                    f"INSERT INTO cell_executions ({_CELL_COLUMNS}) VALUES ({_marks(10)})",
                    values,
                )
                report.add("cell_executions", 1)


def _copy_model(src: SQLStore, dst: SQLStore, name: str, report: CopyReport) -> None:
    ((src_pk, description, created, updated, next_version),) = _rows(
        src,
        "SELECT id, description, creation_time, last_updated_time, next_version "
        "FROM registered_models WHERE name = ?",
        (name,),
    )
    with dst.db.write() as conn:
        (dst_pk,) = conn.execute(
            "INSERT INTO registered_models (name, description, creation_time, last_updated_time, "
            "next_version) VALUES (?, ?, ?, ?, ?) RETURNING id",
            (name, description, created, updated, next_version),
        ).fetchone()
        tags = _rows(src, "SELECT key, value FROM registered_model_tags WHERE model = ?", (src_pk,))
        conn.executemany(
            "INSERT INTO registered_model_tags (model, key, value) VALUES (?, ?, ?)",
            [(dst_pk, k, v) for k, v in tags],
        )
        for version_row in _rows(
            src,
            "SELECT id, version, source, run_id, artifact_path, description, user_id, status, "
            "creation_time, last_updated_time FROM model_versions WHERE model = ? ORDER BY version",
            (src_pk,),
        ):
            (dst_vpk,) = conn.execute(
                "INSERT INTO model_versions (model, version, source, run_id, artifact_path, "
                "description, user_id, status, creation_time, last_updated_time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (dst_pk, *version_row[1:]),
            ).fetchone()
            vtags = _rows(
                src,
                "SELECT key, value FROM model_version_tags WHERE model_version = ?",
                (version_row[0],),
            )
            conn.executemany(
                "INSERT INTO model_version_tags (model_version, key, value) VALUES (?, ?, ?)",
                [(dst_vpk, k, v) for k, v in vtags],
            )
            report.add("model_versions", 1)
        aliases = _rows(
            src, "SELECT alias, version FROM registered_model_aliases WHERE model = ?", (src_pk,)
        )
        conn.executemany(
            "INSERT INTO registered_model_aliases (model, alias, version) VALUES (?, ?, ?)",
            [(dst_pk, a, v) for a, v in aliases],
        )
        audit = _rows(
            src,
            "SELECT timestamp, actor, actor_verified, action, model, version, alias, key, "
            "old_value, new_value FROM registry_audit WHERE model = ? ORDER BY id",
            (name,),
        )
        conn.executemany(
            "INSERT INTO registry_audit (timestamp, actor, actor_verified, action, model, version, "
            "alias, key, old_value, new_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            audit,
        )
        report.add("registry_audit", len(audit))
    report.models += 1


def _copy_grants(src: SQLStore, dst: SQLStore, report: CopyReport) -> None:
    columns = (
        "object_type, object_id, principal_type, principal, permission, granted_by, granted_time"
    )
    rows = _rows(src, f"SELECT {columns} FROM permissions")
    with dst.db.write() as conn:
        conn.executemany(
            f"INSERT INTO permissions ({columns}) VALUES ({_marks(7)}) ON CONFLICT "
            "(object_type, object_id, principal_type, principal) DO NOTHING",
            rows,
        )
        report.add("permissions", len(rows))
        if not conn.execute("SELECT 1 FROM service_audit LIMIT 1").fetchone():
            audit_columns = (
                "timestamp, actor, actor_verified, action, object_type, object_id, "
                "principal_type, principal, old_value, new_value"
            )
            audit = _rows(src, f"SELECT {audit_columns} FROM service_audit ORDER BY id")
            conn.executemany(
                f"INSERT INTO service_audit ({audit_columns}) VALUES ({_marks(10)})", audit
            )
            report.add("service_audit", len(audit))


def _counts(store: SQLStore, run_ids: list[str]) -> dict[str, tuple[int, int, int, int]]:
    out: dict[str, tuple[int, int, int, int]] = {}
    for start in range(0, len(run_ids), _CHUNK):
        chunk = run_ids[start : start + _CHUNK]
        for run_id, points, params, tags, summaries in _rows(
            store,
            "SELECT r.run_id, "
            "(SELECT count(*) FROM metrics m WHERE m.run = r.id), "
            "(SELECT count(*) FROM params p WHERE p.run = r.id), "
            "(SELECT count(*) FROM tags t WHERE t.run = r.id), "
            "(SELECT count(*) FROM metric_summaries s WHERE s.run = r.id) "
            f"FROM runs r WHERE r.run_id IN ({_marks(len(chunk))})",
            chunk,
        ):
            out[run_id] = (int(points), int(params), int(tags), int(summaries))
    return out


def _verify(src: SQLStore, dst: SQLStore, run_ids: list[str]) -> None:
    before, after = _counts(src, run_ids), _counts(dst, run_ids)
    wrong = [r for r in run_ids if before.get(r) != after.get(r)]
    if wrong:
        raise Conflict(
            f"copy verification failed for {len(wrong)} runs (e.g. {wrong[0]}: source "
            f"{before.get(wrong[0])}, destination {after.get(wrong[0])} points/params/tags/"
            "summaries)"
        )
