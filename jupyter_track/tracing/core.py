"""Recording spans: ``@trace``, ``start_span``, the current span, and handing finished traces
to the kernel's background writer.

The caller's thread does no I/O: a span is a small object in memory; its inputs are encoded
to JSON when the span starts (so a list the caller changes later is recorded as it was) and its
outputs when it ends. When a trace's root span ends, the trace is appended to the background
writer's queue (one ``deque.append``); the writer turns it into rows and writes it. A trace
still running after a moment is written as ``IN_PROGRESS`` by the writer too (so a long agent
run shows up while it runs, and a trace that never ends is kept at exit).

The current span lives in a ``ContextVar``: nested calls, threads and asyncio tasks each see
their own. Nothing here ever raises into the traced code: a failure inside tracing is logged
once and the function runs untraced.
"""

from __future__ import annotations

import _thread
import atexit
import functools
import inspect
import json
import os
import random
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..tracking import context
from . import serialize
from .entities import SpanEvent, SpanStatus, SpanStatusCode, SpanType

if TYPE_CHECKING:
    from ..store.traces import SpanRow, TraceRecord

# This module is what the first traced call imports: it must stay light (no store, no
# pandas, no logging set-up). The store and the writer load on a background thread the first
# time a trace ends (see _hand_over).

_SESSION = "jupyter_track.tracking.session"

F = TypeVar("F", bound=Callable[..., Any])

_now_ns = time.time_ns
_bits = random.getrandbits  # ids as OpenTelemetry's SDK makes them; reseeded after fork

#: the span the running code is inside (per thread and per asyncio task)
_current: ContextVar[LiveSpan | None] = ContextVar("jupyter_track_current_span", default=None)

#: (run id, experiment id) new traces link to, set by ``linked_run`` (evaluation rows run in
#: worker threads, which have no active run of their own)
_linked: ContextVar[tuple[str, str] | None] = ContextVar("jupyter_track_linked_run", default=None)

#: traces whose root span has not ended yet, by trace id (read by the writer's snapshots)
_active: dict[str, ActiveTrace] = {}

SNAPSHOT_AFTER_NS = 1_000_000_000
"""A trace still running after this long is written as IN_PROGRESS (and again as it grows)."""

PREVIEW_CHARS = 1000


class _Last:
    trace_id: str | None = None


_last = _Last()
_thread_last = threading.local()
_warned: set[str] = set()


def _log() -> Any:
    import logging

    return logging.getLogger("jupyter_track.tracing")


def _warn_once(what: str, exc: BaseException) -> None:
    if what not in _warned:
        _warned.add(what)
        _log().warning("jupyter-track: tracing failed (%s): %r; the code runs untraced", what, exc)


def _notebook(trace: ActiveTrace) -> None:
    """Inside IPython, note the trace for the running cell (the widget shown after it)."""
    if "IPython" in sys.modules:
        _display().collect(trace)


@functools.cache
def _display() -> Any:
    """The notebook display module, imported once (not an import statement per trace)."""
    from . import display

    return display


class _Hooks:
    """``on_trace_end`` is called with each finished trace (the notebook display collects
    them); ``disabled`` turns recording off."""

    def __init__(self) -> None:
        self.on_trace_end: Callable[[ActiveTrace], None] | None = _notebook
        self.disabled = os.environ.get("JUPYTER_TRACK_TRACING", "").lower() in ("0", "false", "off")


hooks = _Hooks()


# ------------------------------------------------------------------------------- traces


