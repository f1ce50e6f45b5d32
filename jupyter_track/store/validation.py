"""Checks on keys and values; every error names the field and the reason.

The checks cover everything the store cannot hold, so a value that passes never fails later
in a write transaction: text must be encodable as UTF-8 (no lone surrogates), integers (steps,
timestamps) must fit SQLite's signed 64 bits, metric values must be real numbers a float can
hold. Each check starts with the cheapest test for the common case (an ASCII key, a float, an
``int`` in range) so the callers on a training loop's thread pay almost nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from .entities import UNSET
from .errors import InvalidInput

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_NAME_LENGTH = 500
"""Run, experiment and registered-model names, aliases."""

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

MAX_FILTER_LENGTH = 20_000
"""Characters in a filter string."""
MAX_FILTER_TERMS = 200
"""Comparisons in a filter string (SQLite's expression depth bounds what a query can hold)."""
MAX_FILTER_DEPTH = 50
"""Parentheses and NOTs nested in a filter string."""


def check_id_number(value: Any, what: str) -> int:
    """An integer id given as an int or as digits (``experiment_ids``): it must fit SQLite's
    signed 64 bits, else ``InvalidInput`` naming ``what``."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} {value!r}: must be an integer id")
    if isinstance(value, int):
        number = value
    else:
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            raise InvalidInput(f"{what} {_short(value)}: must be an integer id") from None
    if not INT64_MIN <= number <= INT64_MAX:
        raise InvalidInput(f"{what} {_short(value)}: out of range (a signed 64-bit integer)")
    return number


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored (a NUL character, which PostgreSQL refuses in text; a lone
    surrogate, which is not UTF-8), or None when it can."""
    nul = text.find("\x00")
    if nul >= 0:
        return f"contains a NUL character (\\x00) at position {nul} (text cannot hold one)"
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"contains a lone surrogate {text[exc.start]!r} at position {exc.start} "
            "(not valid Unicode text)"
        )
    return None


def check_text(value: Any, what: str, *, limit: int | None = None, empty: bool = True) -> str:
    """Return ``value`` if it is a string the store can hold, else raise naming ``what``."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what}: must be a string, got {type(value).__name__}")
    if not empty and not value.strip():
        raise InvalidInput(f"{what}: must not be empty")
    if limit is not None and len(value) > limit:
        raise InvalidInput(f"{what}: is {len(value):,} characters long, the limit is {limit:,}")
    problem = text_problem(value)
    if problem:
        raise InvalidInput(f"{what}: {problem}")
    return value


def check_name(value: Any, what: str) -> str:
    """A run, experiment or model name: non-empty text of at most ``MAX_NAME_LENGTH``."""
    return check_text(value, what, limit=MAX_NAME_LENGTH, empty=False)


_CONTROL = re.compile(r"[\x00-\x1f]")
_good_keys: set[str] = set()
"""Keys already checked (the check is a pure function of the text): a run's params and tags
are mostly the same keys run after run. Bounded: cleared when it reaches 10,000."""
MAX_MODEL_NAME_LENGTH = 256
MAX_ALIAS_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 50_000
_ALIAS_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
_RESERVED_ALIAS_RE = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)


def check_key(key: Any, what: str) -> str:
    """Return ``key`` if it is a usable name for a metric, param or tag, else raise."""
    if type(key) is str and key in _good_keys:
        return key
    if not isinstance(key, str):
        raise InvalidInput(f"{what} key {key!r}: must be a string, got {type(key).__name__}")
    if not key or not key.strip():
        raise InvalidInput(f"{what} key {key!r}: must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"{what} key {key[:40]!r}...: is {len(key)} characters long, the limit is "
            f"{MAX_KEY_LENGTH}"
        )
    if _CONTROL.search(key):
        raise InvalidInput(f"{what} key {key!r}: must not contain control characters")
    problem = text_problem(key)
    if problem:
        raise InvalidInput(f"{what} key {key!r}: {problem}")
    if type(key) is str:
        if len(_good_keys) >= 10_000:
            _good_keys.clear()
        _good_keys.add(key)
    return key


def metric_value(key: str, value: Any) -> float:
    """Coerce a metric value to float (NaN and +/-inf allowed); strings are refused.

    Anything that is not a real number a float can hold raises ``InvalidInput`` naming the
    key: a string, ``None``, an integer beyond the float range (``10**400``), a complex number,
    an object whose ``__float__`` fails.
    """
    if type(value) is float:
        return value
    if isinstance(value, (str, bytes, bytearray)):
        raise InvalidInput(
            f"metric {key!r}: value {value!r} is not a number (got {type(value).__name__})"
        )
    try:
        return float(value)
    except OverflowError as exc:
        raise InvalidInput(
            f"metric {key!r}: value {_short(value)} is too large for a float "
            f"(got {type(value).__name__})"
        ) from exc
    except Exception as exc:
        raise InvalidInput(
            f"metric {key!r}: value {_short(value)} is not a number (got {type(value).__name__})"
        ) from exc


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__}>"
    return text if len(text) <= 60 else f"{text[:40]}...({len(text)} characters)"


def _int64(key: str, value: Any, what: str) -> int:
    """``value`` as an integer in SQLite's signed 64-bit range, or raise naming ``what``."""
    if type(value) is int:
        as_int = value
    else:
        if isinstance(value, (str, bytes, bytearray)):
            raise InvalidInput(f"metric {key!r}: {what} {value!r} is not an integer")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"metric {key!r}: {what} {value!r} is not a finite integer")
        try:
            as_int = int(value)
        except Exception as exc:
            raise InvalidInput(f"metric {key!r}: {what} {_short(value)} is not an integer") from exc
        if isinstance(value, float) and as_int != value:
            raise InvalidInput(f"metric {key!r}: {what} {value!r} is not an integer")
    if not INT64_MIN <= as_int <= INT64_MAX:
        raise InvalidInput(
            f"metric {key!r}: {what} {_short(value)} is out of range "
            f"(a signed 64-bit integer: -2**63 .. 2**63-1)"
        )
    return as_int


