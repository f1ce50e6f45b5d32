"""The tracing API under MLflow's names: decorators on every kind of callable, spans, errors,
read-your-writes without a flush, run and cell links, payloads that JSON cannot hold,
truncation, threads and tasks, IN_PROGRESS traces, tags, assessments and searches."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jupyter_track as jt
from jupyter_track.store import FilterSyntaxError, InvalidInput, NotFound, SQLiteStore
from jupyter_track.tracing import core, serialize
from jupyter_track.tracing.entities import Feedback, SpanType, Trace


def last() -> Trace:
    trace_id = jt.get_last_active_trace_id()
    assert trace_id is not None
    found = jt.get_trace(trace_id)
    assert found is not None
    return found


def spans_by_name(trace: Trace) -> dict[str, Any]:
    return {s.name: s for s in trace.data.spans}


def test_decorated_functions_nest_and_record_inputs_and_outputs() -> None:
    @jt.trace(span_type=SpanType.TOOL, attributes={"version": 2})
    def add(a: int, b: int = 2) -> int:
        return a + b

    @jt.trace(name="pipeline", span_type="CHAIN")
    def run(question: str) -> str:
        with jt.start_span("retrieve", span_type=SpanType.RETRIEVER) as span:
            span.set_inputs({"query": question})
            span.set_outputs(["doc-1", "doc-2"])
            span.set_attribute("k", 2)
            assert jt.get_current_active_span() is span
        return f"{question}:{add(1)}"

    assert run("why") == "why:3"
    assert jt.get_current_active_span() is None
    trace = last()
    assert trace.info.state == "OK" and trace.info.name == "pipeline"
    spans = spans_by_name(trace)
    root, retrieve, tool = spans["pipeline"], spans["retrieve"], spans["add"]
    assert root.parent_id is None and root.span_type == "CHAIN"
    assert retrieve.parent_id == root.span_id == tool.parent_id
    assert root.inputs == {"question": "why"} and root.outputs == "why:3"
    assert tool.inputs == {"a": 1, "b": 2} and tool.outputs == 3
    assert tool.attributes == {"version": 2} and tool.span_type == "TOOL"
    assert retrieve.inputs == {"query": "why"} and retrieve.outputs == ["doc-1", "doc-2"]
    assert retrieve.get_attribute("k") == 2
    assert root.start_time_ns <= retrieve.start_time_ns <= (retrieve.end_time_ns or 0)
    assert trace.data.request == json.dumps({"question": "why"}, separators=(",", ":"))
    assert trace.info.request_preview == '{"question":"why"}'
    assert trace.search_spans(span_type="TOOL") == [tool]
    assert trace.info.execution_time_ms is not None and trace.info.span_count == 3


def test_methods_static_and_class_methods() -> None:
    class Agent:
        factor = 3

        @jt.trace
        def act(self, x: int) -> int:
            return x * self.factor

        @jt.trace
        @staticmethod
        def helper(x: int) -> int:
            return x + 1

        @classmethod
        @jt.trace
        def build(cls, n: int) -> int:
            return n * cls.factor

    agent = Agent()
    assert agent.act(2) == 6
    assert last().data.spans[0].inputs == {"x": 2}  # self is left out
    assert Agent.helper(1) == 2 and last().data.spans[0].name == "helper"
    assert Agent.build(2) == 6 and last().data.spans[0].inputs == {"n": 2}


def test_varargs_and_keyword_only_arguments() -> None:
    @jt.trace
    def f(a: int, *rest: int, scale: int = 1, **extra: Any) -> int:
        return (a + sum(rest)) * scale

    assert f(1, 2, 3, scale=2, tag="x") == 12
    assert last().data.spans[0].inputs == {
        "a": 1,
        "rest": [2, 3],
        "scale": 2,
        "extra": {"tag": "x"},
    }


def test_an_exception_marks_error_and_is_reraised_unchanged() -> None:
    error = ValueError("bad input")

    @jt.trace
    def inner() -> None:
        raise error

    @jt.trace
    def outer() -> None:
        inner()

    with pytest.raises(ValueError) as caught:
        outer()
    assert caught.value is error
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    trace = last()
    assert trace.info.state == "ERROR"
    for span in trace.data.spans:
        assert span.status.status_code == "ERROR"
        (event,) = span.events
        assert event.name == "exception"
        assert event.attributes["exception.type"] == "ValueError"
        assert event.attributes["exception.message"] == "bad input"
        assert "raise error" in event.attributes["exception.stacktrace"]

    with pytest.raises(KeyError), jt.start_span("block"):
        raise KeyError("k")
    assert last().info.state == "ERROR"


def test_generators_record_the_stream_when_it_ends() -> None:
    @jt.trace(span_type="LLM")
    def stream(n: int) -> Any:
        for i in range(n):
            with jt.start_span(f"chunk-{i}"):
                pass
            yield f"t{i} "

    before = jt.get_last_active_trace_id()
    gen = stream(3)
    assert next(gen) == "t0 "
    assert jt.get_current_active_span() is None  # the span is current only inside the body
    assert jt.get_last_active_trace_id() == before  # not ended yet
    assert list(gen) == ["t1 ", "t2 "]
    trace = last()
    root = trace.data.spans[0]
    assert root.name == "stream" and root.outputs == "t0 t1 t2 "
    assert {s.parent_id for s in trace.data.spans[1:]} == {root.span_id}

    @jt.trace(output_reducer=lambda items: sum(items))
    def numbers() -> Any:
        yield from (1, 2, 3)

    assert list(numbers()) == [1, 2, 3]
    assert last().data.spans[0].outputs == 6

    closed = numbers()
    next(closed)
    closed.close()  # a stream left early is still recorded, with what it produced
    assert last().data.spans[0].outputs == 1


def test_generator_return_value_and_errors() -> None:
    @jt.trace
    def gen() -> Any:
        yield 1
        raise RuntimeError("mid-stream")

    it = gen()
    assert next(it) == 1
    with pytest.raises(RuntimeError, match="mid-stream"):
        next(it)
    assert last().info.state == "ERROR"

    @jt.trace
    def returns() -> Any:
        yield 1
        return "done"

    def consume() -> Any:
        result = yield from returns()
        return result

    it = consume()
    next(it)
    with pytest.raises(StopIteration) as stop:
        next(it)
    assert stop.value.value == "done"


def test_async_functions_and_async_generators() -> None:
    @jt.trace
    async def lookup(x: int) -> int:
        await asyncio.sleep(0.01)
        return x * 10

    @jt.trace(span_type="AGENT")
    async def agent(xs: list[int]) -> list[int]:
        return list(await asyncio.gather(*(lookup(x) for x in xs)))

    @jt.trace
    async def tokens(n: int) -> Any:
        for i in range(n):
            await asyncio.sleep(0)
            yield i

    async def main() -> tuple[list[int], list[int], list[int]]:
        first = await agent([1, 2])
        separate = list(await asyncio.gather(lookup(3), lookup(4)))
        streamed = [t async for t in tokens(3)]
        return first, separate, streamed

    assert asyncio.run(main()) == ([10, 20], [30, 40], [0, 1, 2])
    frame = jt.search_traces()
    assert list(frame["name"]) == ["tokens", "lookup", "lookup", "agent"]
    agent_trace = frame["trace"].iloc[3]
    root = agent_trace.data.spans[0]
    assert [s.parent_id for s in agent_trace.data.spans[1:]] == [root.span_id] * 2
    assert sorted(s.outputs for s in agent_trace.data.spans[1:]) == [10, 20]
    assert frame["trace"].iloc[0].data.spans[0].outputs == [0, 1, 2]


def test_threads_get_their_own_traces() -> None:
    @jt.trace
    def work(i: int) -> int:
        with jt.start_span("step"):
            return i

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    traces = jt.search_traces(return_type="list")
    assert len(traces) == 8
    assert all(len(t.data.spans) == 2 for t in traces)
    assert sorted(t.data.spans[0].inputs["i"] for t in traces) == list(range(8))


def test_visible_right_after_the_root_span_ends_without_a_flush(track_db: Path) -> None:
    @jt.trace
    def f(x: int) -> int:
        return x

    for i in range(50):
        f(i)
        trace_id = jt.get_last_active_trace_id()
        assert trace_id is not None
        assert len(jt.search_traces(filter_string=f"trace_id = '{trace_id}'")) == 1
    assert jt.get_trace(trace_id) is not None
    # and durable: another connection sees them (no flush was called by the test)
    assert len(SQLiteStore(track_db).search_traces(None, None, max_results=100).traces) == 50


def test_no_io_on_the_callers_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """A traced call never touches the store on its own thread: writes happen on the
    writer's thread (checked by making every store write fail off the writer)."""
    calls: list[str] = []
    original = SQLiteStore.write_traces

    def spy(self: SQLiteStore, records: Any) -> None:
        calls.append(threading.current_thread().name)
        original(self, records)

    monkeypatch.setattr(SQLiteStore, "write_traces", spy)

    @jt.trace
    def f() -> int:
        return 1

    main = threading.current_thread().name
    writer = core._writer()
    for _ in range(20):
        f()
    writer._wake.set()
    for _ in range(200):
        if calls:
            break
        threading.Event().wait(0.01)
    assert calls and all(name != main for name in calls)


