"""OpenAI autologging: every call of the ``openai`` client becomes a span.

``enable()`` replaces the ``create`` (and ``parse``) methods of the client's resource classes
-- chat completions, the Responses API, embeddings, legacy completions, sync and async -- with
wrappers, the way OpenTelemetry's and MLflow's OpenAI instrumentations do; ``disable()`` puts
the originals back. A call inside a traced function is a child span; otherwise it is a trace of
its own. The span holds the request (model, messages, tools, parameters) as inputs, the
response as outputs, the token usage (``mlflow.chat.tokenUsage``), the model and the latency.

Streams (``stream=True``, and the ``.stream()`` helpers, which call ``create``) stay the
client's own ``Stream`` objects: their iterator is wrapped, so the span ends when the stream
is read to the end, closed, or dropped, with the chunks put together as one response (text,
tool calls, finish reason, usage). Nothing here raises into the caller: a failure of the
instrumentation is logged once and the call goes on untraced.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from . import core
from .entities import SpanType

_CHAT = "openai.resources.chat.completions"
_RESPONSES = "openai.resources.responses"
_EMBEDDINGS = "openai.resources.embeddings"
_COMPLETIONS = "openai.resources.completions"
TARGETS: tuple[tuple[str, str, str, str, str], ...] = (
    (_CHAT, "Completions", "create", SpanType.CHAT_MODEL, "chat"),
    (_CHAT, "Completions", "parse", SpanType.CHAT_MODEL, "chat"),
    (_CHAT, "AsyncCompletions", "create", SpanType.CHAT_MODEL, "chat"),
    (_CHAT, "AsyncCompletions", "parse", SpanType.CHAT_MODEL, "chat"),
    (_RESPONSES, "Responses", "create", SpanType.CHAT_MODEL, "responses"),
    (_RESPONSES, "Responses", "parse", SpanType.CHAT_MODEL, "responses"),
    (_RESPONSES, "AsyncResponses", "create", SpanType.CHAT_MODEL, "responses"),
    (_RESPONSES, "AsyncResponses", "parse", SpanType.CHAT_MODEL, "responses"),
    (_EMBEDDINGS, "Embeddings", "create", SpanType.EMBEDDING, "embeddings"),
    (_EMBEDDINGS, "AsyncEmbeddings", "create", SpanType.EMBEDDING, "embeddings"),
    (_COMPLETIONS, "Completions", "create", SpanType.LLM, "completions"),
    (_COMPLETIONS, "AsyncCompletions", "create", SpanType.LLM, "completions"),
)
"""(module, class, method, span type, kind); the kind says how to read usage and streams."""

_lock = threading.Lock()
_saved: list[tuple[type, str, Any]] = []


def enabled() -> bool:
    """Whether the client is patched."""
    return bool(_saved)


def enable(config: dict[str, Any] | None = None) -> None:
    """Patch the ``openai`` client (idempotent)."""
    with _lock:
        if _saved:
            return
        for module_name, class_name, method, span_type, kind in TARGETS:
            try:
                owner = getattr(importlib.import_module(module_name), class_name)
                original = owner.__dict__[method]
            except (ImportError, AttributeError, KeyError):
                continue  # an older or newer client without this resource
            wrapper = _wrap(original, class_name, span_type, kind)
            wrapper.__wrapped__ = original
            setattr(owner, method, wrapper)
            _saved.append((owner, method, original))


def disable() -> None:
    """Put the client's own methods back."""
    with _lock:
        while _saved:
            owner, method, original = _saved.pop()
            setattr(owner, method, original)


# ----------------------------------------------------------------------------- the span


_SKIP = ("extra_headers", "extra_query", "extra_body", "timeout")


