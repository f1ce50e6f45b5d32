"""The wire format of ``POST /invocations``: request bodies in, predictions out, errors.

Bodies are JSON records (``[{...}, ...]`` or ``{"dataframe_records": [...]}``), columns
(``{"columns": {"a": [...]}}``), ``{"dataframe_split": {"columns": [...], "data": [[...]]}}``
or ``{"inputs": ...}``. Every error is ``{"error_code": ..., "message": ...}`` (MLflow's
serving shape), never a bare text or an exception's text.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from ...store.errors import InvalidInput
from ...store.validation import text_problem

MAX_REQUEST_BYTES = 16 << 20
"""Default largest request body (16 MiB); more is a 413."""
MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects accepted in a request body."""


def decode_body(raw: bytes) -> Any:
    """The JSON of a request body; ``InvalidInput`` says what is wrong with it.

    Runs in a worker thread (a large body is parsed off the event loop).
    """
    try:
        body = json.loads(raw)
    except RecursionError:
        raise InvalidInput(f"request body: nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from None
    _check_tree(body)
    return body


def _check_tree(body: Any) -> None:
    pending: list[tuple[Any, int]] = [(body, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                raise InvalidInput(f"request body: a string {problem}")
        elif isinstance(item, (list, dict)):
            if depth >= MAX_JSON_DEPTH:
                raise InvalidInput(f"request body: nested more than {MAX_JSON_DEPTH} levels deep")
            if isinstance(item, dict):
                pending.extend((k, depth + 1) for k in item)
                pending.extend((v, depth + 1) for v in item.values())
            else:
                pending.extend((v, depth + 1) for v in item)


def error_body(code: str, message: str) -> dict[str, str]:
    """The one error shape of the model server."""
    return {"error_code": code, "message": message}


def parse_payload(body: Any) -> Any:
    """Turn a request body into model input (records, columns, split or inputs)."""
    if isinstance(body, list):
        if not body:
            raise InvalidInput("request body: no rows")
        return body
    if not isinstance(body, dict):
        raise InvalidInput(
            "request body: expected a JSON list of records or an object with "
            "dataframe_records, dataframe_split, columns or inputs"
        )
    for key in ("dataframe_records", "records"):
        if key in body:
            records = body[key]
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise InvalidInput(f"request body: {key} must be a list of objects")
            return records
    if "dataframe_split" in body:
        split = body["dataframe_split"]
        if not isinstance(split, dict) or "data" not in split:
            raise InvalidInput("request body: dataframe_split needs 'columns' and 'data'")
        try:
            return pd.DataFrame(split["data"], columns=split.get("columns"))
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"request body: dataframe_split: {exc}") from exc
    if "columns" in body:
        columns = body["columns"]
        if not isinstance(columns, dict) or not all(isinstance(v, list) for v in columns.values()):
            raise InvalidInput("request body: columns must map each column name to a list")
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise InvalidInput("request body: columns have different lengths")
        return dict(columns)
    for key in ("inputs", "instances"):
        if key in body:
            return body[key]
    raise InvalidInput(
        "request body: expected a JSON list of records or an object with dataframe_records, "
        f"dataframe_split, columns or inputs (got keys: {', '.join(map(str, body)) or 'none'})"
    )


def to_jsonable(value: Any) -> Any:
    """Predictions as JSON: arrays to lists, NaN and infinities to null."""
    if isinstance(value, pd.DataFrame):
        value = value.to_dict(orient="records")
    elif isinstance(value, (pd.Series, pd.Index, np.ndarray)):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value
