"""The registry's fluent API (``jt.log_model``, ``jt.register_model``, aliases, rollback, ...).

MLflow's names and semantics. In a kernel the audit trail records the JupyterHub user (or the OS
user) as the actor, marked unverified; the Jupyter server records its authenticated user.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..store.errors import Conflict, InvalidInput
from ..store.registry import UNSET, AuditEntry, ModelVersion, RegisteredModel
from ..tracking import fluent as tracking
from ..tracking import session
from . import resolve
from .folders import STAGING, partial_folder, publish
from .model import MANIFEST, PyFuncModel, write_model_files
from .signature import ModelSignature

log = logging.getLogger("jupyter_track.models")


@dataclass
class ModelInfo:
    """What :func:`log_model` saved (MLflow's ``ModelInfo``)."""

    model_uri: str
    run_id: str
    artifact_path: str
    flavor: str
    signature: ModelSignature | None
    requirements: list[str]
    registered_model_version: int | None = None
    manifest: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.artifact_path

    @property
    def flavors(self) -> dict[str, Any]:
        """MLflow's flavor map: this model's flavor and ``python_function`` (every model
        loads with ``pyfunc.load_model``)."""
        from .mlmodel import flavors_of

        return flavors_of(self.manifest)

    @property
    def model_uuid(self) -> str | None:
        return self.manifest.get("model_uuid")

    @property
    def utc_time_created(self) -> str | None:
        return self.manifest.get("utc_time_created")

    @property
    def metadata(self) -> dict[str, Any] | None:
        """The ``metadata`` given to ``log_model``."""
        return self.manifest.get("metadata")

    @property
    def saved_input_example_info(self) -> dict[str, Any] | None:
        name = self.manifest.get("input_example")
        return {"artifact_path": name, "type": "json"} if name else None


def _store() -> Any:
    return session.current().store


def log_model(
    model: Any,
    name: str | None = None,
    input_example: Any = None,
    signature: ModelSignature | dict[str, Any] | bool | None = None,
    registered_model_name: str | None = None,
    *,
    artifact_path: str | None = None,
    flavor: str | None = None,
    extra_requirements: list[str] | None = None,
    run_id: str | None = None,
    **options: Any,
) -> ModelInfo:
    """Save ``model`` in the active run (started if none) as ``name`` and return a ModelInfo.

    Works for scikit-learn estimators and pipelines, XGBoost (Booster and the scikit-learn API),
    LightGBM, PyTorch ``nn.Module``, ``pyfunc.PythonModel`` and any object with a ``predict``
    method. The signature is inferred from ``input_example`` when not given. With
    ``registered_model_name`` the model is also registered (a new version; the registered model
    is created if needed). ``options`` are MLflow's (``pip_requirements``, ``conda_env``,
    ``metadata``, ``serialization_format``, ...: see
    :func:`jupyter_track.models.model.write_model_files`).
    """
    name = name or artifact_path or "model"
    if not isinstance(name, str) or not name.strip("/ "):
        raise InvalidInput(f"name {name!r}: must name the model's folder in the run")
    name = name.strip("/")
    store = _store()
    rid = run_id or tracking.get_or_start_run().info.run_id
    target = store.artifact_path(rid, name)  # validates the path (no '..', ...)
    if (target / MANIFEST).exists():
        raise Conflict(f"run {rid} already has a model named {name!r}; pick another name")
    if registered_model_name is not None:
        from ..store.registry import check_model_name

        check_model_name(registered_model_name)
    # written under a temporary name in the artifact root and renamed into the run when
    # complete: a killed process never leaves something that looks like a model
    with partial_folder(store.artifact_root / STAGING) as partial:
        manifest = write_model_files(
            model,
            partial,
            input_example=input_example,
            signature=signature,
            flavor=flavor,
            extra_requirements=extra_requirements,
            run_id=rid,
            artifact_path=name,
            **options,
        )
        files = [(f"{name}/{rel}", meta["size"]) for rel, meta in manifest["files"].items()]
        files.append((f"{name}/{MANIFEST}", (partial / MANIFEST).stat().st_size))
        publish(partial, target, what=f"run {rid}: model {name!r}")
    store.record_artifacts(rid, files)
    sig = manifest.get("signature")
    info = ModelInfo(
        model_uri=f"runs:/{rid}/{name}",
        run_id=rid,
        artifact_path=name,
        flavor=manifest["flavor"],
        signature=ModelSignature.from_dict(sig) if sig else None,
        requirements=list(manifest["requirements"]),
        manifest=manifest,
    )
    if registered_model_name is not None:
        mv = register_model(info.model_uri, registered_model_name)
        info.registered_model_version = mv.version
    return info


def load_model(model_uri: str) -> PyFuncModel:
    """Load ``runs:/<run_id>/<name>``, ``models:/<name>/<version>``, ``models:/<name>/latest`` or
    ``models:/<name>@<alias>``; the result's ``.predict`` takes a DataFrame, a numpy array or a
    list of dicts and checks it against the signature."""
    return resolve.load_model(_store(), model_uri)


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int | None = None,
    *,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
) -> ModelVersion:
    """Register the model at ``model_uri`` (``runs:/<run_id>/<name>``) as a new version of
    ``name``; the registered model is created when new. Returns the ModelVersion."""
    return resolve.register_model(
        _store(), model_uri, name, tags=dict(tags or {}), description=description
    )


