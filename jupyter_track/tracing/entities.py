"""Trace entities under MLflow's names: ``Trace`` (``info`` + ``data``), ``Span``, span types,
statuses and events, and the assessments (``Feedback``, ``Expectation``, ``AssessmentSource``).

These are what ``get_trace`` and ``search_traces`` return; spans being recorded are
:class:`~jupyter_track.tracing.core.LiveSpan`. Inputs, outputs and attributes are kept as the
JSON text the store holds and decoded on first access.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the store loads with the reading side, not with the recording side
    from ..store.traces import StoredAssessment, StoredSpan, StoredTrace, TraceSummary


class SpanType:
    """What a span stands for, as MLflow's ``SpanType`` (any other string is allowed too)."""

    LLM = "LLM"
    CHAIN = "CHAIN"
    AGENT = "AGENT"
    TOOL = "TOOL"
    CHAT_MODEL = "CHAT_MODEL"
    RETRIEVER = "RETRIEVER"
    PARSER = "PARSER"
    EMBEDDING = "EMBEDDING"
    RERANKER = "RERANKER"
    MEMORY = "MEMORY"
    WORKFLOW = "WORKFLOW"
    TASK = "TASK"
    GUARDRAIL = "GUARDRAIL"
    EVALUATOR = "EVALUATOR"
    UNKNOWN = "UNKNOWN"


class SpanStatusCode:
    """A span's status code, as OpenTelemetry's (and MLflow's)."""

    UNSET = "UNSET"
    OK = "OK"
    ERROR = "ERROR"

    ALL = (UNSET, OK, ERROR)


class TraceState:
    """A trace's state: finished OK, finished with an error, or still running."""

    OK = "OK"
    ERROR = "ERROR"
    IN_PROGRESS = "IN_PROGRESS"
    STATE_UNSPECIFIED = "STATE_UNSPECIFIED"


TraceStatus = TraceState  # MLflow 2's name


@dataclass(frozen=True)
class SpanStatus:
    """``status_code`` (a :class:`SpanStatusCode`) and an optional description."""

    status_code: str = SpanStatusCode.UNSET
    description: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"status_code": self.status_code, "description": self.description}


@dataclass(frozen=True)
class SpanEvent:
    """Something that happened during a span (``timestamp`` in ns since the epoch)."""

    name: str
    timestamp: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "timestamp": self.timestamp, "attributes": self.attributes}


class AssessmentSourceType:
    HUMAN = "HUMAN"
    LLM_JUDGE = "LLM_JUDGE"
    CODE = "CODE"


@dataclass(frozen=True)
class AssessmentSource:
    """Who made an assessment: ``source_type`` (HUMAN, LLM_JUDGE, CODE) and an id (a user
    name, a judge's model, a scorer's name)."""

    source_type: str = AssessmentSourceType.CODE
    source_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source_type": self.source_type, "source_id": self.source_id}


@dataclass
class Assessment:
    """A named judgement attached to a trace (base of :class:`Feedback` and
    :class:`Expectation`)."""

    name: str
    value: Any = None
    source: AssessmentSource | None = None
    metadata: dict[str, str] | None = None
    trace_id: str | None = None
    span_id: str | None = None
    assessment_id: str | None = None
    create_time_ms: int | None = None
    last_update_time_ms: int | None = None
    run_id: str | None = None

    kind = "assessment"

    def to_dict(self) -> dict[str, Any]:
        out = {
            "assessment_id": self.assessment_id,
            "kind": self.kind,
            "name": self.name,
            "value": self.value,
            "source": self.source.to_dict() if self.source else None,
            "metadata": self.metadata or {},
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "create_time_ms": self.create_time_ms,
            "run_id": self.run_id,
        }
        return out


@dataclass
class Feedback(Assessment):
    """A judgement of a trace's quality: ``value`` (bool, number, string, list or dict),
    ``rationale``, or an ``error`` when the judge failed. Scorers may return one."""

    rationale: str | None = None
    error: str | None = None

    kind = "feedback"

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "rationale": self.rationale, "error": self.error}


@dataclass
class Expectation(Assessment):
    """The ground truth for a trace (e.g. ``expected_response``)."""

    kind = "expectation"


