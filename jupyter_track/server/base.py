"""The one base handler every jupyter-track route derives from, whoever serves the routes.

The route classes hold the logic only; the host supplies authentication. The Jupyter server
extension binds each route to Jupyter's ``APIHandler`` (Jupyter's identity provider and XSRF
check); the JupyterHub team service binds the same classes to a HubAuth/HubOAuth base
(:mod:`jupyter_track.service.auth`). :func:`bind` makes the concrete class.

* authenticated by the host; no user means 403 (also on servers that allow unauthenticated
  access elsewhere); cookie-authenticated writes keep the host's XSRF check;
* what the user may do is asked of the route's :class:`~.policy.Policy` (everything, in a
  personal server; per-object grants in the team service);
* SQLite only in the thread pools of :class:`~.access.StoreAccess`, never on the event loop;
  the JSON encoding of large answers happens there too;
* every error, whatever raised it, is sent in the one shape of :mod:`.errors`;
* every answer says how long the server took (``Server-Timing: app;dur=<ms>``).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from typing import Any

from tornado.web import HTTPError, RequestHandler

from ..store.errors import TrackError
from ..store.validation import text_problem
from .access import StoreAccess
from .errors import ApiError, error_body, from_store_error
from .identity import jupyter_principal
from .policy import OPEN, Policy, Principal

MAX_BODY_BYTES = 1 << 20
"""Largest request body accepted (1 MiB); more is a 413."""
MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects accepted in a request body; deeper is a 400."""


def check_json(value: Any) -> None:
    """Refuse (400, naming the place) nesting deeper than ``MAX_JSON_DEPTH`` and text that is
    not valid Unicode (a lone surrogate written as ``\\ud800``), in keys and in values."""
    pending: list[tuple[Any, str, int]] = [(value, "body", 0)]
    while pending:
        item, where, depth = pending.pop()
        if isinstance(item, str):
            _check_str(item, where)
        elif isinstance(item, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                raise ApiError(
                    400,
                    "bad_request",
                    f"{where}: nested more than {MAX_JSON_DEPTH} levels deep (the limit)",
                )
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_str(key, f"{where}: key {key[:40]!r}")
                    pending.append((child, _join(where, key), depth + 1))
            else:
                pending.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))


def _join(where: str, key: str) -> str:
    return key if where == "body" else f"{where}.{key}"


def _check_str(text: str, where: str) -> None:
    problem = text_problem(text)
    if problem:
        raise ApiError(400, "invalid_input", f"{where}: {problem}")


def gunzip_bounded(body: bytes, limit: int) -> bytes:
    """A gzip body decompressed, refused once it grows past ``limit`` bytes (413: a small
    compressed body may expand to gigabytes; nothing past the limit is ever held) or when it
    is not valid gzip (400)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ApiError(400, "bad_request", f"the body is not valid gzip: {exc}") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise ApiError(413, "too_large", f"the decompressed body is over {limit:,} bytes")
    if not inflater.eof:
        raise ApiError(400, "bad_request", "the body is not valid gzip: it is cut short")
    return data


def dumps(payload: Any) -> bytes:
    """Compact JSON; NaN and infinities must have been turned into strings before."""
    return json.dumps(payload, allow_nan=False, separators=(",", ":")).encode()


class TrackHandler(RequestHandler):
    """Base of the REST handlers: store access, policy, JSON in and out, errors."""

    access: StoreAccess
    policy: Policy
    #: the route class (the one of the shared table), set by :func:`bind`
    route: type[TrackHandler]
    #: set by hosts that know more than a name (the team service: hub groups, admin)
    _principal: Principal | None = None

    def initialize(self, access: StoreAccess, policy: Policy = OPEN) -> None:
        self.access = access
        self.policy = policy

    async def prepare(self) -> None:
        pending = super().prepare()  # the host's authentication (and XSRF check)
        if pending is not None:
            await pending
        if self.current_user is None:
            raise ApiError(403, "forbidden", "authentication required")
        size = len(self.request.body or b"")
        if size > MAX_BODY_BYTES:
            raise ApiError(
                413, "too_large", f"body: {size:,} bytes, the limit is {MAX_BODY_BYTES:,}"
            )
        await self.policy.authorize(self)

    # ------------------------------------------------------------------------ who is asking

    @property
    def principal(self) -> Principal:
        """Who is asking, as the host authenticated them (the team service sets it; in a
        Jupyter server, :func:`~.identity.jupyter_principal` applies the attribution rule)."""
        if self._principal is None:
            self._principal = jupyter_principal(self)
        return self._principal

    @property
    def user_name(self) -> str:
        """The name changes are attributed to (``principal.name``)."""
        return self.principal.name

    # ------------------------------------------------------------------------ store calls

    async def read_store(
        self, fn: Callable[..., Any], *args: Any, filter_text: str | None = None
    ) -> Any:
        """``fn(store, *args)`` on the read-only store, in the read pool."""
        try:
            return await self.access.read(fn, *args)
        except TrackError as exc:
            raise self._mapped(exc, filter_text) from exc

    async def write_store(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(store, *args)`` on the writable store, in the write thread."""
        try:
            return await self.access.write(fn, *args)
        except TrackError as exc:
            raise self._mapped(exc, None) from exc

    @staticmethod
    def _mapped(exc: TrackError, filter_text: str | None) -> ApiError:
        mapped = from_store_error(exc, filter_text=filter_text)
        return mapped or ApiError(500, "internal", str(exc))

    async def read_json(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> None:
        """Answer with ``fn(store, *args)``, computed and JSON-encoded in the read pool."""

        def work(store: Any) -> bytes:
            return dumps(fn(store, *args))

        self.send_bytes(await self.read_store(work, **kw))

    def send_json(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.send_bytes(dumps(payload))

    def send_bytes(self, body: bytes) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(body)

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object, or a 400."""
        try:
            body = json.loads(self.request.body or b"{}")
        except RecursionError:
            raise ApiError(
                400, "bad_request", f"body: nested more than {MAX_JSON_DEPTH} levels deep"
            ) from None
        except ValueError as exc:
            raise ApiError(400, "bad_request", f"the body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "the body must be a JSON object")
        check_json(body)
        return body

    def finish(self, chunk: Any = None) -> Any:
        """Finish, adding ``Server-Timing: app;dur=<ms>`` (time since the request arrived)."""
        if not self._headers_written:
            elapsed = self.request.request_time() * 1000
            self.set_header("Server-Timing", f"app;dur={elapsed:.1f}")
        return super().finish(chunk)

    # ------------------------------------------------------------------------------ errors

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        exc = exc_info[1] if exc_info else None
        status, body = error_body(status_code, exc)
        if status >= 500 and not isinstance(exc, HTTPError) and exc is not None:
            self.log.error("jupyter-track: %s %s failed", self.request.method, self.request.uri)
        self.set_status(status)
        self.clear_header("Content-Disposition")
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(dumps(body))


def bind(route: type[TrackHandler], host: type[RequestHandler]) -> type[TrackHandler]:
    """The concrete handler class for ``route`` served by ``host`` (its authentication)."""
    return type(route.__name__, (route, host), {"__module__": route.__module__, "route": route})


class NotFoundHandler(TrackHandler):
    """Unknown paths under the API answer 404 in the one error shape."""

    async def prepare(self) -> None:
        await super().prepare()
        raise ApiError(404, "not_found", f"no such API route: {self.request.path}")

    def _missing(self, *args: Any) -> None:
        raise ApiError(404, "not_found", f"no such API route: {self.request.path}")

    get = post = patch = put = delete = _missing
