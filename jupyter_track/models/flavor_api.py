"""What MLflow's flavor modules share (``jt.sklearn``, ``jt.xgboost``, ``jt.lightgbm``,
``jt.pytorch``, ``jt.pyfunc``): ``log_model`` / ``save_model`` with MLflow's keywords, and
``load_model`` returning the framework's own object.

Every one of them writes the same model folder through :func:`.fluent.log_model` and
:func:`.model.save_model` (one source); this module only maps MLflow's keywords onto them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..store.errors import InvalidInput

_IGNORED = (
    "infer_code_paths",
    "await_registration_for",
    "step",
    "model_type",
    "prompts",
    "model_format",
    "model_id",
)
"""MLflow keywords accepted and without effect here (registration is synchronous; no
code inference)."""


def _options(kwargs: dict[str, Any]) -> dict[str, Any]:
    for key in _IGNORED:
        kwargs.pop(key, None)
    params = kwargs.pop("params", None)
    tags = kwargs.pop("tags", None)
    unknown = sorted(k for k in kwargs if k not in _ACCEPTED)
    if unknown:
        raise InvalidInput(f"log_model: unsupported keyword(s) {', '.join(unknown)}")
    options = {k: v for k, v in kwargs.items() if v is not None}
    if params or tags:
        meta = dict(options.get("metadata") or {})
        if params:
            meta["params"] = dict(params)
        if tags:
            meta["tags"] = dict(tags)
        options["metadata"] = meta
    return options


_ACCEPTED = (
    "pip_requirements",
    "extra_pip_requirements",
    "conda_env",
    "metadata",
    "serialization_format",
    "predict_fn",
    "code_paths",
)


def flavor_log_model(
    flavor: str,
    model: Any,
    *,
    name: str | None = None,
    artifact_path: str | None = None,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    run_id: str | None = None,
    **kwargs: Any,
) -> Any:
    """Log ``model`` with ``flavor`` in the active run (started if none); a ModelInfo."""
    from . import fluent

    if name is not None and artifact_path is not None and name != artifact_path:
        raise InvalidInput(
            f"name {name!r} and artifact_path {artifact_path!r}: give one of them "
            "(artifact_path is MLflow 2's name for it)"
        )
    return fluent.log_model(
        model,
        name=name or artifact_path or "model",
        input_example=input_example,
        signature=signature,
        registered_model_name=registered_model_name,
        flavor=flavor,
        run_id=run_id,
        **_options(kwargs),
    )


def flavor_save_model(
    flavor: str,
    model: Any,
    path: str | Path,
    *,
    signature: Any = None,
    input_example: Any = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Save ``model`` with ``flavor`` into the folder ``path``; the manifest."""
    from .model import save_model

    kwargs.pop("mlflow_model", None)
    return save_model(
        model,
        path,
        input_example=input_example,
        signature=signature,
        flavor=flavor,
        **_options(kwargs),
    )


def flavor_load_model(flavor: str, model_uri: str) -> Any:
    """The framework's own object saved at ``model_uri`` (``runs:/``, ``models:/`` or a
    folder); a model of another flavor is refused, naming it (as MLflow does)."""
    from . import fluent

    loaded = fluent.load_model(str(model_uri))
    if loaded.flavor != flavor:
        raise InvalidInput(
            f"model {model_uri!r} was saved with the {loaded.flavor!r} flavor, not {flavor!r}; "
            f"load it with jt.{_module_of(loaded.flavor)}.load_model or jt.pyfunc.load_model"
        )
    return loaded.native


def _module_of(flavor: str) -> str:
    return {"python_function": "pyfunc", "python": "pyfunc"}.get(flavor, flavor)
