"""Serve a registered model over HTTP: starlette + uvicorn, following aliases as they move.

``jupyter-track serve models:/fraud@champion`` (or :func:`serve`, or :func:`serve_in_thread` from a
notebook) answers

* ``POST /invocations`` -- JSON records (``[{...}, ...]`` or ``{"dataframe_records": [...]}``),
  columns (``{"columns": {"a": [...], ...}}``), ``{"dataframe_split": {"columns": [...],
  "data": [[...]]}}`` or ``{"inputs": ...}``; replies ``{"predictions": [...], "model": ...,
  "alias": ..., "version": ...}`` and the headers ``X-Model-Name``, ``X-Model-Alias``,
  ``X-Model-Version``. Input that does not match the signature is a 400 naming the column.
* ``GET /health`` (and ``/ping``) -- 200 with the versions being served.

Aliases are re-read every ``refresh_interval`` seconds in a worker thread; a newly pointed-to
version is loaded *before* it takes traffic, and a request always finishes on the version it
started with, so moving an alias (a rollback included) needs no restart and fails no request.
``route={"champion": 90, "challenger": 10}`` splits traffic by weight (deterministic per
``X-Request-Key`` header or ``?key=``); ``shadow="challenger"`` also scores every request with that
alias after answering, without returning it. Per-version request counts, errors and latency are
logged as metrics of a *serving run* (experiment ``jupyter-track serving``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import threading
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..store import SQLiteStore, open_store
from ..store.errors import InvalidInput, NotFound, TrackError
from .model import PyFuncModel
from .resolve import ModelRef, load_model, parse_model_uri
from .router import VersionCache, WeightedSplit

log = logging.getLogger("jupyter_track.serving")

SERVING_EXPERIMENT = "jupyter-track serving"


# ------------------------------------------------------------------------------- payloads


def parse_payload(body: Any) -> Any:
    """Turn a request body into model input (records, columns, split or inputs)."""
    if isinstance(body, list):
        if not body:
            raise InvalidInput("request body: no rows")
        return body
    if not isinstance(body, dict):
        raise InvalidInput(
            "request body: expected a JSON list of records or an object with "
            "dataframe_records, dataframe_split, columns or inputs"
        )
    for key in ("dataframe_records", "records"):
        if key in body:
            records = body[key]
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise InvalidInput(f"request body: {key} must be a list of objects")
            return records
    if "dataframe_split" in body:
        split = body["dataframe_split"]
        if not isinstance(split, dict) or "data" not in split:
            raise InvalidInput("request body: dataframe_split needs 'columns' and 'data'")
        try:
            return pd.DataFrame(split["data"], columns=split.get("columns"))
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"request body: dataframe_split: {exc}") from exc
    if "columns" in body:
        columns = body["columns"]
        if not isinstance(columns, dict) or not all(isinstance(v, list) for v in columns.values()):
            raise InvalidInput("request body: columns must map each column name to a list")
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise InvalidInput("request body: columns have different lengths")
        return dict(columns)
    for key in ("inputs", "instances"):
        if key in body:
            return body[key]
    raise InvalidInput(
        "request body: expected a JSON list of records or an object with dataframe_records, "
        f"dataframe_split, columns or inputs (got keys: {', '.join(map(str, body)) or 'none'})"
    )


def to_jsonable(value: Any) -> Any:
    """Predictions as JSON: arrays to lists, NaN and infinities to null."""
    if isinstance(value, pd.DataFrame):
        value = value.to_dict(orient="records")
    elif isinstance(value, (pd.Series, pd.Index, np.ndarray)):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


# ---------------------------------------------------------------------------------- stats


@dataclass
class _Counter:
    requests: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    agree: int = 0
    compared: int = 0
    dirty: bool = False


class ServingStats:
    """Per-version counts, errors and latency; turned into metrics of the serving run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, _Counter] = {}

    def record(
        self, prefix: str, ms: float, ok: bool, *, agreement: tuple[int, int] | None = None
    ) -> None:
        with self._lock:
            c = self._counters.setdefault(prefix, _Counter())
            c.requests += 1
            c.errors += 0 if ok else 1
            c.latencies_ms.append(ms)
            if agreement is not None:
                c.agree += agreement[0]
                c.compared += agreement[1]
            c.dirty = True

    def totals(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                p: {"requests": c.requests, "errors": c.errors} for p, c in self._counters.items()
            }

    def drain(self) -> dict[str, float]:
        """Metrics since the last drain: cumulative counts, latency mean / p50 / p95."""
        out: dict[str, float] = {}
        with self._lock:
            for prefix, c in self._counters.items():
                if not c.dirty:
                    continue
                out[f"{prefix}.requests"] = c.requests
                out[f"{prefix}.errors"] = c.errors
                if c.latencies_ms:
                    lat = np.asarray(c.latencies_ms)
                    out[f"{prefix}.latency_ms_mean"] = float(lat.mean())
                    out[f"{prefix}.latency_ms_p50"] = float(np.percentile(lat, 50))
                    out[f"{prefix}.latency_ms_p95"] = float(np.percentile(lat, 95))
                if c.compared:
                    out[f"{prefix}.agreement"] = c.agree / c.compared
                c.latencies_ms = []
                c.dirty = False
        return out


