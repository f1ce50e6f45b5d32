"""Errors raised by the store.

The server maps them to HTTP codes in one place (``server/errors.py``):
``NotFound`` -> 404, ``Conflict`` -> 409, ``InvalidInput`` -> 400,
``StoreUnavailable`` (and ``SchemaMismatch``) -> 503.

Each is an :class:`~jupyter_track.exceptions.MlflowException` with MLflow's ``error_code``
(``NotFound``: ``RESOURCE_DOES_NOT_EXIST``, ``InvalidInput``: ``INVALID_PARAMETER_VALUE``,
``Conflict``: ``RESOURCE_ALREADY_EXISTS``, ``StoreUnavailable``: ``TEMPORARILY_UNAVAILABLE``), so
code that catches MLflow's exception catches them.
"""

from __future__ import annotations

from ..exceptions import MlflowException


class TrackError(MlflowException):
    """Base class of every error jupyter-track raises on purpose (an ``MlflowException``)."""


class NotFound(TrackError, LookupError):
    """The run, experiment, model or artifact does not exist."""

    default_error_code = "RESOURCE_DOES_NOT_EXIST"


class Conflict(TrackError):
    """The change contradicts what is already stored (e.g. a param logged twice with two values)."""

    default_error_code = "RESOURCE_ALREADY_EXISTS"


class InvalidInput(TrackError, ValueError):
    """A value the caller passed is malformed; the message names the field and the reason."""

    default_error_code = "INVALID_PARAMETER_VALUE"


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
    """The store cannot be reached or written: a read-only or full SQLite file, a PostgreSQL
    server that is down or refuses the login (the message names host, port and database, never
    a password). A kernel keeps logging in memory meanwhile."""

    default_error_code = "TEMPORARILY_UNAVAILABLE"


class SchemaMismatch(StoreUnavailable):
    """The store's schema is older than this code (run ``jupyter-track db upgrade``) or newer
    (upgrade the package)."""


class AliasConflict(Conflict):
    """A compare-and-set alias change found the alias somewhere else; nothing was written.

    ``current_version`` is the version the alias points to now (None: not set).
    """

    def __init__(self, message: str, *, name: str, alias: str, current_version: int | None):
        super().__init__(message)
        self.name = name
        self.alias = alias
        self.current_version = current_version
