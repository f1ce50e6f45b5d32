"""A saved model folder (manifest + files) and the loaded model's single ``predict`` interface.

Folder layout (inside a run's artifacts, at the name given to ``log_model``)::

    manifest.json        flavor, library versions, Python version, requirements, signature,
                         and the size and SHA-256 of every other file (written last)
    requirements.txt     pinned requirements from the environment that saved the model
    input_example.json   the input example, when one was given
    model.pkl | model.json | model.pt    the model itself, in its flavor's format

Folders are written atomically and checked on load (see :mod:`.folders`).
"""

from __future__ import annotations

import json
import logging
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..store.errors import InvalidInput, NotFound
from . import flavors as flavor_registry
from .folders import ModelIntegrityError, describe_files, partial_folder, publish, verify_files
from .signature import ModelSignature, enforce, example_to_data, infer_signature, schema_of

log = logging.getLogger("jupyter_track.models")

MANIFEST = "manifest.json"
FORMAT = "jupyter-track-model"
FORMAT_VERSION = 2
"""2: the manifest lists every file with its size and SHA-256 (``files``)."""


# ----------------------------------------------------------------------------- examples


def _example_to_json(data: pd.DataFrame | np.ndarray) -> dict[str, Any]:
    if isinstance(data, pd.DataFrame):
        split = json.loads(data.to_json(orient="split", index=False, date_format="iso"))
        return {"type": "dataframe", "columns": split["columns"], "data": split["data"]}
    return {"type": "ndarray", "dtype": str(data.dtype), "data": data.tolist()}


def _example_from_json(d: dict[str, Any]) -> pd.DataFrame | np.ndarray:
    if d.get("type") == "dataframe":
        return pd.DataFrame(d["data"], columns=d["columns"])
    return np.asarray(d["data"], dtype=d.get("dtype"))


# ------------------------------------------------------------------------------- saving


