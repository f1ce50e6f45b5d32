"""The PostgreSQL connection layer: a psycopg 3 connection pool behind :class:`~.db.Database`.

* Reads outside a transaction borrow a pooled connection (autocommit) for one statement; a
  transaction (``write()``, ``read()``) keeps one connection for the thread until it ends, so
  nested calls join it.
* The store's SQL uses ``?`` placeholders; :func:`pg_sql` rewrites them to ``%s`` once per
  statement text (cached).
* A float NaN is sent as NULL (SQLite's behaviour: the filter language treats NULL as NaN);
  values of other types go as psycopg sends them.
* Failures to reach the server (refused, down, a dropped connection, a login refused) are one
  :class:`~.errors.StoreUnavailable` naming host, port and database -- never the password. A
  connection dropped in the middle of a transaction is discarded; the caller retries (the
  kernel's writer retries a metric batch under the same batch id, so it is written once).
* Migrations: only :meth:`PostgresDatabase.migrate` (``jupyter-track db upgrade``) changes the
  schema, under an advisory lock; opening a store only checks the version.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import conninfo as pg_conninfo
from psycopg.adapt import Dumper
from psycopg_pool import ConnectionPool, PoolTimeout

from ..paths import redact_uri
from . import schema
from .db import Database
from .dialects.postgresql import POSTGRES
from .errors import InvalidInput, SchemaMismatch, StoreUnavailable

MIGRATION_LOCK = 0x6A74_0001  # pg_advisory_xact_lock keys ("jt" 1 and 2)
METRICS_LOCK = 0x6A74_0002
POOL_SIZE = 8
CONNECT_TIMEOUT = 10


@lru_cache(maxsize=2048)
def pg_sql(sql: str) -> str:
    """``?`` placeholders -> ``%s`` (and a literal ``%`` -> ``%%``), outside quoted text."""
    out = []
    quote = ""
    for ch in sql:
        if quote:
            if ch == quote:
                quote = ""
            out.append("%%" if ch == "%" else ch)
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


class _NanAsNullDumper(Dumper):
    """Floats as PostgreSQL ``float8`` text; NaN as NULL."""

    oid = psycopg.adapters.types["float8"].oid

    def dump(self, obj: float) -> bytes | None:
        if obj != obj:
            return None
        return (
            repr(obj).encode()
            if obj not in (float("inf"), float("-inf"))
            else (b"Infinity" if obj > 0 else b"-Infinity")
        )


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.adapters.register_dumper(float, _NanAsNullDumper)


class Result:
    """The rows of one statement, read before its connection went back to the pool."""

    __slots__ = ("_i", "rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int):
        self.rows = rows
        self.rowcount = rowcount
        self._i = 0

    def fetchone(self) -> Any:
        if self._i >= len(self.rows):
            return None
        row = self.rows[self._i]
        self._i += 1
        return row

    def fetchall(self) -> list[Any]:
        rows = self.rows[self._i :]
        self._i = len(self.rows)
        return rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PgConnection:
    """A psycopg connection with the sqlite3-like calls the store's parts use.

    Inside a transaction, ``BEGIN`` is sent with the transaction's first statement (one round
    trip for both, in a pipeline): a transaction that runs no statement costs nothing.

    In a batch transaction (:meth:`PostgresDatabase.write_batch`) the connection stays in
    psycopg's pipeline mode: statements are queued and sent together, and the client waits
    only when a result is read (``fetchone``/``fetchall`` sync the pipeline) and at the commit.
    ``COPY`` cannot run in a pipeline: :meth:`copy_in` leaves it for the copy and comes back.
    """

    def __init__(self, raw: psycopg.Connection[Any], db: PostgresDatabase):
        self.raw = raw
        self._db = db
        #: the BEGIN statement not sent yet (None: none pending)
        self.begin: str | None = None
        #: whether this connection opened a transaction that must end
        self.began = False
        #: the open pipeline of a batch transaction (None: statements run one at a time)
        self._pipe: Any = None

    def _run(self, call: Any) -> Any:
        try:
            if self.begin is None:
                return call()
            begin, self.begin = self.begin, None
            if self._pipe is not None:  # queued with the statement, sent at the next sync
                self.raw.execute(begin)
                self.began = True
                return call()
            with self.raw.pipeline():
                self.raw.execute(begin)
                self.began = True
                result = call()
            return result
        except psycopg.Error as exc:
            raise self._db.translate(exc) from exc

    def enter_pipeline(self) -> None:
        """Queue the statements that follow (see the class docstring)."""
        if self._pipe is None:
            pipe = self.raw.pipeline()
            pipe.__enter__()
            self._pipe = pipe

    def leave_pipeline(self, exc: BaseException | None = None) -> None:
        """Send what is queued and wait for it (raises the first error, translated); with
        ``exc`` (leaving because of it), errors of the queued statements are not raised."""
        pipe, self._pipe = self._pipe, None
        if pipe is None:
            return
        try:
            pipe.__exit__(None, None, None)
        except psycopg.Error as error:
            if exc is None:
                raise self._db.translate(error) from error

    def ensure_begun(self) -> None:
        """Send a pending BEGIN now (before using :attr:`raw` directly, e.g. for COPY)."""
        if self.begin is not None:
            begin, self.begin = self.begin, None
            try:
                self.raw.execute(begin)
            except psycopg.Error as exc:
                raise self._db.translate(exc) from exc
            self.began = True

    def copy_in(self, statement: str, chunks: Iterable[bytes]) -> None:
        """``COPY ... FROM STDIN`` with the payload's chunks written as they come (in the
        transaction; a pipeline is left for the copy and entered again after it)."""
        piped = self._pipe is not None
        self.leave_pipeline()
        self.ensure_begun()
        try:
            with self.raw.cursor() as cur, cur.copy(statement) as copy:
                for chunk in chunks:
                    copy.write(chunk)
        except psycopg.Error as exc:
            raise self._db.translate(exc) from exc
        if piped:
            self.enter_pipeline()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        query = pg_sql(sql)
        return self._run(lambda: self.raw.execute(query, params or None))

    def executemany(self, sql: str, rows: Any) -> Any:
        rows = list(rows)
        cur = self.raw.cursor()
        if rows:
            query = pg_sql(sql)
            self._run(lambda: cur.executemany(query, rows))
        return cur


class _PooledConnection:
    """``conn()`` outside a transaction: each statement borrows a pooled connection."""

    def __init__(self, db: PostgresDatabase):
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        with self._db.borrow() as conn:
            cur = conn.execute(sql, params)
            rows = cur.fetchall() if cur.description is not None else []
            return Result(rows, cur.rowcount)

    def executemany(self, sql: str, rows: Any) -> Result:
        with self._db.borrow() as conn:
            cur = conn.executemany(sql, rows)
            return Result([], cur.rowcount)


def describe_target(conninfo: str) -> str:
    """``host H, port P, database D`` for messages (libpq's defaults and PG* variables applied;
    no password)."""
    import os

    try:
        params = pg_conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        params = {}
    host = params.get("host") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    user = params.get("user") or os.environ.get("PGUSER")
    name = params.get("dbname") or os.environ.get("PGDATABASE") or user or "(default)"
    service = params.get("service") or os.environ.get("PGSERVICE")
    where = f"host {host}, port {port}, database {name}"
    return f"{where} (service {service})" if service else where


def to_conninfo(uri: str) -> str:
    """A libpq URI from a store URI (``postgresql+psycopg://`` -> ``postgresql://``)."""
    scheme, sep, rest = uri.partition("://")
    return f"postgresql://{rest}" if sep and scheme.lower() != "postgresql" else uri


class PostgresDatabase(Database):
    """A connection pool on one PostgreSQL database (see the module docstring)."""

    dialect = POSTGRES
    remote = True

    def __init__(self, uri: str, *, readonly: bool = False, pool_size: int = POOL_SIZE):
        self.uri = uri
        self.location = redact_uri(uri)
        self.readonly = readonly
        self.conninfo = to_conninfo(uri)
        self.target = describe_target(self.conninfo)
        self.pool_size = pool_size
        self._pool: ConnectionPool[Any] | None = None
        self._pool_lock = threading.Lock()
        self._local = threading.local()
        self._checked = False
        self._pooled = _PooledConnection(self)

    # ----------------------------------------------------------------------- connections

    def _open_pool(self) -> ConnectionPool[Any]:
        pool = self._pool
        if pool is not None:
            return pool
        with self._pool_lock:
            if self._pool is None:
                # one direct attempt first: a server that is down or refuses the login fails
                # at once with libpq's own reason (the pool would retry until its timeout)
                try:
                    psycopg.connect(self.conninfo, connect_timeout=CONNECT_TIMEOUT).close()
                except psycopg.Error as exc:
                    raise self.unavailable(_first_line(exc)) from exc
                kwargs: dict[str, Any] = {
                    "autocommit": True,
                    "connect_timeout": CONNECT_TIMEOUT,
                    "application_name": "jupyter-track",
                }
                # psycopg prepares a statement run 5 times; PostgreSQL would then switch a
                # search to a generic plan that ignores the values (which param, how common):
                # 3-5x slower for a filter on a common param. Plans are made per execution.
                options = ["-c plan_cache_mode=force_custom_plan"]
                if self.readonly:
                    options.append("-c default_transaction_read_only=on")
                kwargs["options"] = " ".join(options)
                pool = ConnectionPool(
                    self.conninfo,
                    min_size=1,
                    max_size=self.pool_size,
                    kwargs=kwargs,
                    configure=_configure,
                    open=False,
                    timeout=CONNECT_TIMEOUT,
                    name="jupyter-track",
                )
                try:
                    pool.open(wait=True, timeout=CONNECT_TIMEOUT)
                except PoolTimeout as exc:
                    pool.close(timeout=0)
                    raise self.unavailable(self._why_not()) from exc
                self._pool = pool
            return self._pool

    def _why_not(self) -> str:
        """Why a connection cannot be made now (one direct attempt, for the message)."""
        try:
            psycopg.connect(self.conninfo, connect_timeout=CONNECT_TIMEOUT).close()
        except psycopg.Error as exc:
            return _first_line(exc)
        return "the server did not answer in time"

    def unavailable(self, reason: str) -> StoreUnavailable:
        return StoreUnavailable(
            f"cannot reach the jupyter-track store on PostgreSQL ({self.target}): {reason}"
        )

    def translate(self, exc: psycopg.Error) -> Exception:
        """Driver errors that are about reaching the server -> ``StoreUnavailable``; NUL in
        text -> ``InvalidInput``; others unchanged."""
        if isinstance(exc, psycopg.OperationalError) and not isinstance(
            exc, psycopg.errors.QueryCanceled
        ):
            return self.unavailable(_first_line(exc))
        if isinstance(exc, psycopg.DataError) and "NUL" in str(exc):
            return InvalidInput(
                "text with a NUL character (\\x00) cannot be stored in PostgreSQL: "
                f"{_first_line(exc)}"
            )
        return exc

    @contextmanager
    def borrow(self) -> Iterator[PgConnection]:
        """A pooled connection for a moment (a broken one is not given back to the pool)."""
        pool = self._open_pool()
        try:
            raw = pool.getconn()
        except PoolTimeout as exc:
            raise self.unavailable(self._why_not()) from exc
        try:
            yield PgConnection(raw, self)
        finally:
            pool.putconn(raw)  # the pool discards a closed or broken connection

    def conn(self) -> Any:
        """The thread's transaction connection, else one that borrows per statement."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            return current
        if not self._checked:
            self._check_schema()
        return self._pooled

    def _check_schema(self) -> None:
        version = self.schema_version()
        if version == schema.SCHEMA_VERSION:
            self._checked = True
            return
        if version > schema.SCHEMA_VERSION:
            raise SchemaMismatch(
                f"the jupyter-track store on PostgreSQL ({self.target}) has schema version "
                f"{version}, newer than this jupyter-track knows ({schema.SCHEMA_VERSION}): "
                "upgrade the package (pip install -U jupyter-track)"
            )
        state = "has no jupyter-track schema" if version == 0 else f"is at schema {version}"
        raise SchemaMismatch(
            f"the jupyter-track store on PostgreSQL ({self.target}) {state}, this jupyter-track "
            f"needs schema {schema.SCHEMA_VERSION}: run `jupyter-track db upgrade "
            f"{self.location}` (kernels never change a shared database's schema)"
        )

    @contextmanager
    def _transaction(
        self, *, read_only: bool, lock: int | None, pipelined: bool = False
    ) -> Iterator[PgConnection]:
        current: PgConnection | None = getattr(self._local, "conn", None)
        if current is not None:
            if lock is not None:
                current.execute("SELECT pg_advisory_xact_lock(?)", (lock,))
            yield current
            return
        if not self._checked:
            self._check_schema()
        with self.borrow() as conn:
            self._local.conn = conn
            conn.begin = (
                "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY" if read_only else "BEGIN"
            )
            conn.began = False
            try:
                if pipelined:
                    conn.enter_pipeline()
                if lock is not None:  # BEGIN and the lock in one round trip
                    conn.execute("SELECT pg_advisory_xact_lock(?)", (lock,))
                yield conn
                if conn.began:
                    try:
                        conn.raw.execute("COMMIT")  # queued behind the batch when pipelined
                    except psycopg.Error as exc:
                        raise self.translate(exc) from exc
                conn.leave_pipeline()  # raises the first error of the queued statements
            except BaseException as exc:
                try:
                    conn.leave_pipeline(exc)
                except Exception:
                    pass  # the error that brought us here is the one to report
                if conn.began and not conn.raw.closed:
                    try:
                        conn.raw.execute("ROLLBACK")
                    except psycopg.Error:
                        pass  # the connection is gone: the pool discards it
                if isinstance(exc, psycopg.Error):  # raised by a raw call (COPY ...)
                    raise self.translate(exc) from exc
                raise
            finally:
                conn.begin = None
                conn.began = False
                self._local.conn = None

    def write(self) -> Any:
        return self._transaction(read_only=False, lock=None)

    def write_batch(self) -> Any:
        """A write transaction in pipeline mode (see :meth:`Database.write_batch`)."""
        return self._transaction(read_only=False, lock=None, pipelined=True)

    def write_metrics(self) -> Any:
        """Metric batches commit one at a time, so ``metrics.rowid`` grows in commit order
        (a transaction-scoped advisory lock, released at commit); pipelined like
        :meth:`write_batch`."""
        return self._transaction(read_only=False, lock=METRICS_LOCK, pipelined=True)

    def read(self) -> Any:
        return self._transaction(read_only=True, lock=None)

    def fetch_many(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[Any]]:
        """Several SELECTs in one pipeline: one round trip for all of them (inside the
        thread's transaction when one is open)."""
        current: PgConnection | None = getattr(self._local, "conn", None)
        if current is None and not self._checked:
            self._check_schema()
        with nullcontext(current) if current is not None else self.borrow() as conn:
            try:
                with conn.raw.pipeline():
                    if conn.begin is not None:  # a transaction's first statement
                        conn.ensure_begun()
                    cursors = [
                        conn.raw.execute(pg_sql(sql), params or None) for sql, params in statements
                    ]
                    return [cur.fetchall() for cur in cursors]
            except psycopg.Error as exc:
                raise self.translate(exc) from exc

    # ------------------------------------------------------------------------- migrations

    def schema_version(self) -> int:
        with self.borrow() as conn:
            return _stored_version(conn)

    def migrate(self) -> tuple[int, int]:
        if self.readonly:
            raise StoreUnavailable(f"cannot migrate {self.location}: opened read-only")
        with self.borrow() as conn:
            try:
                with conn.raw.transaction():
                    conn.raw.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                    conn.raw.execute(
                        "CREATE TABLE IF NOT EXISTS jt_schema (version INTEGER NOT NULL)"
                    )
                    before = _stored_version(conn)
                    if before > schema.SCHEMA_VERSION:
                        raise SchemaMismatch(
                            f"the store is at schema {before}, newer than this jupyter-track "
                            f"({schema.SCHEMA_VERSION}): upgrade the package"
                        )
                    for step in schema.steps_between(before):
                        if isinstance(step, schema.Python):
                            step.fn(conn, POSTGRES)
                        for statement in POSTGRES.render(step):
                            conn.raw.execute(statement)
                    if before < schema.SCHEMA_VERSION:
                        conn.raw.execute("DELETE FROM jt_schema")
                        conn.raw.execute(
                            "INSERT INTO jt_schema (version) VALUES (%s)",
                            (schema.SCHEMA_VERSION,),
                        )
            except psycopg.Error as exc:
                raise self.translate(exc) from exc
        self._checked = False
        return before, schema.SCHEMA_VERSION

    # ---------------------------------------------------------------------------- upkeep

    def details(self) -> dict[str, Any]:
        with self.borrow() as conn:
            version, size = conn.execute(
                "SELECT current_setting('server_version'), pg_database_size(current_database())"
            ).fetchone()
        return {"server_version": version, "bytes": {"db": int(size)}}

    def vacuum(self) -> None:
        with self.borrow() as conn:
            conn.execute("VACUUM (ANALYZE)")

    def close(self) -> None:
        """Close the pool (the store reconnects on next use)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close(timeout=5)


def _stored_version(conn: PgConnection) -> int:
    row = conn.raw.execute("SELECT to_regclass('jt_schema') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    found = conn.raw.execute("SELECT max(version) FROM jt_schema").fetchone()
    return int(found[0]) if found and found[0] is not None else 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
