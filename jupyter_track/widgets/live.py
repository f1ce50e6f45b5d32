"""Live learning curves: ``jt.live(["loss", "val_loss"])`` and ``%%track --live``.

The kernel's main thread is busy running the training cell, so a daemon thread does the work:
every ``interval`` seconds (0.25 by default: at most four redraws a second, however fast metrics
are logged) it reads the points written since its last look (``metric_rows_since``: a walk of
the newest rowids, never the whole history; the background writer flushes every 0.2 s), folds
them into per-series M4 decimators (at most ``max_points`` per series are ever sent) and pushes
only what changed to the browser as a small custom message. The training loop pays nothing
beyond ``log_metric`` itself: no I/O, no lock shared with the poller.

The store side -- which runs are followed and what they logged since the last look -- is
:class:`.follow.RunFollower`; this module is the widget (decimation, syncing, display).
Which runs are followed: ``run_id`` when given (possibly a run another process is logging);
otherwise the runs of this kernel: those active when the chart starts and every run that logs
a point after it (same user and notebook, started after the chart), however short. The chart stops
at the end of the cell that logged to a followed run (IPython ``post_run_cell``), when a run
followed from another process ends, or on :meth:`LiveChart.stop`. Stopping syncs the final
downsampled data (so a saved notebook keeps it) and replaces the output's static fallback with a
thumbnail of the final curves.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import traitlets

from ..tracking import session
from . import static
from ._common import ChartWidget, bundle, in_ipython
from .downsample import Point, StreamDecimator
from .follow import Batch, RunFollower

X_MODES = ("auto", "step", "relative", "wall")
DATASET = "points"
_CHECK_EVERY = 1.0  # seconds between looks for new metric keys and ended runs


class _Series:
    __slots__ = ("decimator", "key", "label", "run_id")

    def __init__(self, run_id: str, key: str, label: str, decimator: StreamDecimator):
        self.run_id = run_id
        self.key = key
        self.label = label
        self.decimator = decimator


class LiveChart(ChartWidget):
    """A learning-curve chart that grows while metrics are logged (see the module doc)."""

    _esm = bundle("live.js")

    spec = traitlets.Dict().tag(sync=True)
    points = traitlets.List().tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    metric_keys = traitlets.List(traitlets.Unicode()).tag(sync=True)  # [] = every metric
    run_ids = traitlets.List(traitlets.Unicode()).tag(sync=True)
    running = traitlets.Bool(False).tag(sync=True)
    _uid = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        keys: str | Sequence[str] | None = None,
        *,
        run_id: str | None = None,
        interval: float = 0.25,
        max_points: int = 1000,
        x: str = "auto",
        height: int = 260,
    ):
        if isinstance(keys, str):
            keys = [keys]
        if x not in X_MODES:
            raise ValueError(f"x {x!r}: must be one of {', '.join(X_MODES)}")
        if interval <= 0:
            raise ValueError("interval must be positive")
        # in the first message to the browser: its per-model state is keyed by _uid
        super().__init__(_uid=uuid.uuid4().hex, metric_keys=list(keys or []))
        self.interval = float(interval)
        self.max_points = int(max_points)
        self.height = height
        self._x_asked = x
        self._x = "step" if x == "auto" else x
        self._fixed_run = run_id
        self._store = session.current().store
        self._series: dict[tuple[str, str], _Series] = {}
        self._follower = RunFollower(self._store, run_id)  # raises NotFound for a wrong id
        self._runs = self._follower.runs  # run_id -> name, start, local
        self._labels_for = 0  # number of runs the labels were made for
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_check = 0.0
        self._specs: dict[str, dict[str, Any]] = {}  # x axis -> the chart's spec
        self._display_id: str | None = None
        self._shown_in: Any = None
        self._shell: Any = None
        self.sends = 0  # delta messages sent (for tests and benchmarks)
        self.cpu_seconds = 0.0  # CPU time of the polling thread
        self.ticks = 0
        self.error: BaseException | None = None
        self._set_spec()
        self._set_status()

    # ------------------------------------------------------------------------------ control

    def start(self) -> LiveChart:
        """Start following (idempotent); returns the chart."""
        import numpy  # noqa: F401  (imported here, not on the polling thread mid-training)

        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return self
            self._stop.clear()
            self.running = True
            self._thread = threading.Thread(
                target=self._loop, name="jupyter-track-live", daemon=True
            )
            self._thread.start()
        shell = in_ipython()
        if shell is not None and self._shell is None:
            self._shell = shell
            shell.events.register("post_run_cell", self._post_run_cell)
        self._set_status()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Read the last points, sync the final data, update the static fallback, stop.

        Buffered metrics of this kernel are flushed first, so the chart ends complete.
        """
        writer = session.current().started_writer
        if writer is not None:
            try:
                writer.flush(raise_errors=False)
            except Exception:
                pass
        thread = self._thread
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if thread is None or not thread.is_alive():
            self._finish()

    def close(self) -> None:
        if hasattr(self, "_stop"):  # not when __init__ failed early
            self._stop.set()
            self._unregister()
        super().close()

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -------------------------------------------------------------------------------- loop

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                start = time.thread_time()
                self._tick()
                self.cpu_seconds += time.thread_time() - start
                if self._stop.wait(self.interval):
                    break
        except BaseException as exc:  # keep the kernel alive; show what went wrong
            self.error = exc
            self.status = f"live chart stopped: {type(exc).__name__}: {exc}"
        finally:
            try:
                self._tick()
            except BaseException as exc:
                self.error = self.error or exc

    def _tick(self) -> None:
        self.ticks += 1
        now = time.monotonic()
        check = now - self._last_check >= _CHECK_EVERY
        if check:
            self._last_check = now
        followed = len(self._runs)
        batches = self._follower.poll()
        if len(self._runs) != followed:
            self.run_ids = list(self._runs)
        updates = self._feed(batches)
        if len(self._runs) != self._labels_for:
            self._relabel()  # resyncs everything when labels change
            updates = []
        if self._x_asked == "auto" and self._x == "step" and self._constant_steps():
            self._x = "relative"  # every point at one step (MLflow's default): use time
            self._rebuild()
            updates = []
        if updates:
            self.send({"type": "delta", "updates": updates})
            self.sends += 1
        if batches:
            self._set_status()
        if check and self._follower.fixed_run_over():
            self._stop.set()  # a run another process logs has ended

    def _feed(self, batches: Sequence[Batch]) -> list[dict[str, Any]]:
        """Fold batches ``(run_id, key, steps, timestamps, values)`` into their series'
        decimators; the deltas for the browser. No Python work per point."""
        keys = set(self.metric_keys)
        touched: dict[tuple[str, str], int] = {}
        for run_id, key, steps, stamps, values in batches:
            if keys and key not in keys:
                continue
            series = self._series.get((run_id, key))
            if series is None:
                series = self._series[(run_id, key)] = _Series(
                    run_id, key, self._label(run_id, key), self._decimator()
                )
                self._labels_for = -1  # a new series: the colour order changes
            xs = self._xs(steps, stamps, self._runs[run_id]["start"])
            change = series.decimator.add(xs, values, steps, stamps)
            if change is not None:  # several batches of one series: resend from the first change
                keep = touched.get((run_id, key))
                touched[(run_id, key)] = change[0] if keep is None else min(keep, change[0])
        updates = []
        for series_key, keep in touched.items():
            series = self._series[series_key]
            points = series.decimator.points()[keep:]
            rows = [self._row(series, p, i) for i, p in enumerate(points, keep)]
            updates.append({"series": series.label, "keep": keep, "rows": rows})
        return updates

    def _row(self, series: _Series, point: Point, i: int) -> dict[str, Any]:
        """A point as the chart's data row (the fields charts.learning_curves encodes)."""
        _, value, step, ts = point
        start = self._runs[series.run_id]["start"]
        return {
            "run": series.label,
            "run_id": series.run_id,
            "step": step,
            "time": ts,
            "relative": (ts - start) / 1000.0,
            "value": value,
            "i": i,
        }

    def _xs(self, steps: Sequence[int], stamps: Sequence[int], start: int) -> Any:
        import numpy as np

        if self._x == "step":
            return steps
        if self._x == "wall":
            return np.asarray(stamps, dtype=float) / 1000.0
        return (np.asarray(stamps, dtype=float) - start) / 1000.0

    # ------------------------------------------------------------------------- followers

    def _decimator(self) -> StreamDecimator:
        return StreamDecimator(self.max_points, width=0.001 if self._x != "step" else 1.0)

    def _label(self, run_id: str, key: str) -> str:
        meta = self._runs[run_id]
        run = f"{meta['name']} ({run_id[:7]})" if meta["name"] else run_id[:7]
        several_keys = len(self.metric_keys) != 1
        if len(self._runs) <= 1:
            return key if several_keys else run
        return f"{key} · {run}" if several_keys else run

    def _relabel(self) -> None:
        """Runs or series were added: recompute labels and colour order, resend everything."""
        self._labels_for = len(self._runs)
        for series in self._series.values():
            series.label = self._label(series.run_id, series.key)
        self._set_spec()
        self._sync_points()

    def _constant_steps(self) -> bool:
        decimators = [s.decimator for s in self._series.values()]
        return any(d.total - d.skipped >= 2 for d in decimators) and not any(
            d.steps_vary for d in decimators
        )

    def _rebuild(self) -> None:
        """Re-read every followed run up to the cursor (after the x axis changed)."""
        for series in self._series.values():
            series.decimator = self._decimator()
        self._feed(self._follower.history())
        self._set_spec()
        self._sync_points()

    # ---------------------------------------------------------------------------- syncing

    def _sync_points(self) -> None:
        self.points = [
            self._row(series, point, i)
            for series in self._series.values()
            for i, point in enumerate(series.decimator.points())
        ]

    def _set_spec(self) -> None:
        """The chart: charts.learning_curves streaming into one named dataset, colours in the
        order the series appeared. Altair builds it once per x axis; new series only change
        the colour order in a copy (no Altair on the polling thread while training runs)."""
        base = self._specs.get(self._x)
        if base is None:
            from .. import charts

            title = ", ".join(self.metric_keys) if self.metric_keys else "value"
            chart = charts.learning_curves(
                [], metric=title, x=self._x, height=self.height, streaming=True
            )
            base = charts.spec_dict(chart)
            names = list(base.get("datasets", {}))
            base["datasets"] = {DATASET: []}
            _rename_data(base, names, DATASET)
            self._specs[self._x] = base
        spec = copy.deepcopy(base)
        labels = list(dict.fromkeys(s.label for s in self._series.values()))
        several_runs, several_keys = len(self._runs) > 1, len(self.metric_keys) != 1
        legend = "series" if several_runs and several_keys else "metric" if several_keys else "run"
        _set_color_order(spec, labels, legend)
        self.spec = spec

    def _set_status(self) -> None:
        total = sum(s.decimator.total for s in self._series.values())
        drawn = sum(s.decimator.drawn for s in self._series.values())
        skipped = sum(s.decimator.skipped for s in self._series.values())
        runs = [f"{m['name'] or r[:7]}" for r, m in self._runs.items()]
        state = "live" if self.is_running and not self._stop.is_set() else "stopped"
        if not self._runs:
            text = f"{state} · waiting for a run to log {', '.join(self.metric_keys) or 'metrics'}"
        else:
            text = (
                f"{state} · run{'s' if len(runs) > 1 else ''} {', '.join(runs)} · {total:,} points"
            )
            if drawn < total - skipped:
                text += f" (drawing {drawn:,})"
            if skipped:
                text += f" · {skipped:,} NaN/inf not drawn"
        self.status = text

    def _finish(self) -> None:
        """Final sync, once the thread is gone."""
        self._unregister()
        self.running = False
        self._sync_points()
        self._set_status()
        if self._display_id is not None:
            from IPython.display import update_display

            data, metadata = self._repr_mimebundle_()
            update_display(data, raw=True, metadata=metadata, display_id=self._display_id)

    # ----------------------------------------------------------------------------- IPython

    def _post_run_cell(self, result: Any = None) -> None:
        """A cell ended: stop once a run of this kernel was charted -- also when the run was
        too quick for the thread to have seen it yet (the final read catches it)."""
        state = session.current()
        active = state.active_run_ids()
        ours = any(m["local"] for m in self._runs.values())
        last = state.last_ended_run_id
        if not ours and last is not None:
            if self._fixed_run is not None:
                ours = self._fixed_run in active or self._fixed_run == last
            else:
                ours = last in self._runs or self._follower.wants(last, active)
        if ours:
            self.stop()

    def _unregister(self) -> None:
        shell, self._shell = self._shell, None
        if shell is not None:
            try:
                shell.events.unregister("post_run_cell", self._post_run_cell)
            except ValueError:
                pass

    def show(self) -> LiveChart:
        """Display the chart (with a display id, so the static fallback can be updated)."""
        from IPython.display import display

        shell = in_ipython()
        self._display_id = self._display_id or uuid.uuid4().hex
        self._shown_in = getattr(shell, "execution_count", None)
        data, metadata = self._repr_mimebundle_()
        display(data, raw=True, metadata=metadata, display_id=self._display_id)
        return self

    def _ipython_display_(self, **kwargs: Any) -> None:
        shell = in_ipython()
        count = getattr(shell, "execution_count", None)
        if self._shown_in is not None and count == self._shown_in:
            self._shown_in = None  # shown by jt.live() in this cell already: skip the echo
            return
        self.show()

    # ------------------------------------------------------------------------------ static

    def _static_series(self) -> dict[str, list[tuple[float, float]]]:
        return {
            s.label: [(p[0], p[1]) for p in s.decimator.points()]
            for s in self._series.values()
            if s.decimator.total
        }

    def _static_text(self) -> str:
        parts = []
        for s in self._series.values():
            points = s.decimator.points()
            if points:
                last = max(points, key=lambda p: (p[2], p[3]))
                parts.append(f"{s.label}: last {static.fmt(last[1])} at step {last[2]}")
        body = "; ".join(parts) or "no points yet"
        return f"LiveChart({', '.join(self.metric_keys) or 'all metrics'}) {self.status}: {body}"

    def _static_html(self) -> str:
        rows = []
        for s in self._series.values():
            drawn = s.decimator.points()
            if not drawn:
                continue
            values = [p[1] for p in drawn]
            last = max(drawn, key=lambda p: (p[2], p[3]))
            rows.append((s.label, s.decimator.total, last[2], last[1], min(values), max(values)))
        svg = static.line_chart_svg(
            self._static_series(),
            x_title={"step": "step", "relative": "seconds", "wall": "time (s)"}[self._x],
            y_title=", ".join(self.metric_keys),
        )
        return (
            '<div class="jp-Track-static-live">'
            f"<div>{static.html.escape(self.status)}</div>"
            f"{static.svg_img(svg, 'learning curves')}"
            + static.table(["series", "points", "last step", "last", "min", "max"], rows)
            + "</div>"
        )