def test_traces_link_to_the_active_run_and_experiment() -> None:
    @jt.trace
    def f() -> None:
        pass

    jt.set_experiment("agents")
    f()
    outside = last()
    assert outside.info.run_id is None
    assert outside.info.experiment_id == jt.get_experiment_by_name("agents").experiment_id
    with jt.start_run() as run:
        f()
        f()
    inside = last()
    assert inside.info.run_id == run.info.run_id
    assert inside.info.trace_metadata["mlflow.sourceRun"] == run.info.run_id
    assert len(jt.search_traces(run_id=run.info.run_id)) == 2
    assert len(jt.search_traces(experiment_names=["agents"])) == 3
    assert len(jt.search_traces(experiment_ids=["0"])) == 0
    with pytest.raises(NotFound):
        jt.search_traces(experiment_names=["nope"])


def test_experiment_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "from-env")

    @jt.trace
    def f() -> None:
        pass

    f()
    trace = last()
    experiment = jt.get_experiment_by_name("from-env")
    assert experiment is not None
    assert trace.info.experiment_id == experiment.experiment_id


def test_track_cell_links_its_traces(track_db: Path) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    try:
        shell.run_cell("%load_ext jupyter_track\nimport jupyter_track as jt")
        shell.run_cell("@jt.trace\ndef ask(q):\n    return q.upper()\n")
        result = shell.run_cell("%%track -q -n traced\nanswer = ask('hi')\n")
        assert result.error_in_exec is None
        run = jt.search_runs(filter_string="run_name = 'traced'", output_format="list")[0]
        (trace,) = jt.search_traces(run_id=run.info.run_id, return_type="list")
        assert trace.data.spans[0].outputs == "HI"
        assert trace.info.cell_id == run.info.cell_id
    finally:
        shell.run_cell("%unload_ext jupyter_track")
        InteractiveShell.clear_instance()


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@dataclasses.dataclass
class Point:
    x: float
    y: float


