"""``jt.pyfunc``: MLflow's ``mlflow.pyfunc`` -- custom Python models and the generic loader.

Subclass :class:`PythonModel` (``load_context(context)`` once after loading, ``predict(context,
model_input, params=None)`` for each call), log it with ``jt.pyfunc.log_model(name=...,
python_model=..., artifacts={"weights": "path/or/runs:/uri"})`` and load any logged model --
whatever its flavor -- with ``jt.pyfunc.load_model(uri)``, whose ``predict`` takes a DataFrame,
an array or a list of dicts (a ``PythonModel`` without a signature gets its input as given).
The artifacts are copied into the model folder; ``context.artifacts[name]`` is their local path
once loaded. The model folder is the same one every flavor uses (:mod:`jupyter_track.models`).
"""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path
from typing import Any

from .models.flavor_api import flavor_log_model, flavor_save_model
from .models.model import PyFuncModel

__all__ = [
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "get_model_dependencies",
    "load_model",
    "log_model",
    "save_model",
]

FLAVOR_NAME = "python_function"


class PythonModelContext:
    """What ``load_context`` and ``predict`` receive: ``artifacts`` (name -> local path) and
    ``model_config`` (the dict given to ``log_model``)."""

    def __init__(
        self, artifacts: dict[str, str] | None = None, model_config: dict[str, Any] | None = None
    ):
        self._artifacts = dict(artifacts or {})
        self._model_config = dict(model_config or {})

    @property
    def artifacts(self) -> dict[str, str]:
        return self._artifacts

    @property
    def model_config(self) -> dict[str, Any]:
        return self._model_config

    def __repr__(self) -> str:
        return f"PythonModelContext(artifacts={self._artifacts!r})"


class PythonModel:
    """Base class of custom models (MLflow's ``mlflow.pyfunc.PythonModel``).

    Override ``predict(self, context, model_input, params=None)`` (``context`` may be left out:
    ``predict(self, model_input, params=None)``) and, to read artifacts once after loading,
    ``load_context(self, context)``.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Called once when the model is loaded (and before predicting on the input example)."""

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        raise NotImplementedError("a PythonModel must define predict(context, model_input)")


class _FunctionModel(PythonModel):
    """A plain function given as ``python_model`` (MLflow 3 accepts one)."""

    def __init__(self, fn: Any):
        self.fn = fn

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return self.fn(model_input)


def _wants_context(method: Any) -> tuple[bool, bool]:
    """Whether a ``predict`` takes ``context`` first, and whether it takes ``params``."""
    try:
        sig = inspect.signature(method)
    except (TypeError, ValueError):
        return True, True
    names = [
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    has_var = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    context = bool(names) and (names[0] == "context" or len(names) >= 3)
    params = "params" in sig.parameters or has_var
    return context, params


class _Bundle:
    """A ``PythonModel`` with its context: what the ``python_function`` flavor saves, loads and
    calls (:class:`jupyter_track.models.flavors.PythonModelFlavor`)."""

    def __init__(
        self,
        python_model: Any,
        artifacts: dict[str, str] | None = None,
        model_config: dict[str, Any] | None = None,
    ):
        if not isinstance(python_model, PythonModel):
            if not callable(python_model):
                raise _invalid(
                    "python_model: expected a PythonModel subclass instance or a function, "
                    f"got {type(python_model).__name__}"
                )
            python_model = _FunctionModel(python_model)
        self.python_model = python_model
        self.context = PythonModelContext(artifacts, model_config)
        self._loaded = False

    def ensure_loaded(self) -> None:
        if not self._loaded:
            self.python_model.load_context(self.context)
            self._loaded = True

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        self.ensure_loaded()
        with_context, with_params = _wants_context(self.python_model.predict)
        args = (self.context, data) if with_context else (data,)
        if with_params:
            return self.python_model.predict(*args, params=params)
        return self.python_model.predict(*args)

    def save(self, folder: Path, pickler: Any) -> dict[str, Any]:
        saved: dict[str, str] = {}
        for name, source in self.context.artifacts.items():
            src = Path(source)
            dest = folder / "artifacts" / name / src.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dest)
            else:
                shutil.copy2(src, dest)
            saved[name] = dest.relative_to(folder).as_posix()
        with (folder / "python_model.pkl").open("wb") as f:
            pickler.dump(self.python_model, f)
        cls = type(self.python_model)
        return {
            "serialization": getattr(pickler, "__name__", "pickle"),
            "python_model": "python_model.pkl",
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "artifacts": saved,
            "model_config": self.context.model_config,
        }

    @classmethod
    def load(cls, folder: Path, details: dict[str, Any]) -> _Bundle:
        import pickle

        with (folder / details.get("python_model", "python_model.pkl")).open("rb") as f:
            python_model = pickle.load(f)
        artifacts = {
            name: str((folder / rel).resolve())
            for name, rel in (details.get("artifacts") or {}).items()
        }
        bundle = cls(python_model, artifacts, details.get("model_config"))
        bundle.ensure_loaded()
        return bundle


