"""Nothing logged is lost to a bad value (issue 8, section 1).

Contract: every metric input is validated on the caller's thread and refused with a
``ValueError`` naming the key and the reason; a value that passes is stored exactly; a row the
store still refuses at write time is left out alone (the rest of its batch is written), reported
once, and the run still ends FINISHED without ``end_run`` raising an earlier call's error.
"""

from __future__ import annotations

import decimal
import fractions
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import jupyter_track as jt
from jupyter_track.store import InvalidInput
from jupyter_track.store.validation import check_key, metric_step, metric_value
from jupyter_track.tracking import fluent
from jupyter_track.tracking.client import TrackClient

INT64 = 2**63


class _BadFloat:
    """An object whose ``__float__`` raises something other than TypeError/ValueError."""

    def __float__(self) -> float:
        raise RuntimeError("no float for you")

    def __repr__(self) -> str:
        return "<BadFloat>"


keys = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["loss", "a\ud800b", "\udfff", "x" * 250, "x" * 251, " ", "a\x00b", "é"]),
    st.integers(),
    st.none(),
    st.lists(st.integers(), max_size=2),  # unhashable
)
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.sampled_from([10**400, -(10**400), 2**1024, True, 1j, "1.0", b"1", None, _BadFloat()]),
    st.decimals(allow_nan=True),
    st.fractions(),
)
steps = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([INT64 - 1, INT64, -INT64, -INT64 - 1, math.inf, -math.inf, math.nan, 2.5]),
    st.floats(),
    st.sampled_from(["3", None, 3.0, decimal.Decimal(4), fractions.Fraction(9, 2)]),
)
timestamps = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.sampled_from([1e300, INT64, INT64 - 1, math.nan, "now"]),
)


def _expected_value(value: Any) -> float:
    return float(value)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(key=keys, value=values, step=steps, timestamp=timestamps)
def test_log_metric_stores_a_value_exactly_or_refuses_it_naming_the_key(
    key: Any, value: Any, step: Any, timestamp: Any
) -> None:
    assume(key != "good")
    run = jt.start_run()
    jt.log_metric("good", 1.0, step=1)
    try:
        jt.log_metric(key, value, step=step, timestamp=timestamp)
    except ValueError as exc:
        accepted = False
        message = str(exc)
        assert message.startswith("metric "), message
        if isinstance(key, str) and len(key) <= 250 and key.strip():
            assert repr(key) in message, message
    else:
        accepted = True
    jt.end_run()  # never raises an earlier call's error
    got = jt.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.metrics["good"] == 1.0
    if accepted:
        (point,) = jt.get_metric_history(run.info.run_id, key)
        assert _same(point.value, _expected_value(value))
        assert point.step == (0 if step is None else int(step))
        if timestamp is not None:
            assert point.timestamp == int(timestamp)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    entries=st.dictionaries(
        st.one_of(st.text(max_size=12), st.sampled_from(["k\ud800", "", "x" * 300])),
        values,
        max_size=8,
    ),
    step=steps,
)
def test_log_metrics_keeps_every_valid_entry_and_names_each_bad_one(
    entries: dict[str, Any], step: Any
) -> None:
    run = jt.start_run()
    try:
        jt.log_metrics(entries, step=step)
    except ValueError as exc:
        message = str(exc)
    else:
        message = None
    jt.end_run()
    stored = jt.get_run(run.info.run_id).data.metrics
    refused = set()
    for key, value in entries.items():
        try:
            check_key(key, "metric")
            metric_value(key, value)
            metric_step(key, step)
        except InvalidInput:
            refused.add(key)
            assert message is not None and repr(key[:40])[:-1] in message
        else:
            assert _same(stored[key], float(value)), key
    assert set(stored) == set(entries) - refused
    assert (message is None) == (not refused)
    assert jt.get_run(run.info.run_id).info.status == "FINISHED"


# ------------------------------------------------------------------ write-time isolation

# Rows the caller-thread checks would refuse, put straight into the writer's buffer: they stand
# for any value the store refuses at write time that no check foresaw.
BAD_ROWS = {
    "step beyond 64 bits": lambda pk: (pk, "bad_step", 2**63, 0, 1.0),
    "lone surrogate key": lambda pk: (pk, "bad\ud800", 0, 0, 1.0),
    "timestamp beyond 64 bits": lambda pk: (pk, "bad_ts", 0, 10**30, 1.0),
    "short row": lambda pk: (pk, "bad_short", 0, 0),
}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    layout=st.lists(
        st.one_of(st.just("good"), st.sampled_from(sorted(BAD_ROWS))), min_size=1, max_size=40
    )
)
def test_a_row_refused_at_write_time_costs_only_itself(layout: list[str]) -> None:
    run = jt.start_run()
    writer = fluent.session.current().writer
    pk = run._pk
    good = []
    for i, kind in enumerate(layout):
        if kind == "good":
            row = (pk, "good", i, 1000 + i, float(i))
            good.append(row)
        else:
            row = BAD_ROWS[kind](pk)
        writer.append_metric(row)
    dropped_before = writer.dropped
    jt.end_run()  # the run-end flush meets the bad rows: never raised here
    got = jt.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    history = jt.get_metric_history(run.info.run_id, "good")
    assert [(m.step, m.timestamp, m.value) for m in history] == [(r[2], r[3], r[4]) for r in good]
    assert writer.dropped - dropped_before == len(layout) - len(good)
    store = fluent.session.current().store
    pk_rows = store.db.conn().execute(
        "SELECT count(*) FROM metrics WHERE run = ? AND key != 'good'",
        (store.run_pk(run.info.run_id),),  # the buffer's handle is opaque: ask the store
    )
    assert pk_rows.fetchone()[0] == 0


