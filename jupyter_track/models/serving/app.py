"""The starlette application: ``POST /invocations``, ``GET /health`` (and ``/ping``).

* **Authentication** (optional): with a token (``--token`` or ``JUPYTER_TRACK_SERVE_TOKEN``)
  every request needs ``Authorization: Bearer <token>`` (or ``token <token>``); without it the
  answer is 401. ``/health`` answers anyone, but only a caller with the token sees which model
  URI and which serving run are behind it.
* **Errors** are JSON in one shape (:func:`.protocol.error_body`), for every status: a body
  that is not JSON or does not match the signature (400), too large (413), an unknown route
  (404) or method (405), a model that fails (500, with a generic message: the exception is
  logged on the server, never sent).
* **Bodies** are read up to a limit (413 beyond it, checked on ``Content-Length`` and while
  reading) and parsed in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from ... import __version__
from ...store.errors import InvalidInput
from .protocol import MAX_REQUEST_BYTES, decode_body, error_body, parse_payload, to_jsonable
from .state import Pick, ServingState
from .stats import agreement

log = logging.getLogger("jupyter_track.serving")


class _TooLarge(Exception):
    pass


def _prefix(pick: Pick) -> str:
    return f"v{pick.version}" if pick.version is not None else "model"


def token_matches(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``token`` (``Bearer`` or ``token`` scheme)."""
    if not header:
        return False
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() not in ("bearer", "token"):
        return False
    return hmac.compare_digest(
        given.strip().encode("utf-8", "surrogatepass"), token.encode("utf-8", "surrogatepass")
    )


async def _read_body(request: Any, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    state: ServingState, *, token: str | None = None, max_request_bytes: int = MAX_REQUEST_BYTES
) -> Any:
    """The starlette application for ``state`` (run it with uvicorn)."""
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Any:
        return JSONResponse(error_body(code, message), status, headers=headers)

    def authenticated(request: Request) -> bool:
        return token is None or token_matches(request.headers.get("authorization"), token)

    def unauthorized() -> Any:
        return error(
            401,
            "UNAUTHENTICATED",
            "this model server needs a token: send 'Authorization: Bearer <token>'",
            {"WWW-Authenticate": "Bearer"},
        )

    async def refresher() -> None:
        while True:
            await asyncio.sleep(state.refresh_interval)
            try:
                await run_in_threadpool(state.refresh)
            except Exception as exc:  # keep serving what we have
                log.error("alias refresh failed: %s", exc)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        await run_in_threadpool(state.start)
        task = asyncio.create_task(refresher()) if state._static is None else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await run_in_threadpool(state.stop)

    async def health(request: Request) -> Any:
        body: dict[str, Any] = {
            "status": "ok",
            "serving": state.current,
            "jupyter_track": __version__,
        }
        # only a caller holding the token learns what is behind the server
        if token is not None and token_matches(request.headers.get("authorization"), token):
            body.update(
                model_uri=state.model_uri,
                model=state.name,
                shadow=state.shadow,
                run_id=state.run_id,
            )
        return JSONResponse(body)

    async def score_shadow(shadow: Pick, data: Any, primary: Any) -> None:
        start = time.perf_counter()
        try:
            out = await run_in_threadpool(shadow.model.predict, data)
            ok = True
        except Exception as exc:
            log.warning("shadow version %s failed: %s", shadow.version, exc)
            out, ok = None, False
        ms = (time.perf_counter() - start) * 1000
        agreed = agreement(primary, out) if ok else None
        state.stats.record(f"shadow.{_prefix(shadow)}", ms, ok, agreement=agreed)

    def prepare(raw: bytes) -> Any:  # in a worker thread: JSON parsing and payload checks
        return parse_payload(decode_body(raw))

    async def invocations(request: Request) -> Any:
        if not authenticated(request):
            return unauthorized()
        start = time.perf_counter()
        key = request.headers.get("x-request-key") or request.query_params.get("key")
        pick = state.pick(key)
        headers = {"X-Model-Name": str(state.name or ""), "X-Model-Version": str(pick.version)}
        if pick.alias:
            headers["X-Model-Alias"] = pick.alias

        def failed() -> None:
            state.stats.record(_prefix(pick), (time.perf_counter() - start) * 1000, False)

        try:
            raw = await _read_body(request, max_request_bytes)
        except _TooLarge:
            failed()
            return error(
                413,
                "REQUEST_TOO_LARGE",
                f"request body: larger than {max_request_bytes:,} bytes (the limit)",
                headers,
            )
        try:
            data = await run_in_threadpool(prepare, raw)
            out = await run_in_threadpool(pick.model.predict, data)
            predictions = await run_in_threadpool(to_jsonable, out)
        except (InvalidInput, ValueError, KeyError, TypeError) as exc:
            failed()
            message = str(exc) if isinstance(exc, InvalidInput) else f"bad input: {exc}"
            return error(400, "INVALID_PARAMETER_VALUE", message, headers)
        except Exception:
            log.exception("version %s failed", pick.version)
            failed()
            return error(
                500,
                "INTERNAL_ERROR",
                f"the model (version {pick.version}) failed on this input; the server log "
                "has the details",
                headers,
            )
        state.stats.record(_prefix(pick), (time.perf_counter() - start) * 1000, True)
        background = None
        shadow = state.shadow_pick()
        if shadow is not None and shadow.version != pick.version:
            headers["X-Shadow-Version"] = str(shadow.version)
            background = BackgroundTask(score_shadow, shadow, data, out)
        return JSONResponse(
            {
                "predictions": predictions,
                "model": state.name,
                "alias": pick.alias,
                "version": pick.version,
            },
            headers=headers,
            background=background,
        )

    async def http_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, HTTPException)
        codes = {404: "ENDPOINT_NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
        return error(
            exc.status_code,
            codes.get(exc.status_code, "BAD_REQUEST"),
            f"{request.method} {request.url.path}: {exc.detail}",
            dict(exc.headers or {}),
        )

    async def internal_error(request: Request, exc: Exception) -> Any:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error(500, "INTERNAL_ERROR", "internal server error; the server log has the details")

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/ping", health, methods=["GET"]),
        Route("/invocations", invocations, methods=["POST"]),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: internal_error},
    )
