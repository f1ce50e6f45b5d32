"""``jupyter-track serve`` hardening (issue 8, sections 2 and 3).

Token authentication (``--token`` / ``JUPYTER_TRACK_SERVE_TOKEN``), a warning when listening
beyond loopback without one, a health route that tells only token holders which model and run
are behind it, JSON errors for every status (never an exception's text), a request-size limit,
and request parsing off the event loop. Real uvicorn servers on loopback, real HTTP.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jupyter_track as jt
from jupyter_track.models import serving
from jupyter_track.models.serving import app as serving_app
from jupyter_track.models.serving import (
    decode_body,
    exposure_warning,
    parse_payload,
    serve_in_thread,
    token_matches,
)
from jupyter_track.store import InvalidInput


class Echo:
    """Predicts the number of rows it was given (one per row)."""

    def predict(self, data):  # type: ignore[no-untyped-def]
        return [1] * len(data)


class Boom:
    def predict(self, data):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail /etc/passwd")


def _logged(model: Any) -> str:
    with jt.start_run():
        return jt.log_model(model, name="model").model_uri


@pytest.fixture
def guarded() -> Any:
    server = serve_in_thread(_logged(Echo()), token="s3cret", max_request_bytes=4096)
    yield server
    server.stop()


def _is_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error_code", "message"} and body["error_code"] == code, body
    return body


def test_a_token_is_required_when_configured(guarded: Any) -> None:
    rows = [{"a": 1}, {"a": 2}]
    with httpx.Client(base_url=guarded.url) as client:
        _is_error(client.post("/invocations", json=rows), 401, "UNAUTHENTICATED")
        wrong = {"Authorization": "Bearer nope"}
        _is_error(client.post("/invocations", json=rows, headers=wrong), 401, "UNAUTHENTICATED")
        for scheme in ("Bearer", "token"):
            ok = client.post(
                "/invocations", json=rows, headers={"Authorization": f"{scheme} s3cret"}
            )
            assert ok.status_code == 200 and ok.json()["predictions"] == [1, 1]


def test_health_tells_only_token_holders_what_is_served(guarded: Any) -> None:
    with httpx.Client(base_url=guarded.url) as client:
        public = client.get("/health").json()
        assert public["status"] == "ok"
        assert not {"model_uri", "run_id", "model", "shadow"} & set(public), public
        private = client.get("/health", headers={"Authorization": "Bearer s3cret"}).json()
        assert private["model_uri"] == guarded.state.model_uri
        assert private["run_id"] == guarded.state.run_id


def test_without_a_token_health_still_hides_the_model_and_run() -> None:
    server = serve_in_thread(_logged(Echo()))
    try:
        health = httpx.get(f"{server.url}/health").json()
        assert health["status"] == "ok" and "model_uri" not in health and "run_id" not in health
        assert httpx.post(f"{server.url}/invocations", json=[{"a": 1}]).status_code == 200
    finally:
        server.stop()


def test_every_error_is_json_and_never_the_exception_text() -> None:
    server = serve_in_thread(_logged(Boom()), max_request_bytes=2048)
    try:
        with httpx.Client(base_url=server.url) as client:
            body = _is_error(client.post("/invocations", json=[{"a": 1}]), 500, "INTERNAL_ERROR")
            assert "secret" not in body["message"] and "RuntimeError" not in body["message"]
            _is_error(client.get("/invocations"), 405, "METHOD_NOT_ALLOWED")
            _is_error(client.get("/nowhere"), 404, "ENDPOINT_NOT_FOUND")
            _is_error(
                client.post("/invocations", content=b"{not json"), 400, "INVALID_PARAMETER_VALUE"
            )
            deep = b"[" * 200 + b"]" * 200
            body = _is_error(
                client.post("/invocations", content=deep), 400, "INVALID_PARAMETER_VALUE"
            )
            assert "nested" in body["message"]
            body = _is_error(
                client.post("/invocations", content=b'[{"a": "\\ud800"}]'),
                400,
                "INVALID_PARAMETER_VALUE",
            )
            assert "surrogate" in body["message"]
            big = b"[" + b",".join([b'{"a": 1}'] * 1000) + b"]"
            body = _is_error(client.post("/invocations", content=big), 413, "REQUEST_TOO_LARGE")
            assert "2,048" in body["message"]

            def chunks():  # no Content-Length: the limit holds while reading
                for _ in range(100):
                    yield b" " * 100

            _is_error(client.post("/invocations", content=chunks()), 413, "REQUEST_TOO_LARGE")
    finally:
        server.stop()


def test_bodies_are_parsed_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    real = serving_app.decode_body

    def spy(raw: bytes) -> Any:
        threads.append(threading.current_thread().name)
        return real(raw)

    monkeypatch.setattr(serving_app, "decode_body", spy)
    server = serve_in_thread(_logged(Echo()))
    try:
        assert httpx.post(f"{server.url}/invocations", json=[{"a": 1}]).status_code == 200
    finally:
        server.stop()
    assert threads and "jupyter-track-serving" not in threads  # the loop's thread


def test_listening_beyond_loopback_without_a_token_warns(caplog: pytest.LogCaptureFixture) -> None:
    for host in ("127.0.0.1", "::1", "localhost", "127.3.4.5"):
        assert exposure_warning(host, None) is None
    assert exposure_warning("0.0.0.0", "t") is None
    assert "without a token" in (exposure_warning("0.0.0.0", None) or "")
    assert "JUPYTER_TRACK_SERVE_TOKEN" in (exposure_warning("::", None) or "")
    with caplog.at_level(logging.WARNING, logger="jupyter_track.serving"):
        server = serve_in_thread(_logged(Echo()), host="0.0.0.0")
        server.stop()
    assert any("without a token" in r.getMessage() for r in caplog.records)


def test_the_token_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(serving.TOKEN_ENV, "from-env")
    server = serve_in_thread(_logged(Echo()))
    try:
        assert httpx.post(f"{server.url}/invocations", json=[{"a": 1}]).status_code == 401
        ok = httpx.post(
            f"{server.url}/invocations",
            json=[{"a": 1}],
            headers={"Authorization": "Bearer from-env"},
        )
        assert ok.status_code == 200
    finally:
        server.stop()


@settings(max_examples=500, deadline=None)
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_any_body_decodes_or_is_refused_with_invalid_input(raw: bytes) -> None:
    try:
        parse_payload(decode_body(raw))
    except InvalidInput:
        pass


@settings(max_examples=200, deadline=None)
@given(header=st.one_of(st.none(), st.text(max_size=40)), token=st.text(min_size=1, max_size=20))
def test_token_matching_accepts_only_the_token(header: str | None, token: str) -> None:
    expected = (
        header is not None
        and header.strip().partition(" ")[0].lower()
        in (
            "bearer",
            "token",
        )
        and header.strip().partition(" ")[2].strip() == token
    )
    assert token_matches(header, token) == expected
    if token == token.strip():
        assert token_matches(f"Bearer {token}", token)
