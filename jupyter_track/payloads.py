"""One payload per view: store records -> the JSON shapes of docs/openapi.yaml.

Jupyter-free, so the REST API (``server/``) and the notebook widgets (``widgets/``) build the
same run rows, run details, comparisons and model details from the same code: a rule such as
"which values differ" or "how a key is written in a filter" lives here once. NaN and
infinities are sent as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (JSON has none).

Also here: the column vocabulary of run tables (:data:`ATTRIBUTE_COLUMNS`, the same ids as
``src/columns.ts``) and :func:`filter_field`, the one way to quote a key for the filter
language (``src/format.ts`` ``filterKey`` follows the same rule).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .store import ArtifactInfo, CellExecution, Experiment, NotFound, Run, RunInfo
from .store.entities import json_number

SYSTEM_TAG_PREFIXES = ("mlflow.", "jt.")
SYSTEM_METRIC_PREFIX = "system/"  # CPU, memory, GPU: tracking/system_metrics.py
NOTE_TAG = "mlflow.note.content"


def is_system_tag(key: str) -> bool:
    """Tags jupyter-track and MLflow set themselves (provenance, notes, attribution)."""
    return key.startswith(SYSTEM_TAG_PREFIXES)


def attributes(info: RunInfo) -> dict[str, Any]:
    """The ``RunAttributes`` of a run."""
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "duration_ms": info.duration_ms,
        "lifecycle_stage": info.lifecycle_stage,
        "user_id": info.user_id,
        "parent_run_id": info.parent_run_id,
        "notebook": info.notebook,
        "cell_id": info.cell_id,
        "execution_count": info.execution_count,
    }


def metric_values(metrics: Mapping[str, float | None]) -> dict[str, Any]:
    return {k: json_number(v) for k, v in metrics.items()}


def run_row(info: RunInfo, columns: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A ``RunRow``: attributes plus the chosen params, metrics (last values) and tags."""
    row = attributes(info)
    row["params"] = dict(columns.get("params", {}))
    row["metrics"] = metric_values(columns.get("metrics", {}))
    row["tags"] = dict(columns.get("tags", {}))
    return row


def full_row(run: Run) -> dict[str, Any]:
    """A ``RunRow`` with every param, metric and tag of a hydrated run."""
    return run_row(
        run.info, {"params": run.data.params, "metrics": run.data.metrics, "tags": run.data.tags}
    )


def experiment(exp: Experiment, run_count: int) -> dict[str, Any]:
    return {**exp.to_dict(), "run_count": run_count}


def _flag(value: str | None) -> bool | None:
    return None if value is None else value == "true"


def provenance(run: Run, environment: Mapping[str, Any] | None) -> dict[str, Any]:
    """Where the run came from, gathered from its attributes and its ``jt.*`` tags."""
    tags = run.data.tags
    git = None
    if any(k.startswith("jt.git.") for k in tags):
        git = {
            "root": tags.get("jt.git.root"),
            "commit": tags.get("jt.git.commit"),
            "branch": tags.get("jt.git.branch"),
            "remote": tags.get("jt.git.remote"),
            "dirty": _flag(tags.get("jt.git.dirty")),
        }
    return {
        "user": tags.get("jt.user") or run.info.user_id,
        "user_verified": _flag(tags.get("jt.user.verified")),
        "host": tags.get("jt.host"),
        "python": tags.get("jt.python"),
        "platform": tags.get("jt.platform"),
        "notebook": run.info.notebook or tags.get("jt.notebook"),
        "cell_id": run.info.cell_id,
        "execution_count": run.info.execution_count,
        "git": git,
        "environment": dict(environment) if environment else None,
    }


def run_detail(
    run: Run,
    *,
    environment: Mapping[str, Any] | None,
    artifacts: Sequence[ArtifactInfo],
    artifacts_truncated: bool,
    children: Sequence[str],
) -> dict[str, Any]:
    """A ``RunDetail``."""
    detail = attributes(run.info)
    detail.update(
        {
            "params": dict(run.data.params),
            "metrics": {k: s.to_dict() for k, s in run.summaries.items()},
            "tags": dict(run.data.tags),
            "note": run.data.tags.get(NOTE_TAG),
            "source": run.source,
            "error": run.info.error,
            "artifact_uri": run.info.artifact_uri,
            "provenance": provenance(run, environment),
            "artifacts": [a.to_dict() for a in artifacts],
            "artifacts_truncated": artifacts_truncated,
            "children": list(children),
        }
    )
    return detail


def _same_key(value: Any) -> Any:
    """What "the same value" means in a comparison: NaN equals NaN (also as ``"NaN"``),
    1 equals 1.0, a missing value (None) equals only another missing value."""
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ("number", float(value))
    if value == "NaN":
        return ("nan",)
    return ("value", value)


def differs(values: Sequence[Any]) -> bool:
    """THE rule for "these runs differ on this row" (REST comparison and ``jt.compare``)."""
    return len({_same_key(v) for v in values}) > 1


