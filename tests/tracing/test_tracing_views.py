"""Seeing traces in notebooks: the trace widget's data and static HTML, ``jt.show_traces``, and
a real kernel (nbclient) showing the widget after cells that made traces, for a displayed
``Trace`` and for a ``search_traces()`` result -- and not when display is turned off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

import jupyter_track as jt
from jupyter_track.store import InvalidInput
from jupyter_track.tracing import display
from jupyter_track.widgets.traces import MAX_PAYLOAD_CHARS, TraceWidget

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def make_traces() -> list[str]:
    @jt.trace(name="<b>answer</b>", span_type="CHAIN")
    def answer(question: str) -> str:
        with jt.start_span("<script>alert(1)</script>", span_type="TOOL") as span:
            span.set_outputs("</td><img src=x onerror=alert(1)>")
        return "Paris"

    @jt.trace
    def fails() -> None:
        raise ValueError("nope")

    answer("capital?")
    first = jt.get_last_active_trace_id()
    with pytest.raises(ValueError):
        fails()
    second = jt.get_last_active_trace_id()
    assert first and second
    jt.log_feedback(first, "correct", True, rationale="<i>right</i>")
    return [first, second]


def test_widget_data_is_the_rest_payload() -> None:
    first, second = make_traces()
    widget = jt.show_traces([first, second])
    assert isinstance(widget, TraceWidget)
    assert widget.trace_ids == [first, second]
    detail = widget.traces[0]
    assert detail["info"]["name"] == "<b>answer</b>"
    assert [s["name"] for s in detail["spans"]] == ["<b>answer</b>", "<script>alert(1)</script>"]
    assert detail["assessments"][0]["name"] == "correct"
    assert widget.traces[1]["info"]["status"] == "ERROR"
    # what the REST route answers for the same trace, cut for nothing here
    from jupyter_track import payloads
    from jupyter_track.tracking import session

    assert detail == payloads.trace_detail(session.current().store.get_trace(first))


def test_static_html_escapes_every_user_string() -> None:
    make_traces()
    page = jt.show_traces()._static_html()
    assert "<script>" not in page and "<img" not in page and "<b>answer" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;i&gt;right&lt;/i&gt;" in page  # the feedback's rationale
    assert "ERROR" in page and "OK" in page


def test_show_traces_accepts_traces_ids_frames_and_filters() -> None:
    first, second = make_traces()
    trace = jt.get_trace(first)
    assert jt.show_traces(trace).trace_ids == [first]
    assert jt.show_traces(first).trace_ids == [first]
    assert jt.show_traces(jt.search_traces()).trace_ids == [second, first]
    assert jt.show_traces(filter_string="status = 'ERROR'").trace_ids == [second]
    assert jt.show_traces(max_results=1).trace_ids == [second]
    with pytest.raises(InvalidInput, match="traces"):
        jt.show_traces(42)
    with pytest.raises(InvalidInput, match="max_results"):
        jt.show_traces(max_results=0)
    bundle = trace._repr_mimebundle_()  # a Trace displays as the widget
    assert WIDGET_VIEW in bundle[0] and "answer" in bundle[0]["text/plain"]


def test_big_payloads_are_cut_for_the_notebook_only() -> None:
    @jt.trace
    def echo(text: str) -> str:
        return text

    echo("y" * (MAX_PAYLOAD_CHARS + 10))
    widget = jt.show_traces()
    outputs = widget.traces[0]["spans"][0]["outputs"]
    assert "jupyter_track.truncated" in outputs and len(outputs) < MAX_PAYLOAD_CHARS + 200
    stored = jt.get_trace(widget.trace_ids[0])
    assert stored is not None and stored.data.spans[0].outputs == "y" * (MAX_PAYLOAD_CHARS + 10)


def test_configure_display() -> None:
    before = jt.tracing.configure()
    try:
        assert jt.tracing.configure(display=False, max_displayed=3)["max_displayed"] == 3
        assert display.settings.enabled is False
        jt.tracing.enable_notebook_display()
        assert display.settings.enabled is True
        with pytest.raises(InvalidInput, match="max_displayed"):
            jt.tracing.configure(max_displayed=-1)
    finally:
        jt.tracing.configure(display=before["display"], max_displayed=before["max_displayed"])


CELLS = [
    "import jupyter_track as jt\n"
    "@jt.trace\n"
    "def answer(q):\n"
    "    with jt.start_span('lookup', span_type='RETRIEVER'):\n"
    "        pass\n"
    "    return q.upper()",
    # a cell that makes traces shows them (at most max_displayed: 2 of 3)
    "jt.tracing.configure(max_displayed=2)\nfor q in ('a', 'b', 'c'):\n    answer(q)",
    # a Trace as the cell's result shows itself
    "jt.get_trace(jt.get_last_active_trace_id())",
    # a search_traces() frame shows its traces under the table
    "jt.search_traces(max_results=2)",
    # no traces, no widget
    "x = 1",
    # turned off
    "jt.tracing.disable_notebook_display()\nanswer('d')",
]


def widget_outputs(cell: Any) -> list[Any]:
    return [o for o in cell.outputs if WIDGET_VIEW in o.get("data", {})]


@pytest.mark.slow
def test_a_kernel_shows_traces_after_cells(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    client = NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [o for c in nb.cells for o in c.outputs if o.get("output_type") == "error"]
    assert not errors, errors
    assert [len(widget_outputs(c)) for c in nb.cells] == [0, 1, 1, 1, 0, 0]
    for index in (1, 2, 3):
        data = widget_outputs(nb.cells[index])[0]["data"]
        assert "answer" in data["text/plain"] and "lookup" in data["text/html"]
    models = nb.metadata["widgets"][WIDGET_STATE]["state"]
    trace_widgets = [
        m["state"]
        for m in models.values()
        if m["state"].get("_anywidget_id") == "jupyter_track.widgets.traces.TraceWidget"
    ]
    counts = sorted(len(s["traces"]) for s in trace_widgets)
    assert counts == [1, 2, 2]  # one trace; the last two of the cell; the frame's two
    assert all(s["traces"][0]["spans"][1]["name"] == "lookup" for s in trace_widgets)
