"""``POST ingest``: a kernel's batch of metric points and cell-log rows, written once.

The body (JSON, usually ``Content-Encoding: gzip``)::

    {"batch_id": "<uuid>",
     "metrics": [[run_id, key, step, timestamp_ms, value], ...],
     "cells": [[session, notebook, cell_id, execution_count, source, start_time,
                duration_ms, status, error_name, run_id], ...],
     "calls": [[method, args, kwargs], ...]}

``calls`` are store writes a client deferred while the service was unreachable (a run's end,
its tags), in the encoding of ``POST store/{method}`` and with the same permission rules;
they run after the rows, in the same transaction.

Values may be the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``. Every row is checked
before anything is written (a bad row: 400 naming the row and field, nothing written); the
caller must be allowed to change every run the batch names (its creator, or MANAGE on its
experiment). The batch and its id are written in one transaction; a batch id seen before is
answered ``{"written": false, "duplicate": true}`` and writes nothing, so a client may send a
batch again until it gets an answer (at-least-once delivery, exactly-once effect).
"""

from __future__ import annotations

import json
import math
from typing import Any

from .. import wire
from ..store.errors import InvalidInput
from ..store.validation import check_key, metric_step, metric_timestamp, metric_value
from .base import TrackHandler, gunzip_bounded
from .errors import ApiError
from .policy import EDIT

MAX_ROWS = 1_000_000
MAX_BODY = 256 << 20  # decompressed
_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_CELL_FIELDS = 10


def _value(key: str, raw: Any) -> float:
    if isinstance(raw, str) and raw in _FLOATS:
        return _FLOATS[raw]
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise InvalidInput(f"metric {key!r}: value must be a number, got {type(raw).__name__}")
    return metric_value(key, raw)


_INT64 = (-(2**63), 2**63 - 1)


def check_metric_rows(raw: Any) -> list[tuple[str, str, int, int, float]]:
    """The batch's metric rows, validated; ``InvalidInput`` names the first bad row.

    The common row (a known key, int step and timestamp in 64 bits, a float value) takes a
    fast path; anything else goes through the store's validators, which name the problem.
    """
    if not isinstance(raw, list):
        raise InvalidInput("metrics: must be a list of [run_id, key, step, timestamp, value]")
    if len(raw) > MAX_ROWS:
        raise InvalidInput(f"metrics: at most {MAX_ROWS:,} rows per batch")
    lo, hi = _INT64
    keys: set[str] = set()
    rows = []
    append = rows.append
    for i, row in enumerate(raw):
        if type(row) is not list or len(row) != 5 or type(row[0]) is not str:
            raise InvalidInput(f"metrics[{i}]: must be [run_id, key, step, timestamp, value]")
        run_id, key, step, ts, value = row
        if (
            key in keys
            and type(step) is int
            and lo <= step <= hi
            and type(ts) is int
            and lo <= ts <= hi
            and type(value) is float
        ):
            append((run_id, key, step, ts, value))
            continue
        try:
            key = check_key(key, "metric")
            keys.add(key)
            append(
                (run_id, key, metric_step(key, step), metric_timestamp(key, ts), _value(key, value))
            )
        except InvalidInput as exc:
            raise InvalidInput(f"metrics[{i}]: {exc}") from None
    return rows


def check_cell_rows(raw: Any) -> list[tuple[Any, ...]]:
    """The batch's cell-log rows (shape and types of each field)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidInput("cells: must be a list of rows")
    rows = []
    kinds = (
        (str, type(None)),  # session
        (str, type(None)),  # notebook
        (str, type(None)),  # cell_id
        (int, type(None)),  # execution_count
        (str,),  # source
        (int,),  # start_time
        (int, float),  # duration_ms
        (str,),  # status
        (str, type(None)),  # error_name
        (str, type(None)),  # run_id
    )
    for i, row in enumerate(raw):
        if not isinstance(row, list) or len(row) != _CELL_FIELDS:
            raise InvalidInput(f"cells[{i}]: must be a list of {_CELL_FIELDS} fields")
        for j, (value, allowed) in enumerate(zip(row, kinds)):
            if isinstance(value, bool) or not isinstance(value, allowed):
                raise InvalidInput(f"cells[{i}][{j}]: wrong type {type(value).__name__}")
        rows.append(tuple(row))
    return rows


def parse_batch(body: bytes, encoding: str) -> dict[str, Any]:
    """The JSON object of a (possibly gzip-compressed) batch body, or a 400."""
    if encoding.lower() == "gzip":
        body = gunzip_bounded(body, MAX_BODY)
    try:
        batch = json.loads(body)
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"the body is not valid JSON: {exc}") from None
    if not isinstance(batch, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    batch_id = batch.get("batch_id")
    if not isinstance(batch_id, str) or not 8 <= len(batch_id) <= 100:
        raise ApiError(400, "invalid_input", "batch_id: required, a string of 8 to 100 characters")
    return batch


class IngestHandler(TrackHandler):
    """``POST ingest``."""

    async def post(self) -> None:
        batch = parse_batch(self.request.body, self.request.headers.get("Content-Encoding", ""))
        try:
            metrics = check_metric_rows(batch.get("metrics", []))
            cells = check_cell_rows(batch.get("cells"))
        except InvalidInput as exc:
            raise ApiError(400, "invalid_input", str(exc)) from None
        calls = batch.get("calls") or []
        if not isinstance(calls, list) or not all(
            isinstance(c, list) and len(c) == 3 and isinstance(c[0], str) for c in calls
        ):
            raise ApiError(400, "invalid_input", "calls: must be a list of [method, args, kwargs]")
        who = self.principal
        policy = self.policy
        run_ids = sorted({row[0] for row in metrics} | {r[9] for r in cells if r[9]})

        def work(store: Any) -> dict[str, Any]:
            from .store_calls import prepared_call

            for run_id in run_ids:
                policy.check_run(store, who, run_id, EDIT)
            deferred = [
                prepared_call(
                    store,
                    who,
                    policy,
                    method,
                    wire.decode(args),
                    wire.decode(kwargs),
                    deferred=True,
                )
                for method, args, kwargs in calls
            ]
            written = store.ingest_batch(batch["batch_id"], metrics, cells, deferred)
            return {
                "batch_id": batch["batch_id"],
                "written": written,
                "duplicate": not written,
                "metrics": len(metrics) if written else 0,
                "cells": len(cells) if written else 0,
                "calls": len(calls) if written else 0,
            }

        self.send_json(await self.write_store(work))
