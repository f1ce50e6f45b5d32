"""The synthetic runs both stores are filled with for the search benchmark (no dependencies).

Imported by ``bench_search.py`` (jupyter-track's venv) and by ``_mlflow_worker.py`` (the MLflow
venv), so both sides search exactly the same data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

LEARNING_RATES = ["0.1", "0.03", "0.01", "0.003", "0.001", "0.0003", "0.0001", "3e-05"]
LEARNING_RATES += ["1e-05", "3e-06"]
OPTIMIZERS = ["adam", "sgd", "adamw", "rmsprop"]
METRIC_KEYS = ["acc", "loss", "f1", "precision", "recall"]
BASE_TIME_MS = 1_700_000_000_000

FILTER = "metrics.acc > 0.9 and params.lr = '0.01'"
ORDER_BY = ["metrics.acc DESC"]


@dataclass
class SyntheticRun:
    """One run: 10 params, 5 metrics (one point each), 2 tags."""

    run_id: str
    name: str
    start_time: int
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


def synthetic_runs(n: int, seed: int = 42) -> Iterator[SyntheticRun]:
    """``n`` deterministic runs; about 1% match :data:`FILTER` (lr = 0.01: 10%, acc > 0.9: 10%)."""
    rng = random.Random(seed)
    for i in range(n):
        acc = rng.random()
        params = {
            "lr": rng.choice(LEARNING_RATES),
            "batch_size": str(rng.choice([16, 32, 64, 128, 256, 512])),
            "layers": str(rng.randint(1, 8)),
            "optimizer": rng.choice(OPTIMIZERS),
            "dropout": f"{rng.random() * 0.5:.3f}",
            "epochs": str(rng.randint(1, 100)),
            "seed": str(i),
            "weight_decay": f"{rng.random() * 1e-3:.6f}",
            "hidden": str(rng.choice([64, 128, 256, 512, 1024])),
            "activation": rng.choice(["relu", "gelu", "tanh"]),
        }
        metrics = {
            "acc": acc,
            "loss": rng.random() * 2,
            "f1": rng.random(),
            "precision": rng.random(),
            "recall": rng.random(),
        }
        yield SyntheticRun(
            run_id=f"{rng.getrandbits(128):032x}",
            name=f"run-{i}",
            start_time=BASE_TIME_MS + i * 1000,
            params=params,
            metrics=metrics,
            tags={"mlflow.user": "bench", "team": rng.choice(["a", "b", "c"])},
        )
