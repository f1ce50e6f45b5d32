"""The shortcuts on the run bookkeeping path give exactly what the general code gives.

Each fast path (a param's numeric reading, a param or tag value's text, an artifact URI, a new
run inserted already ended) is compared with the plain computation it short-cuts, on random
input for the parsers.
"""

from __future__ import annotations

import math
import sqlite3
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jupyter_track as jt
from jupyter_track.store import InvalidInput, SQLiteStore
from jupyter_track.store.runs import NewRun
from jupyter_track.store.search import param_number
from jupyter_track.store.validation import (
    check_key,
    numbered,
    text_problem,
    text_rows,
    text_value,
)
from jupyter_track.tracking import fluent


def _reference_number(text: str) -> float | None:
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


number_like = st.one_of(
    st.text(),
    st.text(alphabet="0123456789+-._eEinfINFatyAT \t\u00a0\u0663\uff11", max_size=12),
    st.floats(allow_nan=True).map(repr),
    st.integers().map(str),
)


@settings(max_examples=2000, deadline=None)
@given(number_like)
def test_param_number_is_floats_reading(text: str) -> None:
    got, want = param_number(text), _reference_number(text)
    assert got == want or (got is not None and want is not None and got != got and want != want)


def _reference_text(key: str, value: object, limit: int) -> str | Exception:
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception as exc:
        return exc
    if len(text) > limit:
        return InvalidInput("long")
    if text_problem(text):
        return InvalidInput("problem")
    return text


@settings(max_examples=1000, deadline=None)
@given(
    st.one_of(st.text(), st.integers(), st.floats(), st.text(alphabet="ab\x00é\ud800", max_size=8)),
    st.integers(min_value=0, max_value=10),
)
def test_text_value_keeps_or_refuses_as_the_general_path(value: object, limit: int) -> None:
    want = _reference_text("k", value, limit)
    if isinstance(want, Exception):
        with pytest.raises(InvalidInput):
            text_value("k", value, "param", limit)
    else:
        assert text_value("k", value, "param", limit) == want


@settings(max_examples=1000, deadline=None)
@given(st.lists(number_like.map(lambda t: ("k", t)), max_size=6))
def test_numbered_rows_read_numbers_as_param_number(rows: list[tuple[str, str]]) -> None:
    assert numbered(rows) == [(k, t, param_number(t)) for k, t in rows]  # never NaN: None


def _one_by_one(
    pairs: list[tuple[object, object]], limit: int
) -> tuple[list[tuple[str, str]], list[str]]:
    rows, bad = [], []
    for key, value in pairs:
        try:
            rows.append((check_key(key, "tag"), text_value(key, value, "tag", limit)))  # type: ignore[arg-type]
        except InvalidInput as exc:
            bad.append(str(exc))
    return rows, bad


keys = st.one_of(
    st.sampled_from(["lr", "jt.user", "a b", "", " ", "x" * 300, "k\x01", "é", 7, None]),
    st.text(max_size=8),
)
values = st.one_of(
    st.text(max_size=12), st.integers(), st.floats(), st.text(alphabet="ab\x00é\ud800", max_size=6)
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.tuples(keys, values), max_size=8), st.integers(min_value=0, max_value=10))
def test_text_rows_checks_each_pair_as_check_key_and_text_value(
    pairs: list[tuple[object, object]], limit: int
) -> None:
    """The batch keeps, refuses and names exactly what the calls one pair at a time do (the
    fast path skips calls, never checks)."""
    want_rows, want_errors = _one_by_one(pairs, limit)
    errors: list[InvalidInput] = []
    assert text_rows(pairs, "tag", limit, errors) == want_rows
    assert [str(e) for e in errors] == want_errors
    if want_errors:  # without an error list, the first bad pair raises its message
        with pytest.raises(InvalidInput) as info:
            text_rows(pairs, "tag", limit)
        assert str(info.value) == want_errors[0]
    else:
        assert text_rows(pairs, "tag", limit) == want_rows


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
    st.sampled_from(["/tmp/a b", "/tmp/ü/%20", "/", "/tmp/x/"]),
)
def test_artifact_uri_is_pathlibs(run_id: str, root: str) -> None:
    store = SQLiteStore("/tmp/never-opened.db", artifact_root=root)
    try:
        want = store.artifact_dir(run_id).as_uri()
    except InvalidInput:
        with pytest.raises(InvalidInput):
            store.artifact_uri_for(run_id)
        return
    assert store.artifact_uri_for(run_id) == want
    assert store.artifact_uri_for(run_id) == want  # cached root


def test_an_ended_run_is_inserted_ended_with_its_error_stored_as_update_run_stores_it(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "t.db")
    parent = store.create_run("0")
    record = NewRun(
        run_id=uuid.uuid4().hex,
        experiment_id="0",
        run_name="ended",
        start_time=1000,
        tags={"mlflow.parentRunId": "a stale value", "team": "x"},
        parent_run_id=parent.run_id,
        params={"lr": "0.1"},
        end=("FAILED", 2000, "Traceback: bad \ud800 text"),
    )
    store.write_run(record, [("loss", 0, 1500, 0.5)])
    got = store.get_run(record.run_id)
    assert (got.info.status, got.info.start_time, got.info.end_time) == ("FAILED", 1000, 2000)
    assert got.info.parent_run_id == parent.run_id
    assert got.data.tags["mlflow.parentRunId"] == parent.run_id  # one row, the real parent
    assert got.data.params == {"lr": "0.1"} and got.data.metrics == {"loss": 0.5}
    error = (
        sqlite3.connect(tmp_path / "t.db")
        .execute("SELECT error FROM runs WHERE run_id = ?", (record.run_id,))
        .fetchone()[0]
    )
    assert error.startswith("Traceback: bad ") and "\ud800" not in error
    with pytest.raises(InvalidInput, match="status 'DONE'"):
        store.write_run(
            NewRun(
                run_id=uuid.uuid4().hex,
                experiment_id="0",
                run_name="x",
                start_time=1,
                end=("DONE", 2, None),
            )
        )
    assert len(store.search_runs(["0"]).runs) == 2  # the refused run left nothing


def test_fluent_names_are_kept_on_the_module_after_first_use() -> None:
    assert jt.log_metric is fluent.log_metric
    assert "log_metric" in vars(jt)  # the next access is a plain attribute read
    assert jt.start_run is fluent.start_run


def test_a_lazy_module_imports_on_first_use_and_takes_its_place() -> None:
    import importlib

    from jupyter_track.lazy import lazy_module

    namespace: dict[str, object] = {}
    namespace["mod"] = lazy_module(namespace, "mod", "json")
    assert "imported on first use" in repr(namespace["mod"])
    assert namespace["mod"].dumps([1]) == "[1]"  # type: ignore[attr-defined]
    assert namespace["mod"] is importlib.import_module("json")
