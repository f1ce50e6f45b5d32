"""System metrics of the kernel process (jupyter_track.tracking.system_metrics): sampled in
the background while a top-level run is active, stored as ordinary ``system/`` metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import jupyter_track as jt
from jupyter_track.tracking import session, system_metrics


@pytest.fixture
def fast_sampling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("JUPYTER_TRACK_DB", str(tmp_path / "track.db"))
    monkeypatch.setenv("JUPYTER_TRACK_SYSTEM_METRICS_INTERVAL", "0.1")
    monkeypatch.delenv("JUPYTER_TRACK_SYSTEM_METRICS", raising=False)
    session.reset()
    monkeypatch.setattr(system_metrics, "_sampler", None)
    monkeypatch.setattr(system_metrics, "_enabled", None)
    yield
    if system_metrics._sampler is not None:
        system_metrics._sampler.stop()
    session.reset()


def system_keys(run_id: str) -> set[str]:
    jt.flush()
    return {k for k in jt.get_run(run_id).data.metrics if k.startswith("system/")}


def wait_for_samples(run_id: str, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jt.flush()
        history = jt.get_metric_history(run_id, "system/process_memory_rss_megabytes")
        if len(history) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} samples after {timeout} s")


def test_a_run_gets_cpu_and_memory_of_the_kernel_process(fast_sampling: None) -> None:
    with jt.start_run() as run:
        jt.log_metric("loss", 1.0)
        wait_for_samples(run.info.run_id, 3)
    keys = system_keys(run.info.run_id)
    assert {
        "system/process_cpu_utilization_percentage",
        "system/process_memory_rss_megabytes",
        "system/cpu_utilization_percentage",
        "system/system_memory_usage_megabytes",
        "system/system_memory_usage_percentage",
    } <= keys
    history = jt.get_metric_history(run.info.run_id, "system/process_memory_rss_megabytes")
    assert [m.step for m in history] == list(range(len(history)))  # the sample number
    assert all(m.value > 1 for m in history)  # this process holds more than a megabyte
    # the run ended: sampling stopped for it
    assert run.info.run_id not in system_metrics.sampler().watched
    count = len(history)
    time.sleep(0.4)
    jt.flush()
    assert len(jt.get_metric_history(run.info.run_id, "system/process_memory_rss_megabytes")) == (
        count
    )


def test_sampling_can_be_turned_off_and_skips_nested_runs(fast_sampling: None) -> None:
    with jt.start_run(log_system_metrics=False) as quiet:
        with jt.start_run(nested=True) as child:
            assert child.info.run_id not in system_metrics.sampler().watched
        time.sleep(0.4)
    assert system_keys(quiet.info.run_id) == set()
    jt.disable_system_metrics_logging()
    with jt.start_run() as off:
        time.sleep(0.4)
    assert system_keys(off.info.run_id) == set()
    jt.enable_system_metrics_logging()
    with jt.start_run() as on:
        wait_for_samples(on.info.run_id, 1)


def test_the_environment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system_metrics, "_enabled", None)
    monkeypatch.setenv("JUPYTER_TRACK_SYSTEM_METRICS", "0")
    assert not system_metrics.wanted(None) and system_metrics.wanted(True)
    monkeypatch.setenv("JUPYTER_TRACK_SYSTEM_METRICS", "1")
    assert system_metrics.wanted(None) and not system_metrics.wanted(False)
    monkeypatch.setenv("JUPYTER_TRACK_SYSTEM_METRICS_INTERVAL", "nope")
    assert system_metrics.interval() == system_metrics.DEFAULT_INTERVAL
    monkeypatch.setenv("JUPYTER_TRACK_SYSTEM_METRICS_INTERVAL", "0.001")
    assert system_metrics.interval() == 0.1
