"""The store's traces: upserts (snapshots, OTLP-style parts), reads, search with the traces'
field table (examples, errors, and a property test of the SQL against the plain-Python
reference evaluation), pagination, deletion, tags and assessments."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_track.store import FilterSyntaxError, InvalidInput, NotFound
from jupyter_track.store import search as grammar
from jupyter_track.store.interface import Store
from jupyter_track.store.traces import TraceRecord

NS = 1_000_000


def span(
    span_id: str,
    parent: str | None,
    name: str,
    *,
    kind: str = "UNKNOWN",
    status: str = "OK",
    start: int = 0,
    end: int | None = 5,
    attributes: dict[str, Any] | None = None,
) -> tuple[Any, ...]:
    return (
        span_id,
        parent,
        name,
        kind,
        status,
        None,
        start * NS,
        None if end is None else end * NS,
        json.dumps({"q": name}),
        json.dumps(name.upper()),
        json.dumps(attributes) if attributes else None,
        None,
    )


def record(trace_id: str, **kw: Any) -> TraceRecord:
    spans = kw.pop("spans", [span("r", None, kw.get("name") or "root")])
    defaults: dict[str, Any] = {
        "experiment_id": "0",
        "name": "root",
        "status": "OK",
        "start_time": 1000,
        "end_time": 1005,
        "execution_time_ms": 5,
    }
    defaults.update(kw)
    return TraceRecord(trace_id=trace_id, spans=spans, **defaults)


def test_write_read_and_upsert_snapshot_then_final(store: Store) -> None:
    store.write_traces(
        [
            record(
                "tr-1",
                status="IN_PROGRESS",
                end_time=None,
                execution_time_ms=None,
                spans=[span("r", None, "root", end=None, status="UNSET")],
            )
        ]
    )
    running = store.get_trace("tr-1")
    assert running.summary.status == "IN_PROGRESS"
    assert running.spans[0].end_ns is None
    store.write_traces(
        [
            record(
                "tr-1",
                tags={"user": "ana"},
                spans=[span("r", None, "root"), span("c", "r", "child", kind="TOOL", start=1)],
            )
        ]
    )
    done = store.get_trace("tr-1")
    assert done.summary.status == "OK"
    assert done.summary.span_count == 2
    assert [s.name for s in done.spans] == ["root", "child"]
    assert done.summary.tags == {"user": "ana"}
    assert json.loads(done.spans[1].inputs or "") == {"q": "child"}
    with pytest.raises(NotFound):
        store.get_trace("tr-missing")


def test_partial_batches_merge_and_recompute(store: Store) -> None:
    usage = {"mlflow.chat.tokenUsage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}}
    # a child arrives first (no root yet): the trace is IN_PROGRESS
    store.write_traces(
        [
            TraceRecord(
                "tr-p",
                experiment_id="0",
                start_time=1001,
                spans=[span("c", "r", "llm", kind="LLM", start=1001, end=1003, attributes=usage)],
                partial=True,
            )
        ]
    )
    part = store.get_trace("tr-p").summary
    assert (part.status, part.span_count, part.total_tokens) == ("IN_PROGRESS", 1, 7)
    # the root arrives in a second batch (and the child is sent again: no double count)
    store.write_traces(
        [
            TraceRecord(
                "tr-p",
                experiment_id="0",
                name="agent",
                status="ERROR",
                start_time=1000,
                end_time=1010,
                execution_time_ms=10,
                spans=[
                    span("r", None, "agent", start=1000, end=1010, status="ERROR"),
                    span("c", "r", "llm", kind="LLM", start=1001, end=1003, attributes=usage),
                ],
                partial=True,
            )
        ]
    )
    full = store.get_trace("tr-p").summary
    assert (full.status, full.name, full.span_count) == ("ERROR", "agent", 2)
    assert (full.input_tokens, full.output_tokens, full.total_tokens) == (3, 4, 7)
    assert full.start_time == 1000 and full.execution_time_ms == 10


def test_experiment_names_are_created(store: Store) -> None:
    store.write_traces([record("tr-e", experiment_id=None, experiment_name="agents")])
    experiment = store.get_experiment_by_name("agents")
    assert experiment is not None
    assert store.get_trace("tr-e").summary.experiment_id == experiment.experiment_id


@pytest.fixture
def traces(store: Store) -> Store:
    store.write_traces(
        [
            record(
                "tr-a",
                name="chat",
                start_time=1000,
                execution_time_ms=50,
                tags={"user": "ana", "n": "3"},
                metadata={"model": "m1"},
                spans=[
                    span("r", None, "chat", kind="CHAIN"),
                    span("x", "r", "retrieve", kind="RETRIEVER"),
                ],
            ),
            record(
                "tr-b",
                name="chat",
                status="ERROR",
                start_time=2000,
                execution_time_ms=1500,
                tags={"user": "bo", "n": "10"},
                spans=[span("r", None, "chat", kind="CHAIN", status="ERROR")],
            ),
            record(
                "tr-c",
                name="agent",
                start_time=3000,
                execution_time_ms=None,
                status="IN_PROGRESS",
                end_time=None,
                spans=[span("r", None, "agent", kind="AGENT", end=None)],
            ),
        ]
    )
    store.log_assessment("tr-a", "feedback", "correct", True, rationale="yes")
    store.log_assessment("tr-b", "feedback", "correct", False)
    store.log_assessment("tr-b", "feedback", "score", 0.25)
    store.log_assessment("tr-a", "expectation", "expected_response", "CHAT")
    return store


def ids(store: Store, text: str | None, order_by: list[str] | None = None) -> list[str]:
    return [t.trace_id for t in store.search_traces(None, text, order_by=order_by).traces]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, ["tr-c", "tr-b", "tr-a"]),
        ("attributes.status = 'ERROR'", ["tr-b"]),
        ("status != 'OK'", ["tr-c", "tr-b"]),
        ("execution_time_ms > 1000", ["tr-b"]),
        ("trace.execution_time_ms IS NULL", ["tr-c"]),
        ("tags.user = 'ana'", ["tr-a"]),
        ("tags.n > 5", ["tr-b"]),
        ("tags.n < '5'", ["tr-b", "tr-a"]),  # text comparison: '10' < '3' < '5'
        ("metadata.model = 'm1'", ["tr-a"]),
        ("span.name = 'retrieve'", ["tr-a"]),
        ("span.type = 'AGENT' OR span.type = 'RETRIEVER'", ["tr-c", "tr-a"]),
        ("NOT span.name = 'retrieve'", ["tr-c", "tr-b"]),
        ("span.status = 'ERROR'", ["tr-b"]),
        ("feedback.correct = 'true'", ["tr-a"]),
        ("feedback.correct = 0", ["tr-b"]),
        ("feedback.score < 0.5", ["tr-b"]),
        ("feedback.correct IS NULL", ["tr-c"]),
        ("expectation.expected_response = 'CHAT'", ["tr-a"]),
        ("name LIKE 'ch%' AND timestamp_ms >= 2000", ["tr-b"]),
        ("request_id IN ('tr-a', 'tr-c')", ["tr-c", "tr-a"]),
    ],
)
def test_filters(traces: Store, text: str, expected: list[str]) -> None:
    assert ids(traces, text) == expected


def test_order_by_and_pages(traces: Store) -> None:
    assert ids(traces, None, ["execution_time_ms DESC"]) == ["tr-b", "tr-a", "tr-c"]
    assert ids(traces, None, ["timestamp_ms ASC"]) == ["tr-a", "tr-b", "tr-c"]
    assert ids(traces, None, ["tags.n DESC"]) == ["tr-b", "tr-a", "tr-c"]
    first = traces.search_traces(None, None, max_results=2)
    assert [t.trace_id for t in first.traces] == ["tr-c", "tr-b"]
    assert first.next_page_token is not None
    rest = traces.search_traces(None, None, max_results=2, page_token=first.next_page_token)
    assert [t.trace_id for t in rest.traces] == ["tr-a"] and rest.next_page_token is None
    assert traces.search_traces(["1"], None).traces == []
    lean = traces.search_traces(None, "span.name = 'retrieve'", include_spans=False).traces[0]
    assert lean.spans == [] and lean.summary.span_count == 2
    assert [a.name for a in lean.assessments] == ["correct", "expected_response"]


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("metrics.acc > 1", 0, "span.name"),
        ("span.foo = 'x'", 0, "span.name"),
        ("execution_time_ms > 'slow'", 0, "a number"),
        ("status = 1", 0, "a quoted string"),
        ("status = 'OK' AND", 17, "a field"),
    ],
)
def test_errors_name_the_position(traces: Store, text: str, position: int, expected: str) -> None:
    with pytest.raises(FilterSyntaxError) as err:
        traces.search_traces(None, text)
    assert err.value.position == position
    assert expected in str(err.value)


def test_order_by_errors(traces: Store) -> None:
    with pytest.raises(FilterSyntaxError, match="a field to order by"):
        traces.search_traces(None, None, order_by=["span.name"])
    with pytest.raises(InvalidInput, match="max_results"):
        traces.search_traces(None, None, max_results=-1)


def test_values_are_parameters_never_sql(traces: Store) -> None:
    assert ids(traces, "tags.user = 'x'' OR 1=1 --'") == []
    assert len(ids(traces, None)) == 3


def test_delete_traces(traces: Store) -> None:
    with pytest.raises(InvalidInput):
        traces.delete_traces("0")
    with pytest.raises(InvalidInput):
        traces.delete_traces("0", trace_ids="tr-a")  # type: ignore[arg-type]
    assert traces.delete_traces("0", max_timestamp_millis=2500, max_traces=1) == 1
    assert ids(traces, None) == ["tr-c", "tr-b"]
    assert traces.delete_traces(trace_ids=["tr-b", "tr-nope"]) == 1
    assert ids(traces, None) == ["tr-c"]
    conn = traces.db.conn()
    for table in ("spans", "trace_tags", "assessments"):
        count = conn.execute(
            f"SELECT count(*) FROM {table} WHERE trace NOT IN (SELECT id FROM traces)"
        ).fetchone()[0]
        assert count == 0, table


def test_tags_and_assessments(traces: Store) -> None:
    traces.set_trace_tag("tr-c", "note", {"a": 1})
    assert traces.get_trace("tr-c").summary.tags == {"note": '{"a": 1}'}
    traces.delete_trace_tag("tr-c", "note")
    with pytest.raises(NotFound):
        traces.delete_trace_tag("tr-c", "note")
    with pytest.raises(InvalidInput, match="trace tag"):
        traces.set_trace_tag("tr-c", "", "x")
    with pytest.raises(NotFound):
        traces.set_trace_tag("tr-zzz", "k", "v")
    a = traces.log_assessment("tr-c", "feedback", "stars", 4, source_type="HUMAN", source_id="ana")
    assert traces.get_assessment("tr-c", a.assessment_id).value == 4
    traces.delete_assessment("tr-c", a.assessment_id)
    with pytest.raises(NotFound):
        traces.get_assessment("tr-c", a.assessment_id)
    with pytest.raises(InvalidInput, match="kind"):
        traces.log_assessment("tr-c", "opinion", "x", 1)
    with pytest.raises(InvalidInput, match="source_type"):
        traces.log_assessment("tr-c", "feedback", "x", 1, source_type="ROBOT")
    with pytest.raises(InvalidInput, match="not JSON"):
        traces.log_assessment("tr-c", "feedback", "x", float("nan"))
    grouped = traces.assessments_for(["tr-a", "tr-b", "tr-c"])
    assert sorted(grouped) == ["tr-a", "tr-b"]


def test_exists_counts_per_run_and_another_process_sees_them(store: Store, reopen: Any) -> None:
    """``trace_exists``, ``count_traces`` (runs without traces left out) and a second store
    object on the same data (another process) reading what the first wrote."""
    experiment = store.create_experiment("traced-runs")
    run_a = store.create_run(experiment).run_id
    run_b = store.create_run(experiment).run_id
    run_c = store.create_run(experiment).run_id
    store.write_traces(
        [
            record("tr-1", experiment_id=experiment, run_id=run_a),
            record("tr-2", experiment_id=experiment, run_id=run_a, start_time=2000),
            record("tr-3", experiment_id=experiment, run_id=run_b, start_time=3000),
            record("tr-4", experiment_id=experiment),
        ]
    )
    assert store.trace_exists("tr-1") and not store.trace_exists("tr-missing")
    assert store.count_traces([run_a, run_b, run_c]) == {run_a: 2, run_b: 1}
    assert store.count_traces([]) == {}
    other = reopen(store)
    assert other.trace_exists("tr-3")
    assert other.count_traces([run_a]) == {run_a: 2}
    page = other.search_traces([experiment], None, run_id=run_a, include_spans=False)
    assert [t.trace_id for t in page.traces] == ["tr-2", "tr-1"]
    assert all(t.spans == [] for t in page.traces)
    store.delete_traces(trace_ids=["tr-1"])
    assert not other.trace_exists("tr-1")
    assert other.count_traces([run_a]) == {run_a: 1}


def test_pages_cover_every_trace_once(store: Store) -> None:
    store.write_traces([record(f"tr-{i:03d}", start_time=1000 + i) for i in range(23)])
    seen: list[str] = []
    token = None
    while True:
        page = store.search_traces(None, None, max_results=5, page_token=token)
        seen.extend(t.trace_id for t in page.traces)
        token = page.next_page_token
        if token is None:
            break
    assert seen == [f"tr-{i:03d}" for i in reversed(range(23))]
    with pytest.raises(InvalidInput):
        store.search_traces(None, None, page_token="not a token")


def _plan(store: Store, query: str, params: list[Any]) -> str:
    """The engine's query plan as text (PostgreSQL: told to prefer indexes on tiny tables)."""
    if store.engine == "sqlite":
        rows = store.db.conn().execute(f"EXPLAIN QUERY PLAN {query}", params)  # type: ignore[attr-defined]
        return " ".join(row[-1] for row in rows)
    with store.db.read() as conn:  # type: ignore[attr-defined]
        conn.execute("SET LOCAL enable_seqscan = off")
        return " ".join(row[0] for row in conn.execute(f"EXPLAIN {query}", params).fetchall())


