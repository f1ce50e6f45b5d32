"""LLM and agent observability: traces and spans, assessments, instrumentation, evaluation.

``import jupyter_track as jt`` gives MLflow's tracing names: ``@jt.trace``, ``jt.start_span``,
``jt.update_current_trace``, ``jt.get_current_active_span``, ``jt.get_last_active_trace_id``,
``jt.get_trace``, ``jt.search_traces``, ``jt.delete_traces``, ``jt.set_trace_tag``,
``jt.log_feedback``, ``jt.log_expectation``. Spans are recorded in memory and written by the
kernel's background writer (no I/O on the caller's thread).

Parts: :mod:`.core` (recording), :mod:`.api` (reading and annotating),
:mod:`.entities` (Trace, Span, SpanType, Feedback ...), :mod:`.serialize` (payloads as JSON).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import serialize
from .core import (
    LiveSpan,
    get_current_active_span,
    get_last_active_trace_id,
    start_span,
    start_span_no_context,
    trace,
    update_current_trace,
)
from .entities import (
    Assessment,
    AssessmentSource,
    AssessmentSourceType,
    Expectation,
    Feedback,
    Span,
    SpanEvent,
    SpanStatus,
    SpanStatusCode,
    SpanType,
    Trace,
    TraceData,
    TraceInfo,
    TraceState,
    TraceStatus,
)

if TYPE_CHECKING:
    from .api import (
        delete_assessment,
        delete_trace_tag,
        delete_traces,
        get_assessment,
        get_trace,
        log_assessment,
        log_expectation,
        log_feedback,
        search_traces,
        set_trace_tag,
    )
    from .display import show_traces
    from .evaluation import EvaluationResult, compare_evaluations, evaluate
    from .scorers import scorer

# The recording side (core, entities) is light and loaded at once; the reading side (the
# store, pandas) on first use, so the first traced call stays fast.
_LAZY = {
    "delete_assessment": "api",
    "delete_trace_tag": "api",
    "delete_traces": "api",
    "get_assessment": "api",
    "get_trace": "api",
    "log_assessment": "api",
    "log_expectation": "api",
    "log_feedback": "api",
    "search_traces": "api",
    "set_trace_tag": "api",
    "show_traces": "display",
    "evaluate": "evaluation",
    "compare_evaluations": "evaluation",
    "EvaluationResult": "evaluation",
    "scorer": "scorers",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jupyter_track.tracing' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = [
    "Assessment",
    "AssessmentSource",
    "AssessmentSourceType",
    "EvaluationResult",
    "Expectation",
    "Feedback",
    "LiveSpan",
    "Span",
    "SpanEvent",
    "SpanStatus",
    "SpanStatusCode",
    "SpanType",
    "Trace",
    "TraceData",
    "TraceInfo",
    "TraceState",
    "TraceStatus",
    "compare_evaluations",
    "configure",
    "delete_assessment",
    "delete_trace_tag",
    "delete_traces",
    "disable",
    "disable_notebook_display",
    "enable",
    "enable_notebook_display",
    "evaluate",
    "get_assessment",
    "get_current_active_span",
    "get_last_active_trace_id",
    "get_trace",
    "log_assessment",
    "log_expectation",
    "log_feedback",
    "scorer",
    "search_traces",
    "set_trace_tag",
    "show_traces",
    "start_span",
    "start_span_no_context",
    "trace",
    "update_current_trace",
]


def configure(
    *,
    max_span_bytes: int | None = None,
    display: bool | None = None,
    max_displayed: int | None = None,
) -> dict[str, Any]:
    """Tracing settings; returns them all.

    ``max_span_bytes``: inputs + outputs of one span above this size are truncated with a
    marker (default 1,000,000; also ``JUPYTER_TRACK_MAX_SPAN_BYTES``). ``display``: show the
    trace widget after a notebook cell that made traces (default on; also
    ``JUPYTER_TRACK_TRACE_DISPLAY=0``); ``max_displayed``: at most this many traces in it
    (default 10).
    """
    from ..store import InvalidInput
    from . import display as notebook

    if max_span_bytes is not None:
        if isinstance(max_span_bytes, bool) or not isinstance(max_span_bytes, int):
            raise InvalidInput(f"max_span_bytes {max_span_bytes!r}: must be an integer")
        serialize.limits.max_span_bytes = max(256, max_span_bytes)
    if max_displayed is not None and (
        isinstance(max_displayed, bool) or not isinstance(max_displayed, int) or max_displayed < 0
    ):
        raise InvalidInput(f"max_displayed {max_displayed!r}: must be a non-negative integer")
    notebook.configure(enabled=display, max_displayed=max_displayed)
    return {
        "max_span_bytes": serialize.limits.max_span_bytes,
        "display": notebook.settings.enabled,
        "max_displayed": notebook.settings.max_displayed,
    }


def disable_notebook_display() -> None:
    """Do not show the trace widget after cells (MLflow's name)."""
    configure(display=False)


def enable_notebook_display() -> None:
    """Show the trace widget after cells that made traces again (MLflow's name)."""
    configure(display=True)


def disable() -> None:
    """Stop recording spans (``@jt.trace`` functions run untraced) until :func:`enable`."""
    from .core import hooks

    hooks.disabled = True


def enable() -> None:
    """Record spans again after :func:`disable`."""
    from .core import hooks

    hooks.disabled = False
