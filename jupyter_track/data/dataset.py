"""Datasets (MLflow's ``mlflow.data``): ``from_pandas``, ``from_numpy`` and their sources.

A :class:`Dataset` knows its ``name``, ``digest`` (jupyter-track's content fingerprint),
``source`` (where it came from), ``schema`` and ``profile``; :meth:`Dataset.to_dict` gives
MLflow's text fields and :meth:`Dataset._to_mlflow_entity` the recorded
:class:`jupyter_track.entities.Dataset`. ``jt.log_input(dataset, context=...)`` records it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..store.errors import InvalidInput

DEFAULT_NAME = "dataset"  # MLflow's default name


# ------------------------------------------------------------------------------- sources


class DatasetSource:
    """Where a dataset came from (MLflow's ``DatasetSource``): ``to_json()`` is the text
    recorded as the dataset's ``source``, ``source_type`` its kind."""

    source_type = "unknown"

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def _get_source_type(cls) -> str:
        return cls.source_type

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_json()}>"


class LocalDatasetSource(DatasetSource):
    """A file or folder (``{"uri": path}``, source type ``local``)."""

    source_type = "local"

    def __init__(self, uri: str) -> None:
        self.uri = uri

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self.uri}


class HTTPDatasetSource(DatasetSource):
    """An ``http(s)://`` URL (``{"url": url}``, source type ``http``)."""

    source_type = "http"

    def __init__(self, url: str) -> None:
        self.url = url

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url}


class CodeDatasetSource(DatasetSource):
    """Data built by the code itself (source type ``code``): its tags say which code."""

    source_type = "code"

    def __init__(self, tags: Mapping[str, str]) -> None:
        self.tags = dict(tags)

    def to_dict(self) -> dict[str, Any]:
        return {"tags": self.tags}


def resolve_source(source: Any) -> DatasetSource:
    """A :class:`DatasetSource` for what a caller passed: a source, an ``http(s)://`` URL,
    a path or URI, or None (the running code, as MLflow)."""
    if isinstance(source, DatasetSource):
        return source
    if source is None:
        from .. import provenance

        user, _ = provenance.current_user()
        notebook = provenance.notebook_path()
        name = notebook or provenance.script_path() or "-"
        return CodeDatasetSource(
            {
                "mlflow.user": user,
                "mlflow.source.name": name,
                "mlflow.source.type": "NOTEBOOK" if notebook else "LOCAL",
            }
        )
    import os

    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput(
            f"source {source!r}: expected a path, a URI or a DatasetSource (or None)"
        )
    if source.lower().startswith(("http://", "https://")):
        return HTTPDatasetSource(source)
    return LocalDatasetSource(source)


# ------------------------------------------------------------------------------ datasets


class Dataset:
    """A dataset a run can record (MLflow's ``mlflow.data.dataset.Dataset``)."""

    def __init__(
        self,
        source: DatasetSource,
        name: str | None = None,
        digest: str | None = None,
    ) -> None:
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise InvalidInput(f"name {name!r}: must be a non-empty string")
        if name is not None and any(ord(c) < 32 for c in name):
            raise InvalidInput(f"name {name!r}: must not contain control characters")
        self._source = source
        self._name = name or DEFAULT_NAME
        self._digest = digest or self._compute_digest()

    def _compute_digest(self) -> str:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return self._name

    @property
    def digest(self) -> str:
        """The content fingerprint (SHA-256 hex) unless the caller gave one."""
        return self._digest

    @property
    def source(self) -> DatasetSource:
        return self._source

    @property
    def schema(self) -> Any:
        """MLflow's schema of the data as a dict (``mlflow_colspec`` or ``mlflow_tensorspec``),
        or None."""
        return None

    @property
    def profile(self) -> dict[str, Any] | None:
        """Counts that describe the data (rows, elements, shapes), or None."""
        return None

    @property
    def rows(self) -> int | None:
        """The number of rows (recorded in the run's ``jt.input.<name>.rows`` tag)."""
        return None

    def to_dict(self) -> dict[str, str]:
        """MLflow's ``Dataset.to_dict()``: every field as text (``schema`` and ``profile``
        JSON), as recorded."""
        out = {
            "name": self.name,
            "digest": self.digest,
            "source": self.source.to_json(),
            "source_type": self.source._get_source_type(),
        }
        if self.schema is not None:
            out["schema"] = json.dumps(self.schema)
        if self.profile is not None:
            out["profile"] = json.dumps(self.profile)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def _to_mlflow_entity(self) -> Any:
        """The :class:`jupyter_track.entities.Dataset` that a run records for this dataset."""
        from ..store.entities import Dataset as DatasetEntity

        d = self.to_dict()
        return DatasetEntity(
            name=d["name"],
            digest=d["digest"],
            source_type=d["source_type"],
            source=d["source"],
            schema=d.get("schema"),
            profile=d.get("profile"),
        )

    def input_record(self, context: str | None, tags: Mapping[str, Any] | None) -> dict[str, Any]:
        """The record ``jt.log_input`` stores (``lineage.inputs.record_inputs``)."""
        d = self.to_dict()
        return {
            "name": self.name,
            "kind": d["source_type"],
            "source_type": d["source_type"],
            "digest": self.digest,
            "source": d["source"],
            "rows": self.rows,
            "schema": d.get("schema"),
            "profile": d.get("profile"),
            "context": context,
            "tags": {str(k): str(v) for k, v in (tags or {}).items()},
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} digest={self.digest[:12]!r}>"