def assessment_from_stored(stored: StoredAssessment) -> Assessment:
    common: dict[str, Any] = {
        "name": stored.name,
        "value": stored.value,
        "source": AssessmentSource(stored.source_type, stored.source_id),
        "metadata": stored.metadata or None,
        "trace_id": stored.trace_id,
        "span_id": stored.span_id,
        "assessment_id": stored.assessment_id,
        "create_time_ms": stored.create_time,
        "last_update_time_ms": stored.last_update_time,
        "run_id": stored.run_id,
    }
    if stored.kind == "feedback":
        return Feedback(**common, rationale=stored.rationale, error=stored.error)
    return Expectation(**common)


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


class Span:
    """A finished (or, in an IN_PROGRESS trace, running) span read from the store."""

    __slots__ = ("_attributes", "_events", "_inputs", "_outputs", "_stored", "_trace_id")

    _UNSET: Any = object()

    def __init__(self, stored: StoredSpan, trace_id: str):
        self._stored = stored
        self._trace_id = trace_id
        self._inputs = self._outputs = self._attributes = self._events = Span._UNSET

    @property
    def trace_id(self) -> str:
        return self._trace_id

    @property
    def request_id(self) -> str:
        return self._trace_id

    @property
    def span_id(self) -> str:
        return self._stored.span_id

    @property
    def parent_id(self) -> str | None:
        return self._stored.parent_id

    @property
    def name(self) -> str:
        return self._stored.name

    @property
    def span_type(self) -> str:
        return self._stored.span_type

    @property
    def start_time_ns(self) -> int:
        return self._stored.start_ns

    @property
    def end_time_ns(self) -> int | None:
        return self._stored.end_ns

    @property
    def duration_ms(self) -> float | None:
        end = self._stored.end_ns
        return None if end is None else (end - self._stored.start_ns) / 1e6

    @property
    def status(self) -> SpanStatus:
        return SpanStatus(self._stored.status, self._stored.status_message or "")

    @property
    def inputs(self) -> Any:
        if self._inputs is Span._UNSET:
            self._inputs = _loads(self._stored.inputs)
        return self._inputs

    @property
    def outputs(self) -> Any:
        if self._outputs is Span._UNSET:
            self._outputs = _loads(self._stored.outputs)
        return self._outputs

    @property
    def attributes(self) -> dict[str, Any]:
        if self._attributes is Span._UNSET:
            decoded = _loads(self._stored.attributes)
            self._attributes = decoded if isinstance(decoded, dict) else {}
        return dict(self._attributes)

    def get_attribute(self, key: str) -> Any:
        return self.attributes.get(key)

    @property
    def events(self) -> list[SpanEvent]:
        if self._events is Span._UNSET:
            decoded = _loads(self._stored.events) or []
            self._events = [
                SpanEvent(e.get("name", ""), e.get("timestamp", 0), e.get("attributes") or {})
                for e in decoded
                if isinstance(e, dict)
            ]
        return list(self._events)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "span_type": self.span_type,
            "start_time_ns": self.start_time_ns,
            "end_time_ns": self.end_time_ns,
            "status": self.status.to_dict(),
            "inputs": self.inputs,
            "outputs": self.outputs,
            "attributes": self.attributes,
            "events": [e.to_dict() for e in self.events],
        }

    def __repr__(self) -> str:
        return (
            f"Span(name={self.name!r}, span_type={self.span_type!r}, span_id={self.span_id!r}, "
            f"parent_id={self.parent_id!r}, status={self._stored.status!r})"
        )