def test_search_uses_indexes(traces: Store) -> None:
    tree = grammar.parse_filter("status = 'ERROR'", grammar.TRACES)
    where = grammar.compile_filter(tree, traces.db.dialect, fields=grammar.TRACES)  # type: ignore[attr-defined]
    plan = _plan(
        traces,
        f"SELECT t.id FROM traces t WHERE {where.sql} ORDER BY t.start_time DESC LIMIT 100",
        where.params,
    )
    assert "traces_by_status" in plan, plan
    tree = grammar.parse_filter("span.name = 'x'", grammar.TRACES)
    where = grammar.compile_filter(tree, traces.db.dialect, fields=grammar.TRACES)  # type: ignore[attr-defined]
    plan = _plan(traces, f"SELECT t.id FROM traces t WHERE {where.sql}", where.params)
    assert "spans_by_name" in plan, plan


# ------------------------------------------------------------ SQL against the reference

NAMES = ["chat", "agent", "Chat", "tool_1"]
TEXTS = ["a", "b", "10", "2.5", "x%y", "A"]
SPAN_NAMES = ["llm", "retrieve", "tool"]
SPAN_TYPES = ["LLM", "TOOL", "CHAIN"]
FEEDBACK = [True, False, 0.5, 3, "good", "bad", ["x"]]

