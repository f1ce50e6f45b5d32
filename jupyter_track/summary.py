"""The compact summary shown after a ``%%track`` cell: run, params, metrics and their change
against the previous run of the same cell. Plain text and escaped HTML (no widgets needed)."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

from .formatting import format_duration, format_number
from .store import Run

MAX_PARAMS_SHOWN = 12


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


@dataclass
class RunSummary:
    """Displayable summary of a finished ``%%track`` run."""

    run: Run
    previous: Run | None = None
    notes: tuple[str, ...] = ()

    def _params(self) -> list[tuple[str, str]]:
        params = sorted(self.run.data.params.items())
        return params[:MAX_PARAMS_SHOWN]

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
        e = html.escape
        info = self.run.info
        status_color = {
            "FINISHED": "var(--jp-success-color1, green)",
            "FAILED": "var(--jp-error-color1, red)",
        }.get(info.status, "var(--jp-warn-color1, orange)")
        rows = []
        for key, value in self._params():
            rows.append(f"<tr><td>{e(key)}</td><td><code>{e(value)}</code></td><td></td></tr>")
        for key, (value, delta) in metric_changes(self.run, self.previous).items():
            change = ""
            if delta is not None and delta != 0:
                arrow = "▲" if delta > 0 else "▼"
                change = f"{arrow} {e(_fmt(abs(delta)))}"
            rows.append(
                f"<tr><td>{e(key)}</td><td><b>{e(_fmt(value))}</b></td><td>{change}</td></tr>"
            )
        notes = "".join(f"<div>{e(n)}</div>" for n in self.notes)
        duration = format_duration(info.duration_ms)
        return (
            '<div class="jp-Track-summary" style="font-size:var(--jp-ui-font-size1,12px)">'
            f'<span style="color:{status_color}">●</span> run <b>{e(info.run_name or "")}</b> '
            f"<span>{e(info.status)}</span> {e(duration)} "
            f'<code style="opacity:0.6">{e(info.run_id[:8])}</code>'
            f'<table style="margin-top:2px">{"".join(rows)}</table>{notes}</div>'
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.text(), "text/html": self.html()}
