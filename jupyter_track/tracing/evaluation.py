"""``jt.evaluate``: run an app over a dataset, score every answer, record it all as a run.

``jt.evaluate(data, predict_fn=..., scorers=[...])`` (MLflow's ``genai.evaluate`` shape):

* ``data`` is a DataFrame or a list of dicts; each row has ``inputs`` (a dict: the keyword
  arguments of ``predict_fn``) and optionally ``expectations`` (a dict, e.g.
  ``{"expected_response": ...}``); without ``predict_fn`` each row brings its ``outputs``;
* ``predict_fn`` is called once per row, in a thread pool (``max_workers``, default 8 or
  ``JUPYTER_TRACK_EVAL_WORKERS``; 1 runs the rows in order on the calling thread), each call
  traced (a function already decorated with ``@jt.trace`` keeps its own span);
* every scorer (:mod:`.scorers`, :mod:`.judges`) scores every row; its value becomes a
  feedback on the row's trace, the expectations become expectations on it;
* it is a run (the active one, else a new one tagged ``jt.evaluation``): one metric per scorer
  (``<name>/mean``: the mean of numbers, the share of true/yes/pass answers), the per-row
  results as the artifact ``eval_results_table.json`` and in the returned
  :class:`EvaluationResult`'s ``result_df``.

:func:`compare_evaluations` puts two evaluation runs side by side, row by row (rows matched by
their inputs), saying which rows got worse.
"""

from __future__ import annotations

import contextvars
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..store.errors import InvalidInput
from . import core
from .entities import Feedback
from .scorers import Scorer, as_scorer

TABLE_ARTIFACT = "eval_results_table.json"
EVALUATION_TAG = "jt.evaluation"
WORKERS_ENV = "JUPYTER_TRACK_EVAL_WORKERS"
PASSING = {"yes", "true", "pass", "passed", "correct", "good"}
FAILING = {"no", "false", "fail", "failed", "incorrect", "bad"}


@dataclass
class EvaluationResult:
    """What ``jt.evaluate`` returns: the run, the aggregate metrics and the per-row table."""

    run_id: str
    metrics: dict[str, float]
    result_df: Any
    tables: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"EvaluationResult(run_id={self.run_id!r}, metrics={self.metrics!r})"


@dataclass
class _Row:
    index: int
    inputs: Any
    expectations: dict[str, Any]
    outputs: Any = None
    trace_id: str | None = None
    error: str | None = None
    scores: dict[str, Feedback] = field(default_factory=dict)


def _rows(data: Any) -> list[_Row]:
    """The dataset as rows; ``InvalidInput`` naming the row and field that is wrong."""
    if type(data).__name__ == "DataFrame":
        records = data.to_dict(orient="records")
    elif isinstance(data, (list, tuple)):
        records = list(data)
    else:
        raise InvalidInput(
            f"data: expected a DataFrame or a list of dicts, got {type(data).__name__}"
        )
    if not records:
        raise InvalidInput("data: the dataset has no rows")
    rows = []
    for n, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise InvalidInput(f"data row {n}: expected a dict, got {type(record).__name__}")
        unknown = set(record) - {"inputs", "expectations", "outputs", "trace_id", "trace"}
        if unknown:
            raise InvalidInput(
                f"data row {n}: unknown field(s) {', '.join(sorted(map(str, unknown)))}"
            )
        inputs = record.get("inputs")
        expectations = record.get("expectations")
        if expectations is None or (isinstance(expectations, float) and math.isnan(expectations)):
            expectations = {}
        if not isinstance(expectations, Mapping):
            raise InvalidInput(
                f"data row {n}: expectations must be a dict, got {type(expectations).__name__}"
            )
        row = _Row(n, inputs, dict(expectations))
        if "outputs" in record:
            row.outputs = record["outputs"]
        trace = record.get("trace_id") or record.get("trace")
        if trace is not None:
            row.trace_id = getattr(getattr(trace, "info", None), "trace_id", None) or str(trace)
        rows.append(row)
    return rows


def _workers(max_workers: int | None) -> int:
    if max_workers is None:
        try:
            max_workers = int(os.environ.get(WORKERS_ENV, "8"))
        except ValueError:
            max_workers = 8
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise InvalidInput(f"max_workers {max_workers!r}: must be a positive integer")
    return max_workers


def _pool_map(fn: Callable[[Any], None], items: Sequence[Any], workers: int) -> None:
    if workers == 1 or len(items) == 1:
        for item in items:
            fn(item)
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        # each task runs in a copy of the caller's context (the linked run, the cell)
        futures = [pool.submit(contextvars.copy_context().run, fn, item) for item in items]
        for future in futures:
            future.result()


