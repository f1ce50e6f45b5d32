"""The one place that turns errors into HTTP statuses and the one JSON error shape.

``{"status": 404, "error": "not_found", "message": "..."}``; filter errors add ``position``,
``expected``, ``found`` and ``parameter``. Store errors map as: ``NotFound`` -> 404,
``Conflict`` -> 409, ``InvalidInput`` -> 400 (``FilterSyntaxError`` -> 400 ``invalid_filter``),
``StoreUnavailable`` -> 503. Tornado's own errors (403 from authentication or XSRF, 405) keep
their status and get the same shape.
"""

from __future__ import annotations

from http.client import responses
from typing import Any

from tornado.web import HTTPError

from ..exceptions import MlflowException
from ..store.errors import Conflict, FilterSyntaxError, InvalidInput, NotFound, StoreUnavailable

_CODES = {
    400: "bad_request",
    401: "forbidden",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    503: "store_unavailable",
}


class ApiError(HTTPError):
    """An HTTP error carrying the JSON body to send."""

    def __init__(self, status: int, error: str, message: str, **extra: Any):
        super().__init__(status, "%s", message)
        self.body: dict[str, Any] = {"status": status, "error": error, "message": message}
        self.body.update(extra)


def from_store_error(exc: Exception, *, filter_text: str | None = None) -> ApiError | None:
    """The ``ApiError`` for a store exception, or None when ``exc`` is not one.

    ``filter_text`` is the request's filter string: a ``FilterSyntaxError`` on that text is
    reported as ``parameter: filter``, any other as ``parameter: order_by``.
    """
    if isinstance(exc, FilterSyntaxError):
        parameter = "filter" if filter_text is not None and exc.text == filter_text else "order_by"
        return ApiError(
            400,
            "invalid_filter",
            str(exc),
            position=exc.position,
            expected=exc.expected,
            found=exc.found,
            parameter=parameter,
        )
    if isinstance(exc, NotFound):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, Conflict):
        return ApiError(409, "conflict", str(exc))
    if isinstance(exc, InvalidInput):
        return ApiError(400, "invalid_input", str(exc))
    if isinstance(exc, StoreUnavailable):
        return ApiError(503, "store_unavailable", str(exc))
    if isinstance(exc, MlflowException) and exc.error_code != "INTERNAL_ERROR":
        status = exc.get_http_status_code()  # raised with MLflow's exception: its code's status
        return ApiError(status, _CODES.get(status, exc.error_code.lower()), exc.message)
    return None


def error_body(status: int, exc: BaseException | None) -> tuple[int, dict[str, Any]]:
    """The status and JSON body for an error the handler is about to send."""
    if isinstance(exc, ApiError):
        return exc.status_code, exc.body
    if isinstance(exc, Exception):
        mapped = from_store_error(exc)
        if mapped is not None:
            return mapped.status_code, mapped.body
    if isinstance(exc, HTTPError):
        status = exc.status_code
        message = exc.log_message % exc.args if exc.log_message and exc.args else exc.log_message
        message = message or exc.reason or responses.get(status, "error")
        return status, {"status": status, "error": _CODES.get(status, "error"), "message": message}
    if status >= 500:
        return 500, {"status": 500, "error": "internal", "message": "internal server error"}
    message = responses.get(status, "error")
    return status, {"status": status, "error": _CODES.get(status, "error"), "message": message}
