"""The run summary's display data (``jupyter_track.summary``) over any user values (hypothesis).

Whatever a user logs (param keys and values, run names, notes, error text, any float), the
display data is valid JSON without NaN (a notebook stores it as JSON), the payload carries the
user's text as it was logged, the changed marks and deltas follow the previous run, and the HTML
has no markup but the summary's own (user text is escaped).
"""

from __future__ import annotations

import html
import json
import math
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_track.store.entities import Run, RunData, RunInfo
from jupyter_track.summary import MAX_PARAMS_SHOWN, MIME_TYPE, RunSummary

TEXT = st.text(max_size=40)
KEYS = st.text(min_size=1, max_size=20)
NUMBERS = st.floats(allow_nan=True, allow_infinity=True)
OWN_TAGS = re.compile(r"</?(div|span|b|code|table|tr|td)( [^<>]*)?>")


def make_run(
    run_id: str,
    name: str | None,
    params: dict[str, str],
    metrics: dict[str, float],
    error: str | None = None,
) -> Run:
    info = RunInfo(
        run_id=run_id,
        experiment_id="0",
        run_name=name,
        status="FAILED" if error else "FINISHED",
        start_time=1_000,
        end_time=1_250,
        lifecycle_stage="active",
        user_id="u",
        artifact_uri="file:///tmp/a",
        error=error,
    )
    return Run(info=info, data=RunData(params=params, metrics=metrics))


@settings(max_examples=150, deadline=None)
@given(
    name=st.none() | TEXT,
    params=st.dictionaries(KEYS, TEXT, max_size=15),
    metrics=st.dictionaries(KEYS, NUMBERS, max_size=6),
    old_params=st.none() | st.dictionaries(KEYS, TEXT, max_size=6),
    old_metrics=st.dictionaries(KEYS, NUMBERS, max_size=6),
    notes=st.lists(TEXT, max_size=3),
    error=st.none() | TEXT,
    experiment=TEXT,
)
def test_display_data_for_any_logged_values(
    name: str | None,
    params: dict[str, str],
    metrics: dict[str, float],
    old_params: dict[str, str] | None,
    old_metrics: dict[str, float],
    notes: list[str],
    error: str | None,
    experiment: str,
) -> None:
    run = make_run("a" * 32, name, params, metrics, error)
    previous = None if old_params is None else make_run("b" * 32, "before", old_params, old_metrics)
    bundle = RunSummary(run, previous, tuple(notes), experiment).mimebundle()
    assert set(bundle) == {MIME_TYPE, "text/html", "text/plain"}
    payload = json.loads(json.dumps(bundle[MIME_TYPE], allow_nan=False))

    assert payload["run"]["name"] == (name or "a" * 8)
    assert payload["run"]["experiment"] == experiment and payload["notes"] == notes
    lines = (error or "").strip().splitlines()
    assert payload["run"]["error"] == (lines[-1] if lines else None)
    shown = sorted(params.items())[:MAX_PARAMS_SHOWN]
    assert [(p["key"], p["value"]) for p in payload["params"]] == shown
    for p in payload["params"]:
        if previous is None:
            assert p["changed"] is False and p["previous"] is None
        else:
            assert p["previous"] == previous.data.params.get(p["key"])
            assert p["changed"] == (previous.data.params.get(p["key"]) != p["value"])
    assert [m["key"] for m in payload["metrics"]] == sorted(metrics)
    before = previous.data.metrics if previous is not None else {}
    for m in payload["metrics"]:
        value, old = metrics[m["key"]], before.get(m["key"])
        expected = None if old is None else value - old
        if expected is None or not math.isfinite(expected):
            assert m["delta"] is None
        else:
            assert m["delta"] == expected
        if math.isfinite(value):
            assert m["value"] == value
        else:
            assert m["value"] in ("NaN", "Infinity", "-Infinity")

    # the HTML: once the summary's own tags are gone, no markup is left, and the user's text
    # reads back from it exactly
    page = bundle["text/html"]
    text_only = OWN_TAGS.sub("", page)
    assert "<" not in text_only and ">" not in text_only
    unescaped = html.unescape(text_only)
    for key, value in shown:
        assert key in unescaped and value in unescaped
    for note in notes:
        assert note in unescaped
    assert isinstance(bundle["text/plain"], str)