def metric_step(key: str, step: Any) -> int:
    """The step as an integer of signed 64 bits (None: 0)."""
    if step is None:
        return 0
    return _int64(key, step, "step")


def metric_timestamp(key: str, timestamp: Any) -> int:
    """A timestamp in milliseconds as an integer of signed 64 bits (floats are truncated)."""
    if type(timestamp) is int and INT64_MIN <= timestamp <= INT64_MAX:
        return timestamp
    if isinstance(timestamp, float) and math.isfinite(timestamp):
        truncated = int(timestamp)  # milliseconds: a fraction is dropped, as before
        if INT64_MIN <= truncated <= INT64_MAX:
            return truncated
    return _int64(key, timestamp, "timestamp")


def text_value(key: str, value: Any, what: str, limit: int) -> str:
    """Turn a param or tag value into text, or raise naming the key."""
    if type(value) is str and len(value) <= limit and value.isascii() and "\x00" not in value:
        return value  # the common case, answered by three C calls
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
    problem = text_problem(text)
    if problem:
        raise InvalidInput(f"{what} {key!r}: value {problem}")
    return text


def text_rows(
    items: Iterable[tuple[Any, Any]],
    what: str,
    limit: int,
    errors: list[InvalidInput] | None = None,
) -> list[tuple[str, str]]:
    """``(key, value as text)`` for each pair, each checked as :func:`check_key` and
    :func:`text_value` check them: a run's params and tags in one call, the common pair (a
    key seen before, a short ASCII string) answered without a Python call of its own.

    A bad pair raises ``InvalidInput`` naming its key; with ``errors``, it is appended there
    and left out instead, and the other pairs are kept.
    """
    good = _good_keys
    out: list[tuple[str, str]] = []
    append = out.append
    for key, value in items:
        if (
            type(value) is str
            and type(key) is str
            and key in good
            and len(value) <= limit
            and value.isascii()
            and "\x00" not in value
        ):
            append((key, value))
            continue
        try:
            append((check_key(key, what), text_value(key, value, what, limit)))
        except InvalidInput as exc:
            if errors is None:
                raise
            errors.append(exc)
    return out


# ------------------------------------------------------------------------------ registry


