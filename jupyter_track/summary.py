"""The compact summary shown after a ``%%track`` cell: run, params, metrics and their change
against the previous run of the same cell.

One source for every form of it: :meth:`RunSummary.payload` is the JSON the JupyterLab
renderer (``src/summaryview.ts``, MIME type :data:`MIME_TYPE`) and the summary widget
(``widgets/summary.py``) draw; :meth:`RunSummary.text` and :meth:`RunSummary.html` (escaped) are
the fallbacks of other front ends. :meth:`RunSummary.mimebundle` carries all three, so a
``%%track`` output needs no widget, no comm and no kernel to render again when the notebook is
reopened. Jupyter-free, and cheap: no pandas, and :func:`load` asks the store for the run and
the previous run of its cell only.
"""

from __future__ import annotations

import html
import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .formatting import format_duration, format_number
from .store import NotFound, Run
from .store.entities import json_number

MAX_PARAMS_SHOWN = 12
#: the custom MIME type of the summary's JSON payload (``+json``: notebooks store it as JSON)
MIME_TYPE = "application/vnd.jupyter-track.run-summary+json"
#: the version of the payload's shape (the renderer refuses other versions with a message)
PAYLOAD_VERSION = 1

_fmt = format_number


def metric_changes(run: Run, previous: Run | None) -> dict[str, tuple[float, float | None]]:
    """key -> (value, change against the previous run or None)."""
    out: dict[str, tuple[float, float | None]] = {}
    before = previous.data.metrics if previous else {}
    for key, value in sorted(run.data.metrics.items()):
        old = before.get(key)
        delta = None if old is None or math.isnan(old) or math.isnan(value) else value - old
        out[key] = (value, delta)
    return out


def _error_line(error: str | None) -> str | None:
    lines = (error or "").strip().splitlines()
    return lines[-1] if lines else None


