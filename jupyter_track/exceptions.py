"""MLflow's exception, ``jupyter_track.exceptions.MlflowException``, and its error codes.

Every error jupyter-track raises on purpose is an :class:`MlflowException` (the store's
``NotFound``, ``InvalidInput``, ``Conflict``... are subclasses), so code written for MLflow::

    try:
        mlflow.get_run(run_id)
    except MlflowException as e:
        if e.error_code == "RESOURCE_DOES_NOT_EXIST": ...

works unchanged. ``error_code`` is the code's name, as MLflow's; :data:`ERROR_CODE_TO_HTTP_STATUS`
is MLflow's table, and the one the MLflow REST protocol (:mod:`jupyter_track.mlflow_protocol`)
answers with. This module imports nothing else of jupyter-track: the store uses it.
"""

from __future__ import annotations

import json
from typing import Any

#: MLflow's numbers for its error codes (``mlflow.protos.databricks_pb2.ErrorCode``), so a code
#: given as a number (``error_code=RESOURCE_DOES_NOT_EXIST`` from MLflow's protos) is understood.
ERROR_CODE_NUMBERS = {
    "INTERNAL_ERROR": 1,
    "TEMPORARILY_UNAVAILABLE": 2,
    "IO_ERROR": 3,
    "BAD_REQUEST": 4,
    "SERVICE_UNDER_MAINTENANCE": 5,
    "WORKSPACE_TEMPORARILY_UNAVAILABLE": 6,
    "DEADLINE_EXCEEDED": 7,
    "CANCELLED": 8,
    "RESOURCE_EXHAUSTED": 9,
    "ABORTED": 10,
    "NOT_FOUND": 11,
    "ALREADY_EXISTS": 12,
    "UNAUTHENTICATED": 13,
    "INVALID_PARAMETER_VALUE": 1000,
    "ENDPOINT_NOT_FOUND": 1001,
    "MALFORMED_REQUEST": 1002,
    "INVALID_STATE": 1003,
    "PERMISSION_DENIED": 1004,
    "FEATURE_DISABLED": 1005,
    "CUSTOMER_UNAUTHORIZED": 1006,
    "REQUEST_LIMIT_EXCEEDED": 1007,
    "RESOURCE_CONFLICT": 1008,
    "UNPARSEABLE_HTTP_ERROR": 1009,
    "NOT_IMPLEMENTED": 1010,
    "DATA_LOSS": 1011,
    "INVALID_STATE_TRANSITION": 2001,
    "COULD_NOT_ACQUIRE_LOCK": 2002,
    "RESOURCE_ALREADY_EXISTS": 3001,
    "RESOURCE_DOES_NOT_EXIST": 3002,
    "QUOTA_EXCEEDED": 4001,
    "MAX_BLOCK_SIZE_EXCEEDED": 4002,
    "MAX_READ_SIZE_EXCEEDED": 4003,
    "PARTIAL_DELETE": 4004,
    "MAX_LIST_SIZE_EXCEEDED": 4005,
    "DRY_RUN_FAILED": 5001,
    "RESOURCE_LIMIT_EXCEEDED": 5002,
}

#: MLflow's HTTP status for each code (``mlflow.exceptions.ERROR_CODE_TO_HTTP_STATUS``); any other
#: code answers 500.
ERROR_CODE_TO_HTTP_STATUS = {
    "INTERNAL_ERROR": 500,
    "INVALID_STATE": 500,
    "DATA_LOSS": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "CANCELLED": 499,
    "RESOURCE_EXHAUSTED": 429,
    "ABORTED": 409,
    "RESOURCE_CONFLICT": 409,
    "ALREADY_EXISTS": 409,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "PERMISSION_DENIED": 403,
    "CUSTOMER_UNAUTHORIZED": 401,
    "UNAUTHENTICATED": 401,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "INVALID_PARAMETER_VALUE": 400,
}

_NAMES_BY_NUMBER = {number: name for name, number in ERROR_CODE_NUMBERS.items()}

