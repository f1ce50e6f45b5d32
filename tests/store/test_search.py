"""The filter language: parsing, errors with positions, SQL results, and a property test that
compares the SQL against the plain-Python reference evaluation on random runs and filters."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_track.store import FilterSyntaxError
from jupyter_track.store import search as grammar
from jupyter_track.store.interface import Store


def make_runs(store: Store, specs: list[dict[str, Any]], experiment_id: str = "0") -> list[str]:
    ids = []
    for spec in specs:
        info = store.create_run(
            experiment_id,
            run_name=spec.get("name"),
            tags=spec.get("tags"),
            start_time=spec.get("start_time"),
        )
        if spec.get("params"):
            store.log_params(info.run_id, spec["params"])
        if spec.get("metrics"):
            store.log_metrics(info.run_id, [(k, v, 1, 0) for k, v in spec["metrics"].items()])
        if spec.get("status"):
            store.update_run(info.run_id, status=spec["status"])
        ids.append(info.run_id)
    return ids


@pytest.fixture
def runs(store: Store) -> dict[str, str]:
    ids = make_runs(
        store,
        [
            {
                "name": "a",
                "params": {"lr": "0.01", "opt": "adam"},
                "metrics": {"acc": 0.95},
                "tags": {"team": "x"},
                "status": "FINISHED",
                "start_time": 1000,
            },
            {
                "name": "b",
                "params": {"lr": "0.1", "opt": "sgd"},
                "metrics": {"acc": 0.80},
                "tags": {"team": "y"},
                "status": "FAILED",
                "start_time": 2000,
            },
            {
                "name": "c",
                "params": {"lr": "1e-3"},
                "metrics": {"acc": math.nan, "loss": 2.0},
                "tags": {"team": "x", "my key": "v"},
                "start_time": 3000,
            },
        ],
    )
    return dict(zip("abc", ids))


def names(store: Store, text: str, order_by: list[str] | None = None) -> list[str]:
    return [r.info.run_name for r in store.search_runs(None, text, order_by=order_by).runs]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["c", "b", "a"]),
        ("metrics.acc > 0.9", ["a"]),
        (
            "metrics.acc > 0.9 and params.lr = '0.01' and tags.team = 'x' "
            "and attributes.status = 'FINISHED'",
            ["a"],
        ),
        ("metrics.acc != 0.95", ["c", "b"]),  # NaN is a value: != is true for it
        ("metrics.acc <= 0.8", ["b"]),
        ("params.opt LIKE 'a%'", ["a"]),
        ("params.opt LIKE 'A%'", []),
        ("params.opt ILIKE 'A%'", ["a"]),
        ("params.opt IN ('adam', 'sgd')", ["b", "a"]),
        ("params.opt NOT IN ('adam')", ["b"]),
        ("params.opt IS NULL", ["c"]),
        ("metrics.loss IS NOT NULL", ["c"]),
        ("params.lr > 0.005", ["b", "a"]),  # numeric literal: numeric comparison
        ("params.lr < '0.1'", ["a"]),  # string literal: text comparison ('1e-3' > '0.1')
        ("tags.`my key` = 'v'", ["c"]),
        ('tags."my key" = "v"', ["c"]),
        ("metrics.acc > 0.9 OR tags.team = 'y'", ["b", "a"]),
        ("NOT (metrics.acc > 0.9 OR tags.team = 'y')", ["c"]),
        ("(params.opt = 'adam' or params.opt = 'sgd') and not status = 'FAILED'", ["a"]),
        ("run_name = 'b'", ["b"]),
        ("attributes.start_time >= 2000", ["c", "b"]),
        ("status != 'RUNNING'", ["b", "a"]),
    ],
)
def test_filters(store: Store, runs: dict[str, str], text: str, expected: list[str]) -> None:
    assert names(store, text) == expected


def test_order_by_and_pagination(store: Store, runs: dict[str, str]) -> None:
    assert names(store, "", ["metrics.acc DESC"]) == ["a", "b", "c"]  # NaN/missing last
    assert names(store, "", ["metrics.acc ASC"]) == ["b", "a", "c"]
    assert names(store, "", ["params.lr"]) == ["c", "a", "b"]  # numeric order: 1e-3 < 0.01
    assert names(store, "", ["attributes.run_name DESC"]) == ["c", "b", "a"]
    page1 = store.search_runs(None, "", max_results=2, order_by=["run_name"], with_total=True)
    assert [r.info.run_name for r in page1.runs] == ["a", "b"] and page1.total == 3
    page2 = store.search_runs(
        None, "", max_results=2, order_by=["run_name"], page_token=page1.next_page_token
    )
    assert [r.info.run_name for r in page2.runs] == ["c"] and page2.next_page_token is None
    assert [
        r.info.run_name
        for r in store.search_runs(None, "", offset=1, max_results=1, order_by=["run_name"]).runs
    ] == ["b"]


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("metrics.acc >", 13, "a quoted string or a number"),
        ("metrics.acc > 1 and", 19, "a field"),
        ("metrics.acc > 1 foo", 16, "AND, OR or the end"),
        ("foo = 1", 0, "an attribute"),
        ("params.lr = 'x' and (metrics.a > 1", 34, "')'"),
        ("metrics.acc ~ 1", 12, "a name, a quoted string"),
        ("metrics.acc = 'high'", 0, "a number to compare metric"),
        ("params.x IN 'a'", 12, "'('"),
        ("params.x IS 1", 12, "NULL"),
        ("metrics. > 1", 9, "a key after 'metrics.'"),
    ],
)
def test_errors_name_the_position_and_what_was_expected(
    text: str, position: int, expected: str
) -> None:
    with pytest.raises(FilterSyntaxError) as err:
        grammar.parse_filter(text)
    assert err.value.position == position
    assert expected in err.value.expected
    assert f"position {position}" in str(err.value)
    assert isinstance(err.value, ValueError)


def test_user_values_are_parameters_never_sql(store: Store, runs: dict[str, str]) -> None:
    compiled = grammar.compile_filter(
        grammar.parse_filter(
            "params.opt = 'x'' OR 1=1 --' and tags.`a'; DROP TABLE runs; --` = 'y'"
        ),
        store.db.dialect,
    )
    assert "DROP" not in compiled.sql and "1=1" not in compiled.sql
    assert "x' OR 1=1 --" in compiled.params
    assert names(store, "params.opt = 'adam'' OR 1=1 --'") == []
    assert len(names(store, "")) == 3  # the table is still there


def test_search_uses_indexes(store: Store, runs: dict[str, str]) -> None:
    tree = grammar.parse_filter("metrics.acc > 0.9 and params.lr = '0.01'")
    compiled = grammar.compile_filter(tree, store.db.dialect)
    query = f"SELECT r.id FROM runs r WHERE {compiled.sql}"
    if store.engine == "sqlite":
        plan = store.db.conn().execute(f"EXPLAIN QUERY PLAN {query}", compiled.params).fetchall()
        detail = " ".join(row[-1] for row in plan)
        assert "metric_summaries_by_last" in detail
        assert "params_by_value" in detail or "sqlite_autoindex_params" in detail
    else:
        with store.db.read() as conn:  # a tiny table: tell the planner to use what it can
            conn.execute("SET LOCAL enable_seqscan = off")
            plan = conn.execute(f"EXPLAIN {query}", compiled.params).fetchall()
        detail = " ".join(row[0] for row in plan)
        assert "metric_summaries_by_last" in detail
        assert "params_by_value" in detail or "params_pkey" in detail


# ----------------------------------------------------------------------- property test

KEYS = ["a", "b", "c"]
TEXTS = ["x", "y", "X", "ab", "a_b", "1", "2.5", "10", "-3", ""]
NUMBERS = [-1.0, 0.0, 0.5, 1.0, 2.5, 10.0, math.inf, -math.inf, math.nan]
STATUSES = ["RUNNING", "FINISHED", "FAILED"]

run_strategy = st.fixed_dictionaries(
    {
        "metrics": st.dictionaries(st.sampled_from(KEYS), st.sampled_from(NUMBERS), max_size=3),
        "params": st.dictionaries(st.sampled_from(KEYS), st.sampled_from(TEXTS), max_size=3),
        "tags": st.dictionaries(st.sampled_from(KEYS), st.sampled_from(TEXTS), max_size=3),
        "status": st.sampled_from(STATUSES),
        "name": st.sampled_from(["r1", "r2", "R1", "x_y"]),
    }
)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _number(value: float) -> str:
    return repr(value) if value == int(value) else str(value)


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    entity = draw(st.sampled_from(["metrics", "params", "tags", "attributes"]))
    if entity == "attributes":
        column = draw(st.sampled_from(["status", "run_name"]))
        op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"]))
        values = STATUSES if column == "status" else ["r1", "R1", "r%", "x\\_y", "%1"]
        if op in ("IN", "NOT IN"):
            items = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3))
            return f"attributes.{column} {op} ({', '.join(_quote(v) for v in items)})"
        return f"attributes.{column} {op} {_quote(draw(st.sampled_from(values)))}"
    key = draw(st.sampled_from(KEYS))
    field = f"{entity}.{key}"
    if draw(st.integers(0, 9)) == 0:
        return f"{field} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"
    finite = [n for n in NUMBERS if math.isfinite(n)]
    if entity == "metrics":
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN"]))
        if op in ("IN", "NOT IN"):
            items = draw(st.lists(st.sampled_from(finite), min_size=1, max_size=3))
            return f"{field} {op} ({', '.join(_number(v) for v in items)})"
        return f"{field} {op} {_number(draw(st.sampled_from(finite)))}"
    op = draw(st.sampled_from(["=", "!=", "<", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "NOT LIKE"]))
    if op in ("IN", "NOT IN"):
        items = draw(st.lists(st.sampled_from(TEXTS), min_size=1, max_size=3))
        return f"{field} {op} ({', '.join(_quote(v) for v in items)})"
    if op in ("LIKE", "ILIKE", "NOT LIKE"):
        pattern = draw(st.sampled_from(["x%", "%b", "_", "a_b", "%", "X", "1%"]))
        return f"{field} {op} {_quote(pattern)}"
    if draw(st.booleans()):
        return f"{field} {op} {_number(draw(st.sampled_from(finite)))}"
    return f"{field} {op} {_quote(draw(st.sampled_from(TEXTS)))}"


filters = st.recursive(
    comparisons(),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["AND", "OR", "and", "or"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        inner.map(lambda f: f"NOT {f}"),
    ),
    max_leaves=6,
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(run_strategy, min_size=1, max_size=8), text=filters)
def test_sql_matches_python_reference(store: Store, specs: list[dict[str, Any]], text: str) -> None:
    experiment = store.create_experiment(uuid.uuid4().hex)  # a fresh scope per example
    ids = make_runs(store, specs, experiment)
    tree = grammar.parse_filter(text)
    expected = set()
    for run_id, spec in zip(ids, specs):
        record = {
            "metrics": spec["metrics"],
            "params": spec["params"],
            "tags": spec["tags"],
            "attributes": {"status": spec["status"], "run_name": spec["name"]},
        }
        if grammar.evaluate(tree, record):
            expected.add(run_id)
    got = {r.info.run_id for r in store.search_runs([experiment], text, max_results=100).runs}
    assert got == expected, text


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(run_strategy, min_size=1, max_size=12),
    order=st.sampled_from(
        [
            ["metrics.a DESC"],
            ["metrics.a"],
            ["metrics.b DESC", "run_name"],
            ["run_name DESC"],
            ["params.a"],
            [],
        ]
    ),
    text=st.one_of(st.just(""), filters),
    page=st.integers(1, 4),
)
def test_pages_concatenate_to_the_full_ordered_result(
    store: Store,
    specs: list[dict[str, Any]],
    order: list[str],
    text: str,
    page: int,
) -> None:
    scope = [store.create_experiment(uuid.uuid4().hex)]  # a fresh scope per example
    make_runs(store, [{**s, "start_time": 1000 + i % 3} for i, s in enumerate(specs)], scope[0])
    full = store.search_runs(scope, text, order_by=order, max_results=1000).runs
    paged, token = [], None
    while True:
        result = store.search_runs(scope, text, order_by=order, max_results=page, page_token=token)
        paged.extend(result.runs)
        token = result.next_page_token
        if token is None:
            break
    assert [r.info.run_id for r in paged] == [r.info.run_id for r in full]
    offset = [
        r.info.run_id
        for r in store.search_runs(scope, text, order_by=order, max_results=page, offset=1).runs
    ]
    assert offset == [r.info.run_id for r in full[1 : 1 + page]]
    # both plans give the same pages: the index walk (no time limit) and the set-based plan
    # (no fast path, or a fast path interrupted at once)
    for budget in (0, 1e-9, 60):
        store.FAST_PATH_SECONDS = budget
        again = store.search_runs(scope, text, order_by=order, max_results=page, offset=1).runs
        assert [r.info.run_id for r in again] == offset, budget
    del store.FAST_PATH_SECONDS  # the store serves the next example
    if order and order[0].startswith("metrics."):
        key, _, direction = order[0][len("metrics.") :].partition(" ")
        values = [r.data.metrics.get(key, math.nan) for r in full]
        present = [v for v in values if not math.isnan(v)]
        assert values[: len(present)] == present  # missing and NaN last
        assert present == sorted(present, reverse=direction == "DESC")


def test_dataset_fields_find_recorded_inputs(store: Store) -> None:
    """MLflow's ``dataset.name`` / ``dataset.digest`` / ``dataset.context`` read the inputs a run
    recorded (``jt.input.<name>.*`` tags), on every engine."""
    a, b = make_runs(store, [{"name": "a"}, {"name": "b"}])
    store.set_tags(a, {"jt.input.train.digest": "d1", "jt.input.train.context": "training"})
    store.set_tags(b, {"jt.input.eval set.digest": "d2", "jt.input.eval set.context": "eval"})

    def found(text: str) -> set[str]:
        return {r.info.run_id for r in store.search_runs(["0"], text).runs}

    assert found("dataset.name = 'train'") == {a}
    assert found("dataset.name = 'eval set'") == {b}
    assert found("datasets.digest IN ('d1', 'd2')") == {a, b}
    assert found("dataset.context = 'eval' OR dataset.name LIKE 'tr%'") == {a, b}
    assert found("dataset.name = 'digest'") == set()
    with pytest.raises(FilterSyntaxError, match=r"datasets\.name, datasets\.digest"):
        store.search_runs(["0"], "dataset.size = 3")
