"""MLflow's side of ``bench_tracing.py`` (run inside ``_mlflow_worker.py``, MLflow's venv).

Every store is MLflow's SQLite backend in a folder the driver names; tracing is MLflow's
default (``@mlflow.trace``, its exporter to the tracking store, async logging as configured by
default); "durable" means after ``mlflow.flush_trace_async_logging()``.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import mlflow
from _trace_data import synthetic_traces

_state: dict[str, Any] = {}


def _store(folder: str) -> str:
    if mlflow.active_run() is not None:
        mlflow.end_run()
    path = Path(folder) / "mlflow.db"
    mlflow.set_tracking_uri(f"sqlite:///{path}")
    mlflow.set_experiment("bench-tracing")
    return str(path)


def _flush() -> None:
    flush = getattr(mlflow, "flush_trace_async_logging", None)
    if flush is not None:
        flush(terminate=False)


@mlflow.trace
def _trivial(x: int) -> int:
    return x


@mlflow.trace(span_type="TOOL")
def _step(i: int) -> int:
    return i + 1


def _five_spans(depth: int) -> Any:
    @mlflow.trace(span_type="AGENT")
    def agent(question: str) -> str:
        for i in range(depth - 1):
            _step(i)
        return question

    return agent


def trace_overhead(folder: str, calls: int, blocks: int) -> dict[str, Any]:
    """Per-call times of ``@mlflow.trace`` on a trivial function (blocks of ``calls``)."""
    _store(folder)
    _trivial(0)
    _flush()
    per_call = []
    for _ in range(blocks):
        start = time.perf_counter()
        for i in range(calls):
            _trivial(i)
        per_call.append((time.perf_counter() - start) / calls)
    start = time.perf_counter()
    _flush()
    return {"per_call": per_call, "drain": time.perf_counter() - start}


def trace_bulk(folder: str, n: int, spans: int) -> dict[str, Any]:
    """``n`` traces of ``spans`` spans each, until durable; seconds and the traces stored."""
    path = _store(folder)
    agent = _five_spans(spans)
    agent("warm-up")
    _flush()
    start = time.perf_counter()
    for i in range(n):
        agent(f"question {i}")
    caller = time.perf_counter() - start
    _flush()
    seconds = time.perf_counter() - start
    conn = sqlite3.connect(path)
    stored = conn.execute("SELECT count(*) FROM trace_info").fetchone()[0] - 1
    span_rows = conn.execute("SELECT count(*) FROM spans").fetchone()[0] - spans
    conn.close()
    return {"seconds": seconds, "caller": caller, "traces": stored, "spans": span_rows}


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def trace_search_build(folder: str, n: int) -> dict[str, Any]:
    """Fill a new MLflow store with the synthetic traces by direct SQL into MLflow's tables
    (the rows MLflow's own exporter writes: trace_info, tags, metadata, spans)."""
    start = time.perf_counter()
    path = _store(folder)
    experiment_id = int(mlflow.get_experiment_by_name("bench-tracing").experiment_id)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    infos, tags, metadata, spans = [], [], [], []
    for t in synthetic_traces(n):
        root = t.spans[0]
        infos.append(
            (
                t.trace_id,
                experiment_id,
                t.start_ms,
                t.duration_ms,
                t.status,
                root.inputs,
                root.outputs,
                t.name,
            )
        )
        tags.extend(
            [
                ("user", t.user, t.trace_id),
                ("mlflow.traceName", t.name, t.trace_id),
                ("mlflow.trace.spansLocation", "TRACKING_STORE", t.trace_id),
            ]
        )
        metadata.extend(
            [
                ("mlflow.trace_schema.version", "3", t.trace_id),
                ("mlflow.traceInputs", root.inputs, t.trace_id),
                ("mlflow.traceOutputs", root.outputs, t.trace_id),
            ]
        )
        otel_trace = _b64(t.trace_id[3:])
        for s in t.spans:
            status = t.status if s.parent_id is None else "OK"
            content = {
                "trace_id": otel_trace,
                "span_id": _b64(s.span_id),
                "parent_span_id": _b64(s.parent_id) if s.parent_id else None,
                "name": s.name,
                "start_time_unix_nano": s.start_ns,
                "end_time_unix_nano": s.end_ns,
                "events": [],
                "status": {"code": f"STATUS_CODE_{status}", "message": ""},
                "attributes": {
                    "mlflow.traceRequestId": json.dumps(t.trace_id),
                    "mlflow.spanType": json.dumps(s.span_type),
                    "mlflow.spanInputs": s.inputs,
                    "mlflow.spanOutputs": s.outputs,
                },
                "links": [],
            }
            spans.append(
                (
                    t.trace_id,
                    experiment_id,
                    s.span_id,
                    s.parent_id,
                    s.name,
                    s.span_type,
                    status,
                    s.start_ns,
                    s.end_ns,
                    json.dumps(content),
                )
            )
    conn.executemany(
        "INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, "
        "status, request_preview, response_preview, trace_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        infos,
    )
    conn.executemany("INSERT INTO trace_tags (key, value, request_id) VALUES (?, ?, ?)", tags)
    conn.executemany(
        "INSERT INTO trace_request_metadata (key, value, request_id) VALUES (?, ?, ?)", metadata
    )
    conn.executemany(
        "INSERT INTO spans (trace_id, experiment_id, span_id, parent_span_id, name, type, "
        "status, start_time_unix_nano, end_time_unix_nano, content) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        spans,
    )
    conn.execute("COMMIT")
    conn.close()
    _state["search_experiment"] = str(experiment_id)
    return {"seconds": time.perf_counter() - start, "traces": n}


def trace_search(filter_string: str, order_by: list[str], max_results: int) -> dict[str, Any]:
    """One ``mlflow.search_traces`` (DataFrame, spans included: its default)."""
    start = time.perf_counter()
    frame = mlflow.search_traces(
        experiment_ids=[_state["search_experiment"]],
        filter_string=filter_string,
        order_by=order_by,
        max_results=max_results,
    )
    seconds = time.perf_counter() - start
    first = str(frame["trace_id"].iloc[0]) if len(frame) else None
    return {"seconds": seconds, "rows": len(frame), "first": first}


COMMANDS = {
    "trace_overhead": trace_overhead,
    "trace_bulk": trace_bulk,
    "trace_search_build": trace_search_build,
    "trace_search": trace_search,
}