def _invalid(message: str) -> Exception:
    from .store.errors import InvalidInput

    return InvalidInput(message)


_ARTIFACT_NAME = re.compile(r"[\w.\- ]{1,200}", re.ASCII)


def _local_artifacts(artifacts: dict[str, Any] | None) -> dict[str, str]:
    """``artifacts`` given to ``log_model``: name -> a local path, ``file://`` URI or
    ``runs:/<run_id>/<path>`` (an artifact of a run in this store)."""
    if artifacts is None:
        return {}
    if not isinstance(artifacts, dict):
        raise _invalid(
            f"artifacts: expected a dict of name -> path, got {type(artifacts).__name__}"
        )
    local: dict[str, str] = {}
    for name, uri in artifacts.items():
        if not isinstance(name, str) or not _ARTIFACT_NAME.fullmatch(name) or set(name) == {"."}:
            raise _invalid(
                f"artifacts: name {name!r} must be 1-200 letters, digits, '_', '-', '.' or spaces"
            )
        text = str(uri)
        if text.startswith("runs:/"):
            from .tracking import session

            run_id, _, path = text[len("runs:/") :].strip("/").partition("/")
            if not run_id or not path:
                raise _invalid(f"artifacts[{name!r}]: expected runs:/<run_id>/<path>, got {text!r}")
            session.current().flush()
            target = session.current().store.artifact_path(run_id, path)
        else:
            target = Path(text[len("file://") :] if text.startswith("file://") else text)
        if not target.exists():
            raise _invalid(f"artifacts[{name!r}]: {text!r} does not exist")
        local[name] = str(target)
    return local


def _bundle(
    python_model: Any, artifacts: dict[str, Any] | None, model_config: dict[str, Any] | None
) -> _Bundle:
    if python_model is None:
        raise _invalid(
            "python_model: required (loader_module / data_path models are not supported; "
            "wrap the model in a PythonModel)"
        )
    if model_config is not None and not isinstance(model_config, dict):
        raise _invalid(f"model_config: expected a dict, got {type(model_config).__name__}")
    return _Bundle(python_model, _local_artifacts(artifacts), model_config)


def log_model(
    artifact_path: str | None = None,
    loader_module: str | None = None,
    data_path: str | None = None,
    code_paths: list[str] | None = None,
    infer_code_paths: bool = False,
    conda_env: Any = None,
    python_model: Any = None,
    artifacts: dict[str, Any] | None = None,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> Any:
    """Log a custom ``python_model`` (a :class:`PythonModel` or a function) with its
    ``artifacts`` in the active run (started if none) as ``name``; returns a ModelInfo."""
    if loader_module is not None or data_path is not None:
        raise _invalid("loader_module / data_path: not supported; log a PythonModel instead")
    return flavor_log_model(
        FLAVOR_NAME,
        _bundle(python_model, artifacts, model_config),
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        signature=signature,
        input_example=input_example,
        await_registration_for=await_registration_for,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
        metadata=metadata,
        code_paths=code_paths,
        **kwargs,
    )


def save_model(
    path: str | Path,
    loader_module: str | None = None,
    data_path: str | None = None,
    code_paths: list[str] | None = None,
    infer_code_paths: bool = False,
    conda_env: Any = None,
    mlflow_model: Any = None,
    python_model: Any = None,
    artifacts: dict[str, Any] | None = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Save a custom ``python_model`` with its ``artifacts`` into the folder ``path``."""
    if loader_module is not None or data_path is not None:
        raise _invalid("loader_module / data_path: not supported; save a PythonModel instead")
    flavor_save_model(
        FLAVOR_NAME,
        _bundle(python_model, artifacts, model_config),
        path,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
        metadata=metadata,
        code_paths=code_paths,
    )


def load_model(
    model_uri: str, suppress_warnings: bool = False, dst_path: str | None = None, **kwargs: Any
) -> PyFuncModel:
    """Load any logged or saved model (every flavor) as a :class:`PyFuncModel`: ``predict``,
    ``unwrap_python_model()``, ``metadata``."""
    from .models import fluent

    return fluent.load_model(model_uri)


def get_model_dependencies(model_uri: str, format: str = "pip") -> str:
    """The path of the model's ``requirements.txt`` (MLflow's ``format="pip"``)."""
    if format != "pip":
        raise _invalid(f"format {format!r}: only 'pip' is supported")
    model = load_model(model_uri)
    return str(Path(model.path) / "requirements.txt")
