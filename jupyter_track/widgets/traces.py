"""The trace widget: the trace view (``js/traces.ts`` mounting ``src/traceview/view.ts``, the
same view as the sidebar's Traces tab) for one or more traces, fed by the kernel.

Its data is :func:`jupyter_track.payloads.trace_detail` per trace (what ``GET traces/{id}``
answers), with very large inputs and outputs cut for the notebook (the store keeps them
whole). Where widgets cannot run (nbconvert without widget state, GitHub), the output carries
an escaped HTML table of each trace's spans with a waterfall drawn in plain HTML.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

import traitlets

from .. import payloads
from ..formatting import format_duration, format_time
from ..tracing.serialize import truncated
from ._common import TrackWidget, bundle

MAX_PAYLOAD_CHARS = 100_000
"""Inputs or outputs of a span longer than this are cut in the widget's data."""


def widget_payload(stored: Any) -> dict[str, Any]:
    """``trace_detail`` of a stored trace, with payloads over :data:`MAX_PAYLOAD_CHARS` cut."""
    detail = payloads.trace_detail(stored)
    for span in detail["spans"]:
        for key in ("inputs", "outputs"):
            text = span[key]
            if text is not None and len(text) > MAX_PAYLOAD_CHARS:
                span[key] = truncated(text, MAX_PAYLOAD_CHARS)
    return detail


class TraceWidget(TrackWidget):
    """One or more traces in the trace view; ``selected`` is the index of the one shown and
    ``selected_span`` the id of the span shown (both can be set from Python)."""

    _esm = bundle("traces.js")
    _css = bundle("widgets.css") + "\n" + bundle("traceview.css")

    traces = traitlets.List(traitlets.Dict()).tag(sync=True)
    selected = traitlets.Int(0).tag(sync=True)
    selected_span = traitlets.Unicode("").tag(sync=True)

    def __init__(self, stored: Sequence[Any]):
        super().__init__()
        self.traces = [widget_payload(s) for s in stored]

    @property
    def trace_ids(self) -> list[str]:
        return [t["info"]["trace_id"] for t in self.traces]

    def _static_text(self) -> str:
        lines = []
        for trace in self.traces:
            info = trace["info"]
            lines.append(
                f"Trace {info['trace_id']} {info['name'] or ''} {info['status']} "
                f"{format_duration(info['execution_time_ms'])} {len(trace['spans'])} spans"
            )
        return "\n".join(lines) or "<no traces>"

    def _static_html(self) -> str:
        return "".join(trace_html(t) for t in self.traces) or "<p>no traces</p>"


def _depths(spans: list[dict[str, Any]]) -> list[tuple[dict[str, Any], int]]:
    """Spans in tree order with their depth (as the view's ``spanTree``)."""
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in spans:
        parent = span["parent_id"] if span["parent_id"] in ids else None
        children.setdefault(parent, []).append(span)
    for items in children.values():
        items.sort(key=lambda s: s["start_us"])
    out: list[tuple[dict[str, Any], int]] = []
    stack = [(s, 0) for s in reversed(children.get(None, []))]
    seen: set[str] = set()
    while stack:
        span, depth = stack.pop()
        if span["span_id"] in seen:
            continue
        seen.add(span["span_id"])
        out.append((span, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(span["span_id"], [])))
    return out


def _preview(text: str | None, limit: int = 300) -> str:
    if text is None:
        return ""
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def trace_html(trace: dict[str, Any]) -> str:
    """One trace as static HTML: a summary line and its spans with a plain-HTML waterfall.
    Every user-written string is escaped."""
    e = html.escape
    info = trace["info"]
    spans = trace["spans"]
    end = max([s["end_us"] or s["start_us"] for s in spans] or [0]) or 1
    tokens = info.get("tokens")
    summary = [
        f"<b>{e(info['name'] or info['trace_id'])}</b>",
        e(info["status"]),
        e(format_duration(info["execution_time_ms"])) or "running",
        f"{len(spans)} spans",
    ]
    if tokens:
        summary.append(f"{tokens['total']} tokens")
    summary.append(e(format_time(info["start_time"])))
    summary.append(f"<code>{e(info['trace_id'])}</code>")
    rows = []
    for span, depth in _depths(spans):
        start, stop = span["start_us"], span["end_us"]
        left = 100 * start / end
        width = max(0.5, 100 * ((stop if stop is not None else end) - start) / end)
        duration = "running" if stop is None else format_duration((stop - start) / 1000)
        color = "#d32f2f" if span["status"] == "ERROR" else "#4c78a8"
        bar = (
            f'<div style="position:relative;height:10px;min-width:120px">'
            f'<div style="position:absolute;left:{left:.2f}%;width:{width:.2f}%;height:10px;'
            f'background:{color}"></div></div>'
        )
        rows.append(
            "<tr>"
            f'<td style="padding-left:{depth * 14}px">{e(span["name"])}</td>'
            f"<td>{e(span['span_type'])}</td><td>{e(span['status'])}</td>"
            f"<td>{e(duration)}</td><td>{bar}</td></tr>"
        )
    root = next((s for s, d in _depths(spans) if d == 0), None)
    io = ""
    if root is not None:
        io = (
            f"<p><b>Inputs:</b> <code>{e(_preview(root['inputs']))}</code><br>"
            f"<b>Outputs:</b> <code>{e(_preview(root['outputs']))}</code></p>"
        )
    assessments = "".join(
        f"<li>{e(a['kind'])} <b>{e(a['name'])}</b>: {e(json.dumps(a['value']))}"
        + (f" &mdash; {e(a['rationale'])}" if a.get("rationale") else "")
        + "</li>"
        for a in trace.get("assessments", [])
    )
    return (
        '<div class="jp-Track-static-trace">'
        f"<p>Trace: {' · '.join(summary)}</p>{io}"
        '<table class="jp-Track-static"><thead><tr><th>span</th><th>type</th><th>status</th>'
        f"<th>duration</th><th>timeline</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        + (f"<ul>{assessments}</ul>" if assessments else "")
        + "</div>"
    )