def _as_feedbacks(scorer: Scorer, value: Any) -> list[Feedback]:
    if isinstance(value, Feedback):
        return [value if value.name not in ("feedback", "") else _renamed(value, scorer.name)]
    if isinstance(value, list) and value and all(isinstance(v, Feedback) for v in value):
        return list(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and not math.isfinite(value):
            return [Feedback(name=scorer.name, error=f"the score {value!r} is not finite")]
        return [Feedback(name=scorer.name, value=value)]
    return [
        Feedback(
            name=scorer.name,
            error=f"a scorer must return a bool, number, string or Feedback, not "
            f"{type(value).__name__}",
        )
    ]


def _renamed(feedback: Feedback, name: str) -> Feedback:
    feedback.name = name
    return feedback


def as_number(value: Any) -> float | None:
    """A score as a number: numbers as they are, booleans and yes/no answers as 1 and 0."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in PASSING:
            return 1.0
        if text in FAILING:
            return 0.0
    return None


def evaluate(
    data: Any,
    predict_fn: Callable[..., Any] | None = None,
    scorers: Sequence[Any] = (),
    *,
    run_name: str | None = None,
    max_workers: int | None = None,
) -> EvaluationResult:
    """Evaluate ``predict_fn`` (or the rows' ``outputs``) on ``data`` with ``scorers``; see
    the module doc. Returns an :class:`EvaluationResult` (``run_id``, ``metrics``,
    ``result_df``)."""
    from ..tracking import fluent, session
    from .core import trace as traced

    rows = _rows(data)
    workers = _workers(max_workers)
    scorer_list = [as_scorer(s) for s in scorers]
    names = [s.name for s in scorer_list]
    if len(set(names)) != len(names):
        raise InvalidInput(f"scorers: two scorers have the same name ({names})")
    if predict_fn is None and any("outputs" not in r.__dict__ or r.outputs is None for r in rows):
        missing = [r.index for r in rows if r.outputs is None]
        if missing:
            raise InvalidInput(
                f"data rows {missing[:5]}: without predict_fn every row needs outputs"
            )
    if predict_fn is not None and not callable(predict_fn):
        raise InvalidInput(f"predict_fn: {predict_fn!r} is not callable")

    current = session.current()
    active = current.active() or current.cell_run()
    started = None
    if active is None:
        started = fluent.start_run(run_name=run_name, tags={EVALUATION_TAG: "true"})
        run = started.info
    else:
        run = active.info
        current.store.set_tags(run.run_id, {EVALUATION_TAG: "true"})
    ok = False
    try:
        if predict_fn is not None:
            fn = predict_fn
            if not getattr(predict_fn, "__jt_traced__", False):
                fn = traced(name=getattr(predict_fn, "__name__", "predict"))(predict_fn)

            def predict(row: _Row) -> None:
                core._thread_last.trace_id = None
                with core.linked_run(run.run_id, run.experiment_id):
                    kwargs = row.inputs if isinstance(row.inputs, Mapping) else None
                    try:
                        row.outputs = fn(**kwargs) if kwargs is not None else fn(row.inputs)
                    except Exception as exc:
                        row.error = f"{type(exc).__name__}: {exc}"
                    row.trace_id = core.get_last_active_trace_id(thread_local=True)

            _pool_map(predict, rows, workers)
        traces = _load_traces([r.trace_id for r in rows if r.trace_id])

        def score(row: _Row) -> None:
            trace = traces.get(row.trace_id or "")
            for scorer in scorer_list:
                try:
                    value = scorer(
                        inputs=row.inputs,
                        outputs=row.outputs,
                        expectations=row.expectations,
                        trace=trace,
                    )
                    feedbacks = _as_feedbacks(scorer, value)
                except Exception as exc:
                    feedbacks = [Feedback(name=scorer.name, error=f"{type(exc).__name__}: {exc}")]
                for feedback in feedbacks:
                    row.scores[feedback.name] = feedback

        _pool_map(score, rows, workers)
        _attach(rows, scorer_list, run.run_id)
        metrics = _aggregate(rows)
        if metrics:
            fluent.log_metrics(metrics, run_id=run.run_id)
        table = _table(rows, scorer_list)
        current.store.write_artifact_bytes(
            run.run_id, TABLE_ARTIFACT, json.dumps(table, default=str).encode()
        )
        ok = True
    finally:
        if started is not None:
            current.end_run(run.run_id, "FINISHED" if ok else "FAILED")
    frame = results_frame(table)
    return EvaluationResult(run.run_id, metrics, frame, {"eval_results_table": frame})


def _load_traces(trace_ids: list[str]) -> dict[str, Any]:
    from ..tracking import session
    from .entities import Trace

    core.flush_pending()
    store = session.current().store
    out = {}
    for trace_id in trace_ids:
        try:
            out[trace_id] = Trace.from_stored(store.get_trace(trace_id))
        except Exception:
            continue
    return out


def _attach(rows: list[_Row], scorers: list[Scorer], run_id: str) -> None:
    """Feedback and expectations onto each row's trace (one store call each)."""
    from ..tracking import session

    store = session.current().store
    kinds = {s.name: s.kind for s in scorers}
    for row in rows:
        if not row.trace_id:
            continue
        for name, value in row.expectations.items():
            try:
                store.log_assessment(
                    row.trace_id,
                    "expectation",
                    str(name),
                    _json_safe(value),
                    source_type="HUMAN",
                    run_id=run_id,
                )
            except Exception:
                continue
        for name, feedback in row.scores.items():
            source = feedback.source
            try:
                store.log_assessment(
                    row.trace_id,
                    "feedback",
                    name,
                    _json_safe(feedback.value),
                    rationale=feedback.rationale,
                    error=feedback.error,
                    source_type=source.source_type if source else kinds.get(name, "CODE"),
                    source_id=(source.source_id if source else None) or name,
                    run_id=run_id,
                )
            except Exception:
                continue


def _json_safe(value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        return repr(value)


def _aggregate(rows: list[_Row]) -> dict[str, float]:
    values: dict[str, list[float]] = {}
    for row in rows:
        for name, feedback in row.scores.items():
            number = None if feedback.error else as_number(feedback.value)
            if number is not None:
                values.setdefault(name, []).append(number)
    return {f"{name}/mean": sum(v) / len(v) for name, v in values.items() if v}


def _table(rows: list[_Row], scorers: list[Scorer]) -> dict[str, Any]:
    """The per-row results in MLflow's table-artifact shape (``columns``, ``data``), plus
    ``scorers``: per score name, its kind and whether higher is better."""
    names = sorted({n for row in rows for n in row.scores})
    directions = {s.name: s for s in scorers}
    columns = ["row", "inputs", "outputs", "expectations", "trace_id", "error"]
    for name in names:
        columns += [f"{name}/value", f"{name}/rationale"]
    data = []
    for row in rows:
        line: list[Any] = [
            row.index,
            _json_safe(row.inputs),
            _json_safe(row.outputs),
            _json_safe(row.expectations),
            row.trace_id,
            row.error,
        ]
        for name in names:
            feedback = row.scores.get(name)
            if feedback is None:
                line += [None, None]
            else:
                line += [
                    _json_safe(feedback.value) if not feedback.error else None,
                    feedback.rationale or feedback.error,
                ]
        data.append(line)
    described = {
        name: {
            "kind": directions[name].kind if name in directions else "CODE",
            "higher_is_better": directions[name].higher_is_better if name in directions else True,
        }
        for name in names
    }
    return {"columns": columns, "data": data, "scorers": described}


def results_frame(table: Mapping[str, Any]) -> Any:
    import pandas as pd

    return pd.DataFrame(table["data"], columns=table["columns"])


# ------------------------------------------------------------------------------- compare


def row_key(inputs: Any) -> str:
    """How rows of two evaluations are matched: their inputs as canonical JSON."""
    return json.dumps(inputs, sort_keys=True, default=str)


def load_table(store: Any, run_id: str) -> dict[str, Any]:
    """The per-row table of an evaluation run; ``InvalidInput`` when the run has none."""
    from ..store.errors import NotFound

    try:
        raw = store.artifact_file(run_id, TABLE_ARTIFACT).read_bytes()
    except (NotFound, FileNotFoundError, OSError):
        raise InvalidInput(
            f"run {run_id!r} is not an evaluation run (no {TABLE_ARTIFACT})"
        ) from None
    table = json.loads(raw)
    if not isinstance(table, dict) or "columns" not in table or "data" not in table:
        raise InvalidInput(f"run {run_id!r}: {TABLE_ARTIFACT} is not a results table")
    return table


def comparison(table_a: Mapping[str, Any], table_b: Mapping[str, Any]) -> dict[str, Any]:
    """Row-by-row comparison of two result tables: per scorer the values of both and whether
    the row got ``worse`` or ``better`` (a score that is a number, a bool or a yes/no answer
    went down or up); rows are matched by their inputs."""

    def records(table: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [dict(zip(table["columns"], line)) for line in table["data"]]

    a_rows, b_rows = records(table_a), records(table_b)
    scorers = sorted(
        {
            c[: -len("/value")]
            for c in [*table_a["columns"], *table_b["columns"]]
            if c.endswith("/value")
        }
    )
    higher: dict[str, bool] = {}
    for table in (table_a, table_b):
        for name, meta in (table.get("scorers") or {}).items():
            higher[name] = bool(meta.get("higher_is_better", True))
    by_key_b: dict[str, dict[str, Any]] = {}
    for rec in b_rows:
        by_key_b.setdefault(row_key(rec.get("inputs")), rec)
    out_rows = []
    seen: set[str] = set()
    for rec in a_rows:
        key = row_key(rec.get("inputs"))
        other = by_key_b.get(key)
        seen.add(key)
        out_rows.append(_compare_row(rec, other, scorers, higher))
    for key, rec in by_key_b.items():
        if key not in seen:
            out_rows.append(_compare_row(None, rec, scorers, higher))
    summary = {
        name: {
            "worse": sum(1 for r in out_rows if r["scores"][name]["change"] == "worse"),
            "better": sum(1 for r in out_rows if r["scores"][name]["change"] == "better"),
        }
        for name in scorers
    }
    return {
        "scorers": scorers,
        "higher_is_better": {name: higher.get(name, True) for name in scorers},
        "rows": out_rows,
        "summary": summary,
    }


def _compare_row(
    a: Mapping[str, Any] | None,
    b: Mapping[str, Any] | None,
    scorers: list[str],
    higher: Mapping[str, bool],
) -> dict[str, Any]:
    scores = {}
    worse = better = False
    for name in scorers:
        va = None if a is None else a.get(f"{name}/value")
        vb = None if b is None else b.get(f"{name}/value")
        na, nb = as_number(va), as_number(vb)
        change = "same"
        if a is None or b is None:
            change = "missing"
        elif na is not None and nb is not None and na != nb:
            change = "better" if (nb > na) == higher.get(name, True) else "worse"
        elif (na is None) != (nb is None) or (na is None and va != vb):
            change = "changed"
        worse = worse or change == "worse"
        better = better or change == "better"
        scores[name] = {
            "a": va,
            "b": vb,
            "rationale_a": None if a is None else a.get(f"{name}/rationale"),
            "rationale_b": None if b is None else b.get(f"{name}/rationale"),
            "change": change,
        }
    source = a if a is not None else b
    assert source is not None
    return {
        "inputs": source.get("inputs"),
        "expectations": source.get("expectations"),
        "outputs_a": None if a is None else a.get("outputs"),
        "outputs_b": None if b is None else b.get("outputs"),
        "trace_a": None if a is None else a.get("trace_id"),
        "trace_b": None if b is None else b.get("trace_id"),
        "scores": scores,
        "worse": worse,
        "better": better,
    }


def compare_evaluations(run_a: Any, run_b: Any) -> Any:
    """Two evaluation runs row by row (matched by inputs): a DataFrame with ``inputs``,
    ``outputs_a``, ``outputs_b``, per scorer ``<name>/a``, ``<name>/b``, ``<name>/change``
    (``worse``, ``better``, ``same``, ``changed``, ``missing``) and ``worse``/``better`` per
    row -- the rows that got worse first."""
    import pandas as pd

    from ..tracking import session

    store = session.current().store
    ids = [
        getattr(getattr(r, "info", None), "run_id", None) or getattr(r, "run_id", None) or r
        for r in (run_a, run_b)
    ]
    result = comparison(load_table(store, str(ids[0])), load_table(store, str(ids[1])))
    records = []
    for row in result["rows"]:
        rec: dict[str, Any] = {
            "inputs": row["inputs"],
            "outputs_a": row["outputs_a"],
            "outputs_b": row["outputs_b"],
        }
        for name in result["scorers"]:
            score = row["scores"][name]
            rec[f"{name}/a"] = score["a"]
            rec[f"{name}/b"] = score["b"]
            rec[f"{name}/change"] = score["change"]
        rec["worse"] = row["worse"]
        rec["better"] = row["better"]
        rec["trace_a"] = row["trace_a"]
        rec["trace_b"] = row["trace_b"]
        records.append(rec)
    frame = pd.DataFrame.from_records(records)
    if len(frame):
        frame = frame.sort_values("worse", ascending=False, kind="stable").reset_index(drop=True)
    return frame
