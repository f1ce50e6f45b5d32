"""MLflow's REST protocol over the jupyter-track store, independent of any web framework.

``endpoints.find(path, method)`` gives the function for a call; it takes the store and a
:class:`~.messages.Request` (the call's fields and the authenticated user) and returns the JSON
answer, or raises :class:`~.errors.MlflowError` (or a store error, which
:func:`~.errors.from_exception` turns into MLflow's ``{"error_code", "message"}`` shape).
The Jupyter server extension serves it under ``{base_url}jupyter-track/mlflow`` (see
``server/mlflow_routes.py``), so ``MLFLOW_TRACKING_URI=http://host:8888/jupyter-track/mlflow``
with ``MLFLOW_TRACKING_TOKEN=<jupyter token>`` points MLflow's client at jupyter-track.
"""

from .endpoints import ARTIFACTS, ENDPOINTS, Endpoint, answer, find
from .errors import MlflowError, from_exception
from .messages import Request

__all__ = [
    "ARTIFACTS",
    "ENDPOINTS",
    "Endpoint",
    "MlflowError",
    "Request",
    "answer",
    "find",
    "from_exception",
]