def test_payloads_json_cannot_hold_are_stored_and_never_raise() -> None:
    circular: list[Any] = [1]
    circular.append(circular)

    @jt.trace
    def f(a: Any, b: Any, c: Any, d: Any, e: Any, g: Any) -> Any:
        return {"nan": math.nan, "inf": -math.inf, "point": Point(1.0, 2.0), "set": {3, 1}}

    out = f(Unprintable(), circular, np.arange(3), b"\x00\x01", pd.Timestamp(0), object)
    assert out["set"] == {3, 1}
    span = last().data.spans[0]
    inputs = span.inputs
    assert inputs["a"] == "<Unprintable object>"
    assert inputs["b"] == [1, "[1, [...]]"]  # the cycle: stored as its repr
    assert inputs["c"] == [0, 1, 2]
    assert inputs["d"] == "b'\\x00\\x01'"
    assert inputs["g"] == "<class 'object'>"
    assert span.outputs == {
        "nan": "NaN",
        "inf": "-Infinity",
        "point": {"x": 1.0, "y": 2.0},
        "set": [1, 3],
    }


def test_a_failure_inside_tracing_never_breaks_the_function(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracing bug")

    monkeypatch.setattr(core, "_open", broken)
    monkeypatch.setattr(core, "_warned", set())

    @jt.trace
    def f(x: int) -> int:
        return x + 1

    assert f(1) == 2
    with jt.start_span("s") as span:
        span.set_attribute("still", "works")
    assert "tracing bug" in caplog.text


def test_big_payloads_are_truncated_with_a_marker() -> None:
    before = jt.tracing.configure()["max_span_bytes"]
    try:
        jt.tracing.configure(max_span_bytes=2000)

        @jt.trace
        def echo(text: str) -> str:
            return text

        echo("x" * 10_000)
        span = last().data.spans[0]
        for payload in (span.inputs, span.outputs):
            assert payload[serialize.TRUNCATED] is True
            assert payload["bytes"] > 10_000
            assert len(payload["head"]) < 1000
        echo("small")
        assert last().data.spans[0].outputs == "small"
        with pytest.raises(InvalidInput, match="max_span_bytes"):
            jt.tracing.configure(max_span_bytes="big")  # type: ignore[arg-type]
    finally:
        jt.tracing.configure(max_span_bytes=before)


def test_span_api_events_status_and_current_trace_updates() -> None:
    with jt.start_span("root", span_type=SpanType.AGENT, attributes={"a": [1, 2]}) as root:
        root.add_event("thinking", {"step": 1})
        root.add_event(jt.tracing.SpanEvent("planned"))
        root.set_status("ERROR", "gave up")
        jt.update_current_trace(
            tags={"user": "ana", "n": 3},
            metadata={"session": "s1"},
            client_request_id="req-7",
            request_preview="custom question",
        )
        child = jt.start_span_no_context("manual", parent_span=root, inputs={"q": 1})
        child.end(outputs={"a": 2}, status="OK")
        root.set_attributes({"b": {"c": 1}})
    trace = last()
    assert trace.info.state == "ERROR"  # the root's status decides
    assert trace.info.tags == {"user": "ana", "n": "3"}
    assert trace.info.trace_metadata == {"session": "s1"}
    assert trace.info.client_request_id == "req-7"
    assert trace.info.request_preview == "custom question"
    spans = spans_by_name(trace)
    assert spans["root"].status.description == "gave up"
    assert [e.name for e in spans["root"].events] == ["thinking", "planned"]
    assert spans["root"].events[0].attributes == {"step": 1}
    assert spans["root"].attributes == {"a": [1, 2], "b": {"c": 1}}
    assert spans["manual"].parent_id == spans["root"].span_id
    assert spans["manual"].outputs == {"a": 2}


def test_trace_tags_and_deletion() -> None:
    @jt.trace
    def f() -> None:
        pass

    f()
    first = jt.get_last_active_trace_id()
    f()
    second = jt.get_last_active_trace_id()
    assert first and second
    jt.set_trace_tag(first, "reviewed", "yes")
    assert len(jt.search_traces(filter_string="tags.reviewed = 'yes'")) == 1
    jt.delete_trace_tag(first, "reviewed")
    assert len(jt.search_traces(filter_string="tags.reviewed = 'yes'")) == 0
    assert jt.delete_traces(trace_ids=[first]) == 1
    assert jt.get_trace(first) is None
    assert jt.delete_traces(max_timestamp_millis=2**62) == 1
    assert len(jt.search_traces()) == 0


def test_feedback_and_expectations() -> None:
    @jt.trace
    def answer(q: str) -> str:
        return "Paris"

    answer("capital of France?")
    trace_id = jt.get_last_active_trace_id()
    assert trace_id
    feedback = jt.log_feedback(trace_id, "correct", True, rationale="right city", source="ana")
    assert isinstance(feedback, Feedback)
    assert feedback.source is not None and feedback.source.source_id == "ana"
    assert feedback.source.source_type == "HUMAN"
    jt.log_feedback(trace_id, "score", 0.8, source="LLM_JUDGE")
    jt.log_expectation(trace_id, "expected_response", "Paris")
    trace = jt.get_trace(trace_id)
    assert trace is not None
    names = [(a.kind, a.name, a.value) for a in trace.info.assessments]
    assert names == [
        ("feedback", "correct", True),
        ("feedback", "score", 0.8),
        ("expectation", "expected_response", "Paris"),
    ]
    assert len(jt.search_traces(filter_string="feedback.score > 0.5")) == 1
    with pytest.raises(InvalidInput, match=r"'score'.*finite"):
        jt.log_feedback(trace_id, "score", math.nan)
    with pytest.raises(InvalidInput, match=r"'x'.*not JSON"):
        jt.log_feedback(trace_id, "x", object())
    with pytest.raises(InvalidInput, match="give a value"):
        jt.log_feedback(trace_id, "x")
    with pytest.raises(NotFound):
        jt.log_feedback("tr-none", "x", 1)
    failed = jt.log_feedback(trace_id, "judge", error=TimeoutError("judge timed out"))
    assert failed.error == "TimeoutError: judge timed out"


def test_in_progress_traces_are_written_while_they_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(core, "SNAPSHOT_AFTER_NS", 0)
    with jt.start_span("agent") as root:
        with jt.start_span("step-1"):
            pass
        running = jt.get_trace(root.trace_id)
        assert running is not None
        assert running.info.state == "IN_PROGRESS"
        assert [s.name for s in running.data.spans] == ["agent", "step-1"]
        assert running.data.spans[0].end_time_ns is None
        assert len(jt.search_traces(filter_string="status = 'IN_PROGRESS'")) == 1
    done = jt.get_trace(root.trace_id)
    assert done is not None and done.info.state == "OK"
    assert len(jt.search_traces(filter_string="status = 'IN_PROGRESS'")) == 0


def test_a_trace_left_open_at_exit_is_kept_as_in_progress(tmp_path: Path) -> None:
    db = tmp_path / "exit.db"
    script = textwrap.dedent(
        """
        import jupyter_track as jt
        span = jt.start_span_no_context("never-ends")
        jt.start_span_no_context("child", parent_span=span).end()
        """
    )
    env = {"JUPYTER_TRACK_DB": str(db), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    (trace,) = SQLiteStore(db).search_traces(None, None).traces
    assert trace.summary.status == "IN_PROGRESS"
    assert [s.name for s in trace.spans] == ["never-ends", "child"]


@pytest.mark.parametrize("ending", ["exit", "flush"])
def test_a_script_that_ends_right_after_its_first_trace_keeps_it(
    tmp_path: Path, ending: str
) -> None:
    """The first trace ends before the store and the writer are loaded (a thread of their
    own does that): the interpreter's exit and ``jt.flush()`` still wait for it, and another
    process then finds it."""
    db = tmp_path / "quick.db"
    tail = {
        "exit": "",
        "flush": "jt.flush()\nimport os; os._exit(0)",
    }[ending]
    script = "import jupyter_track as jt\n" + "@jt.trace\ndef f(x):\n    return x\nf(1)\n" + tail
    env = {"JUPYTER_TRACK_DB": str(db), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    (trace,) = SQLiteStore(db).search_traces(None, None).traces
    assert trace.summary.status == "OK" and [s.name for s in trace.spans] == ["f"]


def test_the_first_call_loads_neither_pandas_nor_the_store_file(tmp_path: Path) -> None:
    """Decorating and the first call record the trace without pandas and without opening the
    store (the package's import loads the store's code; the background writer opens the file
    and writes the trace)."""
    script = textwrap.dedent(
        """
        import os, sys
        import jupyter_track as jt

        @jt.trace
        def f(x):
            return x

        assert not os.path.exists(os.environ["JUPYTER_TRACK_DB"]), "decorating opened the store"
        assert "pandas" not in sys.modules
        f(1)
        trace = jt.get_trace(jt.get_last_active_trace_id())
        assert trace.data.spans[0].outputs == 1
        print("ok")
        """
    )
    env = {"JUPYTER_TRACK_DB": str(tmp_path / "light.db"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_search_traces_frame_and_arguments() -> None:
    @jt.trace
    def f(x: int) -> int:
        if x == 2:
            raise ValueError(x)
        return x

    for i in range(4):
        try:
            f(i)
        except ValueError:
            pass
    frame = jt.search_traces()
    assert list(frame.columns[:12]) == [
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
    ]
    assert list(frame["request"]) == [{"x": 3}, {"x": 2}, {"x": 1}, {"x": 0}]
    assert list(frame["state"]) == ["OK", "ERROR", "OK", "OK"]
    assert len(jt.search_traces(max_results=2)) == 2
    assert jt.search_traces(order_by=["timestamp_ms ASC"])["response"].iloc[0] == 0
    listed = jt.search_traces(filter_string="status = 'ERROR'", return_type="list")
    assert [t.data.spans[0].inputs for t in listed] == [{"x": 2}]
    with pytest.raises(FilterSyntaxError) as err:
        jt.search_traces(filter_string="status = ")
    assert err.value.position == 9
    with pytest.raises(InvalidInput, match="return_type"):
        jt.search_traces(return_type="json")
    with pytest.raises(InvalidInput, match="max_results"):
        jt.search_traces(max_results=-1)


def test_disable_and_enable() -> None:
    @jt.trace
    def f() -> int:
        return 1

    jt.tracing.disable()
    try:
        assert f() == 1
        with jt.start_span("nothing") as span:
            span.set_inputs("ignored")
        assert len(jt.search_traces()) == 0
    finally:
        jt.tracing.enable()
    f()
    assert len(jt.search_traces()) == 1


def test_get_trace_of_an_unknown_id_is_none() -> None:
    assert jt.get_trace("tr-unknown") is None
    with pytest.raises(InvalidInput):
        jt.get_trace("")


# ------------------------------------------------------------------ user values (hypothesis)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.binary(max_size=8)
    | st.builds(Unprintable)
    | st.sampled_from([object(), Point(1, 2), frozenset({1, 2})]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), inner, max_size=4)
        | st.tuples(inner, inner)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_to_json_never_raises_and_is_strict_json(value: Any) -> None:
    text = serialize.to_json(value)
    decoded = json.loads(text)  # strict enough: NaN never appears as a bare token
    assert "NaN" not in text or '"NaN"' in text
    if isinstance(value, (str, bool, type(None))):
        assert decoded == value


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    key=st.text(max_size=20),
    value=st.one_of(st.text(max_size=50), st.integers(), st.floats(), st.none()),
)
def test_user_values_for_tags_and_feedback_are_stored_or_refused_clearly(
    key: str, value: Any
) -> None:
    with jt.start_span("s"):
        pass
    trace_id = jt.get_last_active_trace_id()
    assert trace_id
    try:
        jt.set_trace_tag(trace_id, key, value)
    except InvalidInput as exc:
        assert "trace tag" in str(exc)
    else:
        trace = jt.get_trace(trace_id)
        assert trace is not None and key in trace.info.tags
    try:
        jt.log_feedback(trace_id, key, value)
    except InvalidInput as exc:
        assert repr(key) in str(exc) or "assessment name" in str(exc)
    else:
        trace = jt.get_trace(trace_id)
        assert trace is not None
        assert trace.info.assessments[-1].value == value


def test_a_store_without_traces_leaves_them_out_saying_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store that does not keep traces (raises NotImplementedError as the HTTP client
    store's ``NOT_SERVED`` methods do): the writer leaves the traces out, says so once (not
    once per trace), and still writes the rest."""
    from jupyter_track.client.store import _not_served
    from jupyter_track.tracking.writer import BackgroundWriter

    class TeamLike(SQLiteStore):
        write_traces = _not_served("write_traces", "kept elsewhere")  # the client's refusal

    store = TeamLike(tmp_path / "team-like.db")
    run_id = store.create_run("0").run_id
    ended: list[Any] = []
    monkeypatch.setattr(core, "_hand_over", ended.append)

    @jt.trace
    def step(x: int) -> int:
        return x

    for i in range(5):
        step(i)
    writer = BackgroundWriter(store, interval=3600)
    writer.trace_snapshots = core.snapshots
    for trace in ended[:3]:
        writer.append_trace(trace)
    writer.metrics.append((store._run_pk(run_id), "loss", 0, 0, 0.5))
    writer.flush()
    for trace in ended[3:]:
        writer.append_trace(trace)
    writer.flush()
    err = capsys.readouterr().err
    assert err.count("does not keep what write_traces writes") == 1, err
    assert "not available on the team service's HTTP client store" in err
    assert writer.dropped == 5
    assert [p.value for p in store.get_metric_history(run_id, "loss")] == [0.5]
    assert store.search_traces(None, None).traces == []
