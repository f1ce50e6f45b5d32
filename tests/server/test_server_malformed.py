"""Every malformed request is a 4xx naming the field, never a 500 (issue 8, section 2).

Classes: integers out of range (filters, experiment ids, page tokens, version numbers, JSON
bodies), deeply nested filters and JSON bodies, lone surrogates (JSON escapes and invalid UTF-8
in query strings and paths), bodies and names over the documented limits, symbolic links in a
run's artifacts that lead outside or loop, and a PATCH whose answer cannot be built (nothing is
committed).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tornado.httpclient import HTTPRequest

from jupyter_track.server.base import MAX_BODY_BYTES, MAX_JSON_DEPTH, check_json
from jupyter_track.server.errors import ApiError
from jupyter_track.store import FilterSyntaxError, InvalidInput, NotFound, SQLiteStore
from jupyter_track.store.validation import MAX_FILTER_DEPTH, MAX_FILTER_TERMS, MAX_NAME_LENGTH

API = "jupyter-track/api/"
BIG = "9" * 30
SURROGATE = "%ED%A0%80"  # the UTF-8-style bytes of U+D800: not valid UTF-8


@pytest.fixture
def raw(jp_fetch: Any, http_server_client: Any, jp_auth_header: dict[str, str], jp_base_url: str):
    """Send a request whose path and query are used exactly as written (already escaped)."""

    async def send(method: str, target: str, body: bytes | None = None) -> tuple[int, Any]:
        request = HTTPRequest(
            http_server_client.get_url(jp_base_url + API + target),
            method=method,
            headers={**jp_auth_header, "Content-Type": "application/json"},
            body=body
            if body is not None
            else (b"{}" if method in ("POST", "PATCH", "PUT") else None),
            allow_nonstandard_methods=True,
            request_timeout=60,
        )
        response = await super(type(http_server_client), http_server_client).fetch(
            request, raise_error=False
        )
        try:
            payload = json.loads(response.body)
        except ValueError:
            payload = response.body[:200]
        return response.code, payload

    return send


@pytest.fixture
def seeded(track_db: Path) -> dict[str, str]:
    import jupyter_track as jt

    class Model:
        def predict(self, data):  # type: ignore[no-untyped-def]
            return data

    with jt.start_run(run_name="seed") as run:
        jt.log_metric("loss", 0.5)
        jt.log_model(Model(), name="model", registered_model_name="demo")
    return {"run": run.info.run_id}


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


MALFORMED = [
    # (method, target, body, status, words the message must contain)
    ("GET", f"runs?experiment_ids={BIG}", None, 400, "experiment_ids"),
    ("GET", f"runs?experiment_ids=-{BIG}", None, 400, "experiment_ids"),
    ("GET", f"keys?experiment_ids={BIG}", None, 400, "experiment_ids"),
    ("GET", f"runs?page_token={_token(10**30)}", None, 400, "page_token"),
    ("GET", "runs?filter=" + "(" * 500 + "metrics.a>1" + ")" * 500, None, 400, "nested"),
    ("GET", "runs?filter=" + "NOT%20" * 2000 + "metrics.a>1", None, 400, "nested"),
    ("GET", "runs?filter=" + "%20AND%20".join(["metrics.a>1"] * 300), None, 400, "comparisons"),
    ("GET", "runs?filter=" + "metrics.a>1%20" * 2000, None, 400, "filter"),
    ("GET", f"runs?filter=params.a%3D%27{SURROGATE}%27", None, 400, "filter"),
    ("GET", f"runs?order_by=metrics.{SURROGATE}", None, 400, "order_by"),
    ("GET", f"registry/models/demo/versions/{BIG}", None, 400, "version"),
    (
        "GET",
        "registry/models?filter=" + "name%3D%27x%27%20AND%20" * 300 + "name%3D%27y%27",
        None,
        400,
        "filter",
    ),
    ("GET", f"registry/models?filter=tags.x%3D%27{SURROGATE}%27", None, 400, "filter"),
    ("GET", f"cells/{SURROGATE}/runs", None, 400, "cell_id"),
    ("GET", "metrics/history?run_ids=RUN&keys=" + SURROGATE, None, 400, "keys"),
    ("GET", "charts/learning-curves?run_ids=RUN&key=" + SURROGATE, None, 400, "key"),
    ("PATCH", "runs/RUN", b'{"run_name": "\\ud800"}', 400, "run_name"),
    ("PATCH", "runs/RUN", b'{"tags": {"k": "\\udfff"}}', 400, "tags.k"),
    (
        "PATCH",
        "runs/RUN",
        b'{"run_name": "' + b"x" * (MAX_NAME_LENGTH + 1) + b'"}',
        400,
        "run_name",
    ),
    ("PATCH", "runs/RUN", b'{"run_name": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}', 413, "body"),
    ("PATCH", "runs/RUN", b"[" * 100_000 + b"]" * 100_000, 400, "nested"),
    (
        "PATCH",
        "runs/RUN",
        b'{"tags": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}",
        400,
        "nested",
    ),
    ("PATCH", "runs/RUN", b'{"tags": ' + b'{"a":' * 40 + b"1" + b"}" * 40 + b"}", 400, "nested"),
    ("PATCH", "runs/RUN", b"\xff\xfe", 400, "JSON"),
    ("POST", "registry/models", b'{"name": "\\ud800"}', 400, "name"),
    ("POST", "registry/models", json.dumps({"name": "m" * 300}).encode(), 400, "model name"),
    (
        "PUT",
        "registry/models/demo/aliases/a",
        json.dumps({"version": 2**70}).encode(),
        400,
        "version",
    ),
    (
        "PUT",
        "registry/models/demo/aliases/a",
        json.dumps({"version": 1, "expected_version": 2**70}).encode(),
        400,
        "version",
    ),
    ("PATCH", "registry/models/demo/versions/1", b'{"description": "\\ud800"}', 400, "description"),
]


@pytest.mark.parametrize(("method", "target", "body", "status", "words"), MALFORMED)
async def test_malformed_requests_get_a_4xx_naming_the_field(
    raw: Any,
    seeded: dict[str, str],
    method: str,
    target: str,
    body: bytes | None,
    status: int,
    words: str,
) -> None:
    code, payload = await raw(method, target.replace("RUN", seeded["run"]), body)
    assert code == status, (code, payload)
    assert isinstance(payload, dict) and payload["status"] == code, payload
    assert set(payload) >= {"status", "error", "message"}
    assert words.lower() in payload["message"].lower(), payload["message"]


async def test_integers_beyond_64_bits_in_a_filter_compare_as_numbers(
    raw: Any, seeded: dict[str, str]
) -> None:
    for text in (f"metrics.loss < {BIG}", f"attributes.start_time < {BIG}", "metrics.loss < 1e999"):
        code, payload = await raw(
            "GET", "runs?filter=" + text.replace(" ", "%20").replace("<", "%3C")
        )
        assert code == 200, payload
        assert [r["run_id"] for r in payload["runs"]] == [seeded["run"]]


# --------------------------------------------------------------------- artifact symlinks


async def test_a_run_with_bad_artifact_links_opens_and_lists_them_as_unavailable(
    raw: Any, seeded: dict[str, str], track_db: Path, tmp_path: Path
) -> None:
    run_id = seeded["run"]
    folder = SQLiteStore(track_db).artifact_dir(run_id)
    (folder / "ok.txt").write_text("fine")
    outside = tmp_path / "secret.txt"
    outside.write_text("not yours")
    os.symlink(outside, folder / "escape")
    os.symlink("/", folder / "root")
    os.symlink(folder / "loop_b", folder / "loop_a")
    os.symlink(folder / "loop_a", folder / "loop_b")
    os.symlink(folder / "missing", folder / "dangling")
    os.symlink(folder / "ok.txt", folder / "inside")  # a link inside the run is fine
    code, run = await raw("GET", f"runs/{run_id}")
    assert code == 200, run
    listed = {a["path"]: a for a in run["artifacts"]}
    assert listed["escape"]["unavailable"] == "symbolic link to outside the run's artifacts"
    assert listed["root"]["unavailable"] == "symbolic link to outside the run's artifacts"
    assert listed["loop_a"]["unavailable"] == "symbolic link loop"
    assert listed["dangling"]["unavailable"] == "broken symbolic link"
    assert "unavailable" not in listed["ok.txt"]
    code, listing = await raw("GET", f"runs/{run_id}/artifacts")
    assert code == 200 and {i["path"] for i in listing["items"]} >= {"escape", "loop_a", "ok.txt"}
    for path in ("escape", "loop_a", "loop_a/x", "dangling", "root/etc/passwd"):
        code, error = await raw("GET", f"runs/{run_id}/artifacts/file?path={path}")
        assert code in (400, 404), (path, code, error)
        code, error = await raw("GET", f"runs/{run_id}/artifacts?path={path}")
        assert code in (400, 404), (path, code, error)
    code, changed = await raw("PATCH", f"runs/{run_id}", b'{"run_name": "renamed"}')
    assert code == 200 and changed["run_name"] == "renamed"


async def test_a_patch_whose_answer_fails_commits_nothing(
    raw: Any, seeded: dict[str, str], track_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the answer cannot be built")

    monkeypatch.setattr(SQLiteStore, "artifact_tree", broken)
    code, payload = await raw("PATCH", f"runs/{seeded['run']}", b'{"run_name": "never"}')
    assert code == 500 and payload["error"] == "internal"
    assert SQLiteStore(track_db).get_run(seeded["run"]).info.run_name == "seed"


# ------------------------------------------------------------- properties (no server needed)

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(alphabet=st.characters(), max_size=8),
        st.sampled_from(["\ud800", "a\udfffb", "ok"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=5), st.just("\udc80")), inner, max_size=3),
    ),
    max_leaves=40,
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _not_storable_text(value: Any) -> bool:
    """A text no store can hold anywhere in ``value``: a lone surrogate (not Unicode) or a NUL
    character (PostgreSQL refuses it in text, so both engines refuse it)."""
    if isinstance(value, str):
        return "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return any(_not_storable_text(k) or _not_storable_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_not_storable_text(v) for v in value)
    return False


@settings(max_examples=300, deadline=None)
@given(body=json_values, wrap=st.integers(0, MAX_JSON_DEPTH + 3))
@example(body={"k": "a\x00b"}, wrap=0)
@example(body="\ud800", wrap=1)
def test_request_bodies_are_refused_exactly_when_too_deep_or_not_storable_text(
    body: Any, wrap: int
) -> None:
    for _ in range(wrap):
        body = {"x": body}
    bad = _depth(body) > MAX_JSON_DEPTH or _not_storable_text(body)
    try:
        check_json(body)
    except ApiError as exc:
        assert exc.status_code == 400 and bad, exc.body
    else:
        assert not bad


filter_pieces = st.sampled_from(
    [
        "metrics.a > 1",
        "params.p = 'x'",
        "(",
        ")",
        "NOT",
        "AND",
        "OR",
        BIG,
        "'\ud800'",
        "`k`",
        "tags.t LIKE '%a'",
        "status IN ('FINISHED')",
        "1e999",
        "-" + BIG,
        "attributes.start_time",
    ]
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.one_of(
        st.text(max_size=60),
        st.lists(filter_pieces, max_size=30).map(" ".join),
        st.integers(0, 400).map(lambda n: "(" * n + "metrics.a > 1" + ")" * n),
        st.integers(0, 400).map(lambda n: " AND ".join(["metrics.a > 1"] * max(n, 1))),
    )
)
def test_any_filter_text_parses_or_raises_a_filter_error(store: SQLiteStore, text: str) -> None:
    for call in (
        lambda: store.search_runs(None, text, max_results=5),
        lambda: store.count_runs(None, text),
        lambda: store.search_registered_models(text, 5),
    ):
        try:
            call()
        except (FilterSyntaxError, InvalidInput):
            pass


def test_the_filter_limits_are_the_documented_ones(store: SQLiteStore) -> None:
    deep = "(" * MAX_FILTER_DEPTH + "metrics.a > 1" + ")" * MAX_FILTER_DEPTH
    store.search_runs(None, deep)  # at the limit: fine
    with pytest.raises(FilterSyntaxError, match="nested"):
        store.search_runs(None, "(" + deep + ")")
    many = " AND ".join(["metrics.a > 1"] * MAX_FILTER_TERMS)
    store.search_runs(None, many)
    store.count_runs(None, many)
    with pytest.raises(FilterSyntaxError, match="comparisons"):
        store.search_runs(None, many + " AND metrics.a > 1")
    with pytest.raises(InvalidInput, match="comparisons"):  # the same grammar for models
        store.search_registered_models(" AND ".join(["name = 'x'"] * (MAX_FILTER_TERMS + 1)))


@pytest.mark.parametrize(
    "path",
    [
        "a" * 5000,
        ("b" * 300 + "/") * 20,
        "%00x",
        "..%2F..%2Fetc%2Fpasswd",
        "/etc/passwd",
        "c:x",
        "\\\\host\\x",
    ],
)
async def test_odd_artifact_paths_are_a_4xx(raw: Any, seeded: dict[str, str], path: str) -> None:
    for route in ("artifacts", "artifacts/file"):
        code, payload = await raw("GET", f"runs/{seeded['run']}/{route}?path={path}")
        assert code in (400, 404), (route, path[:40], code, payload)
        assert payload["status"] == code and "message" in payload


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.one_of(
        st.text(max_size=40),
        st.lists(
            st.sampled_from(["a", "..", ".", "", "/", "\\", "x" * 300, "\x00", "\ud800"]),
            max_size=8,
        ).map("/".join),
        st.integers(1, 3000).map(lambda n: "d/" * n),
    )
)
def test_any_artifact_path_lists_or_is_refused(store: SQLiteStore, path: str) -> None:
    run_id = store.create_run("0").run_id
    (store.artifact_dir(run_id) / "d").mkdir(parents=True, exist_ok=True)
    for call in (store.list_artifacts, store.artifact_file):
        try:
            call(run_id, path)
        except (InvalidInput, NotFound):
            pass
