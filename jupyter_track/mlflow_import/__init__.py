"""``jupyter-track import-mlflow SOURCE``: bring an MLflow store into jupyter-track.

SOURCE is an MLflow SQLite database (``sqlite:///path/mlflow.db``), an ``mlruns`` folder
(a path or ``file:///...``), or a tracking server (``http(s)://host:5000``, credentials from
``MLFLOW_TRACKING_TOKEN`` or ``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD``).
:func:`open_source` reads it; :func:`import_mlflow` copies it (see :mod:`.importer`).
"""

from __future__ import annotations

from pathlib import Path

from .importer import Importer, ImportSummary, import_mlflow
from .model import Source, SourceError


def open_source(location: str, *, artifacts_destination: str | Path | None = None) -> Source:
    """The reader for ``location`` (``artifacts_destination``: where a server that proxied
    artifacts kept them, for the ``mlflow-artifacts:`` locations of a SQLite or file store)."""
    destination = (
        Path(artifacts_destination).expanduser().absolute() if artifacts_destination else None
    )
    if location.startswith(("http://", "https://")):
        from .http_source import HttpSource

        return HttpSource(location)
    if location.startswith("sqlite:"):
        from .sqlite_source import SQLiteSource

        return SQLiteSource(location, artifacts_destination=destination)
    if location.endswith((".db", ".sqlite", ".sqlite3")) and Path(location).is_file():
        from .sqlite_source import SQLiteSource

        return SQLiteSource(
            f"sqlite:///{Path(location).absolute()}", artifacts_destination=destination
        )
    if location.startswith("file:") or Path(location).expanduser().is_dir():
        from .file_source import FileSource

        return FileSource(location, artifacts_destination=destination)
    if "://" in location:
        scheme = location.split("://", 1)[0]
        raise SourceError(
            f"{location!r}: unsupported scheme {scheme!r} (use sqlite:///path, an mlruns folder "
            "or http(s)://host)"
        )
    raise SourceError(f"{location!r}: no such file or folder")


__all__ = ["ImportSummary", "Importer", "Source", "SourceError", "import_mlflow", "open_source"]