def save_model(
    model: Any,
    path: str | Path,
    *,
    input_example: Any = None,
    signature: ModelSignature | dict[str, Any] | bool | None = None,
    flavor: str | None = None,
    extra_requirements: list[str] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Save ``model`` into the folder ``path`` (created; must be empty) and return its manifest.

    The signature is inferred from ``input_example`` when not given: inputs from the example,
    outputs from the model's predictions for it. The folder appears complete or not at all: it
    is written under a temporary name beside ``path`` and renamed when done. ``options`` are
    those of :func:`write_model_files` (MLflow's ``pip_requirements``, ``conda_env``, ...).
    """
    folder = Path(path)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InvalidInput(f"path {str(folder)!r}: folder is not empty")
    with partial_folder(folder.absolute().parent) as partial:
        manifest = write_model_files(
            model,
            partial,
            input_example=input_example,
            signature=signature,
            flavor=flavor,
            extra_requirements=extra_requirements,
            **options,
        )
        publish(partial, folder, what=f"path {str(folder)!r}")
    return manifest


def _requirement_lines(value: Any, field_name: str) -> list[str]:
    """A list of requirement strings, or the lines of a requirements file (MLflow accepts
    both for ``pip_requirements`` and ``extra_pip_requirements``)."""
    if isinstance(value, (str, Path)):
        path = Path(value)
        if not path.is_file():
            raise InvalidInput(f"{field_name}: {str(value)!r} is not a requirements file")
        lines = path.read_text(encoding="utf-8").splitlines()
        return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        for v in value:
            if "\n" in v or "\r" in v or "\x00" in v:
                raise InvalidInput(f"{field_name}: {v!r} must be one requirement on one line")
        return [v.strip() for v in value if v.strip()]
    raise InvalidInput(
        f"{field_name}: expected a list of requirement strings or a requirements file path, "
        f"got {type(value).__name__}"
    )


def _conda_env(value: Any) -> dict[str, Any]:
    """MLflow's ``conda_env``: a dict or the path of a conda YAML file."""
    import yaml

    if isinstance(value, (str, Path)):
        path = Path(value)
        if not path.is_file():
            raise InvalidInput(f"conda_env: {str(value)!r} is not a file")
        value = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(value, dict):
        raise InvalidInput(f"conda_env: expected a dict or a YAML file, got {type(value).__name__}")
    return value


def _conda_pip(env: dict[str, Any]) -> list[str]:
    pip: list[str] = []
    for dep in env.get("dependencies") or []:
        if isinstance(dep, dict) and isinstance(dep.get("pip"), list):
            pip.extend(str(d) for d in dep["pip"])
    return pip


def write_model_files(
    model: Any,
    folder: Path,
    *,
    input_example: Any = None,
    signature: ModelSignature | dict[str, Any] | bool | None = None,
    flavor: str | None = None,
    extra_requirements: list[str] | None = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    conda_env: Any = None,
    metadata: dict[str, Any] | None = None,
    serialization_format: str | None = None,
    predict_fn: str | None = None,
    code_paths: list[str] | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
) -> dict[str, Any]:
    """Write the model's files into the existing empty ``folder``, the manifest last.

    MLflow's options: ``pip_requirements`` (replaces the inferred requirements),
    ``extra_pip_requirements`` (added to them), ``conda_env`` (written as ``conda.yaml``; its pip
    dependencies become the requirements), ``metadata`` (kept in the manifest),
    ``serialization_format`` (``cloudpickle`` or ``pickle``), ``predict_fn`` (scikit-learn's
    ``pyfunc_predict_fn``: ``predict_proba``, ...), ``code_paths`` (copied under ``code/``),
    ``signature=False`` (no signature, none inferred).

    Not atomic by itself: callers write into a partial folder and publish it (:mod:`.folders`).
    """
    import datetime
    import shutil
    import uuid

    if pip_requirements is not None and conda_env is not None:
        raise InvalidInput("pip_requirements and conda_env: give one of them, not both")
    chosen = flavor_registry.flavor_for(model, flavor)
    example = example_to_data(input_example) if input_example is not None else None
    infer = signature is not False
    if signature is False or signature is True:
        signature = None
    if isinstance(signature, dict):
        signature = ModelSignature.from_dict(signature)
    if signature is not None and not isinstance(signature, ModelSignature):
        raise InvalidInput(
            f"signature: expected a ModelSignature (jt.infer_signature), got "
            f"{type(signature).__name__}"
        )
    if predict_fn not in (None, "predict") and not callable(getattr(model, predict_fn, None)):
        raise InvalidInput(f"pyfunc_predict_fn {predict_fn!r}: the model has no such method")
    if signature is None and example is not None and infer:
        signature = infer_signature(example)
        try:
            prepared = enforce(example, signature)
            if predict_fn not in (None, "predict"):
                output = getattr(model, predict_fn)(flavor_registry._tabular_for(model, prepared))
            else:
                output = chosen.predict(model, prepared)
            signature = ModelSignature(signature.inputs, _output_schema(output))
        except Exception as exc:  # the output schema is informative only
            log.warning("jupyter-track: could not predict on the input example: %s", exc)
    details = chosen.save(model, folder, serialization_format=serialization_format)
    if predict_fn not in (None, "predict"):
        details["predict_fn"] = predict_fn
    libraries = flavor_registry.libraries_for(model, chosen)
    if pip_requirements is not None:
        requirements = _requirement_lines(pip_requirements, "pip_requirements")
    elif conda_env is not None:
        env = _conda_env(conda_env)
        requirements = _conda_pip(env)
        import yaml

        (folder / "conda.yaml").write_text(yaml.safe_dump(env, sort_keys=False))
    else:
        requirements = [f"{name}=={version}" for name, version in libraries.items()]
    requirements += list(extra_requirements or [])
    if extra_pip_requirements is not None:
        requirements += _requirement_lines(extra_pip_requirements, "extra_pip_requirements")
    if code_paths:
        for code in code_paths:
            src = Path(code)
            if not src.exists():
                raise InvalidInput(f"code_paths: {code!r} does not exist")
            dest = folder / "code" / src.name
            if src.is_dir():
                shutil.copytree(src, dest)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "flavor": chosen.name,
        "model_file": chosen.model_file,
        "flavor_details": details,
        "python_version": platform.python_version(),
        "library_versions": libraries,
        "requirements": requirements,
        "signature": signature.to_dict() if signature is not None else None,
        "input_example": None,
        "saved_by": f"jupyter-track {__version__}",
        "model_uuid": uuid.uuid4().hex,
        "utc_time_created": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S.%f"
        ),
    }
    if run_id is not None:
        manifest["run_id"] = run_id
    if artifact_path is not None:
        manifest["artifact_path"] = artifact_path
    if metadata:
        manifest["metadata"] = json.loads(json.dumps(metadata, default=str))
    if example is not None:
        (folder / "input_example.json").write_text(json.dumps(_example_to_json(example)))
        manifest["input_example"] = "input_example.json"
    (folder / "requirements.txt").write_text("\n".join(requirements) + "\n")
    manifest["files"] = describe_files(folder, exclude=MANIFEST)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))  # last: lists the others
    return manifest


def _output_schema(output: Any) -> Any:
    if isinstance(output, pd.Series):
        output = output.to_numpy()
    if isinstance(output, list):
        output = np.asarray(output)
    try:
        return schema_of(output)
    except InvalidInput:
        return None


