"""Traces, spans, trace tags and metadata, and assessments (feedback and expectations).

Writers hand over :class:`TraceRecord` items; ``write_traces`` upserts them in one transaction,
so the same trace may arrive more than once: as an in-progress snapshot and then complete (the
kernel's writer), or in several OTLP batches, each with some of its spans (``partial=True``;
the trace's totals are then recomputed from every span stored so far). Readers get
:class:`StoredTrace` items (summary, spans, assessments) and pages of them from
``search_traces``, whose filter uses the one filter grammar (:mod:`.search`) with the traces'
field table (:data:`.search.TRACES`).

Span times are nanoseconds since the epoch (as OpenTelemetry); trace times are milliseconds.
Span inputs, outputs, attributes and events are JSON text, written by the caller.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .db import Database
from .errors import InvalidInput, NotFound
from .paging import decode_page_token, encode_page_token
from .validation import MAX_TAG_VALUE_LENGTH, check_key, param_number

if TYPE_CHECKING:
    from . import trace_records as _records
    from .entities import Experiment

    # named here for their importers (tracing.core, tracing.otlp, tracing.entities)
    from .trace_records import SpanRow as SpanRow
    from .trace_records import (
        StoredAssessment,
        StoredSpan,
        StoredTrace,
        TracePage,
        TraceRecord,
    )
    from .trace_records import TraceSummary as TraceSummary
else:  # the record classes: loaded by the first trace call, not by the first run
    from ..lazy import lazy_module

    _records = lazy_module(globals(), "_records", "jupyter_track.store.trace_records")

_RECORD_NAMES = frozenset(
    (
        "SpanRow",
        "StoredAssessment",
        "StoredSpan",
        "StoredTrace",
        "TracePage",
        "TraceRecord",
        "TraceSummary",
    )
)


def __getattr__(name: str) -> Any:
    # ``from jupyter_track.store.traces import TraceRecord`` keeps working
    if name in _RECORD_NAMES:
        from . import trace_records

        return getattr(trace_records, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


TRACE_STATES = ("OK", "ERROR", "IN_PROGRESS")
ASSESSMENT_KINDS = ("feedback", "expectation")
SOURCE_TYPES = ("HUMAN", "LLM_JUDGE", "CODE")


_SPAN_COLUMNS = (
    "span_id, parent_id, name, span_type, status, status_message, start_ns, end_ns, inputs, "
    "outputs, attributes, events"
)
_TRACE_COLUMNS = (
    "t.id, t.trace_id, t.experiment_id, t.run_id, t.name, t.status, t.start_time, t.end_time, "
    "t.execution_time_ms, t.span_count, t.input_tokens, t.output_tokens, t.total_tokens, "
    "t.request_preview, t.response_preview, t.client_request_id, t.notebook, t.cell_id, t.source"
)

_UPSERT_TRACE = """
INSERT INTO traces (trace_id, experiment_id, run_id, name, status, start_time, end_time,
    execution_time_ms, span_count, input_tokens, output_tokens, total_tokens, request_preview,
    response_preview, client_request_id, notebook, cell_id, source)