def _request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The request as the span's inputs: given arguments only (the client's ``NOT_GIVEN`` and
    ``omit`` sentinels left out)."""
    out = {}
    for key, value in kwargs.items():
        if key in _SKIP:
            continue
        if type(value).__name__ in ("NotGiven", "Omit"):
            continue
        out[key] = value
    return out


def _start(name: str, span_type: str, kind: str, kwargs: dict[str, Any]) -> Any:
    request = _request(kwargs)
    attributes: dict[str, Any] = {"gen_ai.system": "openai", "mlflow.message.format": "openai"}
    model = request.get("model")
    if isinstance(model, str):
        attributes["model"] = model
        attributes["gen_ai.request.model"] = model
    tools = request.get("tools")
    if tools is not None:
        attributes["mlflow.chat.tools"] = tools
    params = {
        k: v
        for k, v in request.items()
        if k not in ("messages", "input", "tools", "model", "prompt", "instructions")
    }
    if params:
        attributes["invocation_params"] = params
    return core.start_span_no_context(
        name,
        span_type=span_type,
        parent_span=core.get_current_active_span(),
        inputs=request,
        attributes=attributes,
    )


def _usage(kind: str, usage: Any) -> dict[str, int] | None:
    """``mlflow.chat.tokenUsage`` from a response's ``usage`` (object or dict)."""
    if usage is None:
        return None
    if not isinstance(usage, dict):
        dump = getattr(usage, "model_dump", None)
        usage = dump() if callable(dump) else {}

    def number(*keys: str) -> int | None:
        for key in keys:
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None

    inputs = number("input_tokens", "prompt_tokens")
    outputs = number("output_tokens", "completion_tokens")
    total = number("total_tokens")
    if inputs is None and outputs is None and total is None:
        return None
    inputs, outputs = inputs or 0, outputs or 0
    return {
        "input_tokens": inputs,
        "output_tokens": outputs,
        "total_tokens": total if total is not None else inputs + outputs,
    }


def _finish(span: Any, kind: str, result: Any) -> None:
    try:
        usage = _usage(kind, getattr(result, "usage", None))
        if usage is not None:
            span.set_attribute("mlflow.chat.tokenUsage", usage)
        model = getattr(result, "model", None)
        if isinstance(model, str):
            span.set_attribute("gen_ai.response.model", model)
        span.end(outputs=result)
    except Exception as exc:
        core._warn_once("openai autolog", exc)


def _fail(span: Any, exc: BaseException) -> None:
    try:
        span.record_exception(exc)
        span.end()
    except Exception as inner:
        core._warn_once("openai autolog", inner)


def _wrap(original: Callable[..., Any], name: str, span_type: str, kind: str) -> Any:
    # the async resources' methods are plain functions returning coroutines (decorated)
    if name.startswith("Async") or _is_async(original):

        @functools.wraps(original)
        async def traced_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            span = _open(name, span_type, kind, kwargs)
            if span is None:
                return await original(self, *args, **kwargs)
            try:
                result = await original(self, *args, **kwargs)
            except BaseException as exc:
                _fail(span, exc)
                raise
            if _is_stream(result):
                _trace_async_stream(result, span, kind)
            else:
                _finish(span, kind, result)
            return result

        return traced_async

    @functools.wraps(original)
    def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
        span = _open(name, span_type, kind, kwargs)
        if span is None:
            return original(self, *args, **kwargs)
        try:
            result = original(self, *args, **kwargs)
        except BaseException as exc:
            _fail(span, exc)
            raise
        if _is_stream(result):
            _trace_stream(result, span, kind)
        else:
            _finish(span, kind, result)
        return result

    return traced


def _open(name: str, span_type: str, kind: str, kwargs: dict[str, Any]) -> Any:
    if core.hooks.disabled:
        return None
    try:
        return _start(name, span_type, kind, kwargs)
    except Exception as exc:
        core._warn_once("openai autolog", exc)
        return None


def _is_async(fn: Callable[..., Any]) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)


def _is_stream(result: Any) -> bool:
    return type(result).__name__ in ("Stream", "AsyncStream") and hasattr(result, "_iterator")


# ------------------------------------------------------------------------------- streams


class _Collector:
    """Puts the chunks of a stream together as one response."""

    def __init__(self, kind: str):
        self.kind = kind
        self.chunks: list[Any] = []
        self.done = False

    def add(self, chunk: Any) -> None:
        self.chunks.append(chunk)

    def result(self) -> tuple[Any, Any]:
        """(outputs, usage object or None)."""
        dumps = [_dump(c) for c in self.chunks]
        if self.kind == "chat":
            return _merge_chat(dumps)
        if self.kind == "responses":
            for event in reversed(dumps):
                if event.get("type") in ("response.completed", "response.incomplete"):
                    response = event.get("response") or {}
                    return response, response.get("usage")
            text = "".join(
                str(e.get("delta", ""))
                for e in dumps
                if e.get("type") == "response.output_text.delta"
            )
            return {"output_text": text, "events": len(dumps)}, None
        if self.kind == "completions":
            text = "".join(
                str((c.get("choices") or [{}])[0].get("text", ""))
                for c in dumps
                if c.get("choices")
            )
            usage = next((c.get("usage") for c in reversed(dumps) if c.get("usage")), None)
            return {"choices": [{"index": 0, "text": text}], "usage": usage}, usage
        return dumps, None