def aligned(key: str, values: list[Any]) -> dict[str, Any]:
    """One row of a comparison: ``{"key", "values", "differs"}``."""
    return {"key": key, "values": values, "differs": differs(values)}


def comparison(runs: Sequence[Run]) -> dict[str, Any]:
    """A ``Comparison``: values aligned by key, ``values[i]`` belonging to ``runs[i]``.

    ``params``, ``metrics`` (last, min, max) and user ``tags`` (not ``mlflow.*``/``jt.*``),
    each row with ``differs``; metric rows also ``count`` (points per run, 0 when missing);
    ``default_metric`` is the metric the charts open on (:func:`default_metric`).
    """
    param_keys = sorted({k for r in runs for k in r.data.params})
    metric_keys = sorted({k for r in runs for k in r.summaries})
    tag_keys = sorted({k for r in runs for k in r.data.tags if not is_system_tag(k)})
    metrics = []
    for key in metric_keys:
        summaries = [r.summaries.get(key) for r in runs]
        entry = aligned(key, [None if s is None else json_number(s.last) for s in summaries])
        entry["min"] = [None if s is None else json_number(s.min) for s in summaries]
        entry["max"] = [None if s is None else json_number(s.max) for s in summaries]
        entry["count"] = [0 if s is None else s.count for s in summaries]
        metrics.append(entry)
    body = {
        "runs": [attributes(r.info) for r in runs],
        "params": [aligned(k, [r.data.params.get(k) for r in runs]) for k in param_keys],
        "metrics": metrics,
        "tags": [aligned(k, [r.data.tags.get(k) for r in runs]) for k in tag_keys],
    }
    body["default_metric"] = default_metric(body)
    return body


def default_metric(comparison_: Mapping[str, Any], preferred: str | None = None) -> str:
    """The metric a comparison opens on: ``preferred`` when the runs logged it; else the
    metric most runs logged that has a history (more than one point in some run), else the
    metric most runs logged; ties by name; ``system/`` metrics only when there is no other.
    '' when the runs logged no metric."""
    rows = comparison_.get("metrics") or []
    keys = [r["key"] for r in rows]
    if preferred and preferred in keys:
        return str(preferred)
    best: tuple[int, int, int, str] | None = None
    for row in rows:
        counts = row.get("count") or [0 if v is None else 1 for v in row["values"]]
        present = sum(1 for c in counts if c)
        history = int(any(c > 1 for c in counts))
        user = int(not str(row["key"]).startswith(SYSTEM_METRIC_PREFIX))  # CPU/memory come last
        rank = (-user, -history, -present, row["key"])
        if best is None or rank < best:
            best = rank
    return best[-1] if best else ""


# ------------------------------------------------------------------------ model registry


MAX_METRICS_PER_VERSION = 50


def versions_with_runs(
    store: Any, versions: Sequence[Any], readable: set[str] | None = None
) -> list[dict[str, Any]]:
    """Model versions (``ModelVersion.to_dict()``) with their source run's name, status and
    last metric values (``run`` is None when the run was purged, or when its experiment is not
    in ``readable``: the experiment ids the reader may read, None for all)."""
    runs = {}
    for run_id in {v.run_id for v in versions if v.run_id}:
        try:
            run = store.get_run(run_id)
        except NotFound:
            continue  # purged run: the version still lists its source
        if readable is None or run.info.experiment_id in readable:
            runs[run_id] = run
    out = []
    for mv in versions:
        item = mv.to_dict()
        run = runs.get(mv.run_id) if mv.run_id else None
        if run is None:
            item["run"] = None
        else:
            metrics = dict(sorted(run.data.metrics.items())[:MAX_METRICS_PER_VERSION])
            item["run"] = {
                "run_id": run.info.run_id,
                "run_name": run.info.run_name,
                "experiment_id": run.info.experiment_id,
                "status": run.info.status,
                "lifecycle_stage": run.info.lifecycle_stage,
                "metrics": {k: json_number(v) for k, v in metrics.items()},
            }
        out.append(item)
    return out


def model_detail(store: Any, name: str, readable: set[str] | None = None) -> dict[str, Any]:
    """A ``ModelDetail``: the model, every version (newest first) with its run (runs of
    experiments outside ``readable`` left out, as in :func:`versions_with_runs`)."""
    model = store.get_registered_model(name)
    versions = store.get_model_versions(name)
    body = model.to_dict()
    body.pop("latest_versions", None)
    return {"model": body, "versions": versions_with_runs(store, versions, readable)}


def audit_entry(entry: Any) -> dict[str, Any]:
    """A registry audit-trail entry (``RegistryAuditEntry``)."""
    return dict(entry.to_dict())


# ------------------------------------------------------------------- columns and filters

