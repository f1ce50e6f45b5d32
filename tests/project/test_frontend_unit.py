"""The TypeScript unit tests (vitest: the sidebar's formatting, columns, rows and state) and
the checks that the TypeScript and Python formatting rules are one rule.

The vitest suite runs here so the one pytest run CI reads covers it (as test_lint.py runs
eslint). The cross-language tests bundle ``src/format.ts`` with esbuild, run it in node over
values hypothesis draws, and compare every text with ``jupyter_track.formatting`` and
``jupyter_track.payloads.filter_field``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_track import formatting
from jupyter_track.payloads import filter_field
from jupyter_track.store.search import parse_filter

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
pytestmark = pytest.mark.skipif(
    not (NODE_MODULES / "vitest").exists() or shutil.which("node") is None,
    reason="node_modules (jlpm install) or node missing",
)


def test_vitest_suite() -> None:
    out = subprocess.run(
        ["node", str(NODE_MODULES / "vitest" / "vitest.mjs"), "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CI": "1", "NO_COLOR": "1"},
    )
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-3000:]
    assert " passed" in out.stdout


RUNNER = """
import * as f from './format.mjs';
const input = JSON.parse(process.argv[2]);
const SPECIAL = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const revive = v => (typeof v === 'string' ? SPECIAL[v] : v);
const out = {
  numbers: input.numbers.map(v => f.formatNumber(revive(v))),
  durations: input.durations.map(v => f.formatDuration(v)),
  times: input.times.map(v => [
    f.formatTime(v), f.formatShortTime(v, input.now), f.formatAge(v, input.now)
  ]),
  keys: input.keys.map(k => f.filterKey('params', k)),
};
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def node_format(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A function that formats a batch of values with src/format.ts in node."""
    folder = tmp_path_factory.mktemp("format")
    esbuild = NODE_MODULES / ".bin" / "esbuild"
    subprocess.run(
        [
            str(esbuild),
            str(ROOT / "src" / "format.ts"),
            "--format=esm",
            f"--outfile={folder / 'format.mjs'}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (folder / "run.mjs").write_text(RUNNER)

    def run(batch: dict[str, Any]) -> dict[str, Any]:
        # argv, not stdin: the batch is small; TZ fixed for both languages
        out = subprocess.run(
            ["node", str(folder / "run.mjs"), json.dumps(batch)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "TZ": "UTC"},
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    return run


def _json_number(value: float) -> Any:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


EDGE_NUMBERS = [
    0.0,
    -0.0,
    1.0625,
    0.5,
    1e-3,
    0.00099995,
    999999.5,
    1e6,
    1e15,
    1e15 + 2.5,
    123456.789,
    5e-324,
    1.7976931348623157e308,
    math.nan,
    math.inf,
    -math.inf,
]
EDGE_DURATIONS = [
    *(0, 0.004, 0.005, 0.07, 0.5, 0.994, 0.995),  # below a millisecond (spans)
    *(999.4, 999.5, 12250, 59949, 59950, 3599999, 3600000, 172_799_999),
]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    numbers=st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.floats(min_value=-1e7, max_value=1e7),
            st.floats(min_value=-1e-2, max_value=1e-2),
            st.integers(min_value=-(2**53), max_value=2**53).map(float),
            st.decimals(min_value=-1000, max_value=1000, places=5, allow_nan=False).map(float),
        ),
        min_size=50,
        max_size=300,
    ),
    durations=st.lists(st.floats(min_value=0, max_value=1e10), min_size=20, max_size=100),
    times=st.lists(st.integers(min_value=0, max_value=4_102_444_800_000), max_size=50),
    keys=st.lists(st.text(min_size=1, max_size=12), max_size=60),
)
def test_typescript_and_python_format_alike(
    node_format: Any,
    numbers: list[float],
    durations: list[float],
    times: list[int],
    keys: list[str],
) -> None:
    numbers = EDGE_NUMBERS + numbers
    durations = EDGE_DURATIONS + durations
    now = 1_768_471_200_000
    os.environ["TZ"] = "UTC"
    import time

    time.tzset()
    js = node_format(
        {
            "numbers": [_json_number(v) for v in numbers],
            "durations": durations,
            "times": times,
            "now": now,
            "keys": keys,
        }
    )
    assert js["numbers"] == [formatting.format_number(v) for v in numbers]
    assert js["durations"] == [formatting.format_duration(v) for v in durations]
    assert js["times"] == [
        [
            formatting.format_time(t),
            formatting.format_short_time(t, now),
            formatting.format_age(t, now),
        ]
        for t in times
    ]
    assert js["keys"] == [filter_field("params", k) for k in keys]


@given(entity=st.sampled_from(["params", "metrics", "tags"]), key=st.text(min_size=1))
def test_every_key_can_be_written_as_a_filter_field(entity: str, key: str) -> None:
    """The one quoting rule: the store's parser reads back exactly the key."""
    tree = parse_filter(f"{filter_field(entity, key)} IS NULL")
    assert (tree.field.entity, tree.field.key) == (entity, key)  # type: ignore[union-attr]