VALUES (?, ?, ?, ?, coalesce(?, 'IN_PROGRESS'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (trace_id) DO UPDATE SET
    run_id = coalesce(excluded.run_id, traces.run_id),
    name = coalesce(excluded.name, traces.name),
    status = coalesce(?, traces.status),
    start_time = CASE WHEN excluded.start_time < traces.start_time
                      THEN excluded.start_time ELSE traces.start_time END,
    end_time = coalesce(excluded.end_time, traces.end_time),
    execution_time_ms = coalesce(excluded.execution_time_ms, traces.execution_time_ms),
    span_count = excluded.span_count,
    input_tokens = excluded.input_tokens,
    output_tokens = excluded.output_tokens,
    total_tokens = excluded.total_tokens,
    request_preview = coalesce(excluded.request_preview, traces.request_preview),
    response_preview = coalesce(excluded.response_preview, traces.response_preview),
    client_request_id = coalesce(excluded.client_request_id, traces.client_request_id),
    notebook = coalesce(excluded.notebook, traces.notebook),
    cell_id = coalesce(excluded.cell_id, traces.cell_id),
    source = coalesce(excluded.source, traces.source)
"""

_UPSERT_SPAN = f"""
INSERT INTO spans (trace, {_SPAN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (trace, span_id) DO UPDATE SET
    parent_id = excluded.parent_id, name = excluded.name, span_type = excluded.span_type,
    status = excluded.status, status_message = excluded.status_message,
    start_ns = excluded.start_ns, end_ns = excluded.end_ns, inputs = excluded.inputs,
    outputs = excluded.outputs, attributes = excluded.attributes, events = excluded.events
"""

# totals of a trace that arrived in parts, from every span stored so far
_RECOMPUTE = """
UPDATE traces SET
    span_count = (SELECT count(*) FROM spans WHERE trace = traces.id),
    start_time = coalesce((SELECT min(start_ns) / 1000000 FROM spans WHERE trace = traces.id),
                          start_time)
WHERE id = ?
"""


def _tag_sql(table: str) -> str:
    return (
        f"INSERT INTO {table} (trace, key, value, num) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (trace, key) DO UPDATE SET value = excluded.value, num = excluded.num"
    )


if TYPE_CHECKING:
    from . import search as grammar
else:  # the filter grammar: imported by the first search, not by the first run
    from ..lazy import lazy_module

    grammar = lazy_module(globals(), "grammar", "jupyter_track.store.search")


def _default_order() -> list[Any]:
    """The order every trace search ends with (newest first), after the caller's."""
    return [grammar.OrderBy(grammar.Field("attributes", "timestamp_ms"), True)]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _text(value: Any, what: str) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidInput(
            f"{what}: the value is {len(text)} characters long, the limit is {MAX_TAG_VALUE_LENGTH}"
        )
    return text


class TracesMixin:
    db: Database

    if TYPE_CHECKING:  # provided by another part of the store

        def get_or_create_experiment(self, name: str) -> Experiment: ...

        def get_experiment(self, experiment_id: str | int) -> Experiment: ...

    # ------------------------------------------------------------------------------ write

    def write_traces(self, records: Sequence[TraceRecord]) -> None:
        """Upsert ``records`` (see :class:`TraceRecord`) in one transaction."""
        if not records:
            return
        experiments = self._trace_experiments(records)
        trace_rows = [
            (
                rec.trace_id,
                experiments[id(rec)],
                rec.run_id,
                rec.name,
                rec.status,
                rec.start_time,
                rec.end_time,
                rec.execution_time_ms,
                len(rec.spans),
                rec.input_tokens,
                rec.output_tokens,
                rec.total_tokens,
                rec.request_preview,
                rec.response_preview,
                rec.client_request_id,
                rec.notebook,
                rec.cell_id,
                rec.source,
                rec.status,
            )
            for rec in records
        ]
        with self.db.write() as conn:
            conn.executemany(_UPSERT_TRACE, trace_rows)
            pks = self._trace_pks(conn, [rec.trace_id for rec in records])
            span_rows: list[tuple[Any, ...]] = []
            tag_rows: list[tuple[Any, ...]] = []
            metadata_rows: list[tuple[Any, ...]] = []
            partial: list[int] = []
            for rec in records:
                pk = pks[rec.trace_id]
                span_rows.extend((pk, *row) for row in rec.spans)
                if rec.tags:
                    tag_rows.extend((pk, k, v, param_number(v)) for k, v in rec.tags.items())
                if rec.metadata:
                    metadata_rows.extend(
                        (pk, k, v, param_number(v)) for k, v in rec.metadata.items()
                    )
                if rec.partial:
                    partial.append(pk)
            conn.executemany(_UPSERT_SPAN, span_rows)
            if tag_rows:
                conn.executemany(_tag_sql("trace_tags"), tag_rows)
            if metadata_rows:
                conn.executemany(_tag_sql("trace_metadata"), metadata_rows)
            for pk in partial:
                conn.execute(_RECOMPUTE, (pk,))
                self._recompute_tokens(conn, pk)

    @staticmethod
    def _trace_pks(conn: Any, trace_ids: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for start in range(0, len(trace_ids), 500):
            chunk = trace_ids[start : start + 500]
            out.update(
                conn.execute(
                    "SELECT trace_id, id FROM traces WHERE trace_id IN "
                    f"({', '.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
            )
        return out

    def _trace_experiments(self, records: Sequence[TraceRecord]) -> dict[int, int]:
        """Experiment ids by record (names are created when new, before the transaction)."""
        by_name: dict[str, int] = {}
        out: dict[int, int] = {}
        for rec in records:
            if rec.experiment_id is not None:
                try:
                    out[id(rec)] = int(rec.experiment_id)
                except (TypeError, ValueError):
                    raise InvalidInput(
                        f"trace {rec.trace_id}: experiment_id {rec.experiment_id!r} is not an id"
                    ) from None
            elif rec.experiment_name:
                if rec.experiment_name not in by_name:
                    experiment = self.get_or_create_experiment(rec.experiment_name)
                    by_name[rec.experiment_name] = int(experiment.experiment_id)
                out[id(rec)] = by_name[rec.experiment_name]
            else:
                out[id(rec)] = 0
        return out

    @staticmethod
    def _recompute_tokens(conn: Any, pk: int) -> None:
        """Token totals of a trace that arrived in parts: the sum over its spans' usage."""
        inputs = outputs = totals = 0
        seen = False
        for (attributes,) in conn.execute(
            "SELECT attributes FROM spans WHERE trace = ? AND attributes LIKE ?",
            (pk, "%tokenUsage%"),
        ):
            usage = token_usage(attributes)
            if usage is not None:
                seen = True
                inputs += usage[0]
                outputs += usage[1]
                totals += usage[2]
        if seen:
            conn.execute(
                "UPDATE traces SET input_tokens = ?, output_tokens = ?, total_tokens = ? "
                "WHERE id = ?",
                (inputs, outputs, totals, pk),
            )

    # ------------------------------------------------------------------------------- read

    def _trace_pk(self, conn: Any, trace_id: str) -> int:
        if not isinstance(trace_id, str) or not trace_id:
            raise InvalidInput(f"trace_id {trace_id!r}: must be a non-empty string")
        row = conn.execute("SELECT id FROM traces WHERE trace_id = ?", (trace_id,)).fetchone()
        if row is None:
            raise NotFound(f"trace {trace_id!r} does not exist")
        return int(row[0])

    def get_trace(self, trace_id: str, *, include_spans: bool = True) -> StoredTrace:
        """One trace with its spans and assessments; raises ``NotFound``."""
        conn = self.db.conn()
        pk = self._trace_pk(conn, trace_id)
        return self._hydrate_traces(conn, [pk], include_spans=include_spans)[0]

    def trace_exists(self, trace_id: str) -> bool:
        row = (
            self.db.conn()
            .execute("SELECT 1 FROM traces WHERE trace_id = ?", (trace_id,))
            .fetchone()
        )
        return row is not None

    def _hydrate_traces(
        self, conn: Any, pks: list[int], *, include_spans: bool
    ) -> list[StoredTrace]:
        rows: dict[int, Any] = {}
        tags: dict[int, dict[str, str]] = {pk: {} for pk in pks}
        metadata: dict[int, dict[str, str]] = {pk: {} for pk in pks}
        spans: dict[int, list[StoredSpan]] = {pk: [] for pk in pks}
        assessments: dict[int, list[StoredAssessment]] = {pk: [] for pk in pks}
        for start in range(0, len(pks), 500):
            chunk = pks[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in conn.execute(
                f"SELECT {_TRACE_COLUMNS} FROM traces t WHERE t.id IN ({marks})", chunk
            ):
                rows[row[0]] = row
            for pk, key, value in conn.execute(
                f"SELECT trace, key, value FROM trace_tags WHERE trace IN ({marks})", chunk
            ):
                tags[pk][key] = value
            for pk, key, value in conn.execute(
                f"SELECT trace, key, value FROM trace_metadata WHERE trace IN ({marks})", chunk
            ):
                metadata[pk][key] = value
            if include_spans:
                for pk, *span in conn.execute(
                    f"SELECT trace, {_SPAN_COLUMNS} FROM spans WHERE trace IN ({marks}) "
                    "ORDER BY trace, start_ns, span_id",
                    chunk,
                ):
                    spans[pk].append(_records.StoredSpan(*span))
            for row in conn.execute(
                "SELECT a.trace, a.assessment_id, t.trace_id, a.kind, a.name, a.value, "
                "a.rationale, a.error, a.source_type, a.source_id, a.span_id, a.metadata, "
                "a.run_id, a.create_time, a.last_update_time FROM assessments a "
                f"JOIN traces t ON t.id = a.trace WHERE a.trace IN ({marks}) "
                "ORDER BY a.create_time, a.id",
                chunk,
            ):
                assessments[row[0]].append(_assessment_from_row(row[1:]))
        out = []
        for pk in pks:
            row = rows.get(pk)
            if row is None:
                continue
            summary = _records.TraceSummary(
                trace_id=row[1],
                experiment_id=str(row[2]),
                run_id=row[3],
                name=row[4],
                status=row[5],
                start_time=row[6],
                end_time=row[7],
                execution_time_ms=row[8],
                span_count=row[9],
                input_tokens=row[10],
                output_tokens=row[11],
                total_tokens=row[12],
                request_preview=row[13],
                response_preview=row[14],
                client_request_id=row[15],
                notebook=row[16],
                cell_id=row[17],
                source=row[18],
                tags=tags[pk],
                metadata=metadata[pk],
            )
            out.append(_records.StoredTrace(summary, spans[pk], assessments[pk]))
        return out

    # ----------------------------------------------------------------------------- search

    def search_traces(
        self,
        experiment_ids: Sequence[str | int] | None = None,
        filter_string: str | None = None,
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        run_id: str | None = None,
        include_spans: bool = True,
    ) -> TracePage:
        """Traces matching ``filter_string`` (the filter grammar with the traces' fields),
        newest first unless ``order_by`` says otherwise; ``experiment_ids`` None: all."""
        if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 0:
            raise InvalidInput(f"max_results {max_results!r}: must be a non-negative integer")
        tree = grammar.parse_filter(filter_string, grammar.TRACES)
        order = grammar.parse_order_by(order_by, grammar.TRACES) + _default_order()
        conditions: list[str] = []
        params: list[Any] = []
        if experiment_ids is not None:
            try:
                ids = [int(e) for e in experiment_ids]
            except (TypeError, ValueError) as exc:
                raise InvalidInput(f"experiment_ids {experiment_ids!r}: must be ids") from exc
            conditions.append(f"t.experiment_id IN ({', '.join('?' * len(ids)) or 'NULL'})")
            params.extend(ids)
        if run_id is not None:
            conditions.append("t.run_id = ?")
            params.append(run_id)
        start = decode_page_token(page_token)
        where = grammar.compile_filter(tree, self.db.dialect, fields=grammar.TRACES)
        order_params: list[Any] = []
        joins, terms = grammar.compile_order_by(order, order_params, grammar.TRACES)
        sql = (
            f"SELECT t.id FROM traces t {' '.join(joins)} WHERE "
            f"{' AND '.join([*conditions, where.sql])} ORDER BY {', '.join(terms)}, "
            f"t.id {'DESC' if order[0].descending else 'ASC'} "
            "LIMIT ? OFFSET ?"
        )
        conn = self.db.conn()
        pks = [
            pk
            for (pk,) in conn.execute(
                sql, [*order_params, *params, *where.params, max_results + 1, start]
            )
        ]
        more = len(pks) > max_results
        pks = pks[:max_results]
        traces = self._hydrate_traces(conn, pks, include_spans=include_spans)
        return _records.TracePage(traces, encode_page_token(start + len(pks)) if more else None)

    def count_traces(self, run_ids: Sequence[str]) -> dict[str, int]:
        """How many traces each run has (runs without traces are left out)."""
        out: dict[str, int] = {}
        ids = list(run_ids)
        conn = self.db.conn()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for run_id, count in conn.execute(
                f"SELECT run_id, count(*) FROM traces WHERE run_id IN "
                f"({', '.join('?' * len(chunk))}) GROUP BY run_id",
                chunk,
            ):
                out[run_id] = count
        return out

    # ----------------------------------------------------------------------------- delete

    def delete_traces(
        self,
        experiment_id: str | int | None = None,
        *,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        """Delete traces (with their spans, tags, metadata and assessments); return how many.

        Either ``trace_ids``, or ``max_timestamp_millis`` (traces that started at or before it,
        oldest first, at most ``max_traces``) in ``experiment_id``.
        """
        if trace_ids is not None and max_timestamp_millis is not None:
            raise InvalidInput("delete_traces: give trace_ids or max_timestamp_millis, not both")
        if trace_ids is None and max_timestamp_millis is None:
            raise InvalidInput("delete_traces: give trace_ids or max_timestamp_millis")
        if max_traces is not None and (
            isinstance(max_traces, bool) or not isinstance(max_traces, int) or max_traces < 1
        ):
            raise InvalidInput(f"max_traces {max_traces!r}: must be a positive integer")
        with self.db.write() as conn:
            if trace_ids is not None:
                if isinstance(trace_ids, str):
                    raise InvalidInput("trace_ids: must be a list of trace ids, not a string")
                pks = []
                ids = list(trace_ids)
                for start in range(0, len(ids), 500):
                    chunk = ids[start : start + 500]
                    sql = f"SELECT id FROM traces WHERE trace_id IN ({', '.join('?' * len(chunk))})"
                    args: list[Any] = list(chunk)
                    if experiment_id is not None:
                        sql += " AND experiment_id = ?"
                        args.append(int(experiment_id))
                    pks += [pk for (pk,) in conn.execute(sql, args)]
                if max_traces is not None:
                    pks = pks[:max_traces]
            else:
                if not isinstance(max_timestamp_millis, int) or isinstance(
                    max_timestamp_millis, bool
                ):
                    raise InvalidInput(
                        f"max_timestamp_millis {max_timestamp_millis!r}: must be an integer"
                    )
                sql = "SELECT id FROM traces WHERE start_time <= ?"
                args = [max_timestamp_millis]
                if experiment_id is not None:
                    sql += " AND experiment_id = ?"
                    args.append(int(experiment_id))
                sql += " ORDER BY start_time, id"
                if max_traces is not None:
                    sql += " LIMIT ?"
                    args.append(max_traces)
                pks = [pk for (pk,) in conn.execute(sql, args)]
            for start in range(0, len(pks), 500):
                chunk = pks[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                for table in ("spans", "trace_tags", "trace_metadata", "assessments"):
                    conn.execute(f"DELETE FROM {table} WHERE trace IN ({marks})", chunk)
                conn.execute(f"DELETE FROM traces WHERE id IN ({marks})", chunk)
        return len(pks)

    # ------------------------------------------------------------------------------- tags

    def set_trace_tag(self, trace_id: str, key: str, value: Any) -> None:
        """Set one tag on a trace (a non-string value is stored as JSON)."""
        check_key(key, "trace tag")
        text = _text(value, f"trace tag {key!r}")
        with self.db.write() as conn:
            pk = self._trace_pk(conn, trace_id)
            conn.execute(_tag_sql("trace_tags"), (pk, key, text, param_number(text)))

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        """Remove one tag from a trace; raises ``NotFound`` when it is not set."""
        with self.db.write() as conn:
            pk = self._trace_pk(conn, trace_id)
            cur = conn.execute("DELETE FROM trace_tags WHERE trace = ? AND key = ?", (pk, key))
            if cur.rowcount == 0:
                raise NotFound(f"trace {trace_id!r} has no tag {key!r}")

    # ------------------------------------------------------------------------ assessments

    def log_assessment(
        self,
        trace_id: str,
        kind: str,
        name: str,
        value: Any,
        *,
        rationale: str | None = None,
        error: str | None = None,
        source_type: str = "CODE",
        source_id: str | None = None,
        span_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        run_id: str | None = None,
    ) -> StoredAssessment:
        """Attach a feedback or an expectation to a trace and return it.

        ``value`` must be JSON-serializable (the caller has checked it).
        """
        if kind not in ASSESSMENT_KINDS:
            raise InvalidInput(f"kind {kind!r}: must be one of {', '.join(ASSESSMENT_KINDS)}")
        check_key(name, "assessment name")
        if source_type not in SOURCE_TYPES:
            raise InvalidInput(
                f"source_type {source_type!r}: must be one of {', '.join(SOURCE_TYPES)}"
            )
        try:
            value_json = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"assessment {name!r}: value is not JSON: {exc}") from exc
        meta = {str(k): str(v) for k, v in (metadata or {}).items()}
        now = _now_ms()
        assessment_id = "a-" + uuid.uuid4().hex
        with self.db.write() as conn:
            pk = self._trace_pk(conn, trace_id)
            conn.execute(
                "INSERT INTO assessments (assessment_id, trace, kind, name, value, value_text, "
                "num, rationale, error, source_type, source_id, span_id, metadata, run_id, "
                "create_time, last_update_time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    assessment_id,
                    pk,
                    kind,
                    name,
                    value_json,
                    grammar.assessment_text(value),
                    grammar.assessment_number(value),
                    rationale,
                    error,
                    source_type,
                    source_id,
                    span_id,
                    json.dumps(meta) if meta else None,
                    run_id,
                    now,
                    now,
                ),
            )
        return _records.StoredAssessment(
            assessment_id,
            trace_id,
            kind,
            name,
            json.loads(value_json),
            rationale,
            error,
            source_type,
            source_id,
            span_id,
            meta,
            run_id,
            now,
            now,
        )

    def get_assessment(self, trace_id: str, assessment_id: str) -> StoredAssessment:
        conn = self.db.conn()
        pk = self._trace_pk(conn, trace_id)
        row = conn.execute(
            "SELECT a.assessment_id, t.trace_id, a.kind, a.name, a.value, a.rationale, a.error, "
            "a.source_type, a.source_id, a.span_id, a.metadata, a.run_id, a.create_time, "
            "a.last_update_time FROM assessments a JOIN traces t ON t.id = a.trace "
            "WHERE a.trace = ? AND a.assessment_id = ?",
            (pk, assessment_id),
        ).fetchone()
        if row is None:
            raise NotFound(f"trace {trace_id!r} has no assessment {assessment_id!r}")
        return _assessment_from_row(row)

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        with self.db.write() as conn:
            pk = self._trace_pk(conn, trace_id)
            cur = conn.execute(
                "DELETE FROM assessments WHERE trace = ? AND assessment_id = ?",
                (pk, assessment_id),
            )
            if cur.rowcount == 0:
                raise NotFound(f"trace {trace_id!r} has no assessment {assessment_id!r}")

    def assessments_for(self, trace_ids: Iterable[str]) -> dict[str, list[StoredAssessment]]:
        """Assessments of several traces, by trace id (traces without any are left out)."""
        ids = list(trace_ids)
        out: dict[str, list[StoredAssessment]] = {}
        conn = self.db.conn()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for row in conn.execute(
                "SELECT a.assessment_id, t.trace_id, a.kind, a.name, a.value, a.rationale, "
                "a.error, a.source_type, a.source_id, a.span_id, a.metadata, a.run_id, "
                "a.create_time, a.last_update_time FROM assessments a JOIN traces t "
                f"ON t.id = a.trace WHERE t.trace_id IN ({', '.join('?' * len(chunk))}) "
                "ORDER BY a.create_time, a.id",
                chunk,
            ):
                assessment = _assessment_from_row(row)
                out.setdefault(assessment.trace_id, []).append(assessment)
        return out


def _assessment_from_row(row: Sequence[Any]) -> StoredAssessment:
    return _records.StoredAssessment(
        assessment_id=row[0],
        trace_id=row[1],
        kind=row[2],
        name=row[3],
        value=json.loads(row[4]) if row[4] is not None else None,
        rationale=row[5],
        error=row[6],
        source_type=row[7],
        source_id=row[8],
        span_id=row[9],
        metadata=json.loads(row[10]) if row[10] else {},
        run_id=row[11],
        create_time=row[12],
        last_update_time=row[13],
    )


def token_usage(attributes: str | Mapping[str, Any] | None) -> tuple[int, int, int] | None:
    """(input, output, total) tokens of a span from its ``mlflow.chat.tokenUsage`` attribute."""
    if attributes is None:
        return None
    if isinstance(attributes, str):
        try:
            attributes = json.loads(attributes)
        except ValueError:
            return None
    if not isinstance(attributes, Mapping):
        return None
    usage = attributes.get("mlflow.chat.tokenUsage")
    if isinstance(usage, str):
        try:
            usage = json.loads(usage)
        except ValueError:
            return None
    if not isinstance(usage, Mapping):
        return None

    def number(key: str) -> int:
        value = usage.get(key)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0

    inputs, outputs = number("input_tokens"), number("output_tokens")
    total = number("total_tokens") or inputs + outputs
    return inputs, outputs, total
