"""The run summary widget shown after a ``%%track`` cell.

:func:`show_run_summary` is the hook ``%%track`` calls: status, duration, params (changed ones
marked against the previous run of the same cell), metrics with their change, and a button that
opens the run in the jupyter-track sidebar when the JupyterLab extension is present (it is
disabled elsewhere). Where widgets cannot render, the output carries the plain text and HTML
summary of :mod:`jupyter_track.summary`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import traitlets

from ..store import NotFound, Run
from ..store.entities import json_number
from ..summary import MAX_PARAMS_SHOWN, RunSummary, metric_changes
from ..tracking import session
from ._common import TrackWidget, bundle


class RunSummaryWidget(TrackWidget):
    """One run at a glance, against the previous run of its cell."""

    _esm = bundle("summary.js")

    run = traitlets.Dict().tag(sync=True)
    previous = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    params = traitlets.List(traitlets.Dict()).tag(sync=True)
    metrics = traitlets.List(traitlets.Dict()).tag(sync=True)
    notes = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def __init__(self, run: Run, previous: Run | None = None, notes: Sequence[str] = ()):
        super().__init__()
        self._summary = RunSummary(run, previous, tuple(notes))
        info = run.info
        experiment = ""
        try:
            experiment = session.current().store.get_experiment(info.experiment_id).name
        except NotFound:
            pass
        before = previous.data.params if previous is not None else None
        params = []
        for key, value in sorted(run.data.params.items())[:MAX_PARAMS_SHOWN]:
            old = None if before is None else before.get(key)
            changed = before is not None and old != value
            params.append({"key": key, "value": value, "previous": old, "changed": changed})
        metrics = []
        old_metrics = previous.data.metrics if previous is not None else {}
        for key, (value, delta) in metric_changes(run, previous).items():
            old = old_metrics.get(key)
            metrics.append(
                {
                    "key": key,
                    "value": json_number(value),
                    "previous": None if old is None else json_number(old),
                    "delta": None if delta is None or not math.isfinite(delta) else delta,
                }
            )
        error = (info.error or "").strip().splitlines()
        with self.hold_trait_notifications():
            self.run = {
                "run_id": info.run_id,
                "name": info.run_name or info.run_id[:8],
                "status": info.status,
                "duration_ms": info.duration_ms,
                "error": error[-1] if error else None,
                "experiment": experiment,
            }
            self.previous = (
                {"run_id": previous.info.run_id, "name": previous.info.run_name or ""}
                if previous is not None
                else None
            )
            self.params = params
            self.metrics = metrics
            self.notes = list(notes)

    def _static_text(self) -> str:
        return self._summary.text()

    def _static_html(self) -> str:
        return self._summary.html()


def show_run_summary(
    run: Run | str, previous_run: Run | str | None = None, *, notes: Sequence[str] = ()
) -> None:
    """Display the summary widget of ``run`` (a Run or a run id) against ``previous_run``.

    The hook ``%%track`` calls after each cell; also usable on its own (it returns nothing, so
    a last-line call is not shown twice; :func:`summary` returns the widget instead).
    """
    from IPython.display import display

    store = session.current().store
    if isinstance(run, str):
        run = store.get_run(run)
    if isinstance(previous_run, str):
        previous_run = store.get_run(previous_run)
    display(RunSummaryWidget(run, previous_run, notes))


def summary(run_id: str | None = None) -> RunSummaryWidget:
    """The summary widget of ``run_id`` (default: the last active run) against the previous run
    of the same cell; returned, not displayed."""
    state = session.current()
    store = state.store
    state.flush()
    if run_id is None:
        active = state.active()
        run_id = active.info.run_id if active is not None else state.last_run_id
        if run_id is None:
            raise NotFound("no run has been active in this kernel yet; pass run_id=")
    run = store.get_run(run_id)
    previous = store.previous_cell_run(run.info.cell_id, run_id) if run.info.cell_id else None
    return RunSummaryWidget(run, previous)
