"""OpenTelemetry spans as jupyter-track traces: OTLP decoding (protobuf and JSON) and the
mapping of a span's attributes to a span's type, inputs, outputs and token usage.

Three sources meet in :class:`OtelSpan` (a plain span): the OTLP/HTTP receiver of the server
extension (:func:`decode_protobuf`, :func:`decode_json`), and the OpenTelemetry SDK processor
and exporter of :mod:`.otel`. :func:`records` groups spans by trace into store records (parts
of traces: a trace's spans may come in several batches; the store merges them).

Attribute conventions understood: MLflow's (``mlflow.spanType``, ``mlflow.spanInputs``,
``mlflow.spanOutputs``, ``mlflow.chat.tokenUsage``), OpenInference's
(``openinference.span.kind``, ``input.value``, ``output.value``, ``llm.token_count.*``) and the
OpenTelemetry GenAI semantic conventions (``gen_ai.operation.name``, ``gen_ai.usage.*``,
``gen_ai.input.messages`` / ``gen_ai.output.messages``, ``gen_ai.prompt`` /
``gen_ai.completion``).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..store.errors import InvalidInput
from ..store.traces import SpanRow, TraceRecord
from . import serialize

MAX_BODY_BYTES = 64 * 1024 * 1024
"""Largest OTLP request (after decompression) the receiver accepts."""

_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}
_KINDS_OPENINFERENCE = {
    "LLM": "LLM",
    "CHAIN": "CHAIN",
    "TOOL": "TOOL",
    "AGENT": "AGENT",
    "RETRIEVER": "RETRIEVER",
    "EMBEDDING": "EMBEDDING",
    "RERANKER": "RERANKER",
    "GUARDRAIL": "GUARDRAIL",
    "EVALUATOR": "EVALUATOR",
}
_KINDS_GENAI = {
    "chat": "CHAT_MODEL",
    "text_completion": "LLM",
    "generate_content": "LLM",
    "embeddings": "EMBEDDING",
    "execute_tool": "TOOL",
    "invoke_agent": "AGENT",
    "create_agent": "AGENT",
}


@dataclass
class OtelSpan:
    """One OpenTelemetry span, whatever it came from (ids as lower-case hex)."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start_ns: int
    end_ns: int | None
    status: str = "UNSET"
    status_message: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    resource: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- decoding


def _hex(raw: bytes, what: str, size: int) -> str:
    if len(raw) != size:
        raise InvalidInput(f"{what}: expected {size} bytes, got {len(raw)}")
    if not any(raw):
        raise InvalidInput(f"{what}: all zeros is not a valid id")
    return raw.hex()


