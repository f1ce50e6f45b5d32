"""Reading query-string arguments; every problem is a 400 naming the parameter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tornado.web import RequestHandler

from .errors import ApiError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bad(name: str, message: str) -> ApiError:
    return ApiError(400, "bad_request", f"{name}: {message}", parameter=name)


def list_arg(
    handler: RequestHandler,
    name: str,
    *,
    required: bool = False,
    max_items: int | None = None,
    split: bool = True,
) -> list[str]:
    """Values of ``name``, repeated and/or comma-separated, in order, without blanks."""
    values: list[str] = []
    for raw in handler.get_query_arguments(name, strip=False):
        parts = raw.split(",") if split else [raw]
        values.extend(p.strip() for p in parts if p.strip())
    if required and not values:
        raise _bad(name, "is required")
    if max_items is not None and len(values) > max_items:
        raise _bad(name, f"at most {max_items} values, got {len(values)}")
    return values


def str_arg(handler: RequestHandler, name: str, *, required: bool = False) -> str | None:
    """The last value of ``name`` (None when absent); an empty required value is a 400."""
    value = handler.get_query_argument(name, None, strip=False)
    if required and (value is None or not value.strip()):
        raise _bad(name, "is required")
    return value


def int_arg(
    handler: RequestHandler, name: str, default: int | None, *, lo: int, hi: int
) -> int | None:
    """An integer in ``[lo, hi]``, or ``default`` when absent."""
    raw = handler.get_query_argument(name, None)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(name, f"{raw!r} is not an integer") from None
    if not lo <= value <= hi:
        raise _bad(name, f"must be between {lo} and {hi}, got {value}")
    return value


def bool_arg(handler: RequestHandler, name: str, default: bool) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (any case); absent: ``default``."""
    raw = handler.get_query_argument(name, None)
    if raw is None or raw == "":
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise _bad(name, f"{raw!r} is not a boolean (use true or false)")


def choice_arg(handler: RequestHandler, name: str, choices: Sequence[str], default: str) -> str:
    """One of ``choices``; absent: ``default``."""
    raw = handler.get_query_argument(name, None)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise _bad(name, f"{raw!r} is not one of {', '.join(choices)}")
    return raw


def column_selection(values: Sequence[str] | None) -> dict[str, Any]:
    """``["params.*", "metrics.acc"]`` -> ``{"params": "*", "metrics": ["acc"], "tags": None}``.

    Each entry is ``<params|metrics|tags>.<key>`` or ``<kind>.*``; anything else is a 400.
    """
    selection: dict[str, Any] = {"params": None, "metrics": None, "tags": None}
    for value in values or []:
        kind, dot, key = value.partition(".")
        if kind not in selection or not dot or not key:
            raise _bad(
                "columns", f"{value!r}: use params.<key>, metrics.<key>, tags.<key> or <kind>.*"
            )
        if key == "*":
            selection[kind] = "*"
        elif selection[kind] != "*":
            selection[kind] = [*(selection[kind] or []), key]
    return selection