class TraceInfo:
    """A trace's summary under MLflow 3's names (and MLflow 2's aliases)."""

    def __init__(self, summary: TraceSummary, assessments: Sequence[Assessment] = ()):
        self._summary = summary
        self.assessments: list[Assessment] = list(assessments)

    trace_id = property(lambda self: self._summary.trace_id)
    request_id = trace_id
    experiment_id = property(lambda self: self._summary.experiment_id)
    run_id = property(lambda self: self._summary.run_id)
    name = property(lambda self: self._summary.name)
    state = property(lambda self: self._summary.status)
    status = state
    request_time = property(lambda self: self._summary.start_time)
    timestamp_ms = request_time
    end_time_ms = property(lambda self: self._summary.end_time)
    execution_duration = property(lambda self: self._summary.execution_time_ms)
    execution_time_ms = execution_duration
    span_count = property(lambda self: self._summary.span_count)
    request_preview = property(lambda self: self._summary.request_preview)
    response_preview = property(lambda self: self._summary.response_preview)
    client_request_id = property(lambda self: self._summary.client_request_id)
    notebook = property(lambda self: self._summary.notebook)
    cell_id = property(lambda self: self._summary.cell_id)
    source = property(lambda self: self._summary.source)

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._summary.tags)

    @property
    def trace_metadata(self) -> dict[str, str]:
        return dict(self._summary.metadata)

    request_metadata = trace_metadata

    @property
    def token_usage(self) -> dict[str, int] | None:
        s = self._summary
        if s.total_tokens is None and s.input_tokens is None:
            return None
        return {
            "input_tokens": s.input_tokens or 0,
            "output_tokens": s.output_tokens or 0,
            "total_tokens": s.total_tokens or 0,
        }

    def to_dict(self) -> dict[str, Any]:
        s = self._summary
        return {
            "trace_id": s.trace_id,
            "experiment_id": s.experiment_id,
            "run_id": s.run_id,
            "name": s.name,
            "state": s.status,
            "request_time": s.start_time,
            "execution_duration": s.execution_time_ms,
            "span_count": s.span_count,
            "request_preview": s.request_preview,
            "response_preview": s.response_preview,
            "client_request_id": s.client_request_id,
            "trace_metadata": dict(s.metadata),
            "tags": dict(s.tags),
            "token_usage": self.token_usage,
            "assessments": [a.to_dict() for a in self.assessments],
        }

    def __repr__(self) -> str:
        s = self._summary
        return (
            f"TraceInfo(trace_id={s.trace_id!r}, state={s.status!r}, name={s.name!r}, "
            f"request_time={s.start_time}, execution_duration={s.execution_time_ms})"
        )


class TraceData:
    """A trace's spans; ``request``/``response`` are the root span's inputs/outputs as JSON."""

    def __init__(self, spans: list[Span]):
        self.spans = spans

    @property
    def _root(self) -> Span | None:
        for span in self.spans:
            if span.parent_id is None:
                return span
        return self.spans[0] if self.spans else None

    @property
    def request(self) -> str | None:
        root = self._root
        return None if root is None else root._stored.inputs

    @property
    def response(self) -> str | None:
        root = self._root
        return None if root is None else root._stored.outputs

    def to_dict(self) -> dict[str, Any]:
        return {"spans": [s.to_dict() for s in self.spans]}


class Trace:
    """A recorded trace: ``trace.info`` (summary, tags, metadata, assessments) and
    ``trace.data.spans``. Displayed in a notebook it draws the trace view."""

    def __init__(self, info: TraceInfo, data: TraceData, stored: StoredTrace | None = None):
        self.info = info
        self.data = data
        self._stored = stored

    @classmethod
    def from_stored(cls, stored: StoredTrace) -> Trace:
        trace_id = stored.summary.trace_id
        info = TraceInfo(stored.summary, [assessment_from_stored(a) for a in stored.assessments])
        return cls(info, TraceData([Span(s, trace_id) for s in stored.spans]), stored)

    def search_spans(
        self,
        span_type: str | None = None,
        name: str | None = None,
        span_id: str | None = None,
    ) -> list[Span]:
        """The spans with this type, name (a string or a compiled regex) and/or id."""
        out = []
        for span in self.data.spans:
            if span_type is not None and span.span_type != span_type:
                continue
            if span_id is not None and span.span_id != span_id:
                continue
            if name is not None:
                if hasattr(name, "search"):
                    if not name.search(span.name):
                        continue
                elif span.name != name:
                    continue
            out.append(span)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"info": self.info.to_dict(), "data": self.data.to_dict()}

    def to_json(self, pretty: bool = False) -> str:
        return json.dumps(self.to_dict(), indent=2 if pretty else None, default=str)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        from .display import trace_view_bundle

        return trace_view_bundle([self], **kwargs)

    def __repr__(self) -> str:
        return f"Trace(trace_id={self.info.trace_id!r})"
