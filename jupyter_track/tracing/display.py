"""Traces in notebooks: the trace widget after a cell that made traces, for a displayed
``Trace`` (or a list of them, or a ``search_traces()`` DataFrame), and ``jt.show_traces()``.

The traces a cell made are noted as their root spans end (:func:`collect`, a list append);
IPython's ``post_run_cell`` event then shows the last :data:`settings` ``max_displayed`` of them
in one trace widget. ``jt.tracing.configure(display=False)`` (or MLflow's
``disable_notebook_display()``) turns that off. The widget reads the store in the kernel: no
server extension is needed. This module imports nothing heavy until a widget is shown.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any

DISPLAY_ENV = "JUPYTER_TRACK_TRACE_DISPLAY"


class _Settings:
    enabled = os.environ.get(DISPLAY_ENV, "").lower() not in ("0", "false", "off", "no")
    max_displayed = 10


settings = _Settings()

_lock = threading.Lock()
_cell_traces: list[str] = []
_registered: set[int] = set()


def collect(trace: Any) -> None:
    """A trace ended: note it for the running cell (inside IPython only)."""
    if not settings.enabled or "IPython" not in sys.modules:
        return
    shell = _shell()
    if shell is None:
        return
    with _lock:
        _cell_traces.append(trace.trace_id)
        if id(shell) not in _registered:
            _registered.add(id(shell))
            shell.events.register("pre_run_cell", _pre_run_cell)
            shell.events.register("post_run_cell", _post_run_cell)


def _shell() -> Any:
    get_ipython = _get_ipython()
    if get_ipython is None:  # pragma: no cover - IPython is a dependency
        return None
    shell = get_ipython()
    # a kernel or a terminal IPython, not a plain interpreter that imported IPython
    return shell if shell is not None and hasattr(shell, "events") else None


@functools.cache
def _get_ipython() -> Any:
    """IPython's ``get_ipython``, imported once (``collect`` runs after every trace)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    return get_ipython


def _pre_run_cell(info: Any = None) -> None:
    with _lock:
        _cell_traces.clear()


def _post_run_cell(result: Any = None) -> None:
    with _lock:
        ids = list(_cell_traces)
        _cell_traces.clear()
    if not settings.enabled:
        return
    value = getattr(result, "result", None)
    shown = _traces_of(value)
    if shown:  # the cell's result is drawn by its own repr when it is a Trace
        ids = [i for i in ids if i not in shown] + shown
    if not ids or settings.max_displayed <= 0:
        return
    try:
        from IPython.display import display

        widget = trace_widget(ids[-settings.max_displayed :])
        if widget is not None:
            display(widget)
    except Exception as exc:  # showing traces never breaks a cell
        print(f"jupyter-track: could not show the cell's traces: {exc}", file=sys.stderr)


def _traces_of(value: Any) -> list[str]:
    """Trace ids of a cell result that is a list of Traces or a ``search_traces`` frame (a
    single ``Trace`` shows itself through its repr)."""
    from .entities import Trace

    if isinstance(value, list) and value and all(isinstance(v, Trace) for v in value):
        return [v.info.trace_id for v in value]
    if type(value).__name__ == "DataFrame" and "trace_id" in getattr(value, "columns", ()):
        attrs = getattr(value, "attrs", {})
        if attrs.get("jupyter_track.kind") == "traces":
            return [str(t) for t in value["trace_id"].tolist()]
    return []


def _stored(trace_ids: Sequence[str]) -> list[Any]:
    from ..store.errors import NotFound
    from ..tracking import session
    from . import core

    core.flush_pending()
    store = session.current().store
    out = []
    for trace_id in trace_ids:
        try:
            out.append(store.get_trace(trace_id))
        except NotFound:
            continue
    return out


def trace_widget(trace_ids: Sequence[str]) -> Any:
    """A trace widget for these traces (None when none exists)."""
    stored = _stored(trace_ids)
    if not stored:
        return None
    from ..widgets.traces import TraceWidget

    return TraceWidget(stored)


def trace_view_bundle(traces: Sequence[Any], **kwargs: Any) -> Any:
    """The trace widget's display bundle for ``Trace`` objects (their ``_repr_mimebundle_``)."""
    from ..widgets.traces import TraceWidget

    stored = [t._stored for t in traces if getattr(t, "_stored", None) is not None]
    return TraceWidget(stored)._repr_mimebundle_(**kwargs)


def show_traces(
    traces: Any = None,
    *,
    filter_string: str | None = None,
    experiment_ids: Sequence[str] | None = None,
    experiment_names: Sequence[str] | None = None,
    run_id: str | None = None,
    max_results: int = 10,
) -> Any:
    """The trace widget for ``traces`` -- a ``Trace``, a list of them or of trace ids, a
    ``search_traces()`` DataFrame -- or for the newest ``max_results`` traces matching
    ``filter_string`` (in the active experiment, or ``experiment_ids``/``experiment_names``,
    or ``run_id``). Returns the widget (the cell shows it)."""
    from ..store.errors import InvalidInput
    from .entities import Trace

    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidInput(f"max_results {max_results!r}: must be a positive integer")
    if traces is None:
        from .api import search_traces

        found = search_traces(
            experiment_ids=experiment_ids,
            filter_string=filter_string,
            max_results=max_results,
            run_id=run_id,
            return_type="list",
            experiment_names=experiment_names,
            include_spans=False,
        )
        ids = [t.info.trace_id for t in found]
    elif isinstance(traces, Trace):
        ids = [traces.info.trace_id]
    elif isinstance(traces, str):
        ids = [traces]
    elif type(traces).__name__ == "DataFrame":
        if "trace_id" not in traces.columns:
            raise InvalidInput("traces: a DataFrame needs a trace_id column (search_traces())")
        ids = [str(t) for t in traces["trace_id"].tolist()]
    else:
        try:
            items = list(traces)
        except TypeError:
            raise InvalidInput(
                f"traces: expected a Trace, trace ids or a DataFrame, got {type(traces).__name__}"
            ) from None
        ids = []
        for item in items:
            if isinstance(item, Trace):
                ids.append(item.info.trace_id)
            elif isinstance(item, str):
                ids.append(item)
            else:
                raise InvalidInput(
                    f"traces: expected Traces or trace ids, got a {type(item).__name__}"
                )
    from ..widgets.traces import TraceWidget

    return TraceWidget(_stored(ids[:max_results]))


def configure(*, enabled: bool | None = None, max_displayed: int | None = None) -> None:
    if enabled is not None:
        settings.enabled = bool(enabled)
    if max_displayed is not None:
        settings.max_displayed = int(max_displayed)
