"""``{base_url}jupyter-track/team/api/...``: the team service's REST API, through the user's own
Jupyter server, as the **visiting** user.

On JupyterHub the sidebar reads and changes the team store through the single-user server it
runs in (same origin, Jupyter's login and XSRF check). Each request is relayed to the service
with the visiting user's own hub token -- the OAuth token of their browser session, or the
token of the request -- so an admin visiting alice's server acts as the admin, not as alice,
and the service answers with the visitor's permissions. The server's own token is never used
here. Outside JupyterHub (or with no team service configured) the routes answer 404.
"""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..paths import team_uri
from .errors import ApiError

TEAM_PREFIX = "jupyter-track/team/api"
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "server"}
_FORWARDED_REQUEST_HEADERS = ("Content-Type", "Content-Encoding", "Accept")


class TeamProxyHandler(APIHandler):
    """Relays ``team/api/<path>`` to ``<service>/api/<path>`` (see the module docstring)."""

    _uri: str | None = None

    def initialize(self, uri: str | None) -> None:
        self._uri = uri

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if self.current_user is None:
            raise ApiError(403, "forbidden", "authentication required")

    def _visitor_token(self) -> str:
        hub_auth = getattr(self.identity_provider, "hub_auth", None)
        token = hub_auth.get_token(self) if hub_auth is not None else None
        if not token:
            raise ApiError(403, "forbidden", "no hub token for the visiting user")
        return str(token)

    async def _relay(self, path: str) -> None:
        if self._uri is None:
            raise ApiError(404, "not_found", "no team service: JUPYTER_TRACK_URI names none")
        base = await self._service_base()
        url = base + "api/" + path
        if self.request.query:
            url += "?" + self.request.query
        headers = {
            h: self.request.headers[h]
            for h in _FORWARDED_REQUEST_HEADERS
            if h in self.request.headers
        }
        headers["Authorization"] = f"token {self._visitor_token()}"
        body = self.request.body if self.request.method in ("POST", "PUT", "PATCH") else None
        request = HTTPRequest(
            url,
            method=self.request.method,
            headers=headers,
            body=body
            if body is not None
            else (b"" if self.request.method in ("POST", "PUT", "PATCH") else None),
            request_timeout=120,
            follow_redirects=False,
            decompress_response=True,
        )
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as exc:
            raise ApiError(
                503, "service_unavailable", f"the team service at {base} is unreachable: {exc}"
            ) from None
        if response.code == 599:
            raise ApiError(503, "service_unavailable", f"the team service at {base} is unreachable")
        self.set_status(response.code)
        for name, value in response.headers.get_all():
            if name.lower() not in _HOP_HEADERS and name.lower() != "content-length":
                self.set_header(name, value)
        self.finish(response.body or b"")

    async def _service_base(self) -> str:
        uri = str(self._uri)
        if uri not in _bases:
            from ..client.endpoint import resolve
            from ..store.errors import StoreUnavailable

            try:
                endpoint = await asyncio.get_running_loop().run_in_executor(None, resolve, uri)
            except StoreUnavailable as exc:
                status = 403 if "HTTP 403" in str(exc) else 503
                raise ApiError(
                    status, "forbidden" if status == 403 else "service_unavailable", str(exc)
                ) from None
            _bases[uri] = endpoint.base_url
        return _bases[uri]

    async def get(self, path: str) -> None:
        await self._relay(path)

    async def post(self, path: str) -> None:
        await self._relay(path)

    async def put(self, path: str) -> None:
        await self._relay(path)

    async def patch(self, path: str) -> None:
        await self._relay(path)

    async def delete(self, path: str) -> None:
        await self._relay(path)


_bases: dict[str, str] = {}


def team_handlers() -> list[tuple[str, type[Any], dict[str, Any]]]:
    """The relay route, for ``setup_routes``."""
    return [(TEAM_PREFIX + "/(.*)", TeamProxyHandler, {"uri": team_uri()})]
