"""System metrics of the kernel process while runs are active: CPU, memory and (when present)
GPU, sampled by one background thread at a low rate and logged as ordinary metrics under the
``system/`` prefix, so every store engine holds them and every view (sidebar, widgets,
``search_runs``) shows them like any metric.

Metrics (MLflow's names where MLflow has one; ``step`` is the sample number, the timestamp the
time of the sample)::

    system/process_cpu_utilization_percentage   this process, % of one core (can exceed 100)
    system/process_memory_rss_megabytes         this process's resident memory
    system/cpu_utilization_percentage           the machine, % of all cores
    system/system_memory_usage_megabytes        the machine's used memory
    system/system_memory_usage_percentage
    system/gpu_<i>_utilization_percentage       per GPU, when NVIDIA's NVML is installed
    system/gpu_<i>_memory_usage_megabytes

On by default (a sample costs well under a millisecond every 10 s; the first comes one
interval after the run starts, so runs shorter than that have none, and the sampling thread
starts only once a run has lasted half an interval (at most 0.5 s):
``benchmarks/bench_system_metrics.py``). Off with ``JUPYTER_TRACK_SYSTEM_METRICS=0``,
``jt.disable_system_metrics_logging()`` or ``start_run(log_system_metrics=False)``; the
interval is ``JUPYTER_TRACK_SYSTEM_METRICS_INTERVAL`` (seconds, at least 0.1).
Only top-level runs are sampled (a nested run shares its parent's process). Needs ``psutil``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

PREFIX = "system/"
DEFAULT_INTERVAL = 10.0
_ENV_SWITCH = "JUPYTER_TRACK_SYSTEM_METRICS"
_ENV_INTERVAL = "JUPYTER_TRACK_SYSTEM_METRICS_INTERVAL"

_enabled: bool | None = None  # None: the environment decides


def enable_system_metrics_logging() -> None:
    """Sample system metrics for runs started from now on (the default)."""
    global _enabled
    _enabled = True


def disable_system_metrics_logging() -> None:
    """Stop sampling system metrics for runs started from now on."""
    global _enabled
    _enabled = False


def wanted(asked: bool | None) -> bool:
    """Whether a run started with ``log_system_metrics=asked`` is sampled."""
    if asked is not None:
        return bool(asked)
    if _enabled is not None:
        return _enabled
    return os.environ.get(_ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def interval() -> float:
    """Seconds between samples (the environment's, else 10)."""
    raw = os.environ.get(_ENV_INTERVAL)
    try:
        return max(0.1, float(raw)) if raw else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL


class Probe:
    """Reads the numbers of one sample (psutil; NVML when it is installed)."""

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # the first call only sets the baseline
        psutil.cpu_percent(None)
        self._nvml: Any = None
        self._gpus: list[Any] = []
        try:
            import pynvml

            pynvml.nvmlInit()
            self._gpus = [
                pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())
            ]
            self._nvml = pynvml
        except Exception:  # no NVML, no driver, no GPU: no GPU metrics
            self._gpus = []

    def read(self) -> dict[str, float]:
        ps = self._psutil
        memory = ps.virtual_memory()
        values = {
            "system/process_cpu_utilization_percentage": self._process.cpu_percent(None),
            "system/process_memory_rss_megabytes": self._process.memory_info().rss / 1e6,
            "system/cpu_utilization_percentage": ps.cpu_percent(None),
            "system/system_memory_usage_megabytes": (memory.total - memory.available) / 1e6,
            "system/system_memory_usage_percentage": memory.percent,
        }
        for i, handle in enumerate(self._gpus):
            try:
                use = self._nvml.nvmlDeviceGetUtilizationRates(handle)
                mem = self._nvml.nvmlDeviceGetMemoryInfo(handle)
            except Exception:
                continue
            values[f"system/gpu_{i}_utilization_percentage"] = float(use.gpu)
            values[f"system/gpu_{i}_memory_usage_megabytes"] = mem.used / 1e6
        return {k: float(v) for k, v in values.items()}


Emit = Callable[[str, str, float, int, int], None]
"""(run_id, key, value, timestamp_ms, step) -> None: how a sample reaches the store."""