span_strategy = st.fixed_dictionaries(
    {
        "name": st.sampled_from(SPAN_NAMES),
        "span_type": st.sampled_from(SPAN_TYPES),
        "status": st.sampled_from(["OK", "ERROR"]),
        "duration": st.sampled_from([None, 1, 5, 30]),
    }
)
trace_strategy = st.fixed_dictionaries(
    {
        "name": st.sampled_from(NAMES),
        "status": st.sampled_from(["OK", "ERROR", "IN_PROGRESS"]),
        "execution_time_ms": st.sampled_from([None, 0, 5, 1000, 2500]),
        "total_tokens": st.sampled_from([None, 0, 12]),
        "tags": st.dictionaries(st.sampled_from(["k", "user"]), st.sampled_from(TEXTS), max_size=2),
        "metadata": st.dictionaries(st.sampled_from(["m"]), st.sampled_from(TEXTS), max_size=1),
        "spans": st.lists(span_strategy, max_size=3),
        "feedback": st.dictionaries(
            st.sampled_from(["ok", "score"]),
            st.lists(st.sampled_from(FEEDBACK), min_size=1, max_size=2),
            max_size=2,
        ),
    }
)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@st.composite
def trace_comparisons(draw: st.DrawFn) -> str:
    entity = draw(st.sampled_from(["attributes", "tags", "metadata", "span", "feedback"]))
    if entity == "attributes":
        column = draw(st.sampled_from(["name", "status", "execution_time_ms", "total_tokens"]))
        if column in ("name", "status"):
            op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"]))
            values = NAMES if column == "name" else ["OK", "ERROR", "IN_PROGRESS"]
            if "IN" in op and "LIKE" not in op:
                items = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2))
                return f"{column} {op} ({', '.join(map(_quote, items))})"
            if "LIKE" in op:
                return f"{column} {op} {_quote(draw(st.sampled_from(['c%', '%t%', 'CHAT'])))}"
            return f"{column} {op} {_quote(draw(st.sampled_from(values)))}"
        if draw(st.integers(0, 5)) == 0:
            return f"{column} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"
        op = draw(st.sampled_from(["=", "!=", "<", ">=", ">"]))
        return f"{column} {op} {draw(st.sampled_from([0, 5, 12, 1000]))}"
    if entity == "span":
        key = draw(st.sampled_from(["name", "type", "status", "duration_ms"]))
        if draw(st.integers(0, 8)) == 0:
            return f"span.{key} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"
        if key == "duration_ms":
            op = draw(st.sampled_from(["<", ">="]))
            return f"span.duration_ms {op} {draw(st.sampled_from([2, 10]))}"
        values = {"name": SPAN_NAMES, "type": SPAN_TYPES, "status": ["OK", "ERROR"]}[key]
        op = draw(st.sampled_from(["=", "!=", "LIKE"]))
        if op == "LIKE":
            return f"span.{key} LIKE {_quote(draw(st.sampled_from(['l%', '%O%'])))}"
        return f"span.{key} {op} {_quote(draw(st.sampled_from(values)))}"
    key = draw(
        st.sampled_from(
            {"tags": ["k", "user"], "metadata": ["m"], "feedback": ["ok", "score"]}[entity]
        )
    )
    field = f"{entity}.{key}"
    if draw(st.integers(0, 6)) == 0:
        return f"{field} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"
    if draw(st.booleans()):
        op = draw(st.sampled_from(["=", "!=", "<", ">="]))
        return f"{field} {op} {draw(st.sampled_from([0, 1, 2.5, 10]))}"
    op = draw(st.sampled_from(["=", "!=", "LIKE", "IN"]))
    pool = [*TEXTS, "true", "false", "good", '["x"]']
    if op == "IN":
        items = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2))
        return f"{field} IN ({', '.join(map(_quote, items))})"
    return f"{field} {op} {_quote(draw(st.sampled_from(pool)))}"