class ActiveTrace:
    """A trace being recorded: its spans (in start order) and what ``update_current_trace``
    set. Queued to the writer when its root span ends; the writer calls :meth:`record`."""

    __slots__ = (
        "cell_id",
        "changes",
        "client_request_id",
        "experiment_id",
        "experiment_name",
        "finished",
        "metadata",
        "notebook",
        "request_preview",
        "response_preview",
        "root",
        "run_id",
        "snapshot_changes",
        "source",
        "spans",
        "tags",
        "trace_id",
    )

    def __init__(self, trace_id: str):
        self.trace_id = trace_id
        self.spans: list[LiveSpan] = []
        self.root: LiveSpan | None = None
        self.experiment_id: str | None = None
        self.experiment_name: str | None = None
        self.run_id: str | None = None
        self.notebook: str | None = None
        self.cell_id: str | None = None
        self.tags: dict[str, str] = {}
        self.metadata: dict[str, str] = {}
        self.client_request_id: str | None = None
        self.request_preview: str | None = None
        self.response_preview: str | None = None
        self.changes = 0
        self.snapshot_changes = -1
        self.finished = False
        self.source = "python"

    def record(self, final: bool = True) -> TraceRecord:
        """The trace as a store record (on the writer's thread): complete, or a snapshot."""
        make_record, token_usage = _store_parts()
        spans = list(self.spans)
        root = self.root or (spans[0] if spans else None)
        rows: list[SpanRow] = []
        inputs_total = outputs_total = all_total = 0
        has_usage = False
        limit = serialize.limits.max_span_bytes
        for span in spans:
            attributes = span.attributes
            if attributes:
                usage = token_usage(attributes)
                if usage is not None:
                    has_usage = True
                    inputs_total += usage[0]
                    outputs_total += usage[1]
                    all_total += usage[2]
                attributes_json: str | None = serialize.to_json(attributes)
            else:
                attributes_json = None
            events = span.events
            inputs, outputs = serialize.fit(span.inputs, span.outputs, limit)
            end = span.end_ns
            rows.append(
                (
                    span.span_id,
                    span.parent_id,
                    span.name,
                    span.span_type,
                    span.status if end is not None else "UNSET",
                    span.status_message,
                    span.start_ns,
                    end,
                    inputs,
                    outputs,
                    attributes_json,
                    serialize.to_json([e.to_dict() for e in events]) if events else None,
                )
            )
        start_ms = root.start_ns // 1_000_000 if root is not None else int(time.time() * 1000)
        end_ns = root.end_ns if root is not None else None
        if final and root is not None and end_ns is not None:
            status = "ERROR" if root.status == SpanStatusCode.ERROR else "OK"
            end_ms: int | None = end_ns // 1_000_000
            duration: int | None = (end_ns - root.start_ns) // 1_000_000
        else:
            status, end_ms, duration = "IN_PROGRESS", None, None
        request_preview = self.request_preview
        if request_preview is None and root is not None:
            request_preview = _preview(root.inputs, request=True)
        response_preview = self.response_preview
        if response_preview is None and root is not None and final:
            response_preview = _preview(root.outputs, request=False)
        return make_record(
            trace_id=self.trace_id,
            experiment_id=self.experiment_id,
            experiment_name=self.experiment_name,
            run_id=self.run_id,
            name=root.name if root is not None else None,
            status=status,
            start_time=start_ms,
            end_time=end_ms,
            execution_time_ms=duration,
            input_tokens=inputs_total if has_usage else None,
            output_tokens=outputs_total if has_usage else None,
            total_tokens=all_total if has_usage else None,
            request_preview=request_preview,
            response_preview=response_preview,
            client_request_id=self.client_request_id,
            notebook=self.notebook,
            cell_id=self.cell_id,
            source=self.source,
            tags=dict(self.tags),
            metadata=dict(self.metadata),
            spans=rows,
        )


@functools.cache
def _store_parts() -> tuple[Any, Callable[[Any], tuple[int, int, int] | None]]:
    """``TraceRecord`` and ``token_usage``, imported once (the store loads after the first
    trace; an import statement per trace cost the writer a few microseconds each)."""
    from ..store.trace_records import TraceRecord
    from ..store.traces import token_usage

    return TraceRecord, token_usage


_CHAT_MARKERS = ('"messages"', '"choices"', '"input"', '"output_text"')