@dataclass
class RunSummary:
    """Displayable summary of a finished ``%%track`` run (``experiment``: its name, shown
    when known)."""

    run: Run
    previous: Run | None = None
    notes: tuple[str, ...] = ()
    experiment: str = ""

    def _params(self) -> list[tuple[str, str]]:
        params = sorted(self.run.data.params.items())
        return params[:MAX_PARAMS_SHOWN]

    def _param_rows(self) -> list[dict[str, Any]]:
        before = self.previous.data.params if self.previous is not None else None
        rows = []
        for key, value in self._params():
            old = None if before is None else before.get(key)
            changed = before is not None and old != value
            rows.append({"key": key, "value": value, "previous": old, "changed": changed})
        return rows

    def payload(self) -> dict[str, Any]:
        """The JSON the renderer and the widget draw (NaN and infinities as strings)."""
        info = self.run.info
        old_metrics = self.previous.data.metrics if self.previous is not None else {}
        metrics = []
        for key, (value, delta) in metric_changes(self.run, self.previous).items():
            old = old_metrics.get(key)
            metrics.append(
                {
                    "key": key,
                    "value": json_number(value),
                    "previous": None if old is None else json_number(old),
                    "delta": None if delta is None or not math.isfinite(delta) else delta,
                }
            )
        previous = self.previous
        return {
            "version": PAYLOAD_VERSION,
            "run": {
                "run_id": info.run_id,
                "name": info.run_name or info.run_id[:8],
                "status": info.status,
                "duration_ms": info.duration_ms,
                "error": _error_line(info.error),
                "experiment": self.experiment,
            },
            "previous": (
                {"run_id": previous.info.run_id, "name": previous.info.run_name or ""}
                if previous is not None
                else None
            ),
            "params": self._param_rows(),
            "metrics": metrics,
            "notes": list(self.notes),
        }

    def text(self) -> str:
        info = self.run.info
        duration = (
            f" in {format_duration(info.duration_ms)}" if info.duration_ms is not None else ""
        )
        lines = [f"run {info.run_name} [{info.status}]{duration}  id {info.run_id}"]
        params = self._params()
        if params:
            lines.append("  params: " + ", ".join(f"{k}={v}" for k, v in params))
        changes = metric_changes(self.run, self.previous)
        if changes:
            parts = []
            for key, (value, delta) in changes.items():
                change = f" ({'+' if delta >= 0 else ''}{_fmt(delta)})" if delta is not None else ""
                parts.append(f"{key}={_fmt(value)}{change}")
            lines.append("  metrics: " + ", ".join(parts))
        if self.previous is not None:
            lines.append(f"  vs previous run {self.previous.info.run_name} of this cell")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def html(self) -> str:
        """Escaped HTML (user text never becomes markup): for front ends without the
        JupyterLab extension (Notebook 7 without it, VS Code, nbconvert, GitHub)."""
        e = html.escape
        info = self.run.info
        status_color = {
            "FINISHED": "var(--jp-success-color1, green)",
            "FAILED": "var(--jp-error-color1, red)",
        }.get(info.status, "var(--jp-warn-color1, orange)")
        rows = []
        for param in self._param_rows():
            was = ""
            if param["changed"]:
                old = param["previous"]
                was = "new" if old is None else f"was {e(old)}"
            shown = f"<code>{e(param['value'])}</code>"
            if param["changed"]:
                shown = f"<b>{shown}</b>"
            rows.append(f"<tr><td>{e(param['key'])}</td><td>{shown}</td><td>{was}</td></tr>")
        for key, (value, delta) in metric_changes(self.run, self.previous).items():
            change = ""
            if delta is not None and delta != 0:
                arrow = "▲" if delta > 0 else "▼"
                change = f"{arrow} {e(_fmt(abs(delta)))}"
            rows.append(
                f"<tr><td>{e(key)}</td><td><b>{e(_fmt(value))}</b></td><td>{change}</td></tr>"
            )
        notes = "".join(f"<div>{e(n)}</div>" for n in self.notes)
        error = _error_line(info.error)
        if error:
            notes = f'<div style="color:var(--jp-error-color1, red)">{e(error)}</div>' + notes
        duration = format_duration(info.duration_ms)
        return (
            '<div class="jp-Track-summary" style="font-size:var(--jp-ui-font-size1,12px)">'
            f'<span style="color:{status_color}">●</span> run <b>{e(info.run_name or "")}</b> '
            f"<span>{e(info.status)}</span> {e(duration)} "
            f'<code style="opacity:0.6">{e(info.run_id[:8])}</code>'
            f'<table style="margin-top:2px">{"".join(rows)}</table>{notes}</div>'
        )

    def mimebundle(self) -> dict[str, Any]:
        """The display data: the payload under :data:`MIME_TYPE`, HTML and text fallbacks."""
        return {MIME_TYPE: self.payload(), "text/html": self.html(), "text/plain": self.text()}

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return self.mimebundle()


# experiment id -> name, per store: asked once per experiment, so a summary costs the store
# get_run and previous_cell_run only (a rename elsewhere shows after the kernel restarts)
_experiment_names: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


def experiment_name(store: Any, experiment_id: str) -> str:
    """The name of ``experiment_id`` in ``store`` ("" when it does not exist), remembered."""
    try:
        names = _experiment_names.setdefault(store, {})
    except TypeError:  # a store that cannot be weakly referenced: ask each time
        names = {}
    name = names.get(experiment_id)
    if name is None:
        try:
            name = store.get_experiment(experiment_id).name
        except NotFound:
            return ""
        names[experiment_id] = name
    return name


def remember_experiment(store: Any, experiment_id: str, name: str) -> None:
    """Note an experiment's name already known (``%%track -e`` has just resolved it)."""
    try:
        _experiment_names.setdefault(store, {})[experiment_id] = name
    except TypeError:
        pass


def load(store: Any, run_id: str, notes: Sequence[str] = ()) -> RunSummary:
    """The summary of ``run_id`` against the previous run of its cell, read from ``store``."""
    run = store.get_run(run_id)
    previous = store.previous_cell_run(run.info.cell_id, run_id) if run.info.cell_id else None
    return RunSummary(run, previous, tuple(notes), experiment_name(store, run.info.experiment_id))
