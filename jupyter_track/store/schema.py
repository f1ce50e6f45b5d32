"""Connections and versioned migrations.

Migrations are lists of SQL statements, numbered by ``PRAGMA user_version``. They run inside
one ``BEGIN IMMEDIATE`` transaction that re-reads the version first, so several processes opening
a brand-new file at the same moment serialize on the write lock and exactly one of them creates
the schema. ``PRAGMA journal_mode=WAL`` cannot run inside a transaction, so it is set before.

Metric values are REAL and NULL stands for NaN (SQLite stores a bound NaN as NULL); +/-inf are
stored as such.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from .errors import StoreUnavailable

BUSY_TIMEOUT_MS = 30_000

MIGRATIONS: list[list[str]] = [
    # 1: tracking
    [
        """CREATE TABLE IF NOT EXISTS experiments (
            experiment_id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            artifact_location TEXT,
            lifecycle_stage TEXT NOT NULL DEFAULT 'active',
            creation_time INTEGER NOT NULL,
            last_update_time INTEGER NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS experiment_tags (
            experiment_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT,
            PRIMARY KEY (experiment_id, key)
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS runs (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL UNIQUE,
            experiment_id INTEGER NOT NULL,
            run_name TEXT,
            status TEXT NOT NULL,
            user_id TEXT,
            start_time INTEGER NOT NULL,
            end_time INTEGER,
            lifecycle_stage TEXT NOT NULL DEFAULT 'active',
            deleted_time INTEGER,
            parent_run_id TEXT,
            artifact_uri TEXT,
            notebook TEXT,
            cell_id TEXT,
            execution_count INTEGER,
            source TEXT,
            environment TEXT,
            error TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs (experiment_id, start_time)",
        "CREATE INDEX IF NOT EXISTS runs_by_cell ON runs (cell_id, start_time)",
        "CREATE INDEX IF NOT EXISTS runs_by_parent ON runs (parent_run_id)",
        "CREATE INDEX IF NOT EXISTS runs_by_name ON runs (run_name)",
        # params and tags: value as text; num is the value read as a number (NULL if not one),
        # so `params.lr > 0.01` can use an index and sort numerically.
        """CREATE TABLE IF NOT EXISTS params (
            run INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            num REAL,
            PRIMARY KEY (run, key)
        ) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS params_by_value ON params (key, value)",
        "CREATE INDEX IF NOT EXISTS params_by_num ON params (key, num)",
        """CREATE TABLE IF NOT EXISTS tags (
            run INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            num REAL,
            PRIMARY KEY (run, key)
        ) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS tags_by_value ON tags (key, value)",
        """CREATE TABLE IF NOT EXISTS metrics (
            run INTEGER NOT NULL,
            key TEXT NOT NULL,
            step INTEGER NOT NULL,
            timestamp INTEGER NOT NULL,
            value REAL
        )""",
        "CREATE INDEX IF NOT EXISTS metrics_by_run_key ON metrics (run, key, step)",
        """CREATE TABLE IF NOT EXISTS metric_summaries (
            run INTEGER NOT NULL,
            key TEXT NOT NULL,
            last REAL,
            step INTEGER NOT NULL,
            timestamp INTEGER NOT NULL,
            min REAL,
            max REAL,
            count INTEGER NOT NULL,
            PRIMARY KEY (run, key)
        ) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS metric_summaries_by_last ON metric_summaries (key, last)",
        """CREATE TABLE IF NOT EXISTS artifacts (
            run INTEGER NOT NULL,
            path TEXT NOT NULL,
            size INTEGER NOT NULL,
            created INTEGER NOT NULL,
            PRIMARY KEY (run, path)
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS cell_executions (
            id INTEGER PRIMARY KEY,
            session TEXT,
            notebook TEXT,
            cell_id TEXT,
            execution_count INTEGER,
            source TEXT NOT NULL,
            start_time INTEGER NOT NULL,
            duration_ms REAL NOT NULL,
            status TEXT NOT NULL,
            error_name TEXT,
            run_id TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS cell_executions_by_cell ON cell_executions "
        "(cell_id, start_time)",
        "CREATE INDEX IF NOT EXISTS cell_executions_by_notebook ON cell_executions "
        "(notebook, start_time)",
        """CREATE TABLE IF NOT EXISTS environments (
            hash TEXT PRIMARY KEY,
            python TEXT NOT NULL,
            platform TEXT NOT NULL,
            packages TEXT NOT NULL,
            created INTEGER NOT NULL
        )""",
        "INSERT OR IGNORE INTO experiments "
        "(experiment_id, name, lifecycle_stage, creation_time, last_update_time) "
        "VALUES (0, 'Default', 'active', CAST(strftime('%s','now') AS INTEGER) * 1000, "
        "CAST(strftime('%s','now') AS INTEGER) * 1000)",
    ],
    # 2: model registry (store/registry.py): models, versions, aliases and the audit log.
    # Version numbers are never reused (next_version only grows). The audit table is
    # append-only: triggers reject UPDATE and DELETE, and rows are written in the same
    # transaction as the change they describe.
    [
        """CREATE TABLE IF NOT EXISTS registered_models (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT,
            creation_time INTEGER NOT NULL,
            last_updated_time INTEGER NOT NULL,
            next_version INTEGER NOT NULL DEFAULT 1
        )""",
        """CREATE TABLE IF NOT EXISTS registered_model_tags (
            model INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (model, key)
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS model_versions (
            id INTEGER PRIMARY KEY,
            model INTEGER NOT NULL,
            version INTEGER NOT NULL,
            source TEXT NOT NULL,
            run_id TEXT,
            artifact_path TEXT,
            description TEXT,
            user_id TEXT,
            status TEXT NOT NULL DEFAULT 'READY',
            creation_time INTEGER NOT NULL,
            last_updated_time INTEGER NOT NULL,
            UNIQUE (model, version)
        )""",
        "CREATE INDEX IF NOT EXISTS model_versions_by_run ON model_versions (run_id)",
        """CREATE TABLE IF NOT EXISTS model_version_tags (
            model_version INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (model_version, key)
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS registered_model_aliases (
            model INTEGER NOT NULL,
            alias TEXT NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (model, alias)
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS registry_audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            timestamp INTEGER NOT NULL,
            actor TEXT NOT NULL,
            actor_verified INTEGER NOT NULL,
            action TEXT NOT NULL,
            model TEXT NOT NULL,
            version INTEGER,
            alias TEXT,
            key TEXT,
            old_value TEXT,
            new_value TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS registry_audit_by_model ON registry_audit (model, alias, id)",
        """CREATE TRIGGER IF NOT EXISTS registry_audit_no_update
            BEFORE UPDATE ON registry_audit
            BEGIN
                SELECT RAISE(ABORT, 'registry_audit is append-only: UPDATE is not allowed');
            END""",
        """CREATE TRIGGER IF NOT EXISTS registry_audit_no_delete
            BEFORE DELETE ON registry_audit
            BEGIN
                SELECT RAISE(ABORT, 'registry_audit is append-only: DELETE is not allowed');
            END""",
    ],
    # 3: metric rollups for charts (store/histories.py): per (run, key) series, every 1024
    # consecutive points in arrival order form a bucket with its count, min point and max point,
    # maintained by write_metric_rows. Existing points are folded in here (1024 must equal
    # histories.ROLLUP_SIZE).
    [
        """CREATE TABLE IF NOT EXISTS metric_rollups (
            run INTEGER NOT NULL,
            key TEXT NOT NULL,
            bucket INTEGER NOT NULL,
            n INTEGER NOT NULL,
            lo REAL,
            lo_step INTEGER,
            lo_ts INTEGER,
            hi REAL,
            hi_step INTEGER,
            hi_ts INTEGER,
            PRIMARY KEY (run, key, bucket)
        ) WITHOUT ROWID""",
        """INSERT OR REPLACE INTO metric_rollups
            (run, key, bucket, n, lo, lo_step, lo_ts, hi, hi_step, hi_ts)
        WITH numbered AS MATERIALIZED (
            SELECT run, key, step, timestamp, value,
                   (row_number() OVER (PARTITION BY run, key ORDER BY rowid) - 1) / 1024 AS bucket
            FROM metrics
        ),
        lows AS (
            SELECT run, key, bucket, count(*) AS n, min(value) AS lo, step AS lo_step,
                   timestamp AS lo_ts
            FROM numbered GROUP BY run, key, bucket
        ),
        highs AS (
            SELECT run, key, bucket, max(value) AS hi, step AS hi_step, timestamp AS hi_ts
            FROM numbered GROUP BY run, key, bucket
        )
        SELECT l.run, l.key, l.bucket, l.n, l.lo, l.lo_step, l.lo_ts, h.hi, h.hi_step, h.hi_ts
        FROM lows l JOIN highs h ON h.run = l.run AND h.key = l.key AND h.bucket = l.bucket""",
    ],
    # 4: newest-first pages of all experiments read runs in start-time order
    ["CREATE INDEX IF NOT EXISTS runs_by_start ON runs (start_time)"],
    # 5: the team service (store/access.py): permission grants, its audit log, batch ids
    [
        """CREATE TABLE IF NOT EXISTS permissions (
            object_type TEXT NOT NULL,
            object_id TEXT NOT NULL,
            principal_type TEXT NOT NULL,
            principal TEXT NOT NULL,
            permission TEXT NOT NULL,
            granted_by TEXT NOT NULL,
            granted_time INTEGER NOT NULL,
            PRIMARY KEY (object_type, object_id, principal_type, principal)
        )""",
        """CREATE INDEX IF NOT EXISTS permissions_by_principal
            ON permissions (principal_type, principal, object_type)""",
        """CREATE TABLE IF NOT EXISTS service_audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            timestamp INTEGER NOT NULL,
            actor TEXT NOT NULL,
            actor_verified INTEGER NOT NULL,
            action TEXT NOT NULL,
            object_type TEXT NOT NULL,
            object_id TEXT NOT NULL,
            principal_type TEXT,
            principal TEXT,
            old_value TEXT,
            new_value TEXT
        )""",
        """CREATE INDEX IF NOT EXISTS service_audit_by_object
            ON service_audit (object_type, object_id, id)""",
        """CREATE TRIGGER IF NOT EXISTS service_audit_no_update
            BEFORE UPDATE ON service_audit
            BEGIN
                SELECT RAISE(ABORT, 'service_audit is append-only: UPDATE is not allowed');
            END""",
        """CREATE TRIGGER IF NOT EXISTS service_audit_no_delete
            BEFORE DELETE ON service_audit
            BEGIN
                SELECT RAISE(ABORT, 'service_audit is append-only: DELETE is not allowed');
            END""",
        """CREATE TABLE IF NOT EXISTS ingested_batches (
            batch_id TEXT PRIMARY KEY,
            received_time INTEGER NOT NULL
        )""",
    ],
    # 6: run lineage (store/lineage.py): the executed cells a run depended on, its stale-state
    # flags and seeds, one JSON document per run (written when the run starts)
    [
        """CREATE TABLE IF NOT EXISTS run_lineage (
            run INTEGER NOT NULL PRIMARY KEY,
            session TEXT,
            notebook TEXT,
            stale INTEGER NOT NULL,
            unseeded INTEGER NOT NULL,
            record TEXT NOT NULL,
            created INTEGER NOT NULL
        )""",
    ],
    # 7: traces (store/traces.py): one row per trace with its summary (the root span's name and
    # status, times in ms, token totals, previews of the request and the response), its spans
    # (times in ns since the epoch, as OpenTelemetry; inputs, outputs, attributes and events as
    # JSON text), tags, metadata and assessments (feedback and expectations; value as JSON).
    [
        """CREATE TABLE IF NOT EXISTS traces (
            id INTEGER PRIMARY KEY,
            trace_id TEXT NOT NULL UNIQUE,
            experiment_id INTEGER NOT NULL,
            run_id TEXT,
            name TEXT,
            status TEXT NOT NULL,
            start_time INTEGER NOT NULL,
            end_time INTEGER,
            execution_time_ms INTEGER,
            span_count INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER,
            output_tokens INTEGER,
            total_tokens INTEGER,
            request_preview TEXT,
            response_preview TEXT,
            client_request_id TEXT,
            notebook TEXT,
            cell_id TEXT,
            source TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS traces_by_experiment ON traces (experiment_id, start_time)",
        "CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_time)",
        "CREATE INDEX IF NOT EXISTS traces_by_run ON traces (run_id, start_time)",
        "CREATE INDEX IF NOT EXISTS traces_by_status ON traces (status, start_time)",
        "CREATE INDEX IF NOT EXISTS traces_by_duration ON traces (execution_time_ms)",
        "CREATE INDEX IF NOT EXISTS traces_by_name ON traces (name, start_time)",
        """CREATE TABLE IF NOT EXISTS trace_tags (
            trace INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            num REAL,
            PRIMARY KEY (trace, key)
        )""",
        "CREATE INDEX IF NOT EXISTS trace_tags_by_value ON trace_tags (key, value)",
        """CREATE TABLE IF NOT EXISTS trace_metadata (
            trace INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            num REAL,
            PRIMARY KEY (trace, key)
        )""",
        "CREATE INDEX IF NOT EXISTS trace_metadata_by_value ON trace_metadata (key, value)",
        """CREATE TABLE IF NOT EXISTS spans (
            trace INTEGER NOT NULL,
            span_id TEXT NOT NULL,
            parent_id TEXT,
            name TEXT NOT NULL,
            span_type TEXT NOT NULL,
            status TEXT NOT NULL,
            status_message TEXT,
            start_ns INTEGER NOT NULL,
            end_ns INTEGER,
            inputs TEXT,
            outputs TEXT,
            attributes TEXT,
            events TEXT,
            PRIMARY KEY (trace, span_id)
        )""",
        "CREATE INDEX IF NOT EXISTS spans_by_name ON spans (name, trace)",
        "CREATE INDEX IF NOT EXISTS spans_by_type ON spans (span_type, trace)",
        """CREATE TABLE IF NOT EXISTS assessments (
            id INTEGER PRIMARY KEY,
            assessment_id TEXT NOT NULL UNIQUE,
            trace INTEGER NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT,
            value_text TEXT,
            num REAL,
            rationale TEXT,
            error TEXT,
            source_type TEXT NOT NULL,
            source_id TEXT,
            span_id TEXT,
            metadata TEXT,
            run_id TEXT,
            create_time INTEGER NOT NULL,
            last_update_time INTEGER NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS assessments_by_trace ON assessments (trace, create_time)",
        "CREATE INDEX IF NOT EXISTS assessments_by_text ON assessments (kind, name, value_text)",
        "CREATE INDEX IF NOT EXISTS assessments_by_num ON assessments (kind, name, num)",
    ],
    # 8: the dataset view (store/lineage.py) finds the runs that read a digest through the
    # input-digest tags only (a partial index: other tags do not pay for it)
    [
        "CREATE INDEX IF NOT EXISTS tags_input_digests ON tags (value) "
        "WHERE key >= 'jt.input.' AND key < 'jt.input/'",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)


def create_files(path: Path) -> None:
    """Create the database and its ``-wal``/``-shm`` files as ``touch`` does, before SQLite.

    SQLite creates them with mode 0644 whatever the umask (a umask only removes bits), so in a
    group folder with ``umask 002`` only their creator could write. Created here first with
    0666 masked by the umask (0664 under ``umask 002``), every member of the group can. Files
    that exist are left alone.
    """
    for name in (str(path), f"{path}-wal", f"{path}-shm"):
        try:
            os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except OSError:  # exists already (or cannot be created: SQLite says why)
            pass


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode (transactions are opened explicitly), WAL, busy timeout.

    A read-only connection never creates the file and never takes the write lock.
    """
    try:
        if readonly:
            conn = sqlite3.connect(
                f"file:{path}?mode=ro",
                uri=True,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            create_files(path)
            conn = sqlite3.connect(
                path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not readonly:
            _enable_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -32000")
    except (sqlite3.OperationalError, OSError) as exc:
        raise StoreUnavailable(f"cannot open the jupyter-track store at {path}: {exc}") from exc
    return conn


def _enable_wal(conn: sqlite3.Connection) -> None:
    # Switching a fresh file to WAL needs a moment of exclusive access; retry while other
    # processes that open the same new file hold it.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() == "wal" or time.monotonic() > deadline:
                return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.005)


def schema_version(conn: sqlite3.Connection) -> int:
    """The migration number the file is at (0 for a new file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the file up to ``SCHEMA_VERSION``; idempotent and safe across processes."""
    if schema_version(conn) >= SCHEMA_VERSION:
        return SCHEMA_VERSION
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)  # re-read under the write lock
        for number in range(current, SCHEMA_VERSION):
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
        if current < SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION
