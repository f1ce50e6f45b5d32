"""``jt.openai.autolog()`` with the real ``openai`` client pointed at an OpenAI-compatible
server on loopback (tests/openai_server.py): chat completions, streaming, tool calls, the
Responses API, embeddings, legacy completions, sync and async, errors, and undoing it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai_server import OpenAIServer

import jupyter_track as jt
from jupyter_track.tracing import openai_autolog
from jupyter_track.tracing.entities import Span, Trace

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as srv:
        yield srv


@pytest.fixture
def client(server: OpenAIServer) -> Iterator[openai.OpenAI]:
    jt.openai.autolog()
    try:
        yield openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
    finally:
        jt.openai.autolog(disable=True)


@pytest.fixture
def async_client(server: OpenAIServer, client: openai.OpenAI) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)


def last() -> Trace:
    trace_id = jt.get_last_active_trace_id()
    assert trace_id is not None
    found = jt.get_trace(trace_id)
    assert found is not None
    return found


def only_span(trace: Trace) -> Span:
    (span,) = trace.data.spans
    return span


def test_chat_completion_is_a_span_with_messages_output_usage_and_model(
    client: openai.OpenAI,
) -> None:
    reply = client.chat.completions.create(
        model="gpt-test",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello there"},
        ],
        temperature=0.2,
    )
    assert reply.choices[0].message.content == "echo: hello there"
    trace = last()
    span = only_span(trace)
    assert span.name == "Completions" and span.span_type == "CHAT_MODEL"
    assert span.inputs["messages"][1] == {"role": "user", "content": "hello there"}
    assert span.inputs["model"] == "gpt-test"
    assert span.outputs["choices"][0]["message"]["content"] == "echo: hello there"
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 4,
        "output_tokens": 3,
        "total_tokens": 7,
    }
    assert span.attributes["gen_ai.request.model"] == "gpt-test"
    assert span.attributes["invocation_params"] == {"temperature": 0.2}
    assert trace.info.token_usage == {"input_tokens": 4, "output_tokens": 3, "total_tokens": 7}
    assert trace.info.request_preview == "hello there"
    assert trace.info.response_preview == "echo: hello there"
    assert (span.duration_ms or 0) > 0


def test_streaming_chat_is_recorded_when_the_stream_ends(client: openai.OpenAI) -> None:
    before = jt.get_last_active_trace_id()
    stream = client.chat.completions.create(
        model="gpt-test",
        messages=[{"role": "user", "content": "stream me please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    assert isinstance(stream, openai.Stream)  # the client's own object
    first = next(stream)
    assert first.choices[0].delta.role == "assistant"
    assert jt.get_last_active_trace_id() == before  # still streaming
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "echo: stream me please"
    span = only_span(last())
    assert span.outputs["choices"][0]["message"] == {
        "role": "assistant",
        "content": "echo: stream me please",
    }
    assert span.outputs["choices"][0]["finish_reason"] == "stop"
    assert span.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 7
    assert span.attributes["stream_chunks"] == 7


def test_a_stream_closed_early_is_recorded_with_what_it_produced(client: openai.OpenAI) -> None:
    with client.chat.completions.create(
        model="gpt-test",
        messages=[{"role": "user", "content": "one two three four"}],
        stream=True,
    ) as stream:
        next(stream)
        next(stream)
    span = only_span(last())
    assert span.status.status_code == "OK"
    assert span.outputs["choices"][0]["message"]["content"] == "echo: "


def test_tool_calls_in_an_agent_loop(client: openai.OpenAI) -> None:
    @jt.trace(span_type="TOOL")
    def get_weather(city: str) -> str:
        return f"sunny in {city}"

    @jt.trace(span_type="AGENT")
    def agent(question: str) -> str:
        messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
        first = client.chat.completions.create(model="m", messages=messages, tools=TOOLS)
        call = first.choices[0].message.tool_calls[0]
        messages.append(first.choices[0].message.model_dump(exclude_none=True))
        result = get_weather(**json.loads(call.function.arguments))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        stream = client.chat.completions.create(
            model="m", messages=messages, tools=TOOLS, stream=True
        )
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    assert agent("weather in Paris") == "The tool said: sunny in Paris"
    trace = last()
    names = [(s.name, s.span_type) for s in trace.data.spans]
    assert names == [
        ("agent", "AGENT"),
        ("Completions", "CHAT_MODEL"),
        ("get_weather", "TOOL"),
        ("Completions", "CHAT_MODEL"),
    ]
    root = trace.data.spans[0]
    assert {s.parent_id for s in trace.data.spans[1:]} == {root.span_id}
    call = trace.data.spans[1].outputs["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert trace.data.spans[1].attributes["mlflow.chat.tools"] == TOOLS
    assert trace.data.spans[3].inputs["messages"][-1]["role"] == "tool"
    # streamed tool calls are put together too
    stream = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "weather in Oslo"}],
        tools=TOOLS,
        stream=True,
    )
    list(stream)
    message = only_span(last()).outputs["choices"][0]["message"]
    assert message["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
        }
    ]


def test_responses_api_plain_and_streamed(client: openai.OpenAI) -> None:
    response = client.responses.create(model="m", input="hello responses", instructions="hi")
    assert response.output_text == "echo: hello responses"
    span = only_span(last())
    assert span.name == "Responses" and span.span_type == "CHAT_MODEL"
    assert span.inputs["input"] == "hello responses"
    assert span.outputs["output"][0]["content"][0]["text"] == "echo: hello responses"
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 3,
        "output_tokens": 3,
        "total_tokens": 6,
    }
    events = [e.type for e in client.responses.create(model="m", input="hi you", stream=True)]
    assert events[-1] == "response.completed"
    span = only_span(last())
    assert span.outputs["output"][0]["content"][0]["text"] == "echo: hi you"
    assert span.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 5


def test_embeddings_and_legacy_completions(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="embed", input=["a b", "c"])
    assert len(result.data) == 2
    span = only_span(last())
    assert span.span_type == "EMBEDDING" and span.name == "Embeddings"
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 3,
        "output_tokens": 0,
        "total_tokens": 3,
    }
    client.completions.create(model="old", prompt="say hi")
    span = only_span(last())
    assert span.span_type == "LLM" and span.outputs["choices"][0]["text"] == "echo: say hi"


def test_the_stream_helper_is_traced(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model="m", messages=[{"role": "user", "content": "helper please"}]
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "echo: helper please"
    span = only_span(last())
    assert span.outputs["choices"][0]["message"]["content"] == "echo: helper please"


def test_async_client(async_client: openai.AsyncOpenAI) -> None:
    async def main() -> list[str]:
        reply = await async_client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "async hello"}]
        )
        stream = await async_client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "async stream"}], stream=True
        )
        parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        embedded = await async_client.embeddings.create(model="e", input="x")
        response = await async_client.responses.create(model="m", input="async resp")
        return [
            reply.choices[0].message.content or "",
            "".join(parts),
            str(len(embedded.data)),
            response.output_text,
        ]

    assert asyncio.run(main()) == [
        "echo: async hello",
        "echo: async stream",
        "1",
        "echo: async resp",
    ]
    traces = jt.search_traces(return_type="list")
    spans = [only_span(t) for t in reversed(traces)]
    assert [s.name for s in spans] == [
        "AsyncCompletions",
        "AsyncCompletions",
        "AsyncEmbeddings",
        "AsyncResponses",
    ]
    assert spans[1].outputs["choices"][0]["message"]["content"] == "echo: async stream"
    assert spans[3].outputs["output"][0]["content"][0]["text"] == "echo: async resp"


def test_an_api_error_marks_the_span_and_reaches_the_caller(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="error-model", messages=[])
    trace = last()
    span = only_span(trace)
    assert trace.info.state == "ERROR"
    assert span.events[0].attributes["exception.type"] == "BadRequestError"
    assert "always fails" in str(caught.value)


def test_raw_responses_still_work(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="m", messages=[{"role": "user", "content": "raw"}]
    )
    assert raw.parse().choices[0].message.content == "echo: raw"
    assert jt.get_last_active_trace_id() is not None


def test_disable_restores_the_client(server: OpenAIServer) -> None:
    from openai.resources.chat.completions import Completions

    original = Completions.create
    jt.openai.autolog()
    assert Completions.create is not original and openai_autolog.enabled()
    jt.openai.autolog()  # idempotent
    jt.openai.autolog(disable=True)
    assert Completions.create is original and not openai_autolog.enabled()
    client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert jt.get_last_active_trace_id() is None or len(jt.search_traces()) == 0


def test_jt_autolog_turns_on_every_installed_integration(server: OpenAIServer) -> None:
    """``jt.autolog()`` (MLflow's ``mlflow.autolog``) traces the installed ``openai`` client;
    ``exclude_flavors`` leaves it alone; ``disable=True`` undoes it; MLflow's other arguments
    are accepted."""
    from openai.resources.chat.completions import Completions

    original = Completions.create
    from jupyter_track.autologging import INTEGRATIONS

    assert jt.autolog(exclude_flavors=["openai", *INTEGRATIONS, "unknown"]) == []
    assert Completions.create is original
    try:
        on = jt.autolog(log_models=False, log_input_examples=True, silent=True)
        assert on[-1] == "openai"  # with the installed ML libraries before it
        assert openai_autolog.enabled()
        client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "autolog"}])
        span = only_span(last())
        assert (
            span.span_type == "CHAT_MODEL"
            and span.outputs["choices"][0]["message"]["content"] == "echo: autolog"
        )
    finally:
        assert jt.autolog(disable=True)[-1] == "openai"
    assert Completions.create is original and not openai_autolog.enabled()
    with pytest.raises(jt.store.InvalidInput, match="exclude_flavors"):
        jt.autolog(exclude_flavors=[3])  # type: ignore[list-item]


def test_mlflow_entities_path() -> None:
    """``import jupyter_track as mlflow; mlflow.entities.SpanType`` as in MLflow code."""
    import jupyter_track as mlflow
    from jupyter_track.entities import Feedback, SpanType, Trace

    assert mlflow.entities.SpanType is SpanType and SpanType.CHAT_MODEL == "CHAT_MODEL"
    assert mlflow.entities.Trace is Trace and mlflow.entities.Feedback is Feedback
    assert mlflow.entities.Run is jt.Run