class Sampler:
    """One daemon thread that samples while at least one run is watched (see the module doc).

    Starting a run starts no thread: the background writer's loop calls :meth:`poke`, which
    starts the sampling thread once a watched run has lasted half an interval (at most half a
    second), so a run shorter than that costs neither a thread nor psutil's import.
    """

    def __init__(self, emit: Emit, every: float | None = None) -> None:
        self._emit = emit
        self.every = every if every is not None else interval()
        self.settle = min(self.every / 2, 0.5)
        self._runs: dict[str, int] = {}  # run_id -> next step
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._probe: Probe | None = None
        #: monotonic time of the next sample (set when the first run is watched)
        self._next_at = 0.0
        self.samples = 0
        self.cpu_seconds = 0.0  # thread CPU time spent sampling (for the benchmark)

    def watch(self, run_id: str) -> None:
        """Sample for ``run_id`` from now until :meth:`unwatch` (the first sample one interval
        after the first watched run started: a run shorter than that gets none)."""
        with self._lock:
            if not self._runs and not self._running():
                self._next_at = time.monotonic() + self.every
            self._runs.setdefault(run_id, 0)

    def poke(self) -> None:
        """Start the sampling thread when a watched run has lasted :attr:`settle` seconds and
        no thread samples yet (the background writer calls this every flush interval)."""
        if not self._runs or self._running():
            return
        with self._lock:
            if not self._runs or self._running():
                return
            if time.monotonic() < self._next_at - self.every + self.settle:
                return
            self._thread = threading.Thread(
                target=self._loop, name="jupyter-track-system-metrics", daemon=True
            )
            self._thread.start()

    def _running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def unwatch(self, run_id: str) -> None:
        with self._lock:
            self._runs.pop(run_id, None)

    @property
    def watched(self) -> list[str]:
        with self._lock:
            return list(self._runs)

    def sample_now(self) -> None:
        """Take one sample for every watched run (the thread's tick; also for tests)."""
        start = time.thread_time()
        if self._probe is None:
            self._probe = Probe()
        values = self._probe.read()
        now = int(time.time() * 1000)
        with self._lock:
            runs = list(self._runs.items())
            for run_id, step in runs:
                self._runs[run_id] = step + 1
        for run_id, step in runs:
            for key, value in values.items():
                self._emit(run_id, key, value, now, step)
        self.samples += 1
        self.cpu_seconds += time.thread_time() - start

    def stop(self) -> None:
        """Forget every run and let the thread end (tests, interpreter exit)."""
        with self._lock:
            self._runs.clear()
        self._wake.set()

    def _stopped(self) -> bool:
        """True (and the thread forgotten) when no run is watched any more."""
        with self._lock:
            if not self._runs:
                self._thread = None
                return True
            return False

    def _loop(self) -> None:
        # The probe (psutil's import, the CPU baseline the first sample measures from) comes
        # now, half an interval in: not while the run was being set up, and never for a run
        # shorter than that. Samples follow one interval apart from the first run's start.
        if self._probe is None:
            try:
                self._probe = Probe()
            except Exception:  # no psutil: no system metrics
                with self._lock:
                    self._runs.clear()
                    self._thread = None
                return
        while True:
            self._wake.wait(max(0.0, self._next_at - time.monotonic()))
            self._wake.clear()
            if self._stopped():
                return
            self._next_at = max(self._next_at + self.every, time.monotonic())
            try:
                self.sample_now()
            except Exception:  # psutil missing or failing: stop quietly, training goes on
                with self._lock:
                    self._runs.clear()
                    self._thread = None
                return


_sampler: Sampler | None = None
_sampler_lock = threading.Lock()


def sampler() -> Sampler:
    """This process's sampler, logging through the session's background writer."""
    global _sampler
    with _sampler_lock:
        if _sampler is None:
            from . import fluent

            def emit(run_id: str, key: str, value: float, ts: int, step: int) -> None:
                fluent.log_metric(key, value, step=step, timestamp=ts, run_id=run_id)

            _sampler = Sampler(emit)
        return _sampler


def watch(run_id: str) -> None:
    """Start sampling for a run (called by ``start_run``). ``psutil`` is imported by the
    sampling thread, half an interval later (a run shorter than that never imports it); without
    it the thread stops quietly."""
    sampler().watch(run_id)


def poke() -> None:
    """Let the sampler start its thread when a watched run has lasted long enough (called by
    the background writer's loop; nothing to do when no run was ever watched)."""
    if _sampler is not None:
        _sampler.poke()


def unwatch(run_id: str) -> None:
    """Stop sampling for a run (called when it ends)."""
    if _sampler is not None:
        _sampler.unwatch(run_id)
