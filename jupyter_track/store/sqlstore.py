"""The SQL store: the parts (mixins) shared by every SQL engine, over one :class:`Database`.

An engine is a :class:`~.db.Database` (connections, transactions, migrations) and a
:class:`~.dialects.base.Dialect` (the SQL that differs); :class:`SQLStore` is the same code on
each. ``SQLiteStore`` (:mod:`.sqlite`) and ``PostgresStore`` (:mod:`.postgres`) only choose
them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from . import schema
from .access import AccessMixin
from .artifacts import ArtifactsMixin
from .cells import CellsMixin
from .db import Database
from .experiments import ExperimentsMixin
from .histories import HistoriesMixin
from .imports import ImportsMixin
from .lineage import LineageMixin
from .maintenance import MaintenanceMixin
from .metrics import MetricsMixin
from .registry import RegistryMixin
from .runs import RunsMixin
from .series import SeriesMixin
from .traces import TracesMixin
from .views import ViewsMixin

T = TypeVar("T")


class SQLStore(
    ExperimentsMixin,
    RunsMixin,
    MetricsMixin,
    SeriesMixin,
    CellsMixin,
    ArtifactsMixin,
    RegistryMixin,
    HistoriesMixin,
    LineageMixin,
    ViewsMixin,
    MaintenanceMixin,
    AccessMixin,
    TracesMixin,
    ImportsMixin,
):
    """Experiments, runs, metrics, artifacts, the cell log and the registry on one database.

    Implements :class:`jupyter_track.store.interface.Store`. Safe to share between threads.
    """

    db: Database
    artifact_root: Path

    def __init__(self, db: Database, artifact_root: Path):
        self.db = db
        self.artifact_root = artifact_root
        self._run_pks: dict[str, int] = {}

    @property
    def uri(self) -> str:
        """The store's URI, password redacted."""
        raise NotImplementedError

    @property
    def location(self) -> str:
        """A SQLite file's path, else the URI with its password redacted."""
        return self.db.location

    @property
    def engine(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.db.dialect.name

    @property
    def wants_batch_ids(self) -> bool:
        """Whether ``write_metric_rows`` should get a batch id (a network engine, where a
        commit can fail without saying whether it happened)."""
        return self.db.remote

    @property
    def schema_version(self) -> int:
        """The schema version this code writes (see :meth:`stored_schema_version`)."""
        return schema.SCHEMA_VERSION

    def stored_schema_version(self) -> int:
        """The migration number the database is at."""
        return self.db.schema_version()

    def prepare(self) -> None:
        """Connect once: creates and migrates a new SQLite file, checks a PostgreSQL schema
        (``SchemaMismatch`` when it needs ``jupyter-track db upgrade``); raises
        ``StoreUnavailable`` when the store cannot be reached."""
        self.db.conn()

    def upgrade(self) -> tuple[int, int]:
        """Apply missing migrations (``jupyter-track db upgrade``); (before, after)."""
        return self.db.migrate()

    def close(self) -> None:
        self.db.close()

    def defer_checkpoints(self) -> None:
        """See :meth:`Store.defer_checkpoints`."""
        self.db.defer_checkpoints()

    def checkpoint(self) -> None:
        """See :meth:`Store.checkpoint`."""
        self.db.checkpoint()

    def atomically(self, fn: Callable[[Any], T]) -> T:
        """``fn(self)`` in one write transaction (see :meth:`Store.atomically`)."""
        with self.db.write():
            return fn(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"

    def __reduce__(self) -> Any:  # pragma: no cover - stores are per process
        raise TypeError(f"{type(self).__name__} cannot be pickled: open_store(uri) in the process")
