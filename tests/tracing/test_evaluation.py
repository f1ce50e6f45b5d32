"""``jt.evaluate``: two versions of a prompt of a real OpenAI-client app (loopback server),
built-in scorers, an LLM judge on an OpenAI-compatible endpoint and one that is a callable,
custom scorers, the run (metrics, per-row table, feedback on each row's trace), failures that
do not stop it, bad data, ``compare_evaluations`` and the REST routes of evaluation runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai_server import OpenAIServer

import jupyter_track as jt
from jupyter_track.store import InvalidInput, SQLiteStore
from jupyter_track.tracing import scorers
from jupyter_track.tracing.evaluation import TABLE_ARTIFACT, as_number

API = ("jupyter-track", "api")

DATA = [
    {"inputs": {"question": "paris"}, "expectations": {"expected_response": "echo: paris"}},
    {"inputs": {"question": "oslo"}, "expectations": {"expected_response": "echo: oslo"}},
    {"inputs": {"question": "rome"}, "expectations": {"expected_response": "echo: rome"}},
]


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as srv:
        yield srv


@pytest.fixture
def client(server: OpenAIServer) -> Iterator[openai.OpenAI]:
    jt.openai.autolog()
    try:
        yield openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    finally:
        jt.openai.autolog(disable=True)


def app(client: openai.OpenAI, system_prompt: str) -> Any:
    def answer(question: str) -> str:
        reply = client.chat.completions.create(
            model="gpt-test",
            messages=[
                {"role": "system", "content": system_prompt},
                {"role": "user", "content": question},
            ],
        )
        return reply.choices[0].message.content or ""

    return answer


def judge(server: OpenAIServer) -> Any:
    return jt.judges.make_judge(
        "Does the response {{ outputs }} give the expected answer {{ expectations }}? "
        "Answer yes or no.",
        model="openai:/judge-model",
        name="correct",
        base_url=server.base_url,
        api_key="k",
    )


def test_two_prompt_versions_side_by_side(
    client: openai.OpenAI, server: OpenAIServer, store: SQLiteStore
) -> None:
    @jt.scorer
    def short(outputs: str) -> bool:
        return len(outputs) < 40

    def run(prompt: str, name: str) -> Any:
        return jt.evaluate(
            pd.DataFrame(DATA),
            predict_fn=app(client, prompt),
            scorers=[scorers.ExactMatch(), scorers.Contains("echo"), judge(server), short],
            run_name=name,
            max_workers=3,
        )

    v1 = run("Answer in lower case.", "prompt-v1")
    v2 = run("Answer in UPPERCASE.", "prompt-v2")
    assert v1.metrics == {
        "exact_match/mean": 1.0,
        "contains/mean": 1.0,
        "correct/mean": 1.0,
        "short/mean": 1.0,
    }
    assert v2.metrics["exact_match/mean"] == 0.0  # "ECHO: PARIS" != "echo: paris"
    assert v2.metrics["contains/mean"] == 1.0  # case-insensitive
    assert v2.metrics["correct/mean"] == 1.0  # the judge ignores case too
    # the run: metrics, the per-row table artifact, the tag
    recorded = store.get_run(v1.run_id)
    assert recorded.info.run_name == "prompt-v1" and recorded.info.status == "FINISHED"
    assert recorded.data.metrics["exact_match/mean"] == 1.0
    assert recorded.data.tags["jt.evaluation"] == "true"
    table = json.loads(store.artifact_file(v1.run_id, TABLE_ARTIFACT).read_text())
    assert table["columns"][:6] == ["row", "inputs", "outputs", "expectations", "trace_id", "error"]
    assert len(table["data"]) == 3
    assert table["scorers"]["correct"] == {"kind": "LLM_JUDGE", "higher_is_better": True}
    frame = v1.result_df
    assert list(frame["outputs"]) == ["echo: paris", "echo: oslo", "echo: rome"]
    assert list(frame["correct/value"]) == ["yes", "yes", "yes"]
    assert frame["correct/rationale"][0] == "the response contains 'echo: paris'"
    # every row is a trace of the run, carrying its feedback and expectations
    traces = jt.search_traces(run_id=v1.run_id, return_type="list")
    assert len(traces) == 3
    assert sorted(t.info.trace_id for t in traces) == sorted(frame["trace_id"])
    one = traces[0]
    assert [s.span_type for s in one.data.spans] == ["UNKNOWN", "CHAT_MODEL"]
    kinds = {(a.kind, a.name): a for a in one.info.assessments}
    assert kinds[("feedback", "correct")].source.source_type == "LLM_JUDGE"
    assert kinds[("feedback", "exact_match")].source.source_type == "CODE"
    assert kinds[("expectation", "expected_response")].value.startswith("echo: ")
    assert len(jt.search_traces(filter_string="feedback.exact_match = 'false'")) == 3
    # the judge asked the endpoint with the row in tagged sections
    judged = [body for path, body in server.requests if body.get("model") == "judge-model"]
    assert len(judged) == 6
    assert "<response>\necho: paris\n</response>" in judged[0]["messages"][1]["content"] or any(
        "<response>\necho: paris\n</response>" in b["messages"][1]["content"] for b in judged
    )
    # side by side: every row got worse on exact_match, nothing else changed
    diff = jt.compare_evaluations(v1.run_id, v2)
    assert len(diff) == 3 and diff["worse"].all() and not diff["better"].any()
    assert set(diff["exact_match/change"]) == {"worse"}
    assert set(diff["correct/change"]) == {"same"}
    assert list(diff["outputs_b"].str.startswith("ECHO")) == [True, True, True]


def test_rows_without_predict_fn_and_judges_that_are_callables() -> None:
    calls: list[str] = []

    def model(prompt: str) -> str:
        calls.append(prompt)
        good = "42" in prompt.split("<response>")[1]
        return "```json\n" + json.dumps({"result": good, "rationale": "checked"}) + "\n```"

    result = jt.evaluate(
        [
            {"inputs": {"q": "answer?"}, "outputs": "it is 42"},
            {"inputs": {"q": "answer?"}, "outputs": {"answer": 41}},
        ],
        scorers=[
            jt.judges.make_judge("Is {{ outputs }} right?", model=model, name="right"),
            scorers.JsonValid(),
            scorers.RegexMatch(r"\d+"),
        ],
    )
    assert list(result.result_df["right/value"]) == [True, False]
    assert list(result.result_df["json_valid/value"]) == [False, True]
    assert list(result.result_df["regex_match/value"]) == [True, True]
    assert result.metrics["right/mean"] == 0.5
    assert "<inputs>" in calls[0]  # parts not named in the instructions are appended


def test_failures_are_rows_not_crashes() -> None:
    @jt.trace
    def flaky(x: int) -> int:
        if x == 2:
            raise TimeoutError("upstream timed out")
        return x

    @jt.scorer(name="even")
    def even(outputs: Any) -> bool:
        if outputs is None:
            raise ValueError("no output to score")
        return outputs % 2 == 0

    result = jt.evaluate(
        [{"inputs": {"x": i}} for i in range(4)],
        predict_fn=flaky,
        scorers=[even, scorers.Latency(), scorers.TokenCount(max_tokens=10)],
        max_workers=1,
    )
    frame = result.result_df
    assert list(frame["error"])[2] == "TimeoutError: upstream timed out"
    assert list(frame["even/value"]) == [True, False, None, False]
    assert "no output to score" in frame["even/rationale"][2]
    assert result.metrics["even/mean"] == pytest.approx(1 / 3)
    assert list(frame["token_count/value"]) == [True] * 4  # no model calls: 0 tokens
    assert all(isinstance(v, float) for v in frame["latency/value"])
    # the failed row's trace is an ERROR trace of the run
    errors = jt.search_traces(run_id=result.run_id, filter_string="status = 'ERROR'")
    assert len(errors) == 1
    assert jt.get_run(result.run_id).info.status == "FINISHED"


def test_rows_run_in_a_thread_pool_each_traced_in_the_run() -> None:
    """``max_workers=3``: three rows are inside ``predict_fn`` at once (a barrier that three
    threads must reach together; run one after another, every row would time out), each on a
    worker thread and each a trace linked to the evaluation run; ``max_workers=1`` runs them
    in order on the calling thread."""
    import threading

    barrier = threading.Barrier(3, timeout=20)
    threads: list[str] = []

    def wait_for_the_others(q: str) -> str:
        threads.append(threading.current_thread().name)
        barrier.wait()
        return q.upper()

    data = [{"inputs": {"q": q}} for q in ("a", "b", "c")]
    result = jt.evaluate(data, predict_fn=wait_for_the_others, scorers=[], max_workers=3)
    assert list(result.result_df["error"]) == [None, None, None]
    assert list(result.result_df["outputs"]) == ["A", "B", "C"]
    assert len(set(threads)) == 3 and threading.current_thread().name not in threads
    traced = jt.search_traces(run_id=result.run_id, return_type="list")
    assert sorted(t.info.trace_id for t in traced) == sorted(result.result_df["trace_id"])
    threads.clear()
    order: list[str] = []
    result = jt.evaluate(data, predict_fn=lambda q: order.append(q) or q, scorers=[], max_workers=1)
    assert order == ["a", "b", "c"] and list(result.result_df["error"]) == [None] * 3


def test_inside_an_active_run_it_logs_into_that_run() -> None:
    with jt.start_run(run_name="outer") as run:
        result = jt.evaluate([{"inputs": {"x": 1}}], predict_fn=lambda x: x, scorers=[])
    assert result.run_id == run.info.run_id
    assert jt.get_run(run.info.run_id).data.tags["jt.evaluation"] == "true"


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        ("rows", {}, "data"),
        ([], {}, "no rows"),
        ([1], {}, "row 0"),
        ([{"inputs": {}, "answer": 1}], {}, "unknown field"),
        ([{"inputs": {}, "expectations": "x"}], {}, "expectations must be a dict"),
        ([{"inputs": {}}], {}, "needs outputs"),
        ([{"inputs": {}}], {"predict_fn": 3}, "not callable"),
        ([{"inputs": {}}], {"predict_fn": lambda: 1, "max_workers": 0}, "max_workers"),
        (
            [{"inputs": {}}],
            {"predict_fn": lambda: 1, "scorers": [scorers.Contains("a"), scorers.Contains("b")]},
            "same name",
        ),
        ([{"inputs": {}}], {"predict_fn": lambda: 1, "scorers": [3]}, "not a scorer"),
    ],
)
def test_bad_arguments_name_what_is_wrong(data: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        jt.evaluate(data, **kwargs)
    assert jt.search_runs(filter_string="status = 'RUNNING'").empty


def test_scorer_and_judge_definitions_are_checked() -> None:
    with pytest.raises(InvalidInput, match="not among"):

        @jt.scorer
        def wrong(answer: str) -> bool:
            return True

    with pytest.raises(InvalidInput, match="openai:/"):
        jt.judges.make_judge("Is {{ outputs }} ok?", model="gpt-4o")
    with pytest.raises(InvalidInput, match="instructions"):
        jt.judges.make_judge("", model=lambda p: "{}")
    with pytest.raises(InvalidInput, match="pattern"):
        scorers.RegexMatch("(")


async def test_rest_routes_of_evaluation_runs(jp_fetch: Any, store: SQLiteStore) -> None:
    def evaluate(upper: bool) -> str:
        data = [{"inputs": {"q": w}, "expectations": {"expected_response": w}} for w in "abc"]
        return jt.evaluate(
            data,
            predict_fn=lambda q: q.upper() if upper and q != "c" else q,
            scorers=[scorers.ExactMatch()],
        ).run_id

    a, b = evaluate(False), evaluate(True)
    response = await jp_fetch(*API, "evaluations", a)
    table = json.loads(response.body)
    assert table["run_id"] == a and len(table["data"]) == 3
    assert table["scorers"] == {"exact_match": {"kind": "CODE", "higher_is_better": True}}
    response = await jp_fetch(*API, "evaluations", "compare", params={"run_ids": f"{a},{b}"})
    compared = json.loads(response.body)
    assert compared["summary"] == {"exact_match": {"worse": 2, "better": 0}}
    worse = [r["inputs"] for r in compared["rows"] if r["worse"]]
    assert worse == [{"q": "a"}, {"q": "b"}]
    plain = store.create_run("0", run_name="not-an-evaluation").run_id
    for path, params in (
        (("evaluations", plain), None),
        (("evaluations", "compare"), {"run_ids": f"{a},{plain}"}),
    ):
        answer = await jp_fetch(*API, *path, params=params, raise_error=False)
        assert answer.code == 400
        assert "not an evaluation run" in json.loads(answer.body)["message"]
    missing = await jp_fetch(*API, "evaluations", "nope", raise_error=False)
    assert missing.code == 404
    one = await jp_fetch(*API, "evaluations", "compare", params={"run_ids": a}, raise_error=False)
    assert one.code == 400


# ---------------------------------------------------------------------- user values


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.one_of(
        st.none(),
        st.integers(),
        st.lists(
            st.one_of(
                st.dictionaries(
                    st.sampled_from(["inputs", "expectations", "outputs", "extra"]),
                    st.one_of(
                        st.none(),
                        st.integers(),
                        st.text(max_size=5),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                    ),
                    max_size=3,
                ),
                st.integers(),
            ),
            max_size=4,
        ),
    )
)
def test_any_data_is_evaluated_or_refused_clearly(rows: Any) -> None:
    try:
        result = jt.evaluate(rows, scorers=[scorers.Contains("1")])
    except InvalidInput as exc:
        assert str(exc)
        return
    assert len(result.result_df) == len(rows)


@given(value=st.one_of(st.booleans(), st.integers(), st.floats(), st.text(max_size=8), st.none()))
def test_scores_as_numbers(value: Any) -> None:
    number = as_number(value)
    assert number is None or (isinstance(number, float) and number == number)
    if isinstance(value, bool):
        assert number == float(value)