def _dump(chunk: Any) -> dict[str, Any]:
    dump = getattr(chunk, "model_dump", None)
    if callable(dump):
        try:
            value = dump(mode="json", exclude_unset=True)
            return value if isinstance(value, dict) else {"value": value}
        except Exception:
            pass
    return chunk if isinstance(chunk, dict) else {"value": repr(chunk)}


def _merge_chat(chunks: list[dict[str, Any]]) -> tuple[dict[str, Any], Any]:
    """Streamed chat completion chunks as one ``chat.completion``: content and tool-call
    arguments concatenated per choice, the last finish reason, the usage chunk."""
    choices: dict[int, dict[str, Any]] = {}
    usage = None
    first: dict[str, Any] = chunks[0] if chunks else {}
    for chunk in chunks:
        if chunk.get("usage"):
            usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            index = choice.get("index", 0)
            merged = choices.setdefault(
                index,
                {"index": index, "message": {"role": "assistant", "content": None}},
            )
            delta = choice.get("delta") or {}
            message = merged["message"]
            if delta.get("role"):
                message["role"] = delta["role"]
            if delta.get("content"):
                message["content"] = (message["content"] or "") + delta["content"]
            if delta.get("refusal"):
                message["refusal"] = (message.get("refusal") or "") + delta["refusal"]
            for call in delta.get("tool_calls") or []:
                calls = message.setdefault("tool_calls", [])
                position = call.get("index", len(calls))
                while len(calls) <= position:
                    calls.append(
                        {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
                    )
                target = calls[position]
                if call.get("id"):
                    target["id"] = call["id"]
                if call.get("type"):
                    target["type"] = call["type"]
                function = call.get("function") or {}
                if function.get("name"):
                    target["function"]["name"] += function["name"]
                if function.get("arguments"):
                    target["function"]["arguments"] += function["arguments"]
            if choice.get("finish_reason"):
                merged["finish_reason"] = choice["finish_reason"]
    out = {
        "id": first.get("id"),
        "object": "chat.completion",
        "created": first.get("created"),
        "model": first.get("model"),
        "choices": [choices[i] for i in sorted(choices)],
    }
    if usage is not None:
        out["usage"] = usage
    return out, usage


def _end_stream(span: Any, collector: _Collector, error: BaseException | None) -> None:
    if collector.done:
        return
    collector.done = True
    try:
        outputs, usage = collector.result()
        tokens = _usage(collector.kind, usage)
        if tokens is not None:
            span.set_attribute("mlflow.chat.tokenUsage", tokens)
        model = outputs.get("model") if isinstance(outputs, dict) else None
        if isinstance(model, str):
            span.set_attribute("gen_ai.response.model", model)
        span.set_attribute("stream_chunks", len(collector.chunks))
        if error is not None:
            span.set_outputs(outputs)
            _fail(span, error)
        else:
            span.end(outputs=outputs)
    except Exception as exc:
        core._warn_once("openai autolog (stream)", exc)


def _trace_stream(stream: Any, span: Any, kind: str) -> None:
    collector = _Collector(kind)
    inner: Iterator[Any] = stream._iterator

    def iterate() -> Iterator[Any]:
        error: BaseException | None = None
        try:
            for chunk in inner:
                collector.add(chunk)
                yield chunk
        except GeneratorExit:
            raise
        except BaseException as exc:
            error = exc
            raise
        finally:
            _end_stream(span, collector, error)

    stream._iterator = iterate()
    close = stream.close

    def traced_close() -> None:
        try:
            close()
        finally:
            _end_stream(span, collector, None)

    stream.close = traced_close


def _trace_async_stream(stream: Any, span: Any, kind: str) -> None:
    collector = _Collector(kind)
    inner: AsyncIterator[Any] = stream._iterator

    async def iterate() -> AsyncIterator[Any]:
        error: BaseException | None = None
        try:
            async for chunk in inner:
                collector.add(chunk)
                yield chunk
        except GeneratorExit:
            raise
        except BaseException as exc:
            error = exc
            raise
        finally:
            _end_stream(span, collector, error)

    stream._iterator = iterate()
    close = stream.close

    async def traced_close() -> None:
        try:
            await close()
        finally:
            _end_stream(span, collector, None)

    stream.close = traced_close
