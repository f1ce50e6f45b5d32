"""The synthetic traces both stores hold for the ``search_traces`` benchmark (no dependencies).

Imported by ``bench_tracing.py`` (jupyter-track's venv) and by ``_mlflow_tracing.py`` (the
MLflow venv), so both sides search exactly the same traces: an agent-like root span and a
child span each, one of four names, 5% ERROR, one of 50 users as a tag, latencies from 1 ms
to about 3 s.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

BASE_TIME_MS = 1_780_000_000_000
NAMES = ["answer", "retrieve_qa", "summarize", "classify"]
CHILDREN = ["retrieve", "chat", "parse", "tool"]
CHILD_TYPES = {"retrieve": "RETRIEVER", "chat": "CHAT_MODEL", "parse": "PARSER", "tool": "TOOL"}

#: the searches timed: (filter, order_by); the first is the headline figure
SEARCHES = [
    ("attributes.status = 'ERROR'", ["execution_time_ms DESC"]),
    ("tags.user = 'u7'", ["timestamp_ms DESC"]),
    ("execution_time_ms > 2500", ["timestamp_ms DESC"]),
]


@dataclass
class SyntheticSpan:
    span_id: str  # 16 hex digits
    parent_id: str | None
    name: str
    span_type: str
    start_ns: int
    end_ns: int
    inputs: str  # JSON
    outputs: str  # JSON


@dataclass
class SyntheticTrace:
    trace_id: str  # "tr-" + 32 hex digits
    name: str
    status: str
    start_ms: int
    duration_ms: int
    user: str
    spans: list[SyntheticSpan]


def synthetic_traces(n: int, seed: int = 12) -> Iterator[SyntheticTrace]:
    """``n`` traces, oldest first (one every 10 ms of simulated time)."""
    rng = random.Random(seed)
    for i in range(n):
        name = NAMES[i % len(NAMES)]
        child = CHILDREN[rng.randrange(len(CHILDREN))]
        status = "ERROR" if rng.random() < 0.05 else "OK"
        start_ms = BASE_TIME_MS + 10 * i
        duration = int(rng.lognormvariate(5.5, 1.0)) + 1
        question = f"question {i}"
        start_ns = start_ms * 1_000_000
        end_ns = start_ns + duration * 1_000_000
        root_id = f"{rng.getrandbits(64):016x}"
        spans = [
            SyntheticSpan(
                root_id,
                None,
                name,
                "CHAIN",
                start_ns,
                end_ns,
                f'{{"question": "{question}"}}',
                f'"answer {i}"',
            ),
            SyntheticSpan(
                f"{rng.getrandbits(64):016x}",
                root_id,
                child,
                CHILD_TYPES[child],
                start_ns + 1000,
                end_ns - 1000,
                f'{{"q": "{question}"}}',
                f'"r{i}"',
            ),
        ]
        yield SyntheticTrace(
            f"tr-{rng.getrandbits(128):032x}",
            name,
            status,
            start_ms,
            duration,
            f"u{rng.randrange(50)}",
            spans,
        )
