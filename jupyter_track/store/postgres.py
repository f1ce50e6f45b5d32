"""The PostgreSQL engine: a team's shared store (``postgresql://user:password@host:port/db``).

The same store code as SQLite (:class:`~.sqlstore.SQLStore`) over a psycopg 3 connection pool
(:mod:`.pgdb`) and the PostgreSQL dialect. Artifacts are files: give every user of a team store
one shared folder with ``JUPYTER_TRACK_ARTIFACTS`` (default: a folder per database under the
Jupyter data dir).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..paths import ARTIFACTS_ENV
from .pgdb import POOL_SIZE, PostgresDatabase
from .sqlstore import SQLStore


def default_artifact_root(db: PostgresDatabase) -> Path:
    """``JUPYTER_TRACK_ARTIFACTS``, else ``<jupyter data dir>/jupyter_track/<host>-<port>-<db>``."""
    env = os.environ.get(ARTIFACTS_ENV)
    if env:
        return Path(env).expanduser().absolute()
    from jupyter_core.paths import jupyter_data_dir

    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", db.target).strip("-")
    return Path(jupyter_data_dir()) / "jupyter_track" / f"pg-{slug}-artifacts"


class PostgresStore(SQLStore):
    """A store in one PostgreSQL database (see :mod:`jupyter_track.store.interface`)."""

    db: PostgresDatabase

    def __init__(
        self,
        uri: str,
        *,
        readonly: bool = False,
        artifact_root: str | os.PathLike[str] | None = None,
        pool_size: int | None = None,
    ):
        db = PostgresDatabase(uri, readonly=readonly, pool_size=pool_size or POOL_SIZE)
        root = Path(artifact_root).absolute() if artifact_root else default_artifact_root(db)
        super().__init__(db, root)

    @property
    def uri(self) -> str:
        return self.db.location

    AUDIT_TABLES = ("registry_audit", "service_audit")

    def grant_app_role(self, role: str) -> None:
        """Grant ``role`` (the role a server or kernel logs in as) what the store needs: read
        and write on every table, except the audit tables, where it may only read and append."""
        from psycopg import sql

        from .schema import tables

        ident = sql.Identifier(role)
        with self.db.borrow() as conn:
            raw = conn.raw
            for table in [*tables(), "jt_schema"]:
                target = sql.Identifier(table)
                if table in self.AUDIT_TABLES or table == "jt_schema":
                    raw.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(target, ident))
                    privileges = "SELECT, INSERT" if table != "jt_schema" else "SELECT"
                else:
                    privileges = "SELECT, INSERT, UPDATE, DELETE"
                raw.execute(sql.SQL(f"GRANT {privileges} ON {{}} TO {{}}").format(target, ident))
            raw.execute(
                sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(ident)
            )
