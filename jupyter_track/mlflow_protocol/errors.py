"""MLflow's error shape: ``{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}``.

The HTTP status of each code is MLflow's own (``mlflow.exceptions.ERROR_CODE_TO_HTTP_STATUS``),
so MLflow's client reads our errors exactly as it reads its server's: ``set_experiment`` creates
the experiment on ``RESOURCE_DOES_NOT_EXIST``, ``register_model`` goes on after
``RESOURCE_ALREADY_EXISTS``. Store errors map as: ``NotFound`` -> ``RESOURCE_DOES_NOT_EXIST``
(404); ``InvalidInput`` (including a param logged again with another value) ->
``INVALID_PARAMETER_VALUE`` (400); any other ``Conflict`` -> ``RESOURCE_ALREADY_EXISTS`` (400);
``StoreUnavailable`` -> ``TEMPORARILY_UNAVAILABLE`` (503, which MLflow's client retries).
"""

from __future__ import annotations

from typing import Any

from ..exceptions import ERROR_CODE_TO_HTTP_STATUS, MlflowException

#: MLflow's HTTP status per code: one table (``jupyter_track.exceptions``).
STATUS = ERROR_CODE_TO_HTTP_STATUS


class MlflowError(MlflowException):
    """An error answered in MLflow's shape, with MLflow's status for its code (an
    :class:`~jupyter_track.exceptions.MlflowException` built code first, as the protocol does)."""

    def __init__(self, error_code: str, message: str, *, status: int | None = None):
        super().__init__(message, error_code=error_code)
        self._status = status

    @property
    def status(self) -> int:
        """The HTTP status: MLflow's for the code, unless the framework chose one (405...)."""
        return self._status or self.get_http_status_code()

    def body(self) -> dict[str, Any]:
        return {"error_code": self.error_code, "message": self.message}


def invalid(message: str) -> MlflowError:
    """``INVALID_PARAMETER_VALUE`` (400): the message names the field and the reason."""
    return MlflowError("INVALID_PARAMETER_VALUE", message)


def from_exception(exc: BaseException) -> MlflowError | None:
    """The MLflow error for an exception: every store error is an ``MlflowException`` carrying
    its code (as is anything raised with MLflow's exception); None for anything else, and for
    an ``INTERNAL_ERROR`` nobody chose (answered as a plain 500, its message not shown)."""
    if isinstance(exc, MlflowError):
        return exc
    code = getattr(exc, "error_code", None)
    if isinstance(code, str) and code in STATUS and code != "INTERNAL_ERROR":
        return MlflowError(code, str(exc))
    return None


def from_http_status(status: int, message: str) -> MlflowError:
    """The MLflow error for a status the web framework raised itself (403, 405, ...)."""
    code = {
        400: "BAD_REQUEST",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "ENDPOINT_NOT_FOUND",
        405: "ENDPOINT_NOT_FOUND",
        413: "INVALID_PARAMETER_VALUE",
        503: "TEMPORARILY_UNAVAILABLE",
    }.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")
    return MlflowError(code, message, status=status)