# ------------------------------------------------------------------------------ loading


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a saved model folder; ``NotFound`` when there is none."""
    path = folder / MANIFEST
    if not path.is_file():
        raise NotFound(f"no model saved at {str(folder)!r} (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelIntegrityError(f"{path}: the manifest is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput(f"{path}: not a jupyter-track model manifest")
    return manifest


def verified_manifest(folder: Path) -> dict[str, Any]:
    """The manifest, after checking every file it lists (``ModelIntegrityError`` names what
    is missing or differs)."""
    manifest = read_manifest(folder)
    verify_files(folder, manifest, what="the model")
    return manifest


@dataclass
class PyFuncModel:
    """A loaded model: ``predict(data)`` for every flavor, checked against the signature.

    ``data`` may be a pandas DataFrame, a numpy array, a list of dicts or a dict of columns.
    ``name``/``version``/``alias`` say which registry entry it came from (None for ``runs:/``).
    """

    native: Any
    manifest: dict[str, Any]
    path: Path
    model_uri: str | None = None
    name: str | None = None
    version: int | None = None
    alias: str | None = None
    run_id: str | None = None
    _signature: ModelSignature | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        sig = self.manifest.get("signature")
        self._signature = ModelSignature.from_dict(sig) if sig else None
        self._flavor = flavor_registry.get_flavor(self.manifest["flavor"])

    @property
    def flavor(self) -> str:
        return str(self.manifest["flavor"])

    @property
    def signature(self) -> ModelSignature | None:
        return self._signature

    @property
    def metadata(self) -> Any:
        """MLflow's ``Model`` of this folder (``.signature``, ``.flavors``, ``.run_id``,
        ``get_input_schema()``, ...); indexing it reads the manifest (``["flavor"]``)."""
        from .mlmodel import Model

        return Model.from_manifest(self.manifest, self.path)

    @property
    def input_example(self) -> pd.DataFrame | np.ndarray | None:
        name = self.manifest.get("input_example")
        if not name:
            return None
        return _example_from_json(json.loads((self.path / name).read_text()))

    def prepare(self, data: Any) -> Any:
        """Check ``data`` against the signature and convert it; raises ``SignatureError``.

        A ``PythonModel`` without a signature gets ``data`` as given (as in MLflow)."""
        if self._signature is None and self._flavor.raw_input():
            return data
        return enforce(data, self._signature)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predictions for ``data`` (DataFrame, numpy array, list of dicts, dict of columns).

        A missing column or a value of the wrong type raises ``SignatureError`` (a
        ``ValueError``) naming the column. ``params`` go to a ``PythonModel``'s ``predict``.
        """
        prepared = self.prepare(data)
        method = (self.manifest.get("flavor_details") or {}).get("predict_fn")
        if method:  # scikit-learn's pyfunc_predict_fn (predict_proba, ...)
            return getattr(self.native, method)(flavor_registry._tabular_for(self.native, prepared))
        return self._flavor.predict(self.native, prepared, params)

    def get_raw_model(self) -> Any:
        """The underlying scikit-learn / XGBoost / PyTorch / Python object (for a
        ``PythonModel``, the instance that was logged)."""
        from ..pyfunc import _Bundle

        return self.native.python_model if isinstance(self.native, _Bundle) else self.native

    def unwrap_python_model(self) -> Any:
        """MLflow's name: the ``PythonModel`` instance (the raw model for other flavors)."""
        return self.get_raw_model()

    def __repr__(self) -> str:
        where = self.model_uri or str(self.path)
        return f"<PyFuncModel {self.flavor} {where}>"


def load_model_folder(folder: Path, **info: Any) -> PyFuncModel:
    """Load the model saved in ``folder`` (a warning when library versions differ).

    The files are checked against the manifest first (``ModelIntegrityError``).
    """
    manifest = verified_manifest(folder)
    flavor = flavor_registry.get_flavor(manifest["flavor"])
    for name, saved in (manifest.get("library_versions") or {}).items():
        here = flavor_registry.distribution_version(name)
        if here is not None and here != saved:
            log.warning(
                "jupyter-track: model %s was saved with %s %s, this environment has %s",
                info.get("model_uri") or folder,
                name,
                saved,
                here,
            )
    try:
        native = flavor.load(folder, manifest.get("flavor_details") or {})
    except ImportError as exc:
        needs = ", ".join(manifest.get("requirements") or [])
        raise InvalidInput(
            f"cannot load the {flavor.name} model: {exc} (it needs {needs})"
        ) from exc
    return PyFuncModel(native, manifest, folder, **info)
