"""Where the team service is and which token to send, from a store URI and the environment.

* ``jupyterhub`` or ``jupyterhub://<service>`` (default service ``jupyter-track``): inside a
  single-user server or its kernels. The hub's services API (``$JUPYTERHUB_API_URL``, with
  ``$JUPYTERHUB_API_TOKEN``) gives the service's URL; the token is the server's
  (``$JUPYTERHUB_API_TOKEN``). ``$JUPYTER_TRACK_SERVICE_URL`` overrides the URL.
* ``https://host/services/jupyter-track/`` (or ``http://``): a laptop or any process with a
  hub API token in ``$JUPYTER_TRACK_TOKEN`` (else ``$JUPYTERHUB_API_TOKEN``).

The token is never part of the URI and never printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlparse

from ..store.errors import StoreUnavailable

SCHEME = "jupyterhub"
DEFAULT_SERVICE = "jupyter-track"
TOKEN_ENV = "JUPYTER_TRACK_TOKEN"
SERVICE_URL_ENV = "JUPYTER_TRACK_SERVICE_URL"


def is_team_uri(uri: str) -> bool:
    """True for the URIs this client serves."""
    return uri == SCHEME or uri.startswith((f"{SCHEME}://", "http://", "https://"))


@dataclass(frozen=True)
class Endpoint:
    """The service's base URL (ending in ``/``), the token, and the URI the user gave."""

    base_url: str
    uri: str
    token: str = field(repr=False)

    @property
    def api_url(self) -> str:
        return self.base_url + "api/"

    @property
    def key(self) -> str:
        """A short stable name of this service (spool and cache file names)."""
        return hashlib.sha256(self.base_url.encode()).hexdigest()[:16]


def resolve(uri: str) -> Endpoint:
    """The endpoint of ``uri`` (see the module docstring); ``StoreUnavailable`` if it cannot be
    found."""
    if uri.startswith(("http://", "https://")):
        token = os.environ.get(TOKEN_ENV) or os.environ.get("JUPYTERHUB_API_TOKEN") or ""
        if not token:
            raise StoreUnavailable(
                f"{uri}: no token; set {TOKEN_ENV} to a hub API token with access to the service"
            )
        base = uri if uri.endswith("/") else uri + "/"
        if base.endswith("/api/"):
            base = base[: -len("api/")]
        return Endpoint(base, uri, token)
    name = DEFAULT_SERVICE
    if uri.startswith(f"{SCHEME}://"):
        name = uri[len(f"{SCHEME}://") :].strip("/") or DEFAULT_SERVICE
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
    if not token:
        raise StoreUnavailable(
            f"{uri}: JUPYTERHUB_API_TOKEN is not set (this is not a JupyterHub single-user "
            "server); use https://<hub>/services/<name>/ with JUPYTER_TRACK_TOKEN instead"
        )
    override = os.environ.get(SERVICE_URL_ENV)
    if override:
        base = override if override.endswith("/") else override + "/"
        return Endpoint(base, uri, token)
    return Endpoint(_service_url(name, token), uri, token)


def _service_url(name: str, token: str) -> str:
    api = os.environ.get("JUPYTERHUB_API_URL", "").rstrip("/")
    if not api:
        raise StoreUnavailable("JUPYTERHUB_API_URL is not set: cannot find the team service")
    request = urllib.request.Request(
        f"{api}/services/{name}", headers={"Authorization": f"token {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            model = json.load(response)
    except urllib.error.HTTPError as exc:
        hint = (
            " (the server's token needs the scope read:services!service=" + name + ")"
            if exc.code == 403
            else ""
        )
        raise StoreUnavailable(
            f"the hub did not describe the service {name!r}: HTTP {exc.code}{hint}"
        ) from None
    except (OSError, ValueError) as exc:
        raise StoreUnavailable(f"cannot reach the hub at {api}: {exc}") from None
    url, prefix = model.get("url"), model.get("prefix") or f"/services/{name}/"
    if not url:
        raise StoreUnavailable(f"the hub service {name!r} has no URL")
    parsed = urlparse(url)
    base = f"{parsed.scheme}://{parsed.netloc}{prefix}"
    return base if base.endswith("/") else base + "/"
