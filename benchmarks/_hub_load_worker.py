"""One logging process of ``bench_hub.py``: logs one run at a paced rate and reports JSON.

    python _hub_load_worker.py jt     RATE SECONDS NAME   (jupyter-track, the team service)
    python _hub_load_worker.py mlflow RATE SECONDS NAME   (MLflow's REST client, mlflow server)

``jt`` runs with jupyter-track's interpreter and ``JUPYTER_TRACK_URI`` /
``JUPYTER_TRACK_TOKEN`` naming the service: the kernel API (``log_metric`` buffered, the
background writer sending one batch per flush). ``mlflow`` runs with the MLflow venv's
interpreter and ``MLFLOW_TRACKING_URI`` naming ``mlflow server``: the same points, buffered
for the same interval and sent with ``MlflowClient.log_batch`` (at most 1,000 metrics per
request, MLflow's limit). Both time every request that carries points.

Prints one JSON line: points logged, the run id, the logging loop's duration (longer than
asked when the process could not keep the pace: its requests were too slow), the time to
drain what was buffered after it, per-request latencies (seconds), and (jt) how many batches
were left in the spool.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

FLUSH_EVERY = 0.2  # the kernel writer's interval; MLflow's side buffers as long


#: a process that falls behind its pace stops logging after this many times ``seconds``
#: (a server that cannot keep up shows as fewer points/s, not as a run that never ends)
GIVE_UP = 3.0


def paced(rate: float, seconds: float, log: Any) -> int:
    """Call ``log(step, value)`` ``rate`` times a second for ``seconds``; the points logged."""
    start = time.perf_counter()
    total = int(rate * seconds)
    step = 0
    while step < total and time.perf_counter() - start < GIVE_UP * seconds:
        due = int((time.perf_counter() - start) * rate) + 1
        end = min(due, total)
        while step < end:
            log(step, 1.0 / (step + 1))
            step += 1
        if step >= due:
            time.sleep(0.001)
    return step


def run_jt(rate: float, seconds: float, name: str) -> dict[str, Any]:
    import jupyter_track as jt
    from jupyter_track.store import open_store

    store = open_store()
    latencies: list[float] = []
    post = store._post_batch

    def timed(batch: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        post(batch)
        latencies.append(time.perf_counter() - t0)

    store._post_batch = timed  # type: ignore[method-assign]
    jt.set_experiment("hub-load")
    run = jt.start_run(run_name=name)
    started = time.perf_counter()
    points = paced(rate, seconds, lambda s, v: jt.log_metric("loss", v, step=s))
    loop = time.perf_counter() - started
    jt.end_run()
    jt.flush()
    return {
        "run_id": run.info.run_id,
        "points": points,
        "seconds": loop,
        "drain": time.perf_counter() - started - loop,
        "latencies": latencies,
        "spooled": len(store.spool),
    }


def run_mlflow(rate: float, seconds: float, name: str) -> dict[str, Any]:
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient()
    experiment = client.get_experiment_by_name("hub-load")
    experiment_id = (
        experiment.experiment_id if experiment else _create_experiment(client, "hub-load")
    )
    run = client.create_run(experiment_id, run_name=name)
    run_id = run.info.run_id
    latencies: list[float] = []
    pending: list[Metric] = []
    last = [time.perf_counter()]
    started = time.perf_counter()

    sent = [0]

    def send() -> None:
        while pending and time.perf_counter() - started < GIVE_UP * seconds:
            chunk = pending[:1000]
            t0 = time.perf_counter()
            client.log_batch(run_id, metrics=chunk)
            latencies.append(time.perf_counter() - t0)
            del pending[: len(chunk)]
            sent[0] += len(chunk)
        last[0] = time.perf_counter()

    def log(step: int, value: float) -> None:
        pending.append(Metric("loss", value, int(time.time() * 1000), step))
        if time.perf_counter() - last[0] >= FLUSH_EVERY:
            send()

    started = time.perf_counter()
    points = paced(rate, seconds, log)
    loop = time.perf_counter() - started
    send()
    unsent = len(pending)  # the server was too slow: given up after GIVE_UP x seconds
    client.set_terminated(run_id)
    drain = time.perf_counter() - started - loop
    return {
        "run_id": run_id,
        "points": points,
        "seconds": loop,
        "drain": drain,
        "latencies": latencies,
        "unsent": unsent,
    }


def _create_experiment(client: Any, name: str) -> str:
    try:
        return str(client.create_experiment(name))
    except Exception:  # another worker created it first
        return str(client.get_experiment_by_name(name).experiment_id)


def main() -> None:
    kind, rate, seconds, name = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    result = (run_jt if kind == "jt" else run_mlflow)(rate, seconds, name)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
