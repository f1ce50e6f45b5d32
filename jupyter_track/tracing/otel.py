"""OpenTelemetry SDK → jupyter-track: a span processor and a span exporter.

Anything instrumented with the OpenTelemetry SDK lands in the store::

    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from jupyter_track.tracing.otel import JupyterTrackSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(JupyterTrackSpanProcessor())
    trace.set_tracer_provider(provider)

(or ``jupyter_track.tracing.otel.install()``, which does the same on the global provider).
The processor hands each ended span to the kernel's background writer (no I/O on the thread
that ends the span) and records, when a span starts, the run active on that thread, so spans
made inside a run or a ``%%track`` cell link to it. :class:`JupyterTrackSpanExporter` is the
same as an exporter, for a ``BatchSpanProcessor``. Spans are visible to ``jt.get_trace`` and
``jt.search_traces`` as soon as they end. Experiments: the active one, unless the span's
resource names one (``jupyter_track.experiment``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ..store.traces import TraceRecord
from . import core, otlp

RUN_ATTRIBUTE = "mlflow.sourceRun"


def _span(readable: Any) -> otlp.OtelSpan:
    """A plain span from an SDK ``ReadableSpan``."""
    context = readable.context
    parent = readable.parent
    status = readable.status
    code = getattr(getattr(status, "status_code", None), "name", "UNSET")
    return otlp.OtelSpan(
        trace_id=f"{context.trace_id:032x}",
        span_id=f"{context.span_id:016x}",
        parent_id=f"{parent.span_id:016x}" if parent is not None else None,
        name=readable.name or "span",
        start_ns=int(readable.start_time or 0),
        end_ns=int(readable.end_time) if readable.end_time else None,
        status=code if code in ("UNSET", "OK", "ERROR") else "UNSET",
        status_message=getattr(status, "description", None) or None,
        attributes=dict(readable.attributes or {}),
        events=[
            {
                "name": e.name,
                "timestamp": int(e.timestamp or 0),
                "attributes": dict(e.attributes or {}),
            }
            for e in readable.events or ()
        ],
        resource=dict(getattr(readable.resource, "attributes", None) or {}),
    )


class _Pending:
    """Spans of one trace queued to the writer, which calls :meth:`record` on its thread."""

    __slots__ = ("experiment", "spans", "trace_id")

    def __init__(self, spans: list[Any], experiment: tuple[str | None, str | None]):
        self.spans = spans
        self.experiment = experiment
        self.trace_id = f"tr-{spans[0].context.trace_id:032x}"

    def record(self) -> TraceRecord:
        (record,) = otlp.records(
            [_span(s) for s in self.spans],
            experiment_id=self.experiment[0],
            experiment_name=self.experiment[1],
            source="opentelemetry",
        )
        return record


def _queue(spans: Sequence[Any]) -> None:
    by_trace: dict[int, list[Any]] = {}
    for span in spans:
        by_trace.setdefault(span.context.trace_id, []).append(span)
    experiment = core.default_experiment()
    writer = core._writer()
    for group in by_trace.values():
        writer.append_trace(_Pending(group, experiment))


class JupyterTrackSpanProcessor(SpanProcessor):
    """An OpenTelemetry ``SpanProcessor``: ended spans go to the kernel's background writer;
    a span started while a run is active gets the run's id (``mlflow.sourceRun``)."""

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        try:
            from ..tracking import session

            current = session.current()
            run = current.active() or current.cell_run()
            if run is not None and span.is_recording():
                span.set_attribute(RUN_ATTRIBUTE, run.info.run_id)
        except Exception as exc:
            core._warn_once("OpenTelemetry span processor", exc)

    def on_end(self, span: Any) -> None:
        try:
            _queue([span])
        except Exception as exc:
            core._warn_once("OpenTelemetry span processor", exc)

    def shutdown(self) -> None:
        self.force_flush()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        try:
            core.flush_pending()
        except Exception as exc:
            core._warn_once("OpenTelemetry span processor", exc)
            return False
        return True


class JupyterTrackSpanExporter(SpanExporter):
    """An OpenTelemetry ``SpanExporter`` writing into the jupyter-track store (through the
    kernel's background writer); use it with a ``BatchSpanProcessor``."""

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        try:
            _queue(spans)
        except Exception as exc:
            core._warn_once("OpenTelemetry span exporter", exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.force_flush()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        try:
            core.flush_pending()
        except Exception:
            return False
        return True


def install(tracer_provider: Any = None) -> Any:
    """Add a :class:`JupyterTrackSpanProcessor` to ``tracer_provider`` (default: the global
    one, an SDK ``TracerProvider`` set as global when there is none yet); returns it."""
    from opentelemetry import trace as otel_trace
    from opentelemetry.sdk.trace import TracerProvider

    provider = tracer_provider
    if provider is None:
        provider = otel_trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            otel_trace.set_tracer_provider(provider)
    provider.add_span_processor(JupyterTrackSpanProcessor())
    return provider