def _json_hex(value: Any, what: str, size: int) -> str:
    """An id of OTLP/JSON: hex (the spec), or base64 (protobuf's JSON mapping)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what}: expected a hex string, got {type(value).__name__}")
    text = value.strip()
    if len(text) == 2 * size:
        try:
            return _hex(bytes.fromhex(text), what, size)
        except ValueError:
            pass
    try:
        return _hex(base64.b64decode(text, validate=True), what, size)
    except (ValueError, TypeError):
        raise InvalidInput(f"{what}: {value!r:.60} is not a {size}-byte hex id") from None


def _any_value_proto(value: Any) -> Any:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_any_value_proto(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _any_value_proto(kv.value) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, which)


def _attributes_proto(items: Iterable[Any]) -> dict[str, Any]:
    return {kv.key: _any_value_proto(kv.value) for kv in items}


def decode_protobuf(body: bytes) -> list[OtelSpan]:
    """Spans of an ``ExportTraceServiceRequest`` in protobuf; ``InvalidInput`` when malformed."""
    try:
        from google.protobuf.message import DecodeError
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )
    except ImportError as exc:  # pragma: no cover - a runtime dependency
        raise InvalidInput(f"OTLP protobuf needs the opentelemetry-proto package: {exc}") from exc
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise InvalidInput(f"the body is not an OTLP ExportTraceServiceRequest: {exc}") from None
    spans = []
    for resource_spans in request.resource_spans:
        resource = _attributes_proto(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for n, s in enumerate(scope_spans.spans):
                where = f"resourceSpans.scopeSpans.spans[{n}]"
                spans.append(
                    OtelSpan(
                        trace_id=_hex(s.trace_id, f"{where}.traceId", 16),
                        span_id=_hex(s.span_id, f"{where}.spanId", 8),
                        parent_id=s.parent_span_id.hex() if any(s.parent_span_id) else None,
                        name=s.name or "span",
                        start_ns=int(s.start_time_unix_nano),
                        end_ns=int(s.end_time_unix_nano) or None,
                        status=_STATUS.get(int(s.status.code), "UNSET"),
                        status_message=s.status.message or None,
                        attributes=_attributes_proto(s.attributes),
                        events=[
                            {
                                "name": e.name,
                                "timestamp": int(e.time_unix_nano),
                                "attributes": _attributes_proto(e.attributes),
                            }
                            for e in s.events
                        ],
                        resource=resource,
                    )
                )
    return spans


def _get(obj: Mapping[str, Any], camel: str, snake: str, default: Any = None) -> Any:
    if camel in obj:
        return obj[camel]
    return obj.get(snake, default)


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _any_value_json(value: Any, where: str) -> Any:
    value = _object(value, where)
    if not value:
        return None
    for camel, snake in (
        ("stringValue", "string_value"),
        ("boolValue", "bool_value"),
        ("doubleValue", "double_value"),
        ("bytesValue", "bytes_value"),
    ):
        if camel in value or snake in value:
            found = _get(value, camel, snake)
            if camel == "doubleValue" and isinstance(found, str):
                try:
                    return float(found)  # "NaN", "Infinity" in JSON
                except ValueError:
                    raise InvalidInput(
                        f"{where}.doubleValue: {found!r:.40} is not a number"
                    ) from None
            if isinstance(found, (dict, list)):
                raise InvalidInput(f"{where}.{camel}: expected a scalar")
            return found
    if "intValue" in value or "int_value" in value:
        raw = _get(value, "intValue", "int_value")
        if isinstance(raw, bool) or not isinstance(raw, (int, str)):
            raise InvalidInput(f"{where}.intValue: {raw!r:.40} is not an integer")
        try:
            return int(raw)
        except ValueError:
            raise InvalidInput(f"{where}.intValue: {raw!r:.40} is not an integer") from None
    if "arrayValue" in value or "array_value" in value:
        inner = _object(_get(value, "arrayValue", "array_value"), f"{where}.arrayValue")
        items = _list(inner.get("values"), f"{where}.arrayValue.values")
        return [_any_value_json(v, f"{where}.arrayValue.values[{i}]") for i, v in enumerate(items)]
    if "kvlistValue" in value or "kvlist_value" in value:
        inner = _object(_get(value, "kvlistValue", "kvlist_value"), f"{where}.kvlistValue")
        return _attributes_json(inner.get("values"), f"{where}.kvlistValue.values")
    return None


def _attributes_json(items: Any, where: str) -> dict[str, Any]:
    out = {}
    for n, item in enumerate(_list(items, where)):
        item = _object(item, f"{where}[{n}]")
        if not isinstance(item.get("key"), str):
            raise InvalidInput(f"{where}[{n}].key: expected a string")
        out[item["key"]] = _any_value_json(item.get("value"), f"{where}[{n}].value")
    return out


def _nanos(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInput(f"{what}: {value!r:.40} is not a time in nanoseconds")
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{what}: {value!r:.40} is not a time in nanoseconds") from None
    if number < 0 or number >= 2**63:
        raise InvalidInput(f"{what}: {number} is out of range")
    return number


def _status_code(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return _STATUS.get(value, "UNSET")
    if isinstance(value, str):
        code = value.upper().replace("STATUS_CODE_", "")
        return code if code in ("OK", "ERROR") else "UNSET"
    return "UNSET"


def _json_span(s: Any, where: str, resource: dict[str, Any]) -> OtelSpan:
    s = _object(s, where)
    parent = _get(s, "parentSpanId", "parent_span_id")
    status = _object(s.get("status"), f"{where}.status")
    end = _nanos(_get(s, "endTimeUnixNano", "end_time_unix_nano", 0), f"{where}.endTimeUnixNano")
    name = s.get("name")
    message = status.get("message")
    events = []
    for n, e in enumerate(_list(s.get("events"), f"{where}.events")):
        e = _object(e, f"{where}.events[{n}]")
        events.append(
            {
                "name": str(e.get("name") or ""),
                "timestamp": _nanos(
                    _get(e, "timeUnixNano", "time_unix_nano", 0), f"{where}.events[{n}].time"
                ),
                "attributes": _attributes_json(e.get("attributes"), f"{where}.events[{n}]"),
            }
        )
    return OtelSpan(
        trace_id=_json_hex(_get(s, "traceId", "trace_id"), f"{where}.traceId", 16),
        span_id=_json_hex(_get(s, "spanId", "span_id"), f"{where}.spanId", 8),
        parent_id=_json_hex(parent, f"{where}.parentSpanId", 8) if parent else None,
        name=name if isinstance(name, str) and name else "span",
        start_ns=_nanos(
            _get(s, "startTimeUnixNano", "start_time_unix_nano", 0), f"{where}.startTimeUnixNano"
        ),
        end_ns=end or None,
        status=_status_code(status.get("code", 0)),
        status_message=message if isinstance(message, str) and message else None,
        attributes=_attributes_json(s.get("attributes"), f"{where}.attributes"),
        events=events,
        resource=resource,
    )


def decode_json(body: bytes) -> list[OtelSpan]:
    """Spans of an OTLP/JSON ``ExportTraceServiceRequest``; ``InvalidInput`` (naming the
    field) when malformed. Ids in hex (the OTLP/JSON rule) or base64 are accepted."""
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}") from None
    if not isinstance(request, Mapping):
        raise InvalidInput("the body must be a JSON object with resourceSpans")
    spans = []
    for r, resource_spans in enumerate(
        _list(_get(request, "resourceSpans", "resource_spans"), "resourceSpans")
    ):
        where = f"resourceSpans[{r}]"
        resource_spans = _object(resource_spans, where)
        resource_obj = _object(resource_spans.get("resource"), f"{where}.resource")
        resource = _attributes_json(resource_obj.get("attributes"), f"{where}.resource.attributes")
        scopes = _list(_get(resource_spans, "scopeSpans", "scope_spans"), f"{where}.scopeSpans")
        for s_index, scope_spans in enumerate(scopes):
            scope_where = f"{where}.scopeSpans[{s_index}]"
            scope_spans = _object(scope_spans, scope_where)
            for n, s in enumerate(_list(scope_spans.get("spans"), f"{scope_where}.spans")):
                spans.append(_json_span(s, f"{scope_where}.spans[{n}]", resource))
    return spans


# ------------------------------------------------------------------------------ mapping


def _maybe_json(value: Any) -> Any:
    """A string attribute that holds JSON (``mlflow.spanInputs``, ``input.value``) decoded."""
    if isinstance(value, str) and value[:1] in ("{", "[", '"'):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _first(attributes: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in attributes and attributes[key] is not None:
            return attributes[key]
    return None


def span_type(attributes: Mapping[str, Any]) -> str:
    mlflow_type = _maybe_json(attributes.get("mlflow.spanType"))
    if isinstance(mlflow_type, str) and mlflow_type:
        return mlflow_type
    kind = attributes.get("openinference.span.kind")
    if isinstance(kind, str) and kind.upper() in _KINDS_OPENINFERENCE:
        return _KINDS_OPENINFERENCE[kind.upper()]
    operation = attributes.get("gen_ai.operation.name")
    if isinstance(operation, str) and operation in _KINDS_GENAI:
        return _KINDS_GENAI[operation]
    return "UNKNOWN"


def token_usage(attributes: Mapping[str, Any]) -> dict[str, int] | None:
    usage = _maybe_json(attributes.get("mlflow.chat.tokenUsage"))
    if isinstance(usage, Mapping):
        return None  # kept as it is: the store reads this attribute
    inputs = _first(
        attributes,
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",
        "llm.token_count.prompt",
    )
    outputs = _first(
        attributes,
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "llm.token_count.completion",
    )
    total = _first(attributes, "gen_ai.usage.total_tokens", "llm.token_count.total")
    if not any(isinstance(v, int) for v in (inputs, outputs, total)):
        return None
    i = inputs if isinstance(inputs, int) else 0
    o = outputs if isinstance(outputs, int) else 0
    return {
        "input_tokens": i,
        "output_tokens": o,
        "total_tokens": total if isinstance(total, int) else i + o,
    }


_INPUT_KEYS = ("mlflow.spanInputs", "input.value", "gen_ai.input.messages", "gen_ai.prompt")
_OUTPUT_KEYS = (
    "mlflow.spanOutputs",
    "output.value",
    "gen_ai.output.messages",
    "gen_ai.completion",
)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return serialize.to_json(value).strip('"')
    return value


def span_row(span: OtelSpan) -> SpanRow:
    """The store row of one span: type, inputs and outputs read from its attributes."""
    attributes = {k: _clean(v) for k, v in span.attributes.items()}
    inputs = _first(attributes, *_INPUT_KEYS)
    outputs = _first(attributes, *_OUTPUT_KEYS)
    kind = span_type(attributes)
    usage = token_usage(attributes)
    for key in (*_INPUT_KEYS, *_OUTPUT_KEYS, "mlflow.spanType"):
        attributes.pop(key, None)
    if usage is not None:
        attributes["mlflow.chat.tokenUsage"] = usage
    elif "mlflow.chat.tokenUsage" in attributes:
        attributes["mlflow.chat.tokenUsage"] = _maybe_json(attributes["mlflow.chat.tokenUsage"])
    status = span.status
    if status == "UNSET" and span.end_ns is not None:
        status = "OK"
    limit = serialize.limits.max_span_bytes
    inputs_json = None if inputs is None else serialize.to_json(_maybe_json(inputs))
    outputs_json = None if outputs is None else serialize.to_json(_maybe_json(outputs))
    inputs_json, outputs_json = serialize.fit(inputs_json, outputs_json, limit)
    return (
        span.span_id,
        span.parent_id,
        span.name,
        kind,
        status,
        span.status_message,
        span.start_ns,
        span.end_ns,
        inputs_json,
        outputs_json,
        serialize.to_json(attributes) if attributes else None,
        serialize.to_json(span.events) if span.events else None,
    )


def records(
    spans: Iterable[OtelSpan],
    *,
    experiment_id: str | None = None,
    experiment_name: str | None = None,
    source: str = "otlp",
    metadata: Mapping[str, str] | None = None,
) -> list[TraceRecord]:
    """Store records (parts of traces) for ``spans``, one per trace; the trace's summary comes
    from its root span when the root is among them."""
    from .core import _preview

    by_trace: dict[str, list[OtelSpan]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    out = []
    for trace_hex, group in by_trace.items():
        rows = [span_row(s) for s in group]
        root_index = next((i for i, s in enumerate(group) if s.parent_id is None), None)
        meta = dict(metadata or {})
        resource = group[0].resource
        service = resource.get("service.name")
        if isinstance(service, str):
            meta["service.name"] = service
        run_id = None
        for s in group:
            found = _maybe_json(s.attributes.get("mlflow.sourceRun")) or s.resource.get(
                "mlflow.sourceRun"
            )
            if isinstance(found, str):
                run_id = found
                break
        if run_id:
            meta["mlflow.sourceRun"] = run_id
        experiment = experiment_name
        resource_experiment = resource.get("jupyter_track.experiment")
        if isinstance(resource_experiment, str) and experiment_id is None and not experiment:
            experiment = resource_experiment
        record = TraceRecord(
            trace_id=f"tr-{trace_hex}",
            experiment_id=experiment_id,
            experiment_name=experiment if experiment_id is None else None,
            run_id=run_id,
            start_time=min(s.start_ns for s in group) // 1_000_000,
            source=source,
            metadata=meta,
            spans=rows,
            partial=True,
        )
        if experiment_id is None and not record.experiment_name:
            record.experiment_id = "0"
        if root_index is not None:
            root, row = group[root_index], rows[root_index]
            record.name = root.name
            if root.end_ns is not None:
                record.status = "ERROR" if root.status == "ERROR" else "OK"
                record.end_time = root.end_ns // 1_000_000
                record.execution_time_ms = (root.end_ns - root.start_ns) // 1_000_000
            record.request_preview = _preview(row[8], request=True)
            record.response_preview = _preview(row[9], request=False)
        out.append(record)
    return out