def check_model_name(name: Any) -> str:
    """A registered model name: non-empty text without '/', '@', ':' or control characters."""
    if not isinstance(name, str):
        raise InvalidInput(f"model name {name!r}: must be a string, got {type(name).__name__}")
    if not name.strip():
        raise InvalidInput("model name: must not be empty")
    if name != name.strip():
        raise InvalidInput(f"model name {name!r}: must not start or end with spaces")
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidInput(
            f"model name {name[:40]!r}...: is {len(name)} characters long, the limit is "
            f"{MAX_MODEL_NAME_LENGTH}"
        )
    problem = text_problem(name)
    if problem:
        raise InvalidInput(f"model name {name[:40]!r}: {problem}")
    bad = [c for c in ("/", "@", ":") if c in name]
    if bad or any(ord(c) < 32 for c in name):
        what = f"{bad[0]!r}" if bad else "control characters"
        raise InvalidInput(
            f"model name {name!r}: must not contain {what} (model URIs look like "
            "models:/<name>/<version> and models:/<name>@<alias>)"
        )
    return name


def check_alias_name(alias: Any) -> str:
    """An alias: letters, digits, '_' and '-'; not ``latest`` and not ``v<N>`` (reserved)."""
    if not isinstance(alias, str):
        raise InvalidInput(f"alias {alias!r}: must be a string, got {type(alias).__name__}")
    if not alias:
        raise InvalidInput("alias: must not be empty")
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidInput(f"alias {alias[:40]!r}...: longer than {MAX_ALIAS_LENGTH} characters")
    if not _ALIAS_RE.match(alias):
        problem = "spaces" if any(c.isspace() for c in alias) else "other characters"
        raise InvalidInput(
            f"alias {alias!r}: must contain only letters, digits, '_' and '-' (found {problem})"
        )
    if _RESERVED_ALIAS_RE.match(alias):
        raise InvalidInput(
            f"alias {alias!r}: is reserved ('latest' and 'v<number>' already name versions)"
        )
    return alias


def check_version(version: Any) -> int:
    """A version number: a positive int, or text of one (``"3"``)."""
    if isinstance(version, bool):
        raise InvalidInput(f"version {version!r}: must be a positive integer")
    if isinstance(version, int):
        number = version
    elif isinstance(version, str) and version.strip().isascii() and version.strip().isdigit():
        number = int(version.strip())
    else:
        raise InvalidInput(f"version {version!r}: must be a positive integer")
    if number < 1:
        raise InvalidInput(f"version {version!r}: must be a positive integer")
    if number > INT64_MAX:
        raise InvalidInput(f"version {str(version)[:40]}: out of range (a signed 64-bit integer)")
    return number


def check_expected_version(expected: Any) -> int | None:
    if expected is None or expected is UNSET:
        return None
    return check_version(expected)


def description_text(text: Any) -> str | None:
    if text is None:
        return None
    return check_text(text, "description", limit=MAX_DESCRIPTION_LENGTH)


def model_tag(key: Any, value: Any) -> tuple[str, str]:
    check_key(key, "tag")
    return key, text_value(key, value, "tag", MAX_TAG_VALUE_LENGTH)


# ------------------------------------------------------------------------ numbers in text

_NUMBER_STARTS = frozenset("0123456789+-.iInN")


def numbered(rows: Iterable[tuple[str, str]]) -> list[tuple[str, str, float | None]]:
    """``(key, text, its number or None)`` for each row (``params.num``, ``tags.num``); text
    that cannot start a number costs no call."""
    starts = _NUMBER_STARTS
    return [
        (key, text, param_number(text) if text[:1] in starts or not text[:1].isalpha() else None)
        for key, text in rows
    ]


def param_number(text: str) -> float | None:
    """A param's numeric reading, or None when it is not a number (stored in ``params.num``)."""
    # float() refuses any text whose first character is not a digit, a sign, a point, the
    # start of inf/nan or white space: most tag values (names, paths, hashes) are answered
    # here without raising and catching an exception
    first = text[:1]
    if first not in _NUMBER_STARTS and not first.isdecimal() and not first.isspace():
        return None
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number