def test_a_refused_row_is_reported_once_with_its_key_and_reason(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with jt.start_run() as run:
        writer = fluent.session.current().writer
        for _ in range(2):  # two flushes meet the same problem: one report
            jt.log_metric("a", 1.0)
            writer.append_metric((run._pk, "b", 2**63, 0, 1.0))
            jt.flush()
    err = capfd.readouterr().err
    assert err.count("could not be stored") == 1, err
    assert "metric 'b'" in err and "OverflowError" in err and "the rest of the batch" in err
    got = jt.get_run(run.info.run_id)
    assert got.info.status == "FINISHED" and got.summaries["a"].count == 2


def test_the_issue_example_keeps_the_good_point() -> None:
    with jt.start_run() as run:
        jt.log_metric("a", 1.0)
        with pytest.raises(ValueError, match=r"metric 'b': step 9223372036854775808 is out of"):
            jt.log_metric("b", 1.0, step=2**63)
    got = jt.get_run(run.info.run_id)
    assert got.info.status == "FINISHED" and got.data.metrics == {"a": 1.0}


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: jt.log_metric("t", 1.0, timestamp=1e300), "timestamp 1e+300 is out of range"),
        (lambda: jt.log_metric("t", 1.0, step=math.inf), "step inf is not a finite integer"),
        (lambda: jt.log_metric("t", 10**400), "too large for a float"),
        (lambda: jt.log_metric("t\ud800", 1.0), "lone surrogate"),
        (lambda: jt.log_metric("t", _BadFloat()), "<BadFloat> is not a number"),
        (lambda: jt.log_metric(["t"], 1.0), "must be a string"),
        (lambda: jt.log_metrics({"ok": 1.0, "t": 10**400}), "metric 't': value"),
        (lambda: jt.log_metrics({"ok": 1.0, "t": 1.0}, step=2**64), "metric 't': step"),
        (lambda: jt.log_metrics({"ok": 1.0, "t": 1.0}, timestamp=1e300), "metric 't': timestamp"),
        (lambda: jt.log_param("p", "v\udc80"), "param 'p': value contains a lone surrogate"),
        (lambda: jt.set_tag("t\ud800", "v"), "tag key"),
    ],
)
def test_each_member_of_the_class_raises_value_error_naming_the_key(call: Any, reason: str) -> None:
    with jt.start_run() as run:
        jt.log_metric("kept", 2.0)
        with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace("+", r"\+")):
            call()
    got = jt.get_run(run.info.run_id)
    assert got.info.status == "FINISHED" and got.data.metrics["kept"] == 2.0


@settings(max_examples=100, deadline=None)
@given(key=keys, value=values, step=steps, timestamp=timestamps)
def test_the_client_log_metric_stores_or_refuses_naming_the_key(
    tmp_path_factory: pytest.TempPathFactory, key: Any, value: Any, step: Any, timestamp: Any
) -> None:
    client = TrackClient(tracking_uri=str(tmp_path_factory.mktemp("c") / "t.db"))
    exp = client.create_experiment("e")
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "good", 1.0)
    try:
        client.log_metric(run.info.run_id, key, value, timestamp=timestamp, step=step)
    except ValueError as exc:
        assert str(exc).startswith("metric "), exc
    else:
        (point,) = client.get_metric_history(run.info.run_id, key)
        assert _same(point.value, float(value))
    client.set_terminated(run.info.run_id)
    got = client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED" and got.data.metrics["good"] == 1.0


# ------------------------------------------------------------- params, tags, names, text

texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["\ud800", "ok\udfff", "x" * 251, "y" * 6001, "", " ", "a\x00b"]),
    st.integers(),
    st.floats(allow_nan=True),
    st.none(),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(key=texts, value=texts, name=texts)
def test_params_tags_and_names_are_stored_exactly_or_refused_naming_the_field(
    key: Any, value: Any, name: Any
) -> None:
    try:
        run = jt.start_run(run_name=name)
    except ValueError as exc:
        assert "run_name" in str(exc), exc
        run = jt.start_run()
    else:
        if name:
            assert run.info.run_name == name
    for call, field in ((jt.log_param, "param"), (jt.set_tag, "tag")):
        try:
            call(key, value)
        except ValueError as exc:
            assert str(exc).startswith(field), exc
        else:
            got = jt.get_run(run.info.run_id).data
            stored = got.params if field == "param" else got.tags
            assert stored[key] == str(value)
    try:
        jt.log_text(value if isinstance(value, str) else str(value), "notes/t.txt")
    except ValueError as exc:
        assert "notes/t.txt" in str(exc), exc
    jt.end_run()
    assert jt.get_run(run.info.run_id).info.status == "FINISHED"
