"""Errors raised by the store.

The server maps them to HTTP codes in one place (``server/errors.py``):
``NotFound`` -> 404, ``Conflict`` -> 409, ``InvalidInput`` -> 400,
``StoreUnavailable`` -> 503.
"""

from __future__ import annotations


class TrackError(Exception):
    """Base class of every error jupyter-track raises on purpose."""


class NotFound(TrackError, LookupError):
    """The run, experiment, model or artifact does not exist."""


class Conflict(TrackError):
    """The change contradicts what is already stored (e.g. a param logged twice with two values)."""


class InvalidInput(TrackError, ValueError):
    """A value the caller passed is malformed; the message names the field and the reason."""


class FilterSyntaxError(InvalidInput):
    """A filter or order-by string could not be parsed.

    ``position`` is the 0-based character offset where parsing failed and ``expected``
    says what the parser wanted there.
    """

    def __init__(self, text: str, position: int, expected: str, found: str | None = None):
        self.text = text
        self.position = position
        self.expected = expected
        self.found = found
        where = f"at position {position}"
        got = f", found {found}" if found else ""
        caret = f"\n  {text}\n  {' ' * position}^" if text else ""
        super().__init__(f"Invalid filter {where}: expected {expected}{got}{caret}")


class StoreUnavailable(TrackError, OSError):
    """The SQLite file cannot be written (read-only location, full disk, ...)."""
