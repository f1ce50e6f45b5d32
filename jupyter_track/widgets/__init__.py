"""Notebook widgets (anywidget): they read the store in the kernel, so they need no server.

* ``jt.live`` (:mod:`.live`) -- learning curves that grow while the cell runs;
  :func:`.live.start_live` is the hook behind ``%%track --live``;
* ``jt.runs`` (:mod:`.table`) -- a sortable, filterable, multi-select run table
  (``widget.selected``);
* ``jt.compare`` (:mod:`.comparison`) -- side-by-side table and the sidebar's charts;
* ``jt.registry`` (:mod:`.registry`) -- registered models, versions and aliases (editable on
  request, audited);
* :func:`.summary.summary` -- a run's summary as a widget; :func:`.summary.show_run_summary`
  displays it as ``%%track`` does (display data the JupyterLab extension renders, see
  :mod:`jupyter_track.summary`).

Charts are drawn by vega-embed bundled into the widgets' modules (nothing from a CDN); every
output also carries text/HTML for places that cannot run widgets. Modules load on first use.
"""

from __future__ import annotations

from typing import Any

_NAMES = {
    "start_live": "live",
    "LiveChart": "live",
    "runs": "table",
    "RunTable": "table",
    "compare": "comparison",
    "CompareView": "comparison",
    "RegistryView": "registry",
    "show_run_summary": "summary",
    "RunSummaryWidget": "summary",
}

__all__ = list(_NAMES)


def __getattr__(name: str) -> Any:
    import importlib

    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'jupyter_track.widgets' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
