"""The trace records the store takes and gives (:mod:`.traces`): a trace to write
(:class:`TraceRecord`, its spans as :data:`SpanRow` tuples) and what a read returns
(:class:`StoredTrace`: its :class:`TraceSummary`, :class:`StoredSpan` items and
:class:`StoredAssessment` items; :class:`TracePage` for searches).

Their own module so that the store's first use (a run) does not define them; importing
``jupyter_track.store.traces`` names them too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SpanRow = tuple[Any, ...]
"""(span_id, parent_id, name, span_type, status, status_message, start_ns, end_ns, inputs,
outputs, attributes, events): the ``spans`` columns after ``trace``, JSON as text."""


@dataclass(slots=True)
class TraceRecord:
    """A trace (or a part of one) to write; ``None`` fields keep what is stored.

    ``experiment_name`` is used (created when new) when ``experiment_id`` is None. ``spans``
    are :data:`SpanRow` tuples. ``partial``: the spans are some of the trace's spans; its span
    count and start time are recomputed from every stored span (OTLP batches).
    """

    trace_id: str
    experiment_id: str | None = None
    experiment_name: str | None = None
    run_id: str | None = None
    name: str | None = None
    status: str | None = None
    start_time: int = 0
    end_time: int | None = None
    execution_time_ms: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    request_preview: str | None = None
    response_preview: str | None = None
    client_request_id: str | None = None
    notebook: str | None = None
    cell_id: str | None = None
    source: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)
    spans: Sequence[SpanRow] = ()
    partial: bool = False


@dataclass(frozen=True)
class StoredSpan:
    """One span as stored: JSON fields are text (None when absent)."""

    span_id: str
    parent_id: str | None
    name: str
    span_type: str
    status: str
    status_message: str | None
    start_ns: int
    end_ns: int | None
    inputs: str | None
    outputs: str | None
    attributes: str | None
    events: str | None


@dataclass(frozen=True)
class StoredAssessment:
    """A feedback or an expectation attached to a trace (``value`` is decoded JSON)."""

    assessment_id: str
    trace_id: str
    kind: str
    name: str
    value: Any
    rationale: str | None
    error: str | None
    source_type: str
    source_id: str | None
    span_id: str | None
    metadata: dict[str, str]
    run_id: str | None
    create_time: int
    last_update_time: int


@dataclass(frozen=True)
class TraceSummary:
    """A trace's row: what lists show, without its spans."""

    trace_id: str
    experiment_id: str
    run_id: str | None
    name: str | None
    status: str
    start_time: int
    end_time: int | None
    execution_time_ms: int | None
    span_count: int
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    request_preview: str | None
    response_preview: str | None
    client_request_id: str | None
    notebook: str | None
    cell_id: str | None
    source: str | None
    tags: dict[str, str]
    metadata: dict[str, str]


@dataclass(frozen=True)
class StoredTrace:
    """A trace: its summary, its spans (in start order; empty when not asked for) and its
    assessments."""

    summary: TraceSummary
    spans: list[StoredSpan]
    assessments: list[StoredAssessment]

    @property
    def trace_id(self) -> str:
        return self.summary.trace_id


@dataclass
class TracePage:
    """One page of ``search_traces``: the traces and a token for the next page (or None)."""

    traces: list[StoredTrace]
    next_page_token: str | None