def _preview(text: str | None, *, request: bool) -> str | None:
    """A short text for lists: the last user message of a chat request, the assistant's
    answer of a chat response, a string's own text, else the JSON itself; at most
    :data:`PREVIEW_CHARS` characters. Only texts that may hold a chat are decoded."""
    if text is None:
        return None
    if text[:1] == '"' and len(text) < 4 * PREVIEW_CHARS:
        try:
            value = json.loads(text)
        except ValueError:
            return text[:PREVIEW_CHARS]
        return str(value)[:PREVIEW_CHARS]
    if text[:1] != "{" or len(text) > 200_000 or not any(m in text for m in _CHAT_MARKERS):
        return text[:PREVIEW_CHARS]
    try:
        value = json.loads(text)
    except ValueError:
        return text[:PREVIEW_CHARS]
    found = _chat_text(value, request)
    return (found if found is not None else text)[:PREVIEW_CHARS]


def _chat_text(value: Any, request: bool) -> str | None:
    if not isinstance(value, dict):
        return None
    if request:
        messages = value.get("messages")
        if isinstance(messages, list):
            for message in reversed(messages):
                if isinstance(message, dict) and message.get("role") == "user":
                    content = message.get("content")
                    if isinstance(content, str):
                        return content
        if isinstance(value.get("input"), str):
            return str(value["input"])
        return None
    choices = value.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message")
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            return str(message["content"])
    if isinstance(value.get("output_text"), str):
        return str(value["output_text"])
    return None


# -------------------------------------------------------------------------------- spans