trace_filters = st.recursive(
    trace_comparisons(),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["AND", "OR"]), inner).map(" ".join),
        inner.map(lambda t: f"NOT ({t})"),
        inner.map(lambda t: f"({t})"),
    ),
    max_leaves=4,
)


def _reference_item(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "attributes": {
            "name": spec["name"],
            "status": spec["status"],
            "execution_time_ms": spec["execution_time_ms"],
            "total_tokens": spec["total_tokens"],
        },
        "tags": spec["tags"],
        "metadata": spec["metadata"],
        "span": [
            {
                "name": s["name"],
                "span_type": s["span_type"],
                "status": s["status"],
                "duration_ms": s["duration"],
            }
            for s in spec["spans"]
        ],
        "feedback": spec["feedback"],
    }


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(trace_strategy, min_size=1, max_size=6), text=trace_filters)
def test_sql_matches_the_reference(store: Store, specs: list[dict[str, Any]], text: str) -> None:
    experiment = store.create_experiment(uuid.uuid4().hex)  # a fresh scope per example
    prefix = uuid.uuid4().hex[:8]
    records = []
    for n, spec in enumerate(specs):
        spans = [
            span(
                f"s{i}",
                None if i == 0 else "s0",
                s["name"],
                kind=s["span_type"],
                status=s["status"],
                start=0,
                end=s["duration"],
            )
            for i, s in enumerate(spec["spans"])
        ]
        records.append(
            record(
                f"{prefix}-{n}",
                experiment_id=experiment,
                name=spec["name"],
                status=spec["status"],
                start_time=1000 + n,
                execution_time_ms=spec["execution_time_ms"],
                total_tokens=spec["total_tokens"],
                tags=spec["tags"],
                metadata=spec["metadata"],
                spans=spans,
            )
        )
    store.write_traces(records)
    for n, spec in enumerate(specs):
        for name, values in spec["feedback"].items():
            for value in values:
                store.log_assessment(f"{prefix}-{n}", "feedback", name, value)
    tree = grammar.parse_filter(text, grammar.TRACES)
    expected = {
        f"{prefix}-{n}"
        for n, spec in enumerate(specs)
        if grammar.evaluate(tree, _reference_item(spec), grammar.TRACES)
    }
    found = store.search_traces([experiment], text, include_spans=False, max_results=100)
    assert {t.trace_id for t in found.traces} == expected, text
