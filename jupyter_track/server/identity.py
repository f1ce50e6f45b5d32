"""Who a request of the Jupyter server extension is, for attribution.

The rule (the data the sidebar shows):

* an identity provider that tells people apart -- JupyterHub's, or one a site configured --
  authenticated the user: changes are attributed to that user, **verified**;
* jupyter_server's own provider (a laptop: one token, or a password) gives whoever holds the
  token a made-up anonymous name, a new one per token request. Those names identify nobody, so
  changes are attributed to the server's owner -- the operating-system user running the
  server, the person the token belongs to -- a stable name, marked ``source: server-owner`` and
  **not verified**.

"verified" is reserved for identities the server actually authenticated. The team service
(:mod:`jupyter_track.service.auth`) always has the hub's answer: verified.
"""

from __future__ import annotations

import getpass
import os
from functools import lru_cache
from typing import Any

from .policy import Principal

AUTHENTICATED = "authenticated"
SERVER_OWNER = "server-owner"


@lru_cache(maxsize=1)
def server_owner() -> str:
    """The operating-system user running the server."""
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry, no USER variable (some containers)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "owner"


def authenticates_people(identity_provider: Any) -> bool:
    """Whether ``identity_provider`` tells users apart (it authenticates named people)."""
    if identity_provider is None:
        return False
    from jupyter_server.auth.identity import IdentityProvider

    return type(identity_provider).get_user is not IdentityProvider.get_user


def user_name(user: Any) -> str:
    """The name of a user as a host gives it (a jupyter_server ``User``, a hub model...)."""
    if isinstance(user, dict):  # a JupyterHub user model
        return str(user["name"])
    name = getattr(user, "username", None) or getattr(user, "name", None)
    return str(name or user)


def jupyter_principal(handler: Any) -> Principal:
    """The principal of a request authenticated by the Jupyter server (see the module rule)."""
    if authenticates_people(getattr(handler, "identity_provider", None)):
        return Principal(user_name(handler.current_user), verified=True, source=AUTHENTICATED)
    return Principal(server_owner(), verified=False, source=SERVER_OWNER)