def _colspec(frame: Any) -> dict[str, Any] | None:
    from ..models.signature import schema_of

    try:
        schema = schema_of(frame)
    except InvalidInput:  # a column of mixed objects: no schema type describes it
        return None
    return {
        "mlflow_colspec": [
            {"type": c.type, "name": c.name, "required": c.required} for c in schema.columns
        ]
    }


class PandasDataset(Dataset):
    """A pandas DataFrame (``from_pandas``): ``df``, ``targets`` and ``predictions`` columns."""

    def __init__(
        self,
        df: Any,
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
        predictions: str | None = None,
    ) -> None:
        for field, column in (("targets", targets), ("predictions", predictions)):
            if column is not None and column not in df.columns:
                raise InvalidInput(
                    f"{field} {column!r}: not a column of the DataFrame "
                    f"(columns: {', '.join(map(str, df.columns))})"
                )
        self._df = df
        self._targets = targets
        self._predictions = predictions
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        from .. import provenance

        return provenance.fingerprint(self._df, self._name).digest

    @property
    def df(self) -> Any:
        return self._df

    @property
    def targets(self) -> str | None:
        return self._targets

    @property
    def predictions(self) -> str | None:
        return self._predictions

    @property
    def schema(self) -> dict[str, Any] | None:
        return _colspec(self._df)

    @property
    def profile(self) -> dict[str, Any]:
        rows, cols = self._df.shape
        return {"num_rows": int(rows), "num_elements": int(rows * cols)}

    @property
    def rows(self) -> int:
        return len(self._df)


def _tensorspec(array: Any) -> str:
    return json.dumps(
        [
            {
                "type": "tensor",
                "tensor-spec": {"dtype": str(array.dtype), "shape": [-1, *array.shape[1:]]},
            }
        ]
    )


class NumpyDataset(Dataset):
    """A numpy array of features, with optional targets (``from_numpy``)."""

    def __init__(
        self,
        features: Any,
        source: DatasetSource,
        targets: Any = None,
        name: str | None = None,
        digest: str | None = None,
    ) -> None:
        import numpy as np

        if isinstance(features, Mapping):
            raise InvalidInput("features: a dict of arrays is not supported; pass one array")
        self._features = np.asarray(features)
        self._targets = None if targets is None else np.asarray(targets)
        if self._targets is not None and len(self._targets) != len(self._features):
            raise InvalidInput(
                f"targets: {len(self._targets)} rows, but features has {len(self._features)}"
            )
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        import hashlib

        from .. import provenance

        digest = provenance.fingerprint(self._features, self._name).digest
        if self._targets is None:
            return digest
        targets = provenance.fingerprint(self._targets, self._name).digest
        return hashlib.sha256(f"{digest}:{targets}".encode()).hexdigest()

    @property
    def features(self) -> Any:
        return self._features

    @property
    def targets(self) -> Any:
        return self._targets

    @property
    def schema(self) -> dict[str, Any]:
        spec = {"features": _tensorspec(self._features)}
        if self._targets is not None:
            spec["targets"] = _tensorspec(self._targets)
        return {"mlflow_tensorspec": spec}

    @property
    def profile(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for label, array in (("features", self._features), ("targets", self._targets)):
            if array is not None:
                out[f"{label}_shape"] = list(array.shape)
                out[f"{label}_size"] = int(array.size)
                out[f"{label}_nbytes"] = int(array.nbytes)
        return out

    @property
    def rows(self) -> int:
        return int(self._features.shape[0]) if self._features.ndim else 1


def from_pandas(
    df: Any,
    source: Any = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> PandasDataset:
    """A dataset of a pandas DataFrame (MLflow's ``mlflow.data.from_pandas``); ``source`` is a
    path, a URL or None (the running code)."""
    if type(df).__module__.split(".")[0] != "pandas" or not hasattr(df, "columns"):
        raise InvalidInput(f"df: expected a pandas DataFrame, got {type(df).__name__}")
    return PandasDataset(df, resolve_source(source), targets, name, digest, predictions)


def from_numpy(
    features: Any,
    source: Any = None,
    targets: Any = None,
    name: str | None = None,
    digest: str | None = None,
) -> NumpyDataset:
    """A dataset of numpy features (and targets) (MLflow's ``mlflow.data.from_numpy``)."""
    return NumpyDataset(features, resolve_source(source), targets, name, digest)
