"""OpenTelemetry: the real SDK with jupyter-track's span processor and exporter in the kernel,
and the real OTLP/HTTP exporter sending to the real Jupyter server's receiver (protobuf,
gzip, and OTLP/JSON), plus the trace REST routes and the receiver's error answers."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

import jupyter_track as jt
from jupyter_track.store import InvalidInput, SQLiteStore
from jupyter_track.tracing import otlp
from jupyter_track.tracing.otel import JupyterTrackSpanExporter, JupyterTrackSpanProcessor

API = ("jupyter-track", "api")


def agent_spans(provider: TracerProvider, *, fail: bool = False) -> None:
    """An agent instrumented with OpenTelemetry (GenAI and OpenInference conventions)."""
    tracer = provider.get_tracer("test-agent")
    with tracer.start_as_current_span("invoke_agent") as root:
        root.set_attribute("gen_ai.operation.name", "invoke_agent")
        root.set_attribute("input.value", json.dumps({"question": "capital of France?"}))
        with tracer.start_as_current_span("chat gpt-x") as llm:
            llm.set_attribute("gen_ai.operation.name", "chat")
            llm.set_attribute("gen_ai.request.model", "gpt-x")
            llm.set_attribute("gen_ai.usage.input_tokens", 12)
            llm.set_attribute("gen_ai.usage.output_tokens", 3)
            llm.set_attribute("gen_ai.output.messages", json.dumps([{"content": "Paris"}]))
        with tracer.start_as_current_span("lookup") as tool:
            tool.set_attribute("openinference.span.kind", "TOOL")
            tool.add_event("cache miss", {"key": "france"})
        root.set_attribute("output.value", "Paris")
        if fail:
            root.set_status(Status(StatusCode.ERROR, "gave up"))


def check_agent_trace(trace: Any, *, source: str) -> None:
    spans = {s.name: s for s in trace.data.spans}
    assert trace.info.name == "invoke_agent" and trace.info.state == "OK"
    assert spans["invoke_agent"].span_type == "AGENT"
    assert spans["invoke_agent"].inputs == {"question": "capital of France?"}
    assert spans["invoke_agent"].outputs == "Paris"
    assert spans["chat gpt-x"].span_type == "CHAT_MODEL"
    assert spans["chat gpt-x"].outputs == [{"content": "Paris"}]
    assert spans["chat gpt-x"].parent_id == spans["invoke_agent"].span_id
    assert spans["lookup"].span_type == "TOOL"
    assert spans["lookup"].events[0].name == "cache miss"
    assert spans["lookup"].events[0].attributes == {"key": "france"}
    assert trace.info.token_usage == {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}
    assert trace.info.source == source
    assert len(trace.info.trace_id) == len("tr-") + 32


# ------------------------------------------------------------------ in the kernel (SDK)


def test_span_processor_in_the_kernel_links_runs() -> None:
    provider = TracerProvider()
    provider.add_span_processor(JupyterTrackSpanProcessor())
    with jt.start_run() as run:
        agent_spans(provider)
    # no flush: the trace is there once its root span ended
    (trace,) = jt.search_traces(run_id=run.info.run_id, return_type="list")
    check_agent_trace(trace, source="opentelemetry")
    assert trace.info.run_id == run.info.run_id
    agent_spans(provider, fail=True)
    assert len(jt.search_traces(filter_string="status = 'ERROR'")) == 1
    assert len(jt.search_traces(filter_string="span.type = 'TOOL'")) == 2
    provider.shutdown()


def test_exporter_with_a_batch_processor() -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "agent-svc"}))
    provider.add_span_processor(BatchSpanProcessor(JupyterTrackSpanExporter()))
    agent_spans(provider)
    assert provider.force_flush()
    (trace,) = jt.search_traces(return_type="list")
    check_agent_trace(trace, source="opentelemetry")
    assert trace.info.trace_metadata["service.name"] == "agent-svc"
    provider.shutdown()


def test_install_adds_the_processor() -> None:
    from jupyter_track.tracing import otel

    provider = otel.install(TracerProvider())
    agent_spans(provider)
    assert len(jt.search_traces()) == 1
    provider.shutdown()


# ------------------------------------------------------- to the Jupyter server (OTLP/HTTP)


def endpoint(port: int, base_url: str) -> str:
    return f"http://127.0.0.1:{port}{base_url}jupyter-track/api/otlp/v1/traces"


async def export(exporter: OTLPSpanExporter, spans: list[ReadableSpan]) -> Any:
    # the exporter is synchronous: run it off the loop that serves the Jupyter server
    return await asyncio.to_thread(exporter.export, spans)


def recorded(provider_resource: Resource | None = None, *, fail: bool = False) -> list[Any]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=provider_resource or Resource.create({}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    agent_spans(provider, fail=fail)
    return list(memory.get_finished_spans())


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
async def test_otlp_protobuf_export_to_the_jupyter_server(
    jp_fetch: Any,
    jp_http_port: int,
    jp_base_url: str,
    jp_server_auth_token: str,
    store: SQLiteStore,
    compression: Compression,
) -> None:
    exporter = OTLPSpanExporter(
        endpoint=endpoint(jp_http_port, jp_base_url),
        headers={
            "Authorization": f"token {jp_server_auth_token}",
            "x-jupyter-track-experiment": "remote-agent",
        },
        compression=compression,
    )
    spans = recorded(Resource.create({"service.name": "far-away"}))
    # the spans of one trace may come in parts: the children first, then the root
    assert await export(exporter, spans[:2]) == SpanExportResult.SUCCESS
    assert await export(exporter, spans[2:]) == SpanExportResult.SUCCESS
    experiment = store.get_experiment_by_name("remote-agent")
    assert experiment is not None
    found = jt.search_traces(experiment_ids=[experiment.experiment_id], return_type="list")
    (trace,) = found
    check_agent_trace(trace, source="otlp")
    assert trace.info.trace_metadata["jupyter_track.otlp.user"] == "ana"
    assert trace.info.trace_metadata["service.name"] == "far-away"
    # the REST routes the sidebar reads
    response = await jp_fetch(*API, "traces", params={"experiment_ids": experiment.experiment_id})
    listed = json.loads(response.body)["traces"]
    assert [t["trace_id"] for t in listed] == [trace.info.trace_id]
    assert listed[0]["tokens"] == {"input": 12, "output": 3, "total": 15}
    detail = json.loads((await jp_fetch(*API, "traces", trace.info.trace_id)).body)
    assert [s["name"] for s in detail["spans"]] == ["invoke_agent", "chat gpt-x", "lookup"]
    assert detail["spans"][0]["start_us"] == 0
    assert json.loads(detail["spans"][0]["outputs"]) == "Paris"
    exporter.shutdown()


async def test_otlp_json_export(jp_fetch: Any, store: SQLiteStore) -> None:
    spans = recorded(fail=True)
    message = encode_spans(spans)
    from google.protobuf.json_format import MessageToDict

    body = MessageToDict(message)
    # OTLP/JSON writes ids in hex (protobuf's own JSON mapping would use base64)
    for resource in body["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
                span["status"]["code"] = 2 if span["status"].get("code") else 0
    response = await jp_fetch(
        *API,
        "otlp",
        "v1",
        "traces",
        method="POST",
        body=json.dumps(body),
        headers={"Content-Type": "application/json", "x-mlflow-experiment-id": "0"},
    )
    assert response.code == 200 and json.loads(response.body) == {}
    (trace,) = jt.search_traces(experiment_ids=["0"], return_type="list")
    assert trace.info.state == "ERROR"
    assert trace.data.spans[0].status.description == "gave up"
    assert {s.name for s in trace.data.spans} == {"invoke_agent", "chat gpt-x", "lookup"}
    # gzip-compressed JSON of a second trace; its ids in base64 are accepted too
    second = MessageToDict(encode_spans(recorded()))
    response = await jp_fetch(
        *API,
        "otlp",
        "v1",
        "traces",
        method="POST",
        body=gzip.compress(json.dumps(second).encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.code == 200
    assert len(jt.search_traces(experiment_ids=["0"])) == 2


@pytest.mark.parametrize(
    ("headers", "body", "status", "message"),
    [
        ({"Content-Type": "text/plain"}, b"x", 415, "Content-Type"),
        ({"Content-Type": "application/x-protobuf"}, b"\xff\xff\xff", 400, "OTLP"),
        ({"Content-Type": "application/json"}, b"{not json", 400, "not valid JSON"),
        ({"Content-Type": "application/json"}, b"[1]", 400, "JSON object"),
        (
            {"Content-Type": "application/json"},
            json.dumps(
                {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz", "spanId": "1"}]}]}]}
            ).encode(),
            400,
            "traceId",
        ),
        (
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            b"not gzip",
            400,
            "gzip",
        ),
        ({"Content-Type": "application/json", "Content-Encoding": "br"}, b"{}", 415, "gzip"),
        (
            {"Content-Type": "application/json", "x-mlflow-experiment-id": "abc"},
            b"{}",
            400,
            "x-mlflow-experiment-id",
        ),
    ],
)
async def test_malformed_otlp_requests_are_4xx_and_write_nothing(
    jp_fetch: Any,
    store: SQLiteStore,
    headers: dict[str, str],
    body: bytes,
    status: int,
    message: str,
) -> None:
    response = await jp_fetch(
        *API, "otlp", "v1", "traces", method="POST", body=body, headers=headers, raise_error=False
    )
    answer = json.loads(response.body)
    assert response.code == status and answer["status"] == status
    assert message in answer["message"]
    assert store.search_traces(None, None).traces == []


async def test_trace_routes_need_authentication(jp_fetch: Any) -> None:
    for path, method, body in (
        (("traces",), "GET", None),
        (("traces", "tr-x"), "GET", None),
        (("otlp", "v1", "traces"), "POST", b"{}"),
    ):
        response = await jp_fetch(
            *API,
            *path,
            method=method,
            body=body,
            headers={"Authorization": ""},
            raise_error=False,
        )
        assert response.code == 403, path


async def test_trace_list_filter_errors_and_delete(jp_fetch: Any, store: SQLiteStore) -> None:
    provider = TracerProvider()
    provider.add_span_processor(JupyterTrackSpanProcessor())
    agent_spans(provider)
    (trace,) = jt.search_traces(return_type="list")
    response = await jp_fetch(*API, "traces", params={"filter": "status = "}, raise_error=False)
    answer = json.loads(response.body)
    assert response.code == 400 and answer["error"] == "invalid_filter"
    assert answer["position"] == 9 and answer["parameter"] == "filter"
    listed = json.loads(
        (
            await jp_fetch(*API, "traces", params={"filter": "span.name = 'lookup'", "spans": "1"})
        ).body
    )["traces"]
    assert len(listed) == 1 and len(listed[0]["spans"]) == 3
    missing = await jp_fetch(*API, "traces", "tr-nope", raise_error=False)
    assert missing.code == 404
    deleted = await jp_fetch(*API, "traces", trace.info.trace_id, method="DELETE")
    assert deleted.code == 204
    assert store.search_traces(None, None).traces == []
    provider.shutdown()


# --------------------------------------------------------------- the decoder (properties)

any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=20,
)
keys = st.sampled_from(
    [
        "resourceSpans",
        "scopeSpans",
        "spans",
        "traceId",
        "spanId",
        "parentSpanId",
        "name",
        "attributes",
        "key",
        "value",
        "stringValue",
        "intValue",
        "events",
        "status",
        "code",
        "startTimeUnixNano",
        "endTimeUnixNano",
        "arrayValue",
        "values",
        "kvlistValue",
    ]
)
otlp_like = st.recursive(
    st.none()
    | st.integers()
    | st.text(max_size=34)
    | st.sampled_from(["0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(document=st.one_of(any_json, otlp_like))
def test_json_decoder_gives_spans_or_invalid_input(document: Any) -> None:
    body = json.dumps(document).encode()
    try:
        spans = otlp.decode_json(body)
    except InvalidInput as exc:
        assert str(exc)
        return
    for span in spans:
        assert len(span.trace_id) == 32 and len(span.span_id) == 16
        otlp.span_row(span)  # and every decoded span maps to a row
    otlp.records(spans)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200))
def test_protobuf_decoder_gives_spans_or_invalid_input(body: bytes) -> None:
    try:
        spans = otlp.decode_protobuf(body)
    except InvalidInput:
        return
    otlp.records(spans)
