"""The run summary as a widget, and the display of a run's summary.

``%%track`` shows its summary as display data (:meth:`jupyter_track.summary.RunSummary.mimebundle`:
the JupyterLab extension's renderer draws it, other front ends show its HTML or text), which
needs no comm and renders again when the notebook is reopened. :func:`show_run_summary` shows
the same for any run; :func:`summary` returns the summary as a widget (:class:`RunSummaryWidget`,
the same payload synced as traits, drawn by the same view), for front ends that run widgets
but not the extension. Both show status, duration, params (changed ones marked against the
previous run of the same cell), metrics with their change, and a button that opens the run in
the jupyter-track sidebar when the JupyterLab extension is present (disabled elsewhere).
"""

from __future__ import annotations

from collections.abc import Sequence

import traitlets

from ..store import NotFound, Run
from ..summary import RunSummary, experiment_name, load
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

    def __init__(
        self,
        run: Run | RunSummary,
        previous: Run | None = None,
        notes: Sequence[str] = (),
    ):
        super().__init__()
        if isinstance(run, RunSummary):
            self._summary = run
        else:
            store = session.current().store
            name = experiment_name(store, run.info.experiment_id)
            self._summary = RunSummary(run, previous, tuple(notes), name)
        payload = self._summary.payload()
        with self.hold_trait_notifications():
            self.run = payload["run"]
            self.previous = payload["previous"]
            self.params = payload["params"]
            self.metrics = payload["metrics"]
            self.notes = payload["notes"]

    def _static_text(self) -> str:
        return self._summary.text()

    def _static_html(self) -> str:
        return self._summary.html()


def show_run_summary(
    run: Run | str, previous_run: Run | str | None = None, *, notes: Sequence[str] = ()
) -> None:
    """Display the summary of ``run`` (a Run or a run id) against ``previous_run``, as
    ``%%track`` does: display data for the JupyterLab renderer, with HTML and text fallbacks.

    It returns nothing, so a last-line call is not shown twice (:func:`summary` returns a
    widget instead).
    """
    from IPython.display import display

    store = session.current().store
    if isinstance(run, str):
        run = store.get_run(run)
    if isinstance(previous_run, str):
        previous_run = store.get_run(previous_run)
    name = experiment_name(store, run.info.experiment_id)
    display(RunSummary(run, previous_run, tuple(notes), name).mimebundle(), raw=True)


def summary(run_id: str | None = None) -> RunSummaryWidget:
    """The summary widget of ``run_id`` (default: the last active run) against the previous run
    of the same cell; returned, not displayed."""
    state = session.current()
    state.flush()
    if run_id is None:
        active = state.active()
        run_id = active.info.run_id if active is not None else state.last_run_id
        if run_id is None:
            raise NotFound("no run has been active in this kernel yet; pass run_id=")
    return RunSummaryWidget(load(state.store, run_id))