def create_registered_model(
    name: str, tags: Mapping[str, Any] | None = None, description: str | None = None
) -> RegisteredModel:
    """Create an empty registered model (``register_model`` does this on first use)."""
    return _store().create_registered_model(name, tags=dict(tags or {}), description=description)


def get_registered_model(name: str) -> RegisteredModel:
    """The registered model with its tags, aliases and latest version."""
    return _store().get_registered_model(name)


def get_model_version(name: str, version: int | str) -> ModelVersion:
    """One version of a registered model."""
    return _store().get_model_version(name, version)


def delete_registered_model(name: str) -> None:
    """Delete a registered model with its versions and aliases (the audit trail stays)."""
    _store().delete_registered_model(name)


def delete_model_version(name: str, version: int | str) -> None:
    """Delete one version (and the aliases pointing at it)."""
    _store().delete_model_version(name, version)


def set_registered_model_alias(
    name: str, alias: str, version: int | str, *, expected_version: Any = UNSET
) -> None:
    """Point ``alias`` (e.g. ``champion``) at ``version`` of ``name``: one version per alias;
    ``latest`` and ``v<N>`` are reserved. ``expected_version`` makes it a compare-and-set: if the
    alias points elsewhere now, ``AliasConflict`` names where."""
    _store().set_registered_model_alias(name, alias, version, expected_version=expected_version)


def delete_registered_model_alias(name: str, alias: str) -> None:
    """Remove ``alias`` from ``name``."""
    _store().delete_registered_model_alias(name, alias)


def get_model_version_by_alias(name: str, alias: str) -> ModelVersion:
    """The version ``alias`` points to."""
    return _store().get_model_version_by_alias(name, alias)


def search_registered_models(
    max_results: int = 100_000,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[RegisteredModel]:
    """Registered models matching ``filter_string`` (``name LIKE 'fraud%'``,
    ``tags.team = 'risk'``, ``alias = 'champion'``, joined by AND)."""
    return list(
        _store().search_registered_models(filter_string, max_results=max_results, order_by=order_by)
    )


def search_model_versions(
    max_results: int = 100_000,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[ModelVersion]:
    """Model versions matching ``filter_string`` (``name = 'm'``, ``run_id = '...'``,
    ``version >= 2``, ``tags.k = 'v'``, ``alias = 'champion'``, joined by AND)."""
    return list(
        _store().search_model_versions(filter_string, max_results=max_results, order_by=order_by)
    )


def update_registered_model(name: str, description: str | None) -> RegisteredModel:
    """Set the registered model's description."""
    return _store().update_registered_model(name, description)


def update_model_version(name: str, version: int | str, description: str | None) -> ModelVersion:
    """Set a version's description."""
    return _store().update_model_version(name, version, description)


def set_registered_model_tag(name: str, key: str, value: Any) -> None:
    """Set a tag on a registered model."""
    _store().set_registered_model_tag(name, key, value)


def delete_registered_model_tag(name: str, key: str) -> None:
    """Remove a tag from a registered model."""
    _store().delete_registered_model_tag(name, key)


def set_model_version_tag(name: str, version: int | str, key: str, value: Any) -> None:
    """Set a tag on one model version."""
    _store().set_model_version_tag(name, version, key, value)


def delete_model_version_tag(name: str, version: int | str, key: str) -> None:
    """Remove a tag from one model version."""
    _store().delete_model_version_tag(name, version, key)


def alias_history(name: str, alias: str) -> list[AuditEntry]:
    """Every set, move, delete and rollback of ``alias``, oldest first: who (and whether the
    server verified them), when, from which version to which."""
    return _store().alias_history(name, alias)


def rollback_alias(name: str, alias: str) -> ModelVersion:
    """Move ``alias`` back to the version it pointed to before its last move (recorded in the
    audit trail as a rollback); returns the version it points to now."""
    return _store().rollback_alias(name, alias)


def registry_audit(name: str | None = None, max_results: int = 1000) -> list[AuditEntry]:
    """The registry's audit trail (for one model when ``name`` is given), oldest first."""
    return _store().registry_audit(name, max_results=max_results)