def _agreement(a: Any, b: Any) -> tuple[int, int] | None:
    try:
        x, y = np.asarray(a), np.asarray(b)
        if x.shape != y.shape or x.size == 0:
            return None
        if x.dtype.kind in "fc" or y.dtype.kind in "fc":
            same = np.isclose(x.astype(float), y.astype(float), equal_nan=True)
        else:
            same = x == y
        if same.ndim > 1:
            same = same.reshape(same.shape[0], -1).all(axis=1)
        return int(np.count_nonzero(same)), int(same.size)
    except Exception:
        return None


# ---------------------------------------------------------------------------------- state


@dataclass(frozen=True)
class Pick:
    """What serves one request: the alias (or None), the version (or None) and the model."""

    alias: str | None
    version: int | None
    model: PyFuncModel


class ServingState:
    """Which versions serve which aliases now; refreshed from the registry in a worker thread."""

    def __init__(
        self,
        model_uri: str,
        *,
        store: SQLiteStore | None = None,
        route: Mapping[str, float] | None = None,
        shadow: str | None = None,
        refresh_interval: float = 1.0,
        metrics_interval: float = 5.0,
        log_metrics: bool = True,
    ):
        self.model_uri = model_uri
        self.store = store if store is not None else open_store()
        self.ref: ModelRef = parse_model_uri(model_uri)
        self.refresh_interval = float(refresh_interval)
        self.metrics_interval = float(metrics_interval)
        self.log_metrics = log_metrics
        self.stats = ServingStats()
        self.run_id: str | None = None
        self.refreshes = 0
        self.name = self.ref.name
        self.split: WeightedSplit | None = None
        self.shadow = shadow
        self._static: PyFuncModel | None = None
        self._current: dict[str, int] = {}  # alias (or "latest"/"version") -> version
        # alias -> (version, loaded model), swapped in one assignment with _current
        self._models: dict[str, tuple[int, PyFuncModel]] = {}
        self._refresh_lock = threading.Lock()
        self._stop = threading.Event()
        self._metrics_thread: threading.Thread | None = None
        if self.ref.kind in ("runs", "path"):
            if route or shadow:
                raise InvalidInput(
                    "--route and --shadow need a registered model (models:/<name>@<alias>)"
                )
            self._static = load_model(self.store, model_uri)
            return
        assert self.name is not None
        self.cache = VersionCache(self.store, self.name)
        if route:
            self.split = WeightedSplit(route)
            if self.ref.kind == "alias" and self.ref.alias not in self.split.weights:
                raise InvalidInput(
                    f"--route {dict(route)}: does not include the served alias {self.ref.alias!r}"
                )
            if self.ref.kind != "alias":
                raise InvalidInput("--route splits between aliases: serve models:/<name>@<alias>")
        elif self.ref.kind == "alias":
            assert self.ref.alias is not None
            self.split = WeightedSplit({self.ref.alias: 1.0})
        if shadow is not None:
            from ..store.registry import check_alias_name

            check_alias_name(shadow)
        self.refresh(initial=True)

    # -- resolution

    def _targets(self) -> list[str]:
        targets = list(self.split.weights) if self.split else []
        if self.shadow and self.shadow not in targets:
            targets.append(self.shadow)
        return targets

    def refresh(self, *, initial: bool = False) -> dict[str, int]:
        """Re-read the aliases; load new versions first, then switch (atomically)."""
        if self._static is not None:
            return {}
        assert self.name is not None
        with self._refresh_lock:
            new: dict[str, int] = {}
            if self.ref.kind == "version":
                assert self.ref.version is not None
                new["version"] = self.store.get_model_version(self.name, self.ref.version).version
            elif self.ref.kind == "latest":
                new["latest"] = self.store.get_latest_model_version(self.name).version
            else:
                aliases = self.store.get_aliases(self.name)
                for alias in self._targets():
                    if alias in aliases:
                        new[alias] = aliases[alias]
                    elif initial:
                        raise NotFound(f"registered model {self.name!r} has no alias {alias!r}")
                    elif alias in self._current:
                        log.warning(
                            "alias %r of %r was removed; still serving version %s",
                            alias,
                            self.name,
                            self._current[alias],
                        )
                        new[alias] = self._current[alias]
            loaded: dict[str, tuple[int, PyFuncModel]] = {}
            for alias, version in list(new.items()):
                try:
                    loaded[alias] = (version, self.cache.get(version))  # load before traffic
                except Exception as exc:
                    if initial or alias not in self._current:
                        raise
                    log.error(
                        "cannot load version %s of %r for alias %r (%s); still serving %s",
                        version,
                        self.name,
                        alias,
                        exc,
                        self._current[alias],
                    )
                    new[alias] = self._current[alias]
                    loaded[alias] = self._models[alias]
            if new != self._current or not self._models:
                if self._current:
                    log.info("serving %s: %s -> %s", self.name, self._current, new)
                # one reference swap each: a request sees the old or the new mapping, never
                # half of one, and keeps its model object even if the cache drops it
                self._models = loaded
                self._current = new
            self.cache.keep_only(set(new.values()))
            self.refreshes += 1
            return dict(new)

    @property
    def current(self) -> dict[str, int]:
        """alias -> version being served now."""
        return dict(self._current)

    def pick(self, key: Any = None) -> Pick:
        """The alias, version and loaded model for one request."""
        if self._static is not None:
            return Pick(None, None, self._static)
        models = self._models
        if self.ref.kind in ("version", "latest"):
            version, model = next(iter(models.values()))
            return Pick(None, version, model)
        assert self.split is not None
        alias = self.split.choose(key)
        version, model = models[alias]
        return Pick(alias, version, model)

    def shadow_pick(self) -> Pick | None:
        if self.shadow is None or self._static is not None:
            return None
        entry = self._models.get(self.shadow)
        if entry is None:
            return None
        return Pick(self.shadow, entry[0], entry[1])

    # -- the serving run and its metrics

    def start(self) -> None:
        """Create the serving run and start the metrics thread."""
        if not self.log_metrics or self.run_id is not None:
            return
        from ..provenance import current_user

        experiment = self.store.get_or_create_experiment(SERVING_EXPERIMENT)
        target = self.model_uri
        info = self.store.create_run(
            experiment.experiment_id,
            run_name=f"serve {target}",
            user_id=current_user()[0],
            tags={
                "jupyter_track.serving.model_uri": target,
                "jupyter_track.serving.route": ",".join(
                    f"{a}={w:g}" for a, w in (self.split.weights.items() if self.split else [])
                ),
                "jupyter_track.serving.shadow": self.shadow or "",
                "jupyter_track.serving.model": self.name or "",
            },
        )
        self.run_id = info.run_id
        self._stop.clear()
        self._metrics_thread = threading.Thread(
            target=self._metrics_loop, name="jupyter-track-serving-metrics", daemon=True
        )
        self._metrics_thread.start()

    def _metrics_loop(self) -> None:
        step = 0
        while not self._stop.wait(self.metrics_interval):
            step = self.flush_metrics(step)

    def flush_metrics(self, step: int = 0) -> int:
        """Write the metrics gathered since the last flush; returns the next step."""
        if self.run_id is None:
            return step
        metrics = self.stats.drain()
        if not metrics:
            return step
        ts = int(time.time() * 1000)
        try:
            self.store.log_metrics(self.run_id, [(k, v, ts, step) for k, v in metrics.items()])
        except TrackError as exc:
            log.error("cannot log serving metrics: %s", exc)
        return step + 1

    def stop(self) -> None:
        """Stop the metrics thread, write the last metrics and end the serving run."""
        self._stop.set()
        thread = self._metrics_thread
        if thread is not None:
            thread.join(timeout=10)
        if self.run_id is not None:
            self.flush_metrics(1_000_000)
            self.store.update_run(self.run_id, status="FINISHED", end_time=int(time.time() * 1000))


