"""MLflow's ``mlflow.models.Model``: the description of a saved model, read from its manifest.

jupyter-track keeps one file per model folder, ``manifest.json`` (see :mod:`.model`); this class
gives it MLflow's names (``flavors``, ``signature``, ``run_id``, ``artifact_path``,
``model_uuid``, ``utc_time_created``, ``saved_input_example_info``, ``metadata``,
``get_input_schema()``, ``load_input_example()``). Indexing a ``Model`` reads the manifest
itself (``model["flavor"]``), as ``PyFuncModel.metadata`` did before it was a ``Model``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .signature import ModelSignature, Schema


def flavors_of(manifest: dict[str, Any]) -> dict[str, Any]:
    """MLflow's ``flavors`` map for a manifest: its flavor (with the saved library version) and
    ``python_function``, which every jupyter-track model supports."""
    flavor = str(manifest.get("flavor"))
    details = dict(manifest.get("flavor_details") or {})
    libs = manifest.get("library_versions") or {}
    version_key = {
        "sklearn": "scikit-learn",
        "xgboost": "xgboost",
        "lightgbm": "lightgbm",
        "pytorch": "torch",
    }.get(flavor)
    if version_key and version_key in libs:
        details[f"{flavor}_version" if flavor != "pytorch" else "pytorch_version"] = libs[
            version_key
        ]
    pyfunc = {
        "loader_module": f"jupyter_track.models.flavors.{flavor}",
        "python_version": manifest.get("python_version"),
    }
    if flavor == "python_function":
        return {"python_function": {**pyfunc, **details}}
    return {flavor: details, "python_function": pyfunc}


class Model:
    """A saved model's description (MLflow's ``Model``); ``Model.load(uri_or_folder)``."""

    def __init__(self, manifest: dict[str, Any] | None = None, path: Path | None = None):
        self._manifest = dict(manifest or {})
        self.path = path

    # ----------------------------------------------------------------------------- loading

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any], path: Path | None = None) -> Model:
        return cls(manifest, path)

    @classmethod
    def load(cls, path: str | Path) -> Model:
        """The description of the model at ``path``: a folder, its ``manifest.json``, or a
        model URI (``runs:/<run_id>/<name>``, ``models:/<name>/<version>``, ``@alias``)."""
        from ..tracking import session
        from . import resolve
        from .model import MANIFEST, verified_manifest

        text = str(path)
        folder = Path(text[len("file://") :] if text.startswith("file://") else text)
        if folder.name == MANIFEST or folder.name == "MLmodel":
            folder = folder.parent
        if not (folder / MANIFEST).is_file():
            store = session.current().store
            ref = resolve.parse_model_uri(text)
            if ref.kind == "runs":
                assert ref.run_id is not None and ref.artifact_path is not None
                folder = resolve.run_model_folder(store, ref.run_id, ref.artifact_path)
            elif ref.kind == "path":
                assert ref.path is not None
                folder = ref.path
            else:
                folder = resolve.version_folder(store, resolve.resolve_version(store, ref))
        return cls(verified_manifest(folder), folder)

    # ------------------------------------------------------------------------ MLflow names

    def __getitem__(self, key: str) -> Any:
        return self._manifest[key]

    def __contains__(self, key: object) -> bool:
        return key in self._manifest

    def get(self, key: str, default: Any = None) -> Any:
        return self._manifest.get(key, default)

    @property
    def flavors(self) -> dict[str, Any]:
        return flavors_of(self._manifest)

    @property
    def signature(self) -> ModelSignature | None:
        sig = self._manifest.get("signature")
        return ModelSignature.from_dict(sig) if sig else None

    @property
    def run_id(self) -> str | None:
        return self._manifest.get("run_id")

    @property
    def artifact_path(self) -> str | None:
        return self._manifest.get("artifact_path")

    @property
    def model_uuid(self) -> str | None:
        return self._manifest.get("model_uuid")

    @property
    def utc_time_created(self) -> str | None:
        return self._manifest.get("utc_time_created")

    @property
    def metadata(self) -> dict[str, Any] | None:
        return self._manifest.get("metadata")

    @property
    def saved_input_example_info(self) -> dict[str, Any] | None:
        name = self._manifest.get("input_example")
        return {"artifact_path": name, "type": "json"} if name else None

    def get_input_schema(self) -> Schema | None:
        sig = self.signature
        return sig.inputs if sig is not None else None

    def get_output_schema(self) -> Schema | None:
        sig = self.signature
        return sig.outputs if sig is not None else None

    def load_input_example(self, path: str | Path | None = None) -> Any:
        """The saved input example (a DataFrame or an array), or None."""
        import json

        from .model import _example_from_json

        name = self._manifest.get("input_example")
        folder = Path(path) if path is not None else self.path
        if not name or folder is None:
            return None
        return _example_from_json(json.loads((folder / name).read_text()))

    def to_dict(self) -> dict[str, Any]:
        """MLflow's MLmodel fields as a dict."""
        sig = self.signature
        return {
            "artifact_path": self.artifact_path,
            "flavors": self.flavors,
            "model_uuid": self.model_uuid,
            "run_id": self.run_id,
            "utc_time_created": self.utc_time_created,
            "signature": sig.to_dict() if sig is not None else None,
            "saved_input_example_info": self.saved_input_example_info,
            "metadata": self.metadata,
        }

    def __repr__(self) -> str:
        return f"<Model {self._manifest.get('flavor')} {self.path}>"