def _rename_data(spec: Any, old: Sequence[str], new: str) -> None:
    """Point every ``{"data": {"name": <old>}}`` in the spec at ``new``."""
    if isinstance(spec, dict):
        data = spec.get("data")
        if isinstance(data, dict) and data.get("name") in old:
            data["name"] = new
        for value in spec.values():
            _rename_data(value, old, new)
    elif isinstance(spec, list):
        for item in spec:
            _rename_data(item, old, new)


def _set_color_order(spec: Any, labels: list[str], title: str) -> None:
    """Colours in the order the series appeared; the legend titled for what they are."""
    if isinstance(spec, dict):
        color = spec.get("color")
        if isinstance(color, dict) and color.get("field") == "run":
            color["sort"] = labels
            color["title"] = title
        for value in spec.values():
            _set_color_order(value, labels, title)
    elif isinstance(spec, list):
        for item in spec:
            _set_color_order(item, labels, title)


def start_live(
    keys: str | Sequence[str] | None = None,
    *,
    run_id: str | None = None,
    display: bool = True,
    **options: Any,
) -> LiveChart:
    """Create, display and start a :class:`LiveChart`; the hook behind ``%%track --live``.

    ``keys`` None charts every metric the run logs. Call ``.stop()`` on the result when the
    tracked code is done (the chart also stops by itself at the end of the cell).
    """
    chart = LiveChart(keys, run_id=run_id, **options)
    if display:
        chart.show()
    return chart.start()


def live(
    keys: str | Sequence[str] | None = None,
    *,
    run_id: str | None = None,
    interval: float = 0.25,
    max_points: int = 1000,
    x: str = "auto",
) -> LiveChart:
    """Show a chart of ``keys`` that updates while the cell runs (``jt.live(["loss"])``).

    Put it before the training loop. Without ``run_id`` it follows every run that becomes
    active in this kernel; at most four redraws a second, and at most ``max_points`` points per
    series reach the browser (M4 decimation), however fast the metrics are logged. ``x`` is
    ``"step"``, ``"relative"`` (seconds since the run started), ``"wall"`` or ``"auto"`` (step,
    unless every point has the same step).
    """
    return start_live(keys, run_id=run_id, interval=interval, max_points=max_points, x=x)