# ------------------------------------------------------------------------------------ app


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse({"error_code": code, "message": message}, status, headers=headers)


def _prefix(pick: Pick) -> str:
    return f"v{pick.version}" if pick.version is not None else "model"


def create_app(state: ServingState) -> Any:
    """The starlette application for ``state`` (run it with uvicorn)."""
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

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
        return JSONResponse(
            {
                "status": "ok",
                "model_uri": state.model_uri,
                "model": state.name,
                "serving": state.current,
                "shadow": state.shadow,
                "run_id": state.run_id,
                "jupyter_track": __version__,
            }
        )

    async def score_shadow(shadow: Pick, data: Any, primary: Any) -> None:
        start = time.perf_counter()
        try:
            out = await run_in_threadpool(shadow.model.predict, data)
            ok = True
        except Exception as exc:
            log.warning("shadow version %s failed: %s", shadow.version, exc)
            out, ok = None, False
        ms = (time.perf_counter() - start) * 1000
        agreement = _agreement(primary, out) if ok else None
        state.stats.record(f"shadow.{_prefix(shadow)}", ms, ok, agreement=agreement)

    async def invocations(request: Request) -> Any:
        start = time.perf_counter()
        key = request.headers.get("x-request-key") or request.query_params.get("key")
        pick = state.pick(key)
        headers = {"X-Model-Name": str(state.name or ""), "X-Model-Version": str(pick.version)}
        if pick.alias:
            headers["X-Model-Alias"] = pick.alias
        try:
            body = await request.json()
        except ValueError as exc:
            state.stats.record(_prefix(pick), (time.perf_counter() - start) * 1000, False)
            return _error(400, "BAD_REQUEST", f"request body is not valid JSON: {exc}", headers)
        try:
            data = parse_payload(body)
            out = await run_in_threadpool(pick.model.predict, data)
            predictions = to_jsonable(out)
        except (InvalidInput, ValueError, KeyError) as exc:
            state.stats.record(_prefix(pick), (time.perf_counter() - start) * 1000, False)
            message = str(exc) if isinstance(exc, InvalidInput) else f"bad input: {exc}"
            return _error(400, "INVALID_PARAMETER_VALUE", message, headers)
        except Exception as exc:
            log.exception("version %s failed", pick.version)
            state.stats.record(_prefix(pick), (time.perf_counter() - start) * 1000, False)
            return _error(500, "INTERNAL_ERROR", f"{type(exc).__name__}: {exc}", headers)
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

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/ping", health, methods=["GET"]),
        Route("/invocations", invocations, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


# -------------------------------------------------------------------------------- running


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: without it, Nagle + delayed ACKs add ~40 ms per reply
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _server(state: ServingState, **uvicorn_options: Any) -> Any:
    import uvicorn

    config = uvicorn.Config(
        create_app(state),
        log_level=uvicorn_options.pop("log_level", "warning"),
        access_log=uvicorn_options.pop("access_log", False),
        lifespan="on",
        **uvicorn_options,
    )
    return uvicorn.Server(config)


def serve(
    model_uri: str,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    route: Mapping[str, float] | None = None,
    shadow: str | None = None,
    refresh_interval: float = 1.0,
    metrics_interval: float = 5.0,
    store: SQLiteStore | None = None,
    on_ready: Any = None,
) -> None:
    """Serve ``model_uri`` until interrupted (Ctrl-C / SIGTERM end the serving run cleanly)."""
    state = ServingState(
        model_uri,
        store=store,
        route=route,
        shadow=shadow,
        refresh_interval=refresh_interval,
        metrics_interval=metrics_interval,
    )
    sock = _bind(host, port)
    actual = sock.getsockname()[1]
    server = _server(state)
    if on_ready is not None:
        on_ready(f"http://{host}:{actual}", state)
    server.run(sockets=[sock])


class ServingThread:
    """A server running in a background thread (for notebooks and tests); ``stop()`` ends it."""

    def __init__(self, state: ServingState, host: str = "127.0.0.1", port: int = 0):
        self.state = state
        self._sock = _bind(host, port)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        self._server = _server(state)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name="jupyter-track-serving",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 120
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._server.should_exit = True
                self._sock.close()
                raise RuntimeError("the model server did not start (see the log above)")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop accepting requests, finish those in flight, end the serving run."""
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()

    def __enter__(self) -> ServingThread:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<ServingThread {self.state.model_uri} at {self.url}>"


def serve_in_thread(
    model_uri: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    route: Mapping[str, float] | None = None,
    shadow: str | None = None,
    refresh_interval: float = 1.0,
    metrics_interval: float = 5.0,
    store: SQLiteStore | None = None,
) -> ServingThread:
    """Start serving in a background thread (port 0: any free port); returns the handle with
    ``.url`` and ``.stop()``."""
    if store is None:
        from ..tracking import session

        store = session.current().store
    state = ServingState(
        model_uri,
        store=store,
        route=route,
        shadow=shadow,
        refresh_interval=refresh_interval,
        metrics_interval=metrics_interval,
    )
    return ServingThread(state, host, port)
