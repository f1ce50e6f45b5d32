"""Model URIs and registration, shared by the fluent API, ``TrackClient``, serving and REST.

* ``runs:/<run_id>/<path>`` -- a model logged in a run;
* ``models:/<name>/<version>`` and ``models:/<name>/latest`` -- a registered version;
* ``models:/<name>@<alias>`` -- the version an alias points to *now*;
* a local folder holding a saved model (``manifest.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..store import SQLiteStore
from ..store.errors import InvalidInput, NotFound
from ..store.registry import ModelVersion, check_alias_name, check_model_name, check_version
from .model import MANIFEST, PyFuncModel, load_model_folder, verified_manifest


@dataclass(frozen=True)
class ModelRef:
    """A parsed model URI: ``kind`` is ``runs``, ``version``, ``latest``, ``alias`` or ``path``."""

    kind: str
    uri: str
    run_id: str | None = None
    artifact_path: str | None = None
    name: str | None = None
    version: int | None = None
    alias: str | None = None
    path: Path | None = None


def parse_model_uri(uri: str) -> ModelRef:
    """Parse a model URI; ``InvalidInput`` says which form was expected."""
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidInput(f"model_uri {uri!r}: must be a non-empty string")
    if uri.startswith("runs:/"):
        rest = uri[len("runs:/") :].strip("/")
        run_id, _, path = rest.partition("/")
        if not run_id or not path:
            raise InvalidInput(f"model_uri {uri!r}: expected runs:/<run_id>/<model name>")
        return ModelRef("runs", uri, run_id=run_id, artifact_path=path)
    if uri.startswith("models:/"):
        rest = uri[len("models:/") :].strip("/")
        if "@" in rest:
            name, _, alias = rest.rpartition("@")
            check_model_name(name)
            check_alias_name(alias)
            return ModelRef("alias", uri, name=name, alias=alias)
        name, _, version = rest.rpartition("/")
        if not name or not version:
            raise InvalidInput(
                f"model_uri {uri!r}: expected models:/<name>/<version>, models:/<name>/latest "
                "or models:/<name>@<alias>"
            )
        check_model_name(name)
        if version.lower() == "latest":
            return ModelRef("latest", uri, name=name)
        if version[:1] in "vV" and version[1:].isdigit():
            version = version[1:]
        return ModelRef("version", uri, name=name, version=check_version(version))
    folder = Path(uri[len("file://") :] if uri.startswith("file://") else uri)
    if (folder / MANIFEST).is_file():
        return ModelRef("path", uri, path=folder)
    raise InvalidInput(
        f"model_uri {uri!r}: expected runs:/<run_id>/<name>, models:/<name>/<version>, "
        "models:/<name>@<alias> or a folder holding a saved model"
    )


def run_model_paths(store: SQLiteStore, run_id: str) -> list[str]:
    """Paths (relative to the run's artifacts) of the models logged in ``run_id``."""
    base = store.artifact_dir(run_id)
    if not base.is_dir():
        return []
    return sorted(p.parent.relative_to(base).as_posix() for p in base.rglob(MANIFEST))


def run_model_folder(store: SQLiteStore, run_id: str, artifact_path: str) -> Path:
    """The folder of the model ``artifact_path`` in ``run_id``; ``NotFound`` names what exists."""
    folder = store.artifact_path(run_id, artifact_path)  # NotFound for an unknown run
    if not (folder / MANIFEST).is_file():
        found = run_model_paths(store, run_id)
        has = f"it has: {', '.join(found)}" if found else "it has no logged models"
        raise NotFound(f"run {run_id} has no model artifact {artifact_path!r} ({has})")
    return folder


def resolve_version(store: SQLiteStore, ref: ModelRef) -> ModelVersion:
    """The registry version a ``models:/`` reference names right now."""
    assert ref.name is not None
    if ref.kind == "alias":
        assert ref.alias is not None
        return store.get_model_version_by_alias(ref.name, ref.alias)
    if ref.kind == "latest":
        return store.get_latest_model_version(ref.name)
    assert ref.version is not None
    return store.get_model_version(ref.name, ref.version)


def version_folder(store: SQLiteStore, mv: ModelVersion) -> Path:
    """Where the files of a registered version live."""
    if mv.run_id and mv.artifact_path:
        return run_model_folder(store, mv.run_id, mv.artifact_path)
    ref = parse_model_uri(mv.source)
    if ref.kind == "runs":
        assert ref.run_id is not None and ref.artifact_path is not None
        return run_model_folder(store, ref.run_id, ref.artifact_path)
    if ref.kind == "path" and ref.path is not None:
        return ref.path
    raise NotFound(f"version {mv.version} of model {mv.name!r}: source {mv.source!r} not found")


def load_model(store: SQLiteStore, model_uri: str) -> PyFuncModel:
    """Load the model a URI names (aliases are resolved once, at load time)."""
    ref = parse_model_uri(model_uri)
    if ref.kind == "runs":
        assert ref.run_id is not None and ref.artifact_path is not None
        folder = run_model_folder(store, ref.run_id, ref.artifact_path)
        return load_model_folder(folder, model_uri=model_uri, run_id=ref.run_id)
    if ref.kind == "path":
        assert ref.path is not None
        return load_model_folder(ref.path, model_uri=model_uri)
    mv = resolve_version(store, ref)
    return load_version(store, mv, model_uri=model_uri, alias=ref.alias)


def load_version(
    store: SQLiteStore, mv: ModelVersion, *, model_uri: str | None = None, alias: str | None = None
) -> PyFuncModel:
    """Load one registered version."""
    return load_model_folder(
        version_folder(store, mv),
        model_uri=model_uri or f"models:/{mv.name}/{mv.version}",
        name=mv.name,
        version=mv.version,
        alias=alias,
        run_id=mv.run_id,
    )


def register_model(
    store: SQLiteStore,
    model_uri: str,
    name: str,
    *,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    actor: str | None = None,
    verified: bool = False,
    create_model: bool = True,
    run_id_hint: str | None = None,
) -> ModelVersion:
    """Register the model at ``model_uri`` as the next version of ``name`` (created if new).

    The model must exist (a run without that model artifact is ``NotFound``, naming the models
    the run has); the model and its first version are written in one transaction. A local folder
    is accepted only inside the artifacts of ``run_id_hint``.
    """
    check_model_name(name)
    ref = parse_model_uri(model_uri)
    if ref.kind == "runs":
        assert ref.run_id is not None and ref.artifact_path is not None
        verified_manifest(run_model_folder(store, ref.run_id, ref.artifact_path))
        run_id: str | None = ref.run_id
        path: str | None = ref.artifact_path.strip("/")
        source = f"runs:/{run_id}/{path}"
    elif ref.kind == "path" and run_id_hint is not None:
        assert ref.path is not None
        base = store.artifact_dir(run_id_hint).resolve()
        folder = ref.path.resolve()
        if base not in folder.parents:
            raise InvalidInput(
                f"source {model_uri!r}: not inside the artifacts of run {run_id_hint}"
            )
        return register_model(
            store,
            f"runs:/{run_id_hint}/{folder.relative_to(base).as_posix()}",
            name,
            tags=tags,
            description=description,
            actor=actor,
            verified=verified,
            create_model=create_model,
        )
    elif ref.kind in ("version", "latest", "alias"):
        mv = resolve_version(store, ref)
        verified_manifest(version_folder(store, mv))
        run_id, path, source = mv.run_id, mv.artifact_path, mv.source
    else:
        raise InvalidInput(
            f"model_uri {model_uri!r}: register a model logged in a run (runs:/<run_id>/<name>, "
            "from jt.log_model) or an existing version (models:/<name>/<version>)"
        )
    return store.create_model_version(
        name,
        source,
        run_id,
        tags=tags,
        description=description,
        artifact_path=path,
        create_model=create_model,
        actor=actor,
        verified=verified,
    )
