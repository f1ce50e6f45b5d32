"""THE formatting rule for Python output: numbers, durations and times, as text.

The same rule as ``src/format.ts``, which the sidebar and the widgets' browser code share, so a
value reads the same in the sidebar, a widget, its static HTML fallback, the ``%%track``
summary, a chart label and the CLI (``tests/project/test_frontend_unit.py`` runs both
implementations over the same values):

* missing (None) is ``—``; NaN is ``NaN``, infinities ``∞`` and ``-∞``;
* integers below 1e15 in full (``42``, ``1000000``);
* other numbers with 4 significant digits, trailing zeros dropped, rounded half away from zero
  on the exact value (``0.9583``, ``12.35``); below 1e-3 or from 1e6 on in exponent form
  (``1.235e-4``, ``2.5e+6``);
* durations ``0.42ms`` (below 1ms), ``850ms``, ``12.3s``, ``4m 05s``, ``2h 03m``, ``3d 04h``;
* times in the local time zone, always with a date.
"""

from __future__ import annotations

import math
import time
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

__all__ = [
    "MISSING",
    "format_age",
    "format_duration",
    "format_number",
    "format_short_time",
    "format_time",
    "format_value",
]

MISSING = "—"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FOUR = Context(prec=4, rounding=ROUND_HALF_UP)
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_number(value: float | int | None) -> str:
    """A number by the rule of the module doc (``—`` when missing)."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value)
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    magnitude = abs(number)
    if number.is_integer() and magnitude < 1e15:
        return str(int(number))
    rounded = _FOUR.plus(Decimal(magnitude))  # 4 significant digits, half up, exact value
    sign = "-" if number < 0 else ""
    if magnitude < 1e-3 or magnitude >= 1e6:
        _, digits, exponent = rounded.as_tuple()
        text = "".join(map(str, digits))
        mantissa = _trim(text[0] + "." + text[1:]) if len(text) > 1 else text
        return f"{sign}{mantissa}e{int(exponent) + len(digits) - 1:+d}"
    shortest = repr(float(rounded))  # the shortest text that reads back: as JavaScript's String
    return sign + (shortest[:-2] if shortest.endswith(".0") else shortest)


def format_value(value: Any) -> str:
    """Any table cell: numbers by :func:`format_number`, text as is, ``—`` when missing."""
    if value is None:
        return MISSING
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(value)
    if isinstance(value, str) and value in _NON_FINITE:
        return format_number(_NON_FINITE[value])
    return str(value)


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def format_duration(ms: float | None) -> str:
    """A duration in milliseconds: ``0.42ms``, ``850ms``, ``12.3s``, ``4m 05s``, ``2h 03m``,
    ``3d 04h``."""
    if ms is None or not math.isfinite(ms) or ms < 0:
        return ""
    if ms < 0.995:  # spans of traced calls often take less than a millisecond
        hundredths = _round_half_up(ms * 100)
        return f"{hundredths / 100}ms" if hundredths else "0ms"
    if ms < 999.5:
        return f"{_round_half_up(ms)}ms"
    tenths = _round_half_up(ms / 100)
    if tenths < 600:
        return f"{tenths // 10}.{tenths % 10}s"
    seconds = math.floor(max(ms, 60_000) / 1000)
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m {seconds % 60:02d}s"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h {minutes % 60:02d}m"
    return f"{hours // 24}d {hours % 24:02d}h"


def _local(ms: float) -> time.struct_time:
    return time.localtime(math.floor(ms / 1000))


def format_time(ms: float | None) -> str:
    """A timestamp (ms since the epoch) as local ``YYYY-MM-DD HH:MM:SS``."""
    if ms is None or not math.isfinite(ms):
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", _local(ms))


def format_short_time(ms: float | None, now: float | None = None) -> str:
    """``Nov 29 14:03`` this year, else ``2025-11-29 14:03``."""
    if ms is None or not math.isfinite(ms):
        return ""
    t = _local(ms)
    this_year = _local(time.time() * 1000 if now is None else now).tm_year
    clock = f"{t.tm_hour:02d}:{t.tm_min:02d}"
    if t.tm_year == this_year:
        return f"{MONTHS[t.tm_mon - 1]} {t.tm_mday} {clock}"
    return f"{t.tm_year}-{t.tm_mon:02d}-{t.tm_mday:02d} {clock}"


def format_age(ms: float | None, now: float | None = None) -> str:
    """How long ago: ``now``, ``45s``, ``12m``, ``3h``, ``2d`` (under two weeks), then the date."""
    if ms is None or not math.isfinite(ms):
        return ""
    now_ms = time.time() * 1000 if now is None else now
    seconds = math.floor((now_ms - ms) / 1000)
    if seconds < 5:
        return "now"
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 24:
        return f"{hours}h"
    if hours // 24 < 14:
        return f"{hours // 24}d"
    t = _local(ms)
    if t.tm_year == _local(now_ms).tm_year:
        return f"{MONTHS[t.tm_mon - 1]} {t.tm_mday}"
    return f"{t.tm_year}-{t.tm_mon:02d}-{t.tm_mday:02d}"
