"""What every jupyter-track widget shares: its ES module, the vega runtime, the static fallback.

* ``bundle(name)`` reads a built module from ``static/`` (built from ``js/`` by
  ``jlpm build:widgets``; wheels ship it).
* ``VegaRuntime``: one hidden widget per kernel carries vega, vega-lite and vega-embed; chart
  widgets point at it through their ``_vega`` trait (see ``js/lib/vega.ts``), so the megabyte of
  vega is stored once per notebook, not once per chart.
* ``TrackWidget``: an ``AnyWidget`` whose display bundle also carries ``text/plain`` and
  ``text/html`` built by :meth:`TrackWidget._static_html`, for places that cannot run widgets
  (nbconvert HTML without widget state, GitHub's notebook viewer).
"""

from __future__ import annotations

import html
import threading
from functools import cache
from pathlib import Path
from typing import Any

import anywidget
import traitlets

STATIC = Path(__file__).parent / "static"


class WidgetBundleMissing(RuntimeError):
    """The widgets' JavaScript was not built (a source checkout without ``jlpm build``)."""


@cache
def bundle(name: str) -> str:
    """The text of a built file in ``static/`` (``live.js``, ``widgets.css``...)."""
    path = STATIC / name
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WidgetBundleMissing(
            f"jupyter-track's widget bundle {path} is missing. In a source checkout run "
            "`jlpm install && jlpm build:widgets` (or `pip install -e .`, which builds it)."
        ) from None


class VegaRuntime(anywidget.AnyWidget):
    """Hidden widget whose module is vega + vega-lite + vega-embed (no CDN)."""

    _esm = bundle("runtime.js")


_runtime: VegaRuntime | None = None
_runtime_lock = threading.Lock()


def vega_runtime() -> VegaRuntime:
    """This kernel's runtime widget, created on first use (and again if it was closed)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None or _runtime.comm is None:
            _runtime = VegaRuntime()
        return _runtime


def in_ipython() -> Any:
    """The running IPython shell, or None (plain Python, tests without a shell)."""
    import sys

    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


class TrackWidget(anywidget.AnyWidget):
    """Base of the jupyter-track widgets: CSS, and a static text/HTML fallback."""

    _css = bundle("widgets.css")

    def _static_html(self) -> str:
        """HTML shown where widgets cannot render; user text must be escaped."""
        return f"<pre>{html.escape(self._static_text())}</pre>"

    def _static_text(self) -> str:
        return f"<{type(self).__name__}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle_ = super()._repr_mimebundle_(**kwargs)
        if bundle_ is None:
            return None
        data, metadata = bundle_
        data = dict(data)
        data["text/plain"] = self._static_text()
        data["text/html"] = self._static_html()
        return data, metadata

    def __repr__(self) -> str:
        return self._static_text()


class ChartWidget(TrackWidget):
    """A widget that draws Vega-Lite specs with the shared runtime."""

    _vega = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(_vega=vega_runtime().model_id, **kwargs)


def escape(value: Any) -> str:
    return html.escape("" if value is None else str(value))
