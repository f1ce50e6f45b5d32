"""Checks on keys and values; every error names the field and the reason."""

from __future__ import annotations

import math
from typing import Any

from .errors import InvalidInput

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000


def check_key(key: Any, what: str) -> str:
    """Return ``key`` if it is a usable name for a metric, param or tag, else raise."""
    if not isinstance(key, str):
        raise InvalidInput(f"{what} key {key!r}: must be a string, got {type(key).__name__}")
    if not key or not key.strip():
        raise InvalidInput(f"{what} key {key!r}: must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"{what} key {key[:40]!r}...: is {len(key)} characters long, the limit is "
            f"{MAX_KEY_LENGTH}"
        )
    if any(ord(c) < 32 for c in key):
        raise InvalidInput(f"{what} key {key!r}: must not contain control characters")
    return key


def metric_value(key: str, value: Any) -> float:
    """Coerce a metric value to float (NaN and +/-inf allowed); strings are refused."""
    if type(value) is float:
        return value
    if isinstance(value, (str, bytes, bytearray)):
        raise InvalidInput(
            f"metric {key!r}: value {value!r} is not a number (got {type(value).__name__})"
        )
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"metric {key!r}: value {value!r} is not a number (got {type(value).__name__})"
        ) from exc


def metric_step(key: str, step: Any) -> int:
    if step is None:
        return 0
    if type(step) is int:
        return step
    try:
        as_int = int(step)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"metric {key!r}: step {step!r} is not an integer") from exc
    if isinstance(step, float) and (math.isnan(step) or as_int != step):
        raise InvalidInput(f"metric {key!r}: step {step!r} is not an integer")
    return as_int


def text_value(key: str, value: Any, what: str, limit: int) -> str:
    """Turn a param or tag value into text, or raise naming the key."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = str(value)
        except Exception as exc:  # an object whose __str__ fails
            raise InvalidInput(
                f"{what} {key!r}: value of type {type(value).__name__} cannot be turned into "
                f"text ({type(exc).__name__}: {exc})"
            ) from exc
    if len(text) > limit:
        raise InvalidInput(
            f"{what} {key!r}: value is {len(text)} characters long, the limit is {limit}"
        )
    return text
