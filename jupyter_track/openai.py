"""``jt.openai``: MLflow's ``mlflow.openai`` autologging for the OpenAI client.

``jt.openai.autolog()`` records every call of the ``openai`` client (chat completions, the
Responses API, embeddings, legacy completions; sync and async; streamed or not; tool calls) as
a span with the model, the messages, the output, the token usage and the latency
(:mod:`jupyter_track.tracing.openai_autolog`). ``disable=True`` undoes it.
"""

from __future__ import annotations

import importlib.util


def autolog(
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    log_traces: bool = True,
) -> None:
    """Trace every OpenAI client call (``disable=True`` or ``log_traces=False``: stop)."""
    from .store.errors import InvalidInput
    from .tracing import openai_autolog

    if disable or not log_traces:
        openai_autolog.disable()
        return
    if importlib.util.find_spec("openai") is None:
        raise InvalidInput("openai autolog: the library 'openai' is not installed")
    openai_autolog.enable()
