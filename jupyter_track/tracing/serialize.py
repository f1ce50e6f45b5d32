"""Span payloads as JSON text, never raising into user code.

``to_json(value)`` encodes what JSON can hold as is; pydantic models (the OpenAI client's
responses), dataclasses, numpy values, sets, dates and paths are converted; anything else is
stored as its ``repr``. NaN and infinities become the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` (strict JSON has no such numbers). A span whose inputs and outputs together
exceed the size limit (``max_span_bytes``, 1 MB by default) is stored with the larger part
replaced by a :data:`TRUNCATED` marker object that keeps the head of its JSON text.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
from pathlib import PurePath
from typing import Any

TRUNCATED = "jupyter_track.truncated"
"""Key of the marker object that replaces a truncated payload:
``{"jupyter_track.truncated": true, "bytes": <original size>, "head": "<start of the JSON>"}``."""

DEFAULT_MAX_SPAN_BYTES = 1_000_000
MAX_SPAN_BYTES_ENV = "JUPYTER_TRACK_MAX_SPAN_BYTES"


def _env_limit() -> int:
    try:
        return max(256, int(os.environ.get(MAX_SPAN_BYTES_ENV, DEFAULT_MAX_SPAN_BYTES)))
    except ValueError:
        return DEFAULT_MAX_SPAN_BYTES


class _Limits:
    max_span_bytes = _env_limit()


limits = _Limits()


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__} object>"


def _default(value: Any) -> Any:
    """JSON for what the encoder cannot hold by itself; ``repr`` as the last resort."""
    try:
        dump = getattr(value, "model_dump", None)  # pydantic v2 (OpenAI responses)
        if callable(dump) and not isinstance(value, type):
            return dump(mode="json", exclude_unset=True)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if isinstance(value, (set, frozenset)):
            return sorted(value, key=repr)
        if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
            return value.isoformat()
        if isinstance(value, PurePath):
            return str(value)
        if isinstance(value, (bytes, bytearray)):
            return _safe_repr(bytes(value[:1024])) + ("..." if len(value) > 1024 else "")
        module = type(value).__module__
        if module == "numpy" and hasattr(value, "tolist"):
            return value.tolist()
        if module.startswith("pandas") and hasattr(value, "to_dict"):
            return value.to_dict()
        to_dict = getattr(value, "to_dict", None)
        if callable(to_dict) and not isinstance(value, type):
            return to_dict()
        dump = getattr(value, "dict", None)  # pydantic v1
        if callable(dump) and hasattr(value, "__fields__") and not isinstance(value, type):
            return dump()
    except Exception:
        pass
    return _safe_repr(value)


def _make_encoder() -> Any:
    """One reusable encoder: C-accelerated when available, without the circular-reference
    bookkeeping (a cycle ends in RecursionError, which :func:`to_json` catches)."""
    from json import encoder as stdlib

    c_make_encoder = getattr(stdlib, "c_make_encoder", None)
    encode_basestring = stdlib.encode_basestring
    if c_make_encoder is None:  # pragma: no cover - CPython has the C encoder
        return json.JSONEncoder(
            ensure_ascii=False, allow_nan=False, default=_default, separators=(",", ":")
        ).encode
    chunks = c_make_encoder(None, _default, encode_basestring, None, ":", ",", False, False, False)
    join = "".join

    def encode(value: Any) -> str:
        if type(value) is str:
            return encode_basestring(value)
        return join(chunks(value, 0))

    return encode


_encode = _make_encoder()


def _finite(value: Any, path: frozenset[int] = frozenset()) -> Any:
    """A JSON-safe copy, used after the fast encoding failed: NaN/inf floats become strings,
    a container that contains itself becomes its repr, converted objects are walked too."""
    if len(path) > 200:
        return _safe_repr(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, (dict, list, tuple)):
        if id(value) in path:
            return _safe_repr(value)
        inner = path | {id(value)}
        if isinstance(value, dict):
            return {str(k): _finite(v, inner) for k, v in value.items()}
        return [_finite(v, inner) for v in value]
    converted = _default(value)
    if isinstance(converted, str) or converted is value:
        return converted
    return _finite(converted, path | {id(value)})


def to_json(value: Any) -> str:
    """``value`` as JSON text; never raises (see the module doc)."""
    try:
        return _encode(value)
    except (ValueError, TypeError, OverflowError, RecursionError):
        pass  # NaN, a cycle, an absurd depth: the slow walk below
    except Exception:
        return _encode(_safe_repr(value))
    try:
        return _encode(_finite(value))
    except Exception:
        return _encode(_safe_repr(value))


def truncated(text: str, keep: int) -> str:
    """The marker object for a JSON text cut to its first ``keep`` characters."""
    return _encode(
        {TRUNCATED: True, "bytes": len(text.encode("utf-8", "replace")), "head": text[:keep]}
    )


def fit(inputs: str | None, outputs: str | None, limit: int) -> tuple[str | None, str | None]:
    """Make ``inputs`` + ``outputs`` fit ``limit`` (characters, about bytes for ASCII)."""
    a = len(inputs) if inputs is not None else 0
    b = len(outputs) if outputs is not None else 0
    if a + b <= limit:
        return inputs, outputs
    budget = max(limit - 200, 64)  # room for the markers themselves
    if a > budget // 2 and b > budget // 2:
        keep_a = keep_b = budget // 2
    elif a > b:
        keep_a, keep_b = budget - b, b
    else:
        keep_a, keep_b = a, budget - a
    if inputs is not None and a > keep_a:
        inputs = truncated(inputs, keep_a)
    if outputs is not None and b > keep_b:
        outputs = truncated(outputs, keep_b)
    return inputs, outputs


def attribute_value(value: Any) -> Any:
    """An attribute value safe to keep until the span is written: scalars as they are, other
    values decoded from their JSON (so later changes by the caller do not leak in)."""
    if value is None or type(value) in (str, int, bool):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else to_json(value).strip('"')
    try:
        return json.loads(to_json(value))
    except Exception:
        return _safe_repr(value)