class LiveSpan:
    """A span being recorded (returned by ``start_span`` and ``get_current_active_span``).

    ``set_inputs``/``set_outputs`` encode the value to JSON at once; ``set_attribute(s)``
    copies non-scalar values; nothing raises into the caller.
    """

    __slots__ = (
        "_token",
        "attributes",
        "end_ns",
        "events",
        "inputs",
        "name",
        "outputs",
        "parent_id",
        "span_id",
        "span_type",
        "start_ns",
        "status",
        "status_message",
        "trace",
    )

    def __init__(
        self,
        trace: ActiveTrace,
        parent_id: str | None,
        name: str,
        span_type: str,
        attributes: dict[str, Any],
    ):
        self.trace = trace
        self.span_id = f"{_bits(64):016x}"
        self.parent_id = parent_id
        self.name = name
        self.span_type = span_type
        self.start_ns = _now_ns()
        self.end_ns: int | None = None
        self.inputs: str | None = None
        self.outputs: str | None = None
        self.attributes = attributes
        self.events: list[SpanEvent] = []
        self.status = SpanStatusCode.UNSET
        self.status_message: str | None = None
        self._token: Any = None

    # MLflow's names
    @property
    def trace_id(self) -> str:
        return self.trace.trace_id

    request_id = trace_id

    @property
    def start_time_ns(self) -> int:
        return self.start_ns

    @property
    def end_time_ns(self) -> int | None:
        return self.end_ns

    def set_inputs(self, inputs: Any) -> None:
        """Record the span's inputs (encoded to JSON now)."""
        self.inputs = serialize.to_json(inputs)
        self.trace.changes += 1

    def set_outputs(self, outputs: Any) -> None:
        """Record the span's outputs (encoded to JSON now)."""
        self.outputs = serialize.to_json(outputs)
        self.trace.changes += 1

    def set_attribute(self, key: str, value: Any) -> None:
        try:
            self.attributes[str(key)] = serialize.attribute_value(value)
        except Exception as exc:  # pragma: no cover - attribute_value does not raise
            _warn_once("set_attribute", exc)

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def get_attribute(self, key: str) -> Any:
        return self.attributes.get(key)

    def add_event(
        self,
        event: SpanEvent | str,
        attributes: Mapping[str, Any] | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Add a :class:`SpanEvent` (or an event by name, with attributes)."""
        try:
            if not isinstance(event, SpanEvent):
                event = SpanEvent(
                    str(event),
                    timestamp or _now_ns(),
                    {str(k): serialize.attribute_value(v) for k, v in (attributes or {}).items()},
                )
            elif not event.timestamp:
                event = SpanEvent(event.name, _now_ns(), event.attributes)
            self.events.append(event)
        except Exception as exc:
            _warn_once("add_event", exc)

    def set_status(self, status: SpanStatus | str, description: str | None = None) -> None:
        """``"OK"``, ``"ERROR"`` (or a :class:`SpanStatus`), with an optional description."""
        if isinstance(status, SpanStatus):
            code, message = status.status_code, status.description or description
        else:
            code, message = str(getattr(status, "value", status)).upper(), description
            if code.startswith("STATUSCODE."):
                code = code.split(".", 1)[1]
        if code not in SpanStatusCode.ALL:
            _log().warning("jupyter-track: span status %r is not OK, ERROR or UNSET", status)
            return
        self.status = code
        self.status_message = message or None

    def record_exception(self, exception: BaseException) -> None:
        """Mark the span ERROR and add the exception as an ``exception`` event."""
        self.status = SpanStatusCode.ERROR
        self.status_message = f"{type(exception).__name__}: {exception}"
        try:
            import traceback

            stack = "".join(
                traceback.format_exception(type(exception), exception, exception.__traceback__)
            )
        except Exception:
            stack = ""
        self.events.append(
            SpanEvent(
                "exception",
                _now_ns(),
                {
                    "exception.type": type(exception).__name__,
                    "exception.message": str(exception),
                    "exception.stacktrace": stack[-20_000:],
                },
            )
        )

    def end(
        self,
        outputs: Any = None,
        attributes: Mapping[str, Any] | None = None,
        status: SpanStatus | str | None = None,
        end_time_ns: int | None = None,
    ) -> None:
        """End the span (idempotent); a root span's end hands the trace to the writer."""
        if self.end_ns is not None:
            return
        if outputs is not None:
            self.set_outputs(outputs)
        if attributes:
            self.set_attributes(attributes)
        if status is not None:
            self.set_status(status)
        _finish(self, end_time_ns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "span_type": self.span_type,
            "start_time_ns": self.start_ns,
            "end_time_ns": self.end_ns,
            "status": SpanStatus(self.status, self.status_message or "").to_dict(),
            "attributes": dict(self.attributes),
        }

    def __repr__(self) -> str:
        return (
            f"LiveSpan(name={self.name!r}, span_type={self.span_type!r}, "
            f"span_id={self.span_id!r}, trace_id={self.trace_id!r})"
        )


class _NoOpSpan:
    """Returned by ``start_span`` when tracing is off or failed: every method does nothing."""

    trace_id = request_id = span_id = parent_id = None
    name = ""
    span_type = SpanType.UNKNOWN
    inputs = outputs = None
    attributes: dict[str, Any] = {}

    def _noop(self, *args: Any, **kwargs: Any) -> None:
        return None

    set_inputs = set_outputs = set_attribute = set_attributes = add_event = _noop
    set_status = record_exception = end = _noop

    def get_attribute(self, key: str) -> Any:
        return None


NO_OP_SPAN = _NoOpSpan()


def _env_reader() -> Callable[[str], str | None]:
    """``os.environ.get`` without its per-call key encoding where the platform allows it
    (a trace reads four variables; ``os.environ.get`` costs about half a microsecond each)."""
    data = getattr(os.environ, "_data", None)
    if os.name != "posix" or not isinstance(data, dict):  # pragma: no cover - Windows
        return os.environ.get
    get = data.get
    encoding = sys.getfilesystemencoding()

    def read(name: str) -> str | None:
        raw = get(name.encode(encoding))
        return None if raw is None else raw.decode(encoding, "surrogateescape")

    return read


_getenv = _env_reader()


def _environment_experiment() -> tuple[str | None, str | None]:
    """(id, name) of the experiment the environment names (a name is created when new)."""
    name = _getenv("JUPYTER_TRACK_EXPERIMENT_NAME") or _getenv("MLFLOW_EXPERIMENT_NAME")
    if name:
        return None, name
    return _getenv("MLFLOW_EXPERIMENT_ID") or "0", None


def default_experiment() -> tuple[str | None, str | None]:
    """(experiment id, experiment name) a trace started now on this thread goes to: the active
    run's, else the active experiment, else the environment's, else the default."""
    from ..tracking import session

    current = session.current()
    run = current.active() or current.cell_run()
    if run is not None:
        return run.info.experiment_id, None
    if current.experiment_id is not None:
        return current.experiment_id, None
    return _environment_experiment()


def _new_trace() -> ActiveTrace:
    """A new trace, linked to the active run (or the active experiment) and the cell."""
    trace = ActiveTrace(f"tr-{_bits(128):032x}")
    linked = _linked.get()
    if linked is not None:
        trace.run_id, trace.experiment_id = linked
        trace.metadata["mlflow.sourceRun"] = linked[0]
        trace.cell_id = context.current.cell_id
        trace.notebook = _getenv("JPY_SESSION_NAME")
        _active[trace.trace_id] = trace
        return trace
    module = sys.modules.get(_SESSION)  # not loaded yet: no run can be active
    session = module.current() if module is not None else None
    run = None
    if session is not None:
        run = session.active() or session.cell_run()
    if run is not None:
        info = run.info
        trace.run_id = info.run_id
        trace.experiment_id = info.experiment_id
        trace.metadata["mlflow.sourceRun"] = info.run_id
    elif session is not None and session.experiment_id is not None:
        trace.experiment_id = session.experiment_id
    else:
        trace.experiment_id, trace.experiment_name = _environment_experiment()
    trace.cell_id = context.current.cell_id
    trace.notebook = _getenv("JPY_SESSION_NAME")
    _active[trace.trace_id] = trace
    return trace


def _open(
    name: str, span_type: str, attributes: Mapping[str, Any] | None, parent: LiveSpan | None
) -> LiveSpan:
    """A started span under ``parent`` (a new trace when there is none)."""
    if parent is None or parent.trace.finished:
        trace = _new_trace()
        parent_id = None
    else:
        trace = parent.trace
        parent_id = parent.span_id
    span = LiveSpan(
        trace,
        parent_id,
        name,
        span_type,
        {str(k): serialize.attribute_value(v) for k, v in attributes.items()} if attributes else {},
    )
    if parent_id is None:
        trace.root = span
    trace.spans.append(span)
    trace.changes += 1
    return span


def _finish(span: LiveSpan, end_ns: int | None = None) -> None:
    """End ``span``; at the root, queue the trace to the writer (never raises)."""
    span.end_ns = end_ns or _now_ns()
    if span.status == SpanStatusCode.UNSET:
        span.status = SpanStatusCode.OK
    trace = span.trace
    trace.changes += 1
    if span is not trace.root:
        return
    trace.finished = True
    _active.pop(trace.trace_id, None)
    _last.trace_id = trace.trace_id
    _thread_last.trace_id = trace.trace_id
    try:
        _hand_over(trace)
        on_end = hooks.on_trace_end
        if on_end is not None:
            on_end(trace)
    except Exception as exc:
        _warn_once("queueing a trace", exc)


class _Boot:
    """Traces that ended before the store and the writer were loaded, and the thread that
    loads them (importing the store takes tens of milliseconds: not on the caller's thread)."""

    early: deque[ActiveTrace] = deque()
    lock = threading.Lock()
    ready = threading.Event()
    #: the boot thread's id once started (a bare ``_thread`` thread: ``threading.Thread.start``
    #: waits until the new thread runs, a scheduler round trip the traced call would pay)
    thread: int | None = None
    error: BaseException | None = None


def _hand_over(trace: ActiveTrace) -> None:
    """Queue a finished trace to the kernel's background writer."""
    if _Boot.ready.is_set():
        writer = sys.modules[_SESSION].current().started_writer
        if writer is None or writer.trace_snapshots is None:
            writer = _writer()
        writer.append_trace(trace)
        return
    with _Boot.lock:
        if not _Boot.ready.is_set():
            _Boot.early.append(trace)
            if _Boot.thread is None:
                _Boot.thread = _thread.start_new_thread(_boot, ())
            return
    _hand_over(trace)


BOOT_DELAY_S = 0.005
"""The boot thread lets the caller run this long before it imports the store (imports hold
the interpreter lock: started at once they would slow the traced call that started them)."""


def _boot() -> None:
    time.sleep(BOOT_DELAY_S)
    try:
        writer = _writer()
    except BaseException as exc:  # reported by wait_ready()
        _Boot.error = exc
        writer = None
    with _Boot.lock:
        while _Boot.early:
            trace = _Boot.early.popleft()
            if writer is not None:
                writer.append_trace(trace)
        _Boot.ready.set()


def wait_ready(timeout: float = 30.0) -> None:
    """Wait until traces that ended early are in the writer's queue (readers and flushes call
    this)."""
    thread = _Boot.thread
    if thread is not None and not _Boot.ready.is_set() and thread != threading.get_ident():
        _Boot.ready.wait(timeout)
    if _Boot.error is not None:
        error, _Boot.error = _Boot.error, None
        raise error


def flush_pending() -> None:
    """Make every finished trace (and a snapshot of every running one) durable: readers call
    this before they read."""
    wait_ready()
    if _active:
        _writer()  # a running trace and no writer yet: its snapshot needs one
    from ..tracking import session

    session.current().flush()


@atexit.register
def _keep_traces_at_exit() -> None:
    """At exit, traces that ended while the writer was still being set up are written, and
    traces still running are written as IN_PROGRESS (the writer's own exit flush, which runs
    before this one, covers the rest)."""
    booting = _Boot.thread is not None
    if not _active and not booting:
        return
    try:
        wait_ready()
    except Exception:
        return
    try:
        from ..tracking import session
        from ..tracking.writer import BackgroundWriter

        current = session.current()
        writer = current.started_writer or BackgroundWriter(current.store)  # no thread
    except Exception:
        return
    writer.trace_snapshots = snapshots
    writer.flush(raise_errors=False, closing=True)


def _writer() -> Any:
    """The kernel's background writer, with this module's snapshots attached."""
    from ..tracking import session

    writer = session.current().writer
    if writer.trace_snapshots is None:
        writer.trace_snapshots = snapshots
    return writer


def snapshots(closing: bool = False) -> list[TraceRecord]:
    """IN_PROGRESS records of traces running for a while (all of them when ``closing``)."""
    now = _now_ns()
    out = []
    for trace in list(_active.values()):
        root = trace.root
        if root is None or trace.finished:
            continue
        if not closing and now - root.start_ns < SNAPSHOT_AFTER_NS:
            continue
        changes = trace.changes
        if changes == trace.snapshot_changes:
            continue
        trace.snapshot_changes = changes
        try:
            out.append(trace.record(final=False))
        except Exception as exc:
            _warn_once("writing a running trace", exc)
    return out


# ----------------------------------------------------------------------------- start_span


@contextmanager
def start_span(
    name: str = "span",
    span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[LiveSpan]:
    """``with jt.start_span("retrieve", span_type=SpanType.RETRIEVER) as span:`` records the
    block as a span (a new trace when no span is active). An exception marks it ERROR (with
    the exception as an event) and propagates unchanged."""
    span: Any = NO_OP_SPAN
    token = None
    if not hooks.disabled:
        try:
            span = _open(str(name), str(span_type), attributes, _current.get())
            token = _current.set(span)
        except Exception as exc:
            _warn_once("start_span", exc)
            span = NO_OP_SPAN
    try:
        yield span
    except BaseException as exc:
        if token is not None:
            _current.reset(token)
            token = None
            try:
                span.record_exception(exc)
                _finish(span)
            except Exception as inner:
                _warn_once("ending a span", inner)
        raise
    finally:
        if token is not None:
            _current.reset(token)
            try:
                if span.end_ns is None:
                    _finish(span)
            except Exception as inner:
                _warn_once("ending a span", inner)


@contextmanager
def linked_run(run_id: str, experiment_id: str) -> Iterator[None]:
    """Traces started inside the block (in this context) link to ``run_id``."""
    token = _linked.set((run_id, str(experiment_id)))
    try:
        yield
    finally:
        _linked.reset(token)


def start_span_no_context(
    name: str,
    span_type: str = SpanType.UNKNOWN,
    parent_span: LiveSpan | None = None,
    inputs: Any = None,
    attributes: Mapping[str, Any] | None = None,
) -> LiveSpan:
    """A span that is not made current (end it with ``span.end()``): for callbacks and
    instrumentation that start and end spans in different places."""
    span = _open(str(name), str(span_type), attributes, parent_span)
    if inputs is not None:
        span.set_inputs(inputs)
    return span


def get_current_active_span() -> LiveSpan | None:
    """The span the running code is inside, or None."""
    return _current.get()


def get_last_active_trace_id(thread_local: bool = False) -> str | None:
    """The id of the trace that ended last in this process (or in this thread)."""
    if thread_local:
        return getattr(_thread_last, "trace_id", None)
    return _last.trace_id


def update_current_trace(
    tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    client_request_id: str | None = None,
    request_preview: str | None = None,
    response_preview: str | None = None,
) -> None:
    """Set tags, metadata, a client request id or the previews of the running trace."""
    span = _current.get()
    if span is None:
        _log().warning("jupyter-track: update_current_trace() outside a trace does nothing")
        return
    trace = span.trace
    for key, value in (tags or {}).items():
        trace.tags[str(key)] = value if isinstance(value, str) else serialize.to_json(value)
    for key, value in (metadata or {}).items():
        trace.metadata[str(key)] = value if isinstance(value, str) else serialize.to_json(value)
    if client_request_id is not None:
        trace.client_request_id = str(client_request_id)
    if request_preview is not None:
        trace.request_preview = str(request_preview)[:PREVIEW_CHARS]
    if response_preview is not None:
        trace.response_preview = str(response_preview)[:PREVIEW_CHARS]
    trace.changes += 1


# --------------------------------------------------------------------------------- @trace


class _Signature:
    """How to turn a call's arguments into the span's inputs, worked out once per function."""

    __slots__ = ("defaults", "names", "sig", "simple", "skip_first")

    def __init__(self, func: Callable[..., Any]):
        try:
            sig: inspect.Signature | None = inspect.signature(func)
        except (TypeError, ValueError):
            sig = None
        self.sig = sig
        self.names: tuple[str, ...] = ()
        self.defaults: dict[str, Any] = {}
        self.simple = False
        self.skip_first = False
        if sig is None:
            return
        params = list(sig.parameters.values())
        self.skip_first = bool(params) and params[0].name in ("self", "cls")
        kinds = {inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD}
        self.simple = all(p.kind in kinds for p in params)
        if self.simple:
            self.names = tuple(p.name for p in params)
            self.defaults = {p.name: p.default for p in params if p.default is not p.empty}

    def inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.simple and not kwargs and len(args) <= len(self.names):
            inputs = dict(zip(self.names, args))
            if len(args) < len(self.names) and self.defaults:
                for name, default in self.defaults.items():
                    if name not in inputs:
                        inputs[name] = default
        elif self.sig is not None:
            try:
                bound = self.sig.bind(*args, **kwargs)
                bound.apply_defaults()
                inputs = dict(bound.arguments)
            except TypeError:  # the call itself will raise the same error
                inputs = {"args": list(args), **kwargs}
        else:
            inputs = {"args": list(args), **kwargs}
        if self.skip_first and inputs:
            first = next(iter(inputs))
            if first in ("self", "cls"):
                del inputs[first]
        return inputs


@overload
def trace(func: F) -> F: ...


@overload
def trace(
    func: None = None,
    name: str | None = None,
    span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
    output_reducer: Callable[[list[Any]], Any] | None = None,
) -> Callable[[F], F]: ...


def trace(
    func: Any = None,
    name: str | None = None,
    span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
    output_reducer: Callable[[list[Any]], Any] | None = None,
) -> Any:
    """Record each call of a function as a span: ``@jt.trace`` or ``@jt.trace(name=...,
    span_type=..., attributes=...)``.

    Works on functions, methods, async functions, generators and async generators. The
    arguments are the span's inputs, the return value its outputs; a generator's outputs are
    the items it yielded (or ``output_reducer(items)``), recorded when the stream ends. An
    exception marks the span ERROR, is added as an event and is re-raised unchanged.
    """

    def decorate(fn: Any) -> Any:
        if isinstance(fn, (staticmethod, classmethod)):
            return type(fn)(decorate(fn.__func__))
        span_name = name or getattr(fn, "__name__", None) or "span"
        return _wrap(fn, str(span_name), str(span_type), attributes, output_reducer)

    if func is not None:
        return decorate(func)
    return decorate


def _wrap(
    fn: Any,
    name: str,
    span_type: str,
    attributes: Mapping[str, Any] | None,
    output_reducer: Callable[[list[Any]], Any] | None,
) -> Any:
    signature = _Signature(fn)
    attrs = dict(attributes) if attributes else None

    def enter(args: tuple[Any, ...], kwargs: dict[str, Any]) -> LiveSpan | None:
        if hooks.disabled:
            return None
        try:
            span = _open(name, span_type, attrs, _current.get())
            span.inputs = serialize.to_json(signature.inputs(args, kwargs))
            return span
        except Exception as exc:
            _warn_once(f"starting span {name}", exc)
            return None

    def leave(span: LiveSpan, result: Any) -> None:
        try:
            span.outputs = serialize.to_json(result)
            _finish(span)
        except Exception as exc:
            _warn_once(f"ending span {name}", exc)

    def fail(span: LiveSpan, exc: BaseException) -> None:
        try:
            span.record_exception(exc)
            _finish(span)
        except Exception as inner:
            _warn_once(f"ending span {name}", inner)

    if inspect.isasyncgenfunction(fn):

        @functools.wraps(fn)
        async def async_gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            span = enter(args, kwargs)
            agen = fn(*args, **kwargs)
            if span is None:
                async for item in agen:
                    yield item
                return
            items: list[Any] = []
            sent: Any = None
            try:
                while True:
                    token = _current.set(span)
                    try:
                        item = await agen.asend(sent)
                    finally:
                        _current.reset(token)
                    items.append(item)
                    sent = yield item
            except StopAsyncIteration:
                leave(span, _reduce(items, output_reducer))
            except GeneratorExit:
                await agen.aclose()
                leave(span, _reduce(items, output_reducer))
                raise
            except BaseException as exc:
                fail(span, exc)
                raise

        async_gen_wrapper.__jt_traced__ = True  # type: ignore[attr-defined]
        return async_gen_wrapper

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            span = enter(args, kwargs)
            gen = fn(*args, **kwargs)
            if span is None:
                return (yield from gen)
            items: list[Any] = []
            sent: Any = None
            try:
                while True:
                    token = _current.set(span)
                    try:
                        item = gen.send(sent)
                    finally:
                        _current.reset(token)
                    items.append(item)
                    sent = yield item
            except StopIteration as stop:
                leave(span, _reduce(items, output_reducer))
                return stop.value
            except GeneratorExit:
                gen.close()
                leave(span, _reduce(items, output_reducer))
                raise
            except BaseException as exc:
                fail(span, exc)
                raise

        gen_wrapper.__jt_traced__ = True  # type: ignore[attr-defined]
        return gen_wrapper

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            span = enter(args, kwargs)
            if span is None:
                return await fn(*args, **kwargs)
            token = _current.set(span)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                _current.reset(token)
                fail(span, exc)
                raise
            _current.reset(token)
            leave(span, result)
            return result

        async_wrapper.__jt_traced__ = True  # type: ignore[attr-defined]
        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = enter(args, kwargs)
        if span is None:
            return fn(*args, **kwargs)
        token = _current.set(span)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            _current.reset(token)
            fail(span, exc)
            raise
        _current.reset(token)
        leave(span, result)
        return result

    wrapper.__jt_traced__ = True  # type: ignore[attr-defined]
    return wrapper


def _reduce(items: list[Any], reducer: Callable[[list[Any]], Any] | None) -> Any:
    if reducer is None:
        if items and all(isinstance(i, str) for i in items):
            return "".join(items)
        return items
    try:
        return reducer(items)
    except Exception as exc:
        _warn_once("output_reducer", exc)
        return items
