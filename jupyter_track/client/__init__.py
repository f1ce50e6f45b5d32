"""The HTTP client store for the JupyterHub team service (``JUPYTER_TRACK_URI=jupyterhub``).

:class:`~.store.HttpStore` implements the store interface over HTTP; :mod:`.spool` keeps what
the service could not take yet; :mod:`.endpoint` finds the service and the token. The HTTP
parts are imported on first use (the CLI and a SQLite-only kernel never load them).
"""

from __future__ import annotations

from typing import Any

__all__ = ["HttpStore", "PermissionDenied"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import store

        return getattr(store, name)
    raise AttributeError(name)