# The codes as module constants, as MLflow's (its proto numbers; ``error_code`` is the name).
INTERNAL_ERROR = ERROR_CODE_NUMBERS["INTERNAL_ERROR"]
TEMPORARILY_UNAVAILABLE = ERROR_CODE_NUMBERS["TEMPORARILY_UNAVAILABLE"]
BAD_REQUEST = ERROR_CODE_NUMBERS["BAD_REQUEST"]
INVALID_PARAMETER_VALUE = ERROR_CODE_NUMBERS["INVALID_PARAMETER_VALUE"]
ENDPOINT_NOT_FOUND = ERROR_CODE_NUMBERS["ENDPOINT_NOT_FOUND"]
INVALID_STATE = ERROR_CODE_NUMBERS["INVALID_STATE"]
PERMISSION_DENIED = ERROR_CODE_NUMBERS["PERMISSION_DENIED"]
RESOURCE_CONFLICT = ERROR_CODE_NUMBERS["RESOURCE_CONFLICT"]
NOT_IMPLEMENTED = ERROR_CODE_NUMBERS["NOT_IMPLEMENTED"]
RESOURCE_ALREADY_EXISTS = ERROR_CODE_NUMBERS["RESOURCE_ALREADY_EXISTS"]
RESOURCE_DOES_NOT_EXIST = ERROR_CODE_NUMBERS["RESOURCE_DOES_NOT_EXIST"]


def error_code_name(error_code: Any) -> str:
    """The name of ``error_code`` (a name, or MLflow's number for it); ``INTERNAL_ERROR`` for
    anything unknown, as MLflow does."""
    if isinstance(error_code, str) and error_code in ERROR_CODE_NUMBERS:
        return error_code
    if isinstance(error_code, int) and not isinstance(error_code, bool):
        return _NAMES_BY_NUMBER.get(error_code, "INTERNAL_ERROR")
    return "INTERNAL_ERROR"


class MlflowException(Exception):
    """An error with MLflow's ``error_code`` (a name such as ``"RESOURCE_DOES_NOT_EXIST"``) and
    ``message``; ``get_http_status_code()`` is MLflow's status for the code.

    ``MlflowException(message, error_code=INTERNAL_ERROR, **kwargs)`` as MLflow's: the code may
    be its name or MLflow's number; ``kwargs`` are added to :meth:`serialize_as_json`. A subclass
    names its default code in ``default_error_code``.
    """

    default_error_code = "INTERNAL_ERROR"

    def __init__(self, message: Any, error_code: Any = None, **kwargs: Any) -> None:
        message = str(message)
        super().__init__(message)
        self.message = message
        self.error_code = error_code_name(
            self.default_error_code if error_code is None else error_code
        )
        self.json_kwargs = kwargs

    def get_http_status_code(self) -> int:
        """MLflow's HTTP status for :attr:`error_code` (500 for a code without one)."""
        return ERROR_CODE_TO_HTTP_STATUS.get(self.error_code, 500)

    def serialize_as_json(self) -> str:
        """``{"error_code": ..., "message": ..., **kwargs}`` as JSON text (MLflow's shape)."""
        return json.dumps(
            {"error_code": self.error_code, "message": self.message, **self.json_kwargs}
        )

    @classmethod
    def invalid_parameter_value(cls, message: str, **kwargs: Any) -> MlflowException:
        """An ``INVALID_PARAMETER_VALUE`` error (MLflow's shortcut)."""
        return cls(message, error_code=INVALID_PARAMETER_VALUE, **kwargs)


class RestException(MlflowException):
    """An error answered by a tracking server: built from its JSON body
    (``{"error_code": ..., "message": ...}``), as MLflow's."""

    def __init__(self, json: dict[str, Any]) -> None:
        code = json.get("error_code", "INTERNAL_ERROR")
        message = f"{code}: {json['message']}" if "message" in json else str(code)
        super().__init__(message, error_code=code)
        self.json = json


class MissingConfigException(MlflowException):
    """A configuration file or setting is missing (MLflow's name)."""


class ExecutionException(MlflowException):
    """Running code on the user's behalf failed (MLflow's name)."""


class InvalidUrlException(MlflowException):
    """A URL could not be used (MLflow's name)."""


class MlflowNotImplementedException(MlflowException):
    """The operation is not implemented (MLflow's name; ``NOT_IMPLEMENTED``)."""

    default_error_code = "NOT_IMPLEMENTED"


__all__ = [
    "ERROR_CODE_NUMBERS",
    "ERROR_CODE_TO_HTTP_STATUS",
    "ExecutionException",
    "InvalidUrlException",
    "MissingConfigException",
    "MlflowException",
    "MlflowNotImplementedException",
    "RestException",
    "error_code_name",
]
