"""Where the store lives.

Kernel and server resolve the same location, so one environment variable set for the Jupyter
server (kernels inherit it) points both at one store:

1. ``JUPYTER_TRACK_URI`` -- ``sqlite:///absolute/path.db`` (or ``sqlite:///relative.db``), or
   ``postgresql://user:password@host:port/database`` (also ``postgresql+psycopg://``;
   ``PGPASSWORD``, ``~/.pgpass`` and ``PGSERVICE`` work as in libpq)
2. ``JUPYTER_TRACK_DB`` -- a plain file path
3. ``<jupyter data dir>/jupyter_track/track.db``

URIs shown to people go through :func:`redact_uri` (the password never appears).

Artifacts live in a folder beside the database: ``<db stem>-artifacts`` (``track-artifacts`` for
the default), unless ``JUPYTER_TRACK_ARTIFACTS`` names another folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

URI_ENV = "JUPYTER_TRACK_URI"
DB_ENV = "JUPYTER_TRACK_DB"
ARTIFACTS_ENV = "JUPYTER_TRACK_ARTIFACTS"


def default_db_path() -> Path:
    """The store used when no environment variable says otherwise."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "jupyter_track" / "track.db"


def db_path_from_uri(uri: str) -> Path:
    """Turn ``sqlite:///path``, ``file:path`` or a plain path into a filesystem path."""
    if uri.startswith("sqlite:///"):
        raw = uri[len("sqlite:///") :]
        # sqlite:////abs/path and sqlite:///rel/path as in SQLAlchemy; also accept sqlite:///abs
        # when the remainder already looks absolute.
        return Path(raw).expanduser()
    if uri.startswith("sqlite://"):
        raise ValueError(f"JUPYTER_TRACK_URI: expected sqlite:///path, got {uri!r}")
    if uri.startswith("file:"):
        return Path(uri[len("file:") :]).expanduser()
    if "://" in uri:
        scheme = uri.split("://", 1)[0]
        raise ValueError(f"store URI: unsupported scheme {scheme!r}; {SUPPORTED}")
    return Path(uri).expanduser()


SUPPORTED = (
    "use sqlite:///path (or a plain path), postgresql://user@host:port/database "
    "(also postgresql+psycopg://), or a team service: jupyterhub, jupyterhub://<service>, "
    "https://.../services/<name>/"
)
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")


def store_kind(uri: str) -> str:
    """``sqlite``, ``postgresql`` or ``http`` (the team service: ``jupyterhub``,
    ``jupyterhub://<service>``, ``http(s)://...``) for a store URI; ``ValueError`` listing the
    supported schemes for anything else."""
    if uri == "jupyterhub" or uri.startswith(TEAM_SCHEMES):
        return "http"
    scheme, sep, _ = uri.partition("://")
    if not sep or scheme == "sqlite" or scheme == "file":
        return "sqlite"
    if scheme.lower() in POSTGRES_SCHEMES:
        return "postgresql"
    raise ValueError(f"store URI: unsupported scheme {scheme!r}; {SUPPORTED}")


def resolve_uri(uri: str | os.PathLike[str] | None = None) -> str:
    """The URI of the store for ``uri`` or, when None, for the environment: ``sqlite:///`` with
    an absolute path, or a PostgreSQL or team-service URI as given."""
    raw = os.fspath(uri) if uri is not None else os.environ.get(URI_ENV) or None
    if raw is not None and store_kind(raw) != "sqlite":
        return raw
    return f"sqlite:///{resolve_db_path(uri)}"


def personal_uri() -> str:
    """The store a Jupyter server serves as its own: the environment's, except that a team
    service's URI leaves the server on the personal SQLite file (the sidebar switches)."""
    if team_uri() is None:
        return resolve_uri()
    return f"sqlite:///{personal_db_path()}"


_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)[^&#]*")


def redact_uri(uri: str) -> str:
    """``uri`` with any password replaced by ``***`` (in the user info, even one with a raw
    ``@`` or ``/`` in it, and in ``?password=``)."""
    head, sep, rest = uri.partition("://")
    text = uri
    if sep:
        query = rest.find("?")
        at = rest.rfind("@", 0, query if query >= 0 else len(rest))
        user, colon, _ = rest[:at].partition(":") if at >= 0 else ("", "", "")
        if colon:
            text = f"{head}://{user}:***{rest[at:]}"
    return _QUERY_PASSWORD.sub(r"\1***", text)


def resolve_db_path(uri: str | os.PathLike[str] | None = None) -> Path:
    """The absolute path of the SQLite store for ``uri`` or, when None, for the environment
    (``ValueError`` for a URI that names another engine)."""
    if uri is not None:
        return db_path_from_uri(os.fspath(uri)).absolute()
    env_uri = os.environ.get(URI_ENV)
    if env_uri:
        return db_path_from_uri(env_uri).absolute()
    env_db = os.environ.get(DB_ENV)
    if env_db:
        return Path(env_db).expanduser().absolute()
    return default_db_path()


TEAM_SCHEMES = ("jupyterhub://", "http://", "https://")


def team_uri(uri: str | os.PathLike[str] | None = None) -> str | None:
    """The team-service URI in use (``jupyterhub``, ``jupyterhub://<service>``,
    ``http(s)://...``), from ``uri`` or else ``JUPYTER_TRACK_URI``; None for a SQLite store."""
    text = os.fspath(uri) if uri is not None else os.environ.get(URI_ENV, "")
    if text == "jupyterhub" or text.startswith(TEAM_SCHEMES):
        return text
    return None


def personal_db_path() -> Path:
    """The SQLite file of the personal store, also when ``JUPYTER_TRACK_URI`` names a team
    service (the sidebar's personal/team switch)."""
    if team_uri() is None:
        return resolve_db_path()
    env_db = os.environ.get(DB_ENV)
    return Path(env_db).expanduser().absolute() if env_db else default_db_path()


def artifact_root_for(db_path: Path) -> Path:
    """The folder that holds the artifacts of the runs stored in ``db_path``."""
    env = os.environ.get(ARTIFACTS_ENV)
    if env:
        return Path(env).expanduser().absolute()
    return db_path.with_name(f"{db_path.stem}-artifacts")
