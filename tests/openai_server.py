"""An OpenAI-compatible HTTP server on loopback, for tests that use the real ``openai`` client.

The cloud API cannot be reached here, so tests point the client's ``base_url`` at this server
(``OpenAIServer().start()``; ``.base_url`` ends in ``/v1``). It speaks the wire protocol:
chat completions (plain, streamed as server-sent events, with tool calls), the Responses API
(plain and streamed), embeddings and legacy completions, and answers deterministically:

* chat: with ``tools`` and a user message last, it calls the first tool with
  ``{"city": <the last word of the message>}``; with a tool message last, it answers
  ``"The tool said: <content>"``; otherwise ``"echo: <last user message>"``. A system prompt
  containing ``UPPERCASE`` makes the answer upper case (prompt versions differ in tests);
* a judge prompt (a message containing ``<response>...</response>`` and
  ``<expected>...</expected>``) gets ``{"result": "yes"|"no", "rationale": ...}``: yes when
  the expected text occurs in the response, case-insensitively;
* model ``"error-model"`` gets a 400 error; token counts are word counts.

Every request body is kept in ``server.requests`` (path, JSON) for assertions.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _words(text: str) -> int:
    return len(text.split())


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def chat_reply(messages: list[dict[str, Any]], tools: list[Any] | None) -> dict[str, Any]:
    """The assistant message this server answers a chat with (see the module doc)."""
    last = messages[-1] if messages else {"role": "user", "content": ""}
    system = " ".join(_text_of(m.get("content")) for m in messages if m.get("role") == "system")
    everything = " ".join(_text_of(m.get("content")) for m in messages)
    judged = re.search(r"<response>(.*?)</response>", everything, re.S)
    expected = re.search(r"<expected>(.*?)</expected>", everything, re.S)
    if judged and expected:
        ok = expected.group(1).strip().lower() in judged.group(1).lower()
        verdict = {
            "result": "yes" if ok else "no",
            "rationale": f"the response {'contains' if ok else 'lacks'} "
            f"{expected.group(1).strip()!r}",
        }
        return {"role": "assistant", "content": json.dumps(verdict)}
    if tools and last.get("role") == "user":
        function = tools[0].get("function", tools[0])
        words = _text_of(last.get("content")).rstrip("?.!").split()
        arguments = json.dumps({"city": words[-1] if words else ""})
        return {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": function.get("name", "tool"), "arguments": arguments},
                }
            ],
        }
    if last.get("role") == "tool":
        text = f"The tool said: {_text_of(last.get('content'))}"
    else:
        users = [m for m in messages if m.get("role") == "user"]
        text = f"echo: {_text_of(users[-1].get('content')) if users else ''}"
    if "UPPERCASE" in system:
        text = text.upper()
    return {"role": "assistant", "content": text}


class _Handler(BaseHTTPRequestHandler):
    server: OpenAIHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append((self.path, body))
        if body.get("model") == "error-model":
            self._json(
                400,
                {"error": {"message": "this model always fails", "type": "invalid_request_error"}},
            )
            return
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/chat/completions"):
            self._chat(body)
        elif path.endswith("/responses"):
            self._responses(body)
        elif path.endswith("/embeddings"):
            self._embeddings(body)
        elif path.endswith("/completions"):
            self._completions(body)
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    # ------------------------------------------------------------------------- helpers

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _events(self, events: list[tuple[str | None, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for name, data in events:
            text = data if isinstance(data, str) else json.dumps(data)
            chunk = (f"event: {name}\n" if name else "") + f"data: {text}\n\n"
            self.wfile.write(chunk.encode())
            self.wfile.flush()
            time.sleep(self.server.chunk_delay)
        self.close_connection = True

    # ------------------------------------------------------------------------ endpoints

    def _chat(self, body: dict[str, Any]) -> None:
        messages = body.get("messages") or []
        reply = chat_reply(messages, body.get("tools"))
        prompt_tokens = sum(_words(_text_of(m.get("content"))) for m in messages)
        completion_tokens = _words(reply.get("content") or "") + (
            5 if reply.get("tool_calls") else 0
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        model = body.get("model", "test-model")
        finish = "tool_calls" if reply.get("tool_calls") else "stop"
        base = {"id": "chatcmpl-1", "created": 1_700_000_000, "model": model}
        if not body.get("stream"):
            self._json(
                200,
                {
                    **base,
                    "object": "chat.completion",
                    "choices": [
                        {"index": 0, "message": reply, "finish_reason": finish, "logprobs": None}
                    ],
                    "usage": usage,
                },
            )
            return
        chunk = {**base, "object": "chat.completion.chunk"}

        def delta(d: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {
                **chunk,
                "choices": [{"index": 0, "delta": d, "finish_reason": finish_reason}],
            }

        events: list[tuple[str | None, Any]] = [(None, delta({"role": "assistant"}))]
        if reply.get("tool_calls"):
            call = reply["tool_calls"][0]
            arguments = call["function"]["arguments"]
            half = len(arguments) // 2
            events.append(
                (
                    None,
                    delta(
                        {
                            "tool_calls": [
                                {
                                    "index": 0,
                                    "id": call["id"],
                                    "type": "function",
                                    "function": {"name": call["function"]["name"], "arguments": ""},
                                }
                            ]
                        }
                    ),
                )
            )
            for piece in (arguments[:half], arguments[half:]):
                events.append(
                    (None, delta({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
                )
        else:
            for word in re.findall(r"\S+\s*", reply["content"]):
                events.append((None, delta({"content": word})))
        events.append((None, delta({}, finish)))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append((None, {**chunk, "choices": [], "usage": usage}))
        events.append((None, "[DONE]"))
        self._events(events)

    def _responses(self, body: dict[str, Any]) -> None:
        given = body.get("input")
        if isinstance(given, str):
            messages = [{"role": "user", "content": given}]
        else:
            messages = [m for m in given or [] if isinstance(m, dict) and "role" in m]
        if body.get("instructions"):
            messages.insert(0, {"role": "system", "content": body["instructions"]})
        text = chat_reply(messages, None)["content"] or ""
        prompt_tokens = sum(_words(_text_of(m.get("content"))) for m in messages)
        usage = {
            "input_tokens": prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": _words(text),
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt_tokens + _words(text),
        }
        message = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
        response = {
            "id": "resp_1",
            "object": "response",
            "created_at": 1_700_000_000,
            "model": body.get("model", "test-model"),
            "status": "completed",
            "output": [message],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": usage,
        }
        if not body.get("stream"):
            self._json(200, response)
            return
        events: list[tuple[str | None, Any]] = [
            (
                "response.created",
                {
                    "type": "response.created",
                    "sequence_number": 0,
                    "response": {**response, "status": "in_progress", "output": []},
                },
            )
        ]
        for n, word in enumerate(re.findall(r"\S+\s*", text), start=1):
            events.append(
                (
                    "response.output_text.delta",
                    {
                        "type": "response.output_text.delta",
                        "sequence_number": n,
                        "item_id": "msg_1",
                        "output_index": 0,
                        "content_index": 0,
                        "delta": word,
                        "logprobs": [],
                    },
                )
            )
        events.append(
            (
                "response.completed",
                {"type": "response.completed", "sequence_number": 99, "response": response},
            )
        )
        self._events(events)

    def _embeddings(self, body: dict[str, Any]) -> None:
        given = body.get("input")
        texts = [given] if isinstance(given, str) else list(given or [])
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": [float(len(str(t))), float(_words(str(t))), 0.5],
            }
            for i, t in enumerate(texts)
        ]
        tokens = sum(_words(str(t)) for t in texts)
        self._json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model", "embed-model"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _completions(self, body: dict[str, Any]) -> None:
        prompt = str(body.get("prompt", ""))
        text = f"echo: {prompt}"
        self._json(
            200,
            {
                "id": "cmpl-1",
                "object": "text_completion",
                "created": 1_700_000_000,
                "model": body.get("model", "test-model"),
                "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
                "usage": {
                    "prompt_tokens": _words(prompt),
                    "completion_tokens": _words(text),
                    "total_tokens": _words(prompt) + _words(text),
                },
            },
        )


class OpenAIHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.chunk_delay = 0.0


class OpenAIServer:
    """Start with ``start()`` (or as a context manager); ``base_url`` for the client."""

    def __init__(self) -> None:
        self.httpd = OpenAIHTTPServer()
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def requests(self) -> list[tuple[str, dict[str, Any]]]:
        return self.httpd.requests

    def start(self) -> OpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