# The column vocabulary of run tables, shared with src/columns.ts (a test compares them):
# id -> (label, kind, sort field in the filter language or None when not sortable there).
ATTRIBUTE_COLUMNS: dict[str, tuple[str, str, str | None]] = {
    "status": ("Status", "status", "attributes.status"),
    "run_name": ("Name", "text", "attributes.run_name"),
    "experiment": ("Experiment", "text", None),
    "start_time": ("Start", "time", "attributes.start_time"),
    "duration": ("Duration", "duration", None),
    "user_id": ("User", "text", "attributes.user_id"),
    "end_time": ("End", "time", "attributes.end_time"),
    "run_id": ("Run id", "text", "attributes.run_id"),
    "notebook": ("Notebook", "text", "attributes.notebook"),
    "execution_count": ("Cell run", "number", "attributes.execution_count"),
}
ENTITIES = ("params", "metrics", "tags")
_BARE_KEY = re.compile(r"[A-Za-z0-9_\-./:]+")


def filter_field(entity: str, key: str) -> str:
    r"""``entity.key`` written in the filter language so that its parser reads back exactly
    ``key``: bare for letters, digits and ``_-./:``; else in backticks; in double quotes (``\``
    and ``"`` escaped) when the key holds a backtick or a backslash. ``filterKey`` in
    ``src/format.ts`` is the same rule."""
    if _BARE_KEY.fullmatch(key):
        return f"{entity}.{key}"
    if "`" not in key and "\\" not in key:
        return f"{entity}.`{key}`"
    escaped = key.replace("\\", "\\\\").replace('"', '""')
    return f'{entity}."{escaped}"'


def quote_value(text: str) -> str:
    """A string literal of the filter language (single quotes, doubled inside)."""
    return "'" + text.replace("'", "''") + "'"


def series(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``MetricSeries`` from :meth:`SQLiteStore.metric_histories` (values JSON-safe)."""
    return [{**s, "value": [json_number(v) for v in s["value"]]} for s in items]


def cell_execution(execution: CellExecution) -> dict[str, Any]:
    return execution.to_dict()


# ---------------------------------------------------------------------------------- traces


def trace_info(summary: Any) -> dict[str, Any]:
    """A ``TraceInfo``: a trace's summary (``store.traces.TraceSummary``) for lists and views."""
    tokens = None
    if summary.total_tokens is not None or summary.input_tokens is not None:
        tokens = {
            "input": summary.input_tokens or 0,
            "output": summary.output_tokens or 0,
            "total": summary.total_tokens or 0,
        }
    return {
        "trace_id": summary.trace_id,
        "experiment_id": summary.experiment_id,
        "run_id": summary.run_id,
        "name": summary.name,
        "status": summary.status,
        "start_time": summary.start_time,
        "end_time": summary.end_time,
        "execution_time_ms": summary.execution_time_ms,
        "span_count": summary.span_count,
        "tokens": tokens,
        "request_preview": summary.request_preview,
        "response_preview": summary.response_preview,
        "client_request_id": summary.client_request_id,
        "notebook": summary.notebook,
        "cell_id": summary.cell_id,
        "source": summary.source,
        "tags": dict(summary.tags),
        "metadata": dict(summary.metadata),
    }


def assessment(a: Any) -> dict[str, Any]:
    """An ``Assessment`` (feedback or expectation; ``store.traces.StoredAssessment``)."""
    return {
        "assessment_id": a.assessment_id,
        "kind": a.kind,
        "name": a.name,
        "value": a.value,
        "rationale": a.rationale,
        "error": a.error,
        "source_type": a.source_type,
        "source_id": a.source_id,
        "span_id": a.span_id,
        "run_id": a.run_id,
        "create_time": a.create_time,
    }


def _decoded(text: str | None, default: Any) -> Any:
    if text is None:
        return default
    import json

    try:
        return json.loads(text)
    except ValueError:
        return default


def trace_detail(stored: Any) -> dict[str, Any]:
    """A ``TraceDetail``: summary, spans and assessments of one trace (``StoredTrace``).

    Span times are microseconds from the trace's start (``start_us``, ``end_us``; exact in
    JavaScript numbers, unlike nanoseconds since the epoch); inputs and outputs stay JSON text
    (the view decodes the selected span's only); attributes and events are decoded.
    """
    spans = stored.spans
    origin = min((s.start_ns for s in spans), default=stored.summary.start_time * 1_000_000)
    out_spans = []
    for s in spans:
        events = _decoded(s.events, [])
        out_spans.append(
            {
                "span_id": s.span_id,
                "parent_id": s.parent_id,
                "name": s.name,
                "span_type": s.span_type,
                "status": s.status,
                "status_message": s.status_message,
                "start_us": (s.start_ns - origin) // 1000,
                "end_us": None if s.end_ns is None else (s.end_ns - origin) // 1000,
                "inputs": s.inputs,
                "outputs": s.outputs,
                "attributes": _decoded(s.attributes, {}),
                "events": [
                    {
                        "name": e.get("name", ""),
                        "offset_us": (int(e.get("timestamp") or origin) - origin) // 1000,
                        "attributes": e.get("attributes") or {},
                    }
                    for e in events
                    if isinstance(e, dict)
                ],
            }
        )
    return {
        "info": trace_info(stored.summary),
        "spans": out_spans,
        "assessments": [assessment(a) for a in stored.assessments],
    }
