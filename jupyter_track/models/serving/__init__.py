"""Serve a registered model over HTTP: starlette + uvicorn, following aliases as they move.

``jupyter-track serve models:/fraud@champion`` (or :func:`serve`, or :func:`serve_in_thread` from a
notebook) answers

* ``POST /invocations`` -- JSON records (``[{...}, ...]`` or ``{"dataframe_records": [...]}``),
  columns (``{"columns": {"a": [...], ...}}``), ``{"dataframe_split": {"columns": [...],
  "data": [[...]]}}`` or ``{"inputs": ...}``; replies ``{"predictions": [...], "model": ...,
  "alias": ..., "version": ...}`` and the headers ``X-Model-Name``, ``X-Model-Alias``,
  ``X-Model-Version``. Input that does not match the signature is a 400 naming the column.
* ``GET /health`` (and ``/ping``) -- 200 with the versions being served (the model URI and the
  serving run only to a caller holding the token).

Aliases are re-read every ``refresh_interval`` seconds in a worker thread; a newly pointed-to
version is loaded *before* it takes traffic, and a request always finishes on the version it
started with, so moving an alias (a rollback included) needs no restart and fails no request.
``route={"champion": 90, "challenger": 10}`` splits traffic by weight (deterministic per
``X-Request-Key`` header or ``?key=``); ``shadow="challenger"`` also scores every request with that
alias after answering, without returning it. Per-version request counts, errors and latency are
logged as metrics of a *serving run* (experiment ``jupyter-track serving``).

The modules, one job each: :mod:`.protocol` (request bodies, predictions, the error shape),
:mod:`.stats` (counters), :mod:`.state` (which version serves which alias), :mod:`.app` (the
starlette application: authentication, limits, errors), :mod:`.runner` (sockets, uvicorn,
threads).
"""

from __future__ import annotations

from .app import create_app, token_matches
from .protocol import MAX_REQUEST_BYTES, decode_body, parse_payload, to_jsonable
from .runner import TOKEN_ENV, ServingThread, exposure_warning, serve, serve_in_thread
from .state import SERVING_EXPERIMENT, Pick, ServingState
from .stats import ServingStats

__all__ = [
    "MAX_REQUEST_BYTES",
    "SERVING_EXPERIMENT",
    "TOKEN_ENV",
    "Pick",
    "ServingState",
    "ServingStats",
    "ServingThread",
    "create_app",
    "decode_body",
    "exposure_warning",
    "parse_payload",
    "serve",
    "serve_in_thread",
    "to_jsonable",
    "token_matches",
]
