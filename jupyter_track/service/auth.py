"""The team service's authentication: who a request comes from, as the hub says.

Every request carries a hub token (``Authorization: token ...`` from kernels, the CLI and the
user's server; the ``HubOAuth`` cookie from browsers that logged in through the page). The
service asks the hub who owns the token (``HubAuth``, answers cached for ``cache_max_age``
seconds) and requires the service's access scope (``access:services!service=<name>``): without
it, 403. The user's hub groups and admin flag come from the hub too, read with the service's
own token (role scopes ``read:users``, ``read:groups``) and cached for the same time. Nothing a
client sends about itself (a ``user`` field, ``JUPYTERHUB_USER`` in a kernel) is used.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

from jupyterhub.services.auth import HubOAuth, HubOAuthenticated, UserNotAllowed
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.web import HTTPError, RequestHandler

from ..server.errors import ApiError
from ..server.policy import Principal
from .cli import DEFAULT_ADMIN_SCOPE


class HubDirectory:
    """Hub groups and admin flags of users, asked with the service's token and cached."""

    def __init__(self, auth: HubOAuth, *, max_age: float | None = None):
        self.auth = auth
        self.max_age = auth.cache_max_age if max_age is None else max_age
        self._cache: dict[str, tuple[float, frozenset[str], bool]] = {}

    async def lookup(self, name: str) -> tuple[frozenset[str], bool]:
        """``(groups, is_admin)`` of the hub user ``name``."""
        hit = self._cache.get(name)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.max_age:
            return hit[1], hit[2]
        url = f"{self.auth.api_url.rstrip('/')}/users/{quote(name, safe='')}"
        try:
            response = await AsyncHTTPClient().fetch(
                url, headers={"Authorization": f"token {self.auth.api_token}"}, request_timeout=30
            )
            model = json.loads(response.body)
        except HTTPClientError as exc:
            if exc.code == 404:
                return frozenset(), False
            raise ApiError(503, "hub_unavailable", f"cannot read hub user {name!r}: {exc}") from exc
        except OSError as exc:
            raise ApiError(503, "hub_unavailable", f"cannot reach the hub: {exc}") from exc
        groups = frozenset(model.get("groups") or ())
        admin = bool(model.get("admin"))
        self._cache[name] = (now, groups, admin)
        return groups, admin


class HubAuthenticatedHandler(HubOAuthenticated, RequestHandler):
    """Base of every service handler: identifies the caller with the hub in ``prepare``.

    The route classes of :mod:`jupyter_track.server.routes` are bound to a subclass of this
    (made by :func:`jupyter_track.service.app.make_app`, which sets ``hub_auth``, ``directory``
    and ``admin_scope``).
    """

    directory: HubDirectory
    admin_scope: str = DEFAULT_ADMIN_SCOPE
    _principal: Principal | None = None

    async def prepare(self) -> None:
        try:
            model = await self.hub_auth.get_user(self, sync=False)
        except HTTPError:
            raise
        except Exception as exc:  # the hub is down or answered garbage
            raise ApiError(503, "hub_unavailable", f"cannot reach the hub: {exc}") from exc
        if not model:
            self._hub_auth_user_cache = None
            return
        try:
            model = self.check_hub_user(model)
        except UserNotAllowed:
            raise ApiError(
                403,
                "forbidden",
                f"{model.get('kind', 'user')} {model['name']} may not use this service: the "
                f"token lacks the scope {', '.join(sorted(self.hub_auth.access_scopes or []))}",
            ) from None
        self._hub_auth_user_cache = model
        if model.get("kind", "user") == "user":
            groups, admin = await self.directory.lookup(model["name"])
        else:  # a service calling with its own token
            groups, admin = frozenset(), False
        scopes = set(model.get("scopes") or ())
        self._principal = Principal(
            name=model["name"],
            groups=groups,
            admin=admin or self.admin_scope in scopes,
        )

    def hub_user_model(self) -> dict[str, Any] | None:
        """The hub's answer for this request's token (after ``prepare``)."""
        return getattr(self, "_hub_auth_user_cache", None)
