"""Reading and annotating recorded traces: ``get_trace``, ``search_traces``, ``delete_traces``,
trace tags, and assessments (``log_feedback``, ``log_expectation``).

Traces finished in this process may still be in the background writer's queue; every call here
flushes it first, so a trace is found right after its root span ended.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..store import InvalidInput, NotFound
from ..store.traces import SOURCE_TYPES
from ..tracking import fluent, session
from . import core
from .entities import (
    Assessment,
    AssessmentSource,
    Expectation,
    Feedback,
    Trace,
    assessment_from_stored,
)

log = logging.getLogger("jupyter_track.tracing")

PAGE = 10_000


def _store() -> Any:
    core.flush_pending()  # traces that just ended are in the writer's queue
    return session.current().store


def get_trace(trace_id: str) -> Trace | None:
    """The trace with this id (spans, tags, metadata, assessments), or None (with a warning)
    when there is none."""
    if not isinstance(trace_id, str) or not trace_id:
        raise InvalidInput(f"trace_id {trace_id!r}: must be a non-empty string")
    try:
        return Trace.from_stored(_store().get_trace(trace_id))
    except NotFound:
        log.warning("jupyter-track: trace %r does not exist", trace_id)
        return None


def _experiment_ids(
    experiment_ids: Sequence[str] | None,
    experiment_names: Sequence[str] | None,
    run_id: str | None,
) -> list[str] | None:
    if isinstance(experiment_ids, (str, int)):
        experiment_ids = [str(experiment_ids)]
    if isinstance(experiment_names, str):
        experiment_names = [experiment_names]
    if not experiment_ids and not experiment_names:
        return None if run_id is not None else [fluent._active_experiment_id()]
    ids = [str(e) for e in experiment_ids or []]
    store = session.current().store
    for name in experiment_names or []:
        experiment = store.get_experiment_by_name(name)
        if experiment is None:
            raise NotFound(f"experiment {name!r} does not exist")
        ids.append(experiment.experiment_id)
    return ids


def search_traces(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] | None = None,
    run_id: str | None = None,
    return_type: str = "pandas",
    *,
    experiment_names: Sequence[str] | None = None,
    include_spans: bool = True,
) -> Any:
    """Traces matching ``filter_string``, newest first, as a DataFrame (``return_type="list"``:
    :class:`Trace` objects).

    The filter uses the one filter grammar: ``attributes.status = 'ERROR'``,
    ``execution_time_ms > 1000``, ``tags.user = 'ana'``, ``metadata.x = 'y'``,
    ``span.name = 'retrieve'``, ``span.type = 'TOOL'``, ``feedback.correct = 'true'`` ... with
    AND, OR, NOT and parentheses; ``order_by`` takes ``["execution_time_ms DESC"]``. Without
    experiments, the active experiment is searched (every experiment when ``run_id`` is given).
    """
    if return_type not in ("pandas", "list"):
        raise InvalidInput(f"return_type {return_type!r}: must be 'pandas' or 'list'")
    if max_results is not None and (
        isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 0
    ):
        raise InvalidInput(f"max_results {max_results!r}: must be a non-negative integer")
    if isinstance(order_by, str):
        order_by = [order_by]
    store = _store()
    ids = _experiment_ids(experiment_ids, experiment_names, run_id)
    stored: list[Any] = []
    token = None
    while max_results is None or len(stored) < max_results:
        want = PAGE if max_results is None else min(PAGE, max_results - len(stored))
        page = store.search_traces(
            ids,
            filter_string,
            order_by=order_by,
            max_results=want,
            page_token=token,
            run_id=run_id,
            include_spans=include_spans,
        )
        stored.extend(page.traces)
        token = page.next_page_token
        if token is None:
            break
    traces = [Trace.from_stored(s) for s in stored]
    if return_type == "list":
        return traces
    return traces_frame(traces)


COLUMNS = (
    "trace_id",
    "trace",
    "client_request_id",
    "state",
    "request_time",
    "execution_duration",
    "request",
    "response",
    "trace_metadata",
    "tags",
    "spans",
    "assessments",
    "name",
    "run_id",
    "experiment_id",
    "total_tokens",
)


def traces_frame(traces: Sequence[Trace]) -> Any:
    """MLflow's ``search_traces`` DataFrame (plus ``name``, ``run_id``, ``experiment_id``,
    ``total_tokens``)."""
    import pandas as pd

    rows = []
    for t in traces:
        info = t.info
        root = t.data._root
        usage = info.token_usage
        rows.append(
            (
                info.trace_id,
                t,
                info.client_request_id,
                info.state,
                info.request_time,
                info.execution_duration,
                root.inputs if root is not None else None,
                root.outputs if root is not None else None,
                info.trace_metadata,
                info.tags,
                [s.to_dict() for s in t.data.spans],
                [a.to_dict() for a in info.assessments],
                info.name,
                info.run_id,
                info.experiment_id,
                usage["total_tokens"] if usage else None,
            )
        )
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    frame.attrs["jupyter_track.kind"] = "traces"
    return frame


def delete_traces(
    experiment_id: str | None = None,
    max_timestamp_millis: int | None = None,
    max_traces: int | None = None,
    trace_ids: Sequence[str] | None = None,
) -> int:
    """Delete traces and return how many: the ``trace_ids``, or the traces of
    ``experiment_id`` (default: the active experiment) that started at or before
    ``max_timestamp_millis`` (oldest first, at most ``max_traces``)."""
    store = _store()
    if experiment_id is None and trace_ids is None:
        experiment_id = fluent._active_experiment_id()
    return int(
        store.delete_traces(
            experiment_id,
            max_timestamp_millis=max_timestamp_millis,
            max_traces=max_traces,
            trace_ids=trace_ids,
        )
    )


def set_trace_tag(trace_id: str, key: str, value: Any) -> None:
    """Set a tag on a recorded trace."""
    _store().set_trace_tag(trace_id, key, value)


def delete_trace_tag(trace_id: str, key: str) -> None:
    """Remove a tag from a recorded trace."""
    _store().delete_trace_tag(trace_id, key)


# ----------------------------------------------------------------------------- assessments


def _source(source: AssessmentSource | str | Mapping[str, Any] | None, default: str) -> Any:
    if source is None:
        return AssessmentSource(default, None)
    if isinstance(source, AssessmentSource):
        return source
    if isinstance(source, Mapping):
        return AssessmentSource(str(source.get("source_type", default)), source.get("source_id"))
    if isinstance(source, str):
        kind = source.upper()
        if kind in SOURCE_TYPES:
            return AssessmentSource(kind, None)
        return AssessmentSource(default, source)
    raise InvalidInput(
        f"source {source!r}: expected an AssessmentSource, a source type "
        f"({', '.join(SOURCE_TYPES)}) or a name"
    )


def _json_value(name: str, value: Any) -> Any:
    """``value`` if JSON can hold it (NaN/inf refused), else a clear error naming it."""
    import json

    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"assessment {name!r}: value {value!r} is not a finite number")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"assessment {name!r}: value of type {type(value).__name__} is not JSON "
            f"(use a bool, number, string, list or dict): {exc}"
        ) from None
    return value


def log_feedback(
    trace_id: str,
    name: str = "feedback",
    value: Any = None,
    source: AssessmentSource | str | None = None,
    error: BaseException | str | None = None,
    rationale: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    span_id: str | None = None,
) -> Feedback:
    """Attach a feedback (a judgement: bool, number, string, list or dict, with a rationale)
    to a trace. ``source`` is an :class:`AssessmentSource`, a source type (``"HUMAN"``,
    ``"LLM_JUDGE"``, ``"CODE"``) or a name (a human's, by default)."""
    if value is None and error is None:
        raise InvalidInput(f"feedback {name!r}: give a value or an error")
    value = _json_value(name, value)
    if isinstance(error, BaseException):
        error = f"{type(error).__name__}: {error}"
    src = _source(source, "HUMAN")
    stored = _store().log_assessment(
        trace_id,
        "feedback",
        name,
        value,
        rationale=None if rationale is None else str(rationale),
        error=error,
        source_type=src.source_type,
        source_id=src.source_id,
        span_id=span_id,
        metadata=metadata,
    )
    result = assessment_from_stored(stored)
    assert isinstance(result, Feedback)
    return result


def log_expectation(
    trace_id: str,
    name: str,
    value: Any,
    source: AssessmentSource | str | None = None,
    metadata: Mapping[str, Any] | None = None,
    span_id: str | None = None,
) -> Expectation:
    """Attach an expectation (the ground truth, e.g. ``expected_response``) to a trace."""
    value = _json_value(name, value)
    src = _source(source, "HUMAN")
    stored = _store().log_assessment(
        trace_id,
        "expectation",
        name,
        value,
        source_type=src.source_type,
        source_id=src.source_id,
        span_id=span_id,
        metadata=metadata,
    )
    result = assessment_from_stored(stored)
    assert isinstance(result, Expectation)
    return result


def log_assessment(trace_id: str, assessment: Assessment) -> Assessment:
    """Attach a :class:`Feedback` or :class:`Expectation` object to a trace."""
    if isinstance(assessment, Feedback):
        return log_feedback(
            trace_id,
            assessment.name,
            assessment.value,
            source=assessment.source,
            error=assessment.error,
            rationale=assessment.rationale,
            metadata=assessment.metadata,
            span_id=assessment.span_id,
        )
    if isinstance(assessment, Expectation):
        return log_expectation(
            trace_id,
            assessment.name,
            assessment.value,
            source=assessment.source,
            metadata=assessment.metadata,
            span_id=assessment.span_id,
        )
    raise InvalidInput(
        f"assessment: expected a Feedback or an Expectation, got {type(assessment).__name__}"
    )


def get_assessment(trace_id: str, assessment_id: str) -> Assessment:
    return assessment_from_stored(_store().get_assessment(trace_id, assessment_id))


def delete_assessment(trace_id: str, assessment_id: str) -> None:
    _store().delete_assessment(trace_id, assessment_id)
