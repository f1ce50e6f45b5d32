"""The schema and its migrations, written once for every engine.

A migration is a list of steps; each engine renders them in its dialect
(:meth:`jupyter_track.store.dialects.base.Dialect.render`):

* :class:`Table` -- ``"name TYPE [constraints]"`` columns with the neutral types ``ID``,
  ``COUNTER``, ``INTEGER``, ``REAL``, ``TEXT``, ``BLOB``; a composite ``primary_key``;
  ``without_rowid`` (SQLite's compact form, ignored elsewhere); ``numbered`` (rows carry a
  ``rowid`` that grows in commit order: SQLite's own, a real column on other engines);
* :class:`Index` (``where``: a partial index);
* :class:`AppendOnly` -- the engine refuses UPDATE and DELETE on the table (triggers);
* :class:`Sql` -- statements in the SQL both engines share, or one text per engine (None: the
  step does nothing on that engine, e.g. a backfill of data only old SQLite files have);
* :class:`Python` -- ``fn(conn, dialect)`` for data changes.

**Adding a table:** append a new migration at the end of :data:`MIGRATIONS` (never edit one
that has shipped), with its ``Table`` and ``Index`` steps; :data:`SCHEMA_VERSION` follows.
SQLite files migrate themselves when first opened; PostgreSQL databases are migrated by
``jupyter-track db upgrade`` only (a kernel never migrates them). Then add the store methods in
a mixin (``store/<topic>.py``), their signatures to :mod:`jupyter_track.store.interface`, and
tests to the conformance suite (``tests/store/``), which runs on every engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

# The schema's building blocks are immutable records: NamedTuples (a frozen dataclass costs
# about ten times more to define, and this module loads with the store's first use).


class Table(NamedTuple):
    name: str
    columns: tuple[str, ...]
    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    without_rowid: bool = False
    numbered: bool = False


class Index(NamedTuple):
    name: str
    table: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None  # a partial index: only the rows this SQL condition selects


class AppendOnly(NamedTuple):
    table: str


class Sql(NamedTuple):
    common: str | None = None
    sqlite: str | None = None
    postgresql: str | None = None

    def text_for(self, engine: str) -> str | None:
        own = getattr(self, engine, None)
        return own if own is not None else self.common


class Python(NamedTuple):
    fn: Callable[[Any, Any], None]


Step = Table | Index | AppendOnly | Sql | Python


class Migration(NamedTuple):
    title: str
    steps: tuple[Step, ...]


def _default_experiment(conn: Any, dialect: Any) -> None:
    now = int(time.time() * 1000)
    conn.execute(
        "INSERT INTO experiments (experiment_id, name, lifecycle_stage, creation_time, "
        "last_update_time) VALUES (0, 'Default', 'active', ?, ?) ON CONFLICT DO NOTHING",
        (now, now),
    )


MIGRATIONS: list[Migration] = [
    Migration(
        "tracking",
        (
            Table(
                "experiments",
                (
                    "experiment_id ID",
                    "name TEXT NOT NULL UNIQUE",
                    "artifact_location TEXT",
                    "lifecycle_stage TEXT NOT NULL DEFAULT 'active'",
                    "creation_time INTEGER NOT NULL",
                    "last_update_time INTEGER NOT NULL",
                ),
            ),
            Table(
                "experiment_tags",
                ("experiment_id INTEGER NOT NULL", "key TEXT NOT NULL", "value TEXT"),
                primary_key=("experiment_id", "key"),
                without_rowid=True,
            ),
            Table(
                "runs",
                (
                    "id ID",
                    "run_id TEXT NOT NULL UNIQUE",
                    "experiment_id INTEGER NOT NULL",
                    "run_name TEXT",
                    "status TEXT NOT NULL",
                    "user_id TEXT",
                    "start_time INTEGER NOT NULL",
                    "end_time INTEGER",
                    "lifecycle_stage TEXT NOT NULL DEFAULT 'active'",
                    "deleted_time INTEGER",
                    "parent_run_id TEXT",
                    "artifact_uri TEXT",
                    "notebook TEXT",
                    "cell_id TEXT",
                    "execution_count INTEGER",
                    "source TEXT",
                    "environment TEXT",
                    "error TEXT",
                ),
            ),
            Index("runs_by_experiment", "runs", ("experiment_id", "start_time")),
            Index("runs_by_cell", "runs", ("cell_id", "start_time")),
            Index("runs_by_parent", "runs", ("parent_run_id",)),
            Index("runs_by_name", "runs", ("run_name",)),
            # params and tags: value as text; num is the value read as a number (NULL if not
            # one), so `params.lr > 0.01` can use an index and sort numerically.
            Table(
                "params",
                (
                    "run INTEGER NOT NULL",
                    "key TEXT NOT NULL",
                    "value TEXT NOT NULL",
                    "num REAL",
                ),
                primary_key=("run", "key"),
                without_rowid=True,
            ),
            Index("params_by_value", "params", ("key", "value")),
            Index("params_by_num", "params", ("key", "num")),
            Table(
                "tags",
                (
                    "run INTEGER NOT NULL",
                    "key TEXT NOT NULL",
                    "value TEXT NOT NULL",
                    "num REAL",
                ),
                primary_key=("run", "key"),
                without_rowid=True,
            ),
            Index("tags_by_value", "tags", ("key", "value")),
            # metric points; NULL stands for NaN, +/-inf are stored as such. ``rowid`` grows in
            # commit order: live charts follow a store with it.
            Table(
                "metrics",
                (
                    "run INTEGER NOT NULL",
                    "key TEXT NOT NULL",
                    "step INTEGER NOT NULL",
                    "timestamp INTEGER NOT NULL",
                    "value REAL",
                ),
                numbered=True,
            ),
            Index("metrics_by_run_key", "metrics", ("run", "key", "step")),
            Table(
                "metric_summaries",
                (
                    "run INTEGER NOT NULL",
                    "key TEXT NOT NULL",
                    "last REAL",
                    "step INTEGER NOT NULL",
                    "timestamp INTEGER NOT NULL",
                    "min REAL",
                    "max REAL",
                    "count INTEGER NOT NULL",
                ),
                primary_key=("run", "key"),
                without_rowid=True,
            ),
            Index("metric_summaries_by_last", "metric_summaries", ("key", "last")),
            Table(
                "artifacts",
                (
                    "run INTEGER NOT NULL",
                    "path TEXT NOT NULL",
                    "size INTEGER NOT NULL",
                    "created INTEGER NOT NULL",
                ),
                primary_key=("run", "path"),
                without_rowid=True,
            ),
            Table(
                "cell_executions",
                (
                    "id ID",
                    "session TEXT",
                    "notebook TEXT",
                    "cell_id TEXT",
                    "execution_count INTEGER",
                    "source TEXT NOT NULL",
                    "start_time INTEGER NOT NULL",
                    "duration_ms REAL NOT NULL",
                    "status TEXT NOT NULL",
                    "error_name TEXT",
                    "run_id TEXT",
                ),
            ),
            Index("cell_executions_by_cell", "cell_executions", ("cell_id", "start_time")),
            Index("cell_executions_by_notebook", "cell_executions", ("notebook", "start_time")),
            Table(
                "environments",
                (
                    "hash TEXT PRIMARY KEY",
                    "python TEXT NOT NULL",
                    "platform TEXT NOT NULL",
                    "packages TEXT NOT NULL",
                    "created INTEGER NOT NULL",
                ),
            ),
            Python(_default_experiment),
        ),
    ),
    # 2: model registry (store/registry.py): models, versions, aliases and the audit log.
    # Version numbers are never reused (next_version only grows). The audit table is
    # append-only, and rows are written in the same transaction as the change they describe.
    Migration(
        "model registry",
        (
            Table(
                "registered_models",
                (
                    "id ID",
                    "name TEXT NOT NULL UNIQUE",
                    "description TEXT",
                    "creation_time INTEGER NOT NULL",
                    "last_updated_time INTEGER NOT NULL",
                    "next_version INTEGER NOT NULL DEFAULT 1",
                ),
            ),
            Table(
                "registered_model_tags",
                ("model INTEGER NOT NULL", "key TEXT NOT NULL", "value TEXT NOT NULL"),
                primary_key=("model", "key"),
                without_rowid=True,
            ),
            Table(
                "model_versions",
                (
                    "id ID",
                    "model INTEGER NOT NULL",
                    "version INTEGER NOT NULL",
                    "source TEXT NOT NULL",
                    "run_id TEXT",
                    "artifact_path TEXT",
                    "description TEXT",
                    "user_id TEXT",
                    "status TEXT NOT NULL DEFAULT 'READY'",
                    "creation_time INTEGER NOT NULL",
                    "last_updated_time INTEGER NOT NULL",
                ),
                unique=(("model", "version"),),
            ),
            Index("model_versions_by_run", "model_versions", ("run_id",)),
            Table(
                "model_version_tags",
                ("model_version INTEGER NOT NULL", "key TEXT NOT NULL", "value TEXT NOT NULL"),
                primary_key=("model_version", "key"),
                without_rowid=True,
            ),
            Table(
                "registered_model_aliases",
                ("model INTEGER NOT NULL", "alias TEXT NOT NULL", "version INTEGER NOT NULL"),
                primary_key=("model", "alias"),
                without_rowid=True,
            ),
            Table(
                "registry_audit",
                (
                    "id COUNTER",
                    "timestamp INTEGER NOT NULL",
                    "actor TEXT NOT NULL",
                    "actor_verified INTEGER NOT NULL",
                    "action TEXT NOT NULL",
                    "model TEXT NOT NULL",
                    "version INTEGER",
                    "alias TEXT",
                    "key TEXT",
                    "old_value TEXT",
                    "new_value TEXT",
                ),
            ),
            Index("registry_audit_by_model", "registry_audit", ("model", "alias", "id")),
            AppendOnly("registry_audit"),
        ),
    ),
    # 3: metric rollups for charts (store/histories.py): per (run, key) series, every 1024
    # consecutive points in arrival order form a bucket with its count, min point and max point,
    # maintained by write_metric_rows. Points of files older than this are folded in (1024 must
    # equal histories.ROLLUP_SIZE); other engines start with this table.
    Migration(
        "metric rollups",
        (
            Table(
                "metric_rollups",
                (
                    "run INTEGER NOT NULL",
                    "key TEXT NOT NULL",
                    "bucket INTEGER NOT NULL",
                    "n INTEGER NOT NULL",
                    "lo REAL",
                    "lo_step INTEGER",
                    "lo_ts INTEGER",
                    "hi REAL",
                    "hi_step INTEGER",
                    "hi_ts INTEGER",
                ),
                primary_key=("run", "key", "bucket"),
                without_rowid=True,
            ),
            Sql(
                sqlite="""INSERT OR REPLACE INTO metric_rollups
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
        FROM lows l JOIN highs h ON h.run = l.run AND h.key = l.key AND h.bucket = l.bucket"""
            ),
        ),
    ),
    # 4: newest-first pages of all experiments read runs in start-time order
    Migration("runs by start time", (Index("runs_by_start", "runs", ("start_time",)),)),
    # 5: the team service (store/access.py): permission grants, its audit log, batch ids
    Migration(
        "team service",
        (
            Table(
                "permissions",
                (
                    "object_type TEXT NOT NULL",
                    "object_id TEXT NOT NULL",
                    "principal_type TEXT NOT NULL",
                    "principal TEXT NOT NULL",
                    "permission TEXT NOT NULL",
                    "granted_by TEXT NOT NULL",
                    "granted_time INTEGER NOT NULL",
                ),
                primary_key=("object_type", "object_id", "principal_type", "principal"),
            ),
            Index(
                "permissions_by_principal",
                "permissions",
                ("principal_type", "principal", "object_type"),
            ),
            Table(
                "service_audit",
                (
                    "id COUNTER",
                    "timestamp INTEGER NOT NULL",
                    "actor TEXT NOT NULL",
                    "actor_verified INTEGER NOT NULL",
                    "action TEXT NOT NULL",
                    "object_type TEXT NOT NULL",
                    "object_id TEXT NOT NULL",
                    "principal_type TEXT",
                    "principal TEXT",
                    "old_value TEXT",
                    "new_value TEXT",
                ),
            ),
            Index("service_audit_by_object", "service_audit", ("object_type", "object_id", "id")),
            AppendOnly("service_audit"),
            Table(
                "ingested_batches",
                ("batch_id TEXT PRIMARY KEY", "received_time INTEGER NOT NULL"),
            ),
        ),
    ),
    # 6: run lineage (store/lineage.py): the executed cells a run depended on, its stale-state
    # flags and seeds, one JSON document per run (written when the run starts)
    Migration(
        "run lineage",
        (
            Table(
                "run_lineage",
                (
                    "run INTEGER NOT NULL PRIMARY KEY",
                    "session TEXT",
                    "notebook TEXT",
                    "stale INTEGER NOT NULL",
                    "unseeded INTEGER NOT NULL",
                    "record TEXT NOT NULL",
                    "created INTEGER NOT NULL",
                ),
            ),
        ),
    ),
    # 7: traces (store/traces.py): one row per trace with its summary (the root span's name and
    # status, times in ms, token totals, previews of the request and the response), its spans
    # (times in ns since the epoch, as OpenTelemetry; inputs, outputs, attributes and events as
    # JSON text), tags, metadata and assessments (feedback and expectations; value as JSON).
    Migration(
        "traces",
        (
            Table(
                "traces",
                (
                    "id ID",
                    "trace_id TEXT NOT NULL UNIQUE",
                    "experiment_id INTEGER NOT NULL",
                    "run_id TEXT",
                    "name TEXT",
                    "status TEXT NOT NULL",
                    "start_time INTEGER NOT NULL",
                    "end_time INTEGER",
                    "execution_time_ms INTEGER",
                    "span_count INTEGER NOT NULL DEFAULT 0",
                    "input_tokens INTEGER",
                    "output_tokens INTEGER",
                    "total_tokens INTEGER",
                    "request_preview TEXT",
                    "response_preview TEXT",
                    "client_request_id TEXT",
                    "notebook TEXT",
                    "cell_id TEXT",
                    "source TEXT",
                ),
            ),
            Index("traces_by_experiment", "traces", ("experiment_id", "start_time")),
            Index("traces_by_start", "traces", ("start_time",)),
            Index("traces_by_run", "traces", ("run_id", "start_time")),
            Index("traces_by_status", "traces", ("status", "start_time")),
            Index("traces_by_duration", "traces", ("execution_time_ms",)),
            Index("traces_by_name", "traces", ("name", "start_time")),
            Table(
                "trace_tags",
                (
                    "trace INTEGER NOT NULL",
                    "key TEXT NOT NULL",
                    "value TEXT NOT NULL",
                    "num REAL",
                ),
                primary_key=("trace", "key"),
            ),
            Index("trace_tags_by_value", "trace_tags", ("key", "value")),
            Table(
                "trace_metadata",
                (
                    "trace INTEGER NOT NULL",
                    "key TEXT NOT NULL",
                    "value TEXT NOT NULL",
                    "num REAL",
                ),
                primary_key=("trace", "key"),
            ),
            Index("trace_metadata_by_value", "trace_metadata", ("key", "value")),
            Table(
                "spans",
                (
                    "trace INTEGER NOT NULL",
                    "span_id TEXT NOT NULL",
                    "parent_id TEXT",
                    "name TEXT NOT NULL",
                    "span_type TEXT NOT NULL",
                    "status TEXT NOT NULL",
                    "status_message TEXT",
                    "start_ns INTEGER NOT NULL",
                    "end_ns INTEGER",
                    "inputs TEXT",
                    "outputs TEXT",
                    "attributes TEXT",
                    "events TEXT",
                ),
                primary_key=("trace", "span_id"),
            ),
            Index("spans_by_name", "spans", ("name", "trace")),
            Index("spans_by_type", "spans", ("span_type", "trace")),
            Table(
                "assessments",
                (
                    "id ID",
                    "assessment_id TEXT NOT NULL UNIQUE",
                    "trace INTEGER NOT NULL",
                    "kind TEXT NOT NULL",
                    "name TEXT NOT NULL",
                    "value TEXT",
                    "value_text TEXT",
                    "num REAL",
                    "rationale TEXT",
                    "error TEXT",
                    "source_type TEXT NOT NULL",
                    "source_id TEXT",
                    "span_id TEXT",
                    "metadata TEXT",
                    "run_id TEXT",
                    "create_time INTEGER NOT NULL",
                    "last_update_time INTEGER NOT NULL",
                ),
            ),
            Index("assessments_by_trace", "assessments", ("trace", "create_time")),
            Index("assessments_by_text", "assessments", ("kind", "name", "value_text")),
            Index("assessments_by_num", "assessments", ("kind", "name", "num")),
        ),
    ),
    # 8: the dataset view (store/lineage.py) finds the runs that read a digest through the
    # input-digest tags only (a partial index: other tags do not pay for it)
    Migration(
        "input digests",
        (
            Index(
                "tags_input_digests",
                "tags",
                ("value",),
                where="key >= 'jt.input.' AND key < 'jt.input/'",
            ),
        ),
    ),
    # 9: gc queues the artifact folders of the runs it purges in the purging transaction and
    # removes them after the commit; a gc killed in between finishes the job next time.
    Migration(
        "purged runs",
        (
            Table(
                "purged_runs",
                ("run_id TEXT NOT NULL PRIMARY KEY", "purged_time INTEGER NOT NULL"),
            ),
        ),
    ),
    # 10: PostgreSQL's planner estimates "key = ? AND value = ?" as if key and value were
    # independent (10x too few rows for a common param), and then prefers hashing the whole
    # runs table to walking the metric index in the requested order. Statistics on the pair
    # fix the estimate; SQLite needs nothing.
    Migration(
        "planner statistics on key/value pairs",
        tuple(
            Sql(
                postgresql=f"CREATE STATISTICS IF NOT EXISTS {table}_key_value_stats "
                f"(mcv, dependencies) ON key, value FROM {table}"
            )
            for table in ("params", "tags")
        ),
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)


def tables() -> list[str]:
    """Every table the migrations create, in creation order."""
    return [step.name for m in MIGRATIONS for step in m.steps if isinstance(step, Table)]


def steps_between(current: int, target: int = SCHEMA_VERSION) -> list[Step]:
    """The steps that bring a store from migration ``current`` to ``target``."""
    return [step for m in MIGRATIONS[current:target] for step in m.steps]
