"""``RegistryClientMixin``: the registry half of ``TrackClient`` (MlflowClient's names).

``TrackClient`` inherits it; every method works on ``self.store`` (a
:class:`~jupyter_track.store.interface.Store`). Changes are attributed, in the audit trail,
to the hub or OS user of the process, marked unverified.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..store.errors import InvalidInput, NotFound
from ..store.interface import Store
from ..store.registry import UNSET, AuditEntry, ModelVersion, PagedList, RegisteredModel
from . import resolve
from .model import PyFuncModel


class RegistryClientMixin:
    """Registered models, versions, aliases, rollback and the audit trail."""

    store: Store

    # ------------------------------------------------------------------ registered models

    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        """Create an empty registered model; an existing name is a ``Conflict``."""
        return self.store.create_registered_model(name, dict(tags or {}), description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its tags, aliases and latest version."""
        return self.store.get_registered_model(name)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        """Set the model's description."""
        return self.store.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        """Delete the model, its versions and aliases (the audit trail stays)."""
        self.store.delete_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """One page of models matching ``filter_string``; ``.token`` fetches the next."""
        return self.store.search_registered_models(filter_string, max_results, order_by, page_token)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set a tag on a registered model."""
        self.store.set_registered_model_tag(name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove a tag from a registered model."""
        self.store.delete_registered_model_tag(name, key)

    # ---------------------------------------------------------------------------- versions

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int = 300,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Add a version of an existing model from any ``source`` string, as MLflow. A model
        folder in a run's artifacts (``runs:/<run_id>/<path>``, or a path inside ``run_id``'s
        artifacts) is also recorded as the version's folder, so ``jt.load_model`` finds it;
        ``get_model_version_download_uri`` returns ``source``."""
        from ..mlflow_protocol.registry import run_model_path

        if not isinstance(source, str) or not source.strip():
            raise InvalidInput(f"source {source!r}: must be a non-empty string")
        artifact_path = None
        located = run_model_path(source)
        if located is not None and (run_id is None or run_id == located[0]):
            run_id, artifact_path = located
        elif run_id is not None and "://" not in source and ":/" not in source:
            base = self.store.artifact_dir(run_id).resolve()  # a path inside the run's folder
            folder = Path(source).expanduser().resolve()
            if base in folder.parents:
                artifact_path = folder.relative_to(base).as_posix()
        return self.store.create_model_version(
            name, source, run_id, dict(tags or {}), description, artifact_path=artifact_path
        )

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Give a model another name (its versions, tags and aliases follow; audited)."""
        rename = getattr(self.store, "rename_registered_model", None)
        if rename is None:
            from ..exceptions import MlflowNotImplementedException

            raise MlflowNotImplementedException(
                "rename_registered_model: the team service does not serve it yet"
            )
        return rename(name, new_name)

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Copy the version ``src_model_uri`` (``models:/<name>/<version>`` or
        ``models:/<name>@<alias>``) as a new version of ``dst_name`` (created when new), as
        MLflow: its source is ``models:/<name>/<version>``, its run, folder, tags and
        description are the source version's."""
        ref = resolve.parse_model_uri(src_model_uri)
        if ref.kind not in ("version", "alias", "latest"):
            raise InvalidInput(
                f"src_model_uri {src_model_uri!r}: must name a registered version "
                "(models:/<name>/<version> or models:/<name>@<alias>)"
            )
        src = resolve.resolve_version(self.store, ref)
        return self.store.create_model_version(
            dst_name,
            f"models:/{src.name}/{src.version}",
            src.run_id,
            dict(src.tags),
            src.description,
            artifact_path=src.artifact_path,
            create_model=_missing(self.store, dst_name),
        )

    def register_model(
        self,
        model_uri: str,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> ModelVersion:
        """Register ``model_uri`` as a new version of ``name`` (the model is created if new)."""
        return resolve.register_model(
            self.store, model_uri, name, tags=dict(tags or {}), description=description
        )

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """One version of a registered model."""
        return self.store.get_model_version(name, version)

    def get_latest_version(self, name: str) -> ModelVersion:
        """The highest-numbered version of ``name``."""
        return self.store.get_latest_model_version(name)

    def update_model_version(
        self, name: str, version: int | str, description: str | None = None
    ) -> ModelVersion:
        """Set a version's description."""
        return self.store.update_model_version(name, version, description)

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Delete a version and the aliases that point to it."""
        self.store.delete_model_version(name, version)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """The version's source, as MLflow (``runs:/...``, a path or any URI it was created
        from)."""
        return self.store.get_model_version(name, version).source

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """One page of versions matching ``filter_string``; ``.token`` fetches the next."""
        return self.store.search_model_versions(filter_string, max_results, order_by, page_token)

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        """Set a tag on one version."""
        self.store.set_model_version_tag(name, version, key, value)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        """Remove a tag from one version."""
        self.store.delete_model_version_tag(name, version, key)

    # ----------------------------------------------------------------------------- aliases

    def set_registered_model_alias(
        self, name: str, alias: str, version: int | str, *, expected_version: Any = UNSET
    ) -> None:
        """Point ``alias`` at ``version``; ``expected_version`` makes it a compare-and-set
        (``AliasConflict`` names the version the alias points to now)."""
        self.store.set_registered_model_alias(
            name, alias, version, expected_version=expected_version
        )

    def delete_registered_model_alias(
        self, name: str, alias: str, *, expected_version: Any = UNSET
    ) -> None:
        """Remove ``alias`` from ``name``."""
        self.store.delete_registered_model_alias(name, alias, expected_version=expected_version)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points to."""
        return self.store.get_model_version_by_alias(name, alias)

    def rollback_alias(
        self, name: str, alias: str, *, expected_version: Any = UNSET
    ) -> ModelVersion:
        """Move ``alias`` back to its previous version (audited as a rollback)."""
        return self.store.rollback_alias(name, alias, expected_version=expected_version)

    def alias_history(self, name: str, alias: str) -> list[AuditEntry]:
        """Every change of ``alias``, oldest first."""
        return self.store.alias_history(name, alias)

    def get_registry_audit(
        self, name: str | None = None, max_results: int = 1000
    ) -> list[AuditEntry]:
        """The registry's audit trail (for one model when ``name`` is given), oldest first."""
        return self.store.registry_audit(name, max_results=max_results)

    def load_model(self, model_uri: str) -> PyFuncModel:
        """Load a model URI from this client's store."""
        return resolve.load_model(self.store, model_uri)


def _missing(store: Store, name: str) -> bool:
    try:
        store.get_registered_model(name)
    except NotFound:
        return True
    return False
