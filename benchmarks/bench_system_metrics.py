"""What sampling system metrics costs a training loop (jupyter_track.tracking.system_metrics).

Measured in one run, interleaved so the shared machine's load hits every variant alike:

* one sample (psutil reads for the process and the machine, plus the ``log_metric`` calls),
  median over many;
* a pure-Python training loop that logs a metric every iteration, with the sampler off, at the
  default interval (10 s), at 1 s and at an aggressive 0.1 s: the ratio of loop times (noisy on
  a loaded machine) and the sampler thread's measured CPU time as a share of the wall time.

    python benchmarks/bench_system_metrics.py [--seconds 3] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def loop_seconds(seconds: float) -> float:
    """Run a logging loop for about ``seconds``; the time per 100k iterations."""
    import jupyter_track as jt

    n = 0
    start = time.perf_counter()
    x = 0.0
    while time.perf_counter() - start < seconds:
        for i in range(1000):
            x = (x * 1.000001 + i) % 7.0
            jt.log_metric("loss", x, step=n + i)
        n += 1000
    return (time.perf_counter() - start) / n * 100_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each loop")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="jt-bench-system-"))
    os.environ["JUPYTER_TRACK_DB"] = str(folder / "track.db")

    import jupyter_track as jt
    from jupyter_track.tracking import system_metrics

    probe = system_metrics.Probe()
    costs = []
    for _ in range(200):
        start = time.perf_counter()
        values = probe.read()
        costs.append(time.perf_counter() - start)
    print(f"one sample ({len(values)} values): median {statistics.median(costs) * 1e6:.0f} us")

    variants = {"off": None, "default 10 s": 10.0, "every 1 s": 1.0, "every 0.1 s": 0.1}
    times: dict[str, list[float]] = {name: [] for name in variants}
    sampled: dict[str, int] = {name: 0 for name in variants}
    cpu: dict[str, float] = {name: 0.0 for name in variants}
    names = list(variants)
    for round_ in range(args.rounds):
        # rotate the order each round: no variant always runs first (warm-up, load drift)
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            every = variants[name]
            system_metrics._sampler = (
                None if every is None else system_metrics.Sampler(_emit(), every=every)
            )
            with jt.start_run(log_system_metrics=every is not None) as run:
                times[name].append(loop_seconds(args.seconds))
            if system_metrics._sampler is not None:
                sampled[name] += system_metrics._sampler.samples
                cpu[name] += system_metrics._sampler.cpu_seconds
                system_metrics._sampler.stop()
            jt.flush()
            del run
    base = statistics.median(times["off"])
    print(f"{'sampler':<14} {'loop s/100k it':>15} {'vs off':>8} {'samples':>8} {'CPU share':>10}")
    for name in variants:
        median = statistics.median(times[name])
        # the sampler thread's own CPU time (measured) over the loops' wall time: what it
        # takes from the machine, independent of the load other processes put on it
        share = cpu[name] / (args.rounds * args.seconds)
        print(f"{name:<14} {median:>15.4f} {median / base:>8.3f} {sampled[name]:>8} {share:>9.4%}")


def _emit():  # type: ignore[no-untyped-def]
    from jupyter_track.tracking import fluent

    def emit(run_id: str, key: str, value: float, ts: int, step: int) -> None:
        fluent.log_metric(key, value, step=step, timestamp=ts, run_id=run_id)

    return emit


if __name__ == "__main__":
    main()
